//! Tables partitioned over devices (`yoursql_core::parts`) on persistent images: each device
//! stores its page range and records its part; the parts' rows, in device order, are the
//! table's; images of the same partitioning are reused, an image of another partitioning is
//! reloaded (or refused without loading, naming the device and the part); a tiny table leaves
//! empty parts.

use host_sdk::{Device, DeviceProfile, ImageSpec};
use yoursql_core::{
    load_tpch, open_tpch, open_tpch_parts, tpch_tables, tpch_tables_parts, ScanMode, Scanner, StoreError,
    TpchTable,
};

const SF: f64 = 0.001;
const TABLES: [TpchTable; 2] = [TpchTable::Region, TpchTable::Orders];

/// A fresh directory under the system's temporary directory, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("yoursql-parts-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn devices(dir: &std::path::Path, n: usize) -> Vec<Device> {
    (0..n)
        .map(|i| {
            let path = dir.join(format!("img.dev{i}"));
            Device::embedded(DeviceProfile::tiny(), ImageSpec::File(path)).unwrap()
        })
        .collect()
}

#[test]
fn parts_hold_the_table_in_order_and_images_reload_on_another_partitioning() {
    let dir = TempDir::new();
    let whole = Device::embedded(DeviceProfile::tiny(), ImageSpec::Memory).unwrap();
    let expected = load_tpch(&whole, SF, &TABLES).unwrap();
    let all_rows = |dev: &Device, t: &str| {
        let c = yoursql_core::open_catalog(dev).unwrap();
        let table = c.get(t).unwrap().clone();
        if table.pages == 0 {
            return Vec::new();
        }
        Scanner::conventional(dev)
            .scan_collect(&table, &[], None, ScanMode::Conv)
            .unwrap()
            .rows
    };

    let devs = devices(dir.path(), 3);
    let (catalogs, why) = tpch_tables_parts(&devs, SF, &TABLES).unwrap();
    assert!(why.unwrap().contains("no TPC-H tables"));
    for t in ["region", "orders"] {
        let whole_table = expected.get(t).unwrap();
        let pages: u64 = catalogs.iter().map(|c| c.get(t).unwrap().pages).sum();
        let rows: u64 = catalogs.iter().map(|c| c.get(t).unwrap().rows).sum();
        assert_eq!((pages, rows), (whole_table.pages, whole_table.rows), "{t}");
        let parts: Vec<_> = devs.iter().flat_map(|d| all_rows(d, t)).collect();
        assert_eq!(parts, all_rows(&whole, t), "{t}");
    }
    // region is one page: two of the three devices hold an empty part.
    let empty = catalogs
        .iter()
        .filter(|c| c.get("region").unwrap().pages == 0)
        .count();
    assert_eq!(empty, 2);
    drop(devs);

    // The same partitioning is reused.
    let devs = devices(dir.path(), 3);
    let (again, why) = tpch_tables_parts(&devs, SF, &TABLES).unwrap();
    assert_eq!((again, why), (catalogs.clone(), None));
    let (opened, sf) = open_tpch_parts(&devs, None, &TABLES).unwrap();
    assert_eq!((opened, sf), (catalogs, SF));
    drop(devs);

    // Two of the three images as two devices: refused without loading, reloaded with it.
    let devs = devices(dir.path(), 2);
    let e = open_tpch_parts(&devs, Some(SF), &TABLES).unwrap_err();
    assert!(matches!(e, StoreError::OnDevice { device: 0, of: 2, .. }), "{e}");
    assert!(
        e.to_string()
            .contains("part 0 of 3 of the TPC-H tables; expected part 0 of 2"),
        "{e}"
    );
    let (_, why) = tpch_tables_parts(&devs, SF, &TABLES).unwrap();
    assert!(why
        .unwrap()
        .contains("device 0 of 2: the device holds part 0 of 3"));
    drop(devs);

    // One device on an image holding a part: refused, then reloaded whole.
    let dev = devices(dir.path(), 1).remove(0);
    let e = open_tpch(&dev, Some(SF), &TABLES).unwrap_err();
    assert!(
        e.to_string()
            .contains("part 0 of 2 of the TPC-H tables; expected part 0 of 1"),
        "{e}"
    );
    let (c, why) = tpch_tables(&dev, SF, &TABLES).unwrap();
    assert!(why.unwrap().contains("part 0 of 2"));
    assert_eq!(c, expected);
}
