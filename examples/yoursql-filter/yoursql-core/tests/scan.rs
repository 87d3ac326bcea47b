//! Scans through the host API at TPC-H SF 0.01 on an embedded `pm1725`: conventional and
//! offloaded scans return exactly the rows of a plain decode-and-filter of every generated
//! page, in the same order; Auto's decision is made and reported (a selective predicate
//! offloads, a non-selective one does not).
//!
//! Figures per query: `cargo test -p yoursql-core --test scan -- --nocapture`.

use std::sync::OnceLock;

use host_sdk::{Device, DeviceProfile, ImageSpec};
use yoursql_core::{
    build_filter_module, decode_page, load_tpch, open_catalog, tpch, Catalog, CmpOp, DeviceTable, Predicate,
    ScanError, ScanMode, ScanOutput, Scanner, TpchTable, Value,
};

const SF: f64 = 0.01;

struct Fixture {
    device: Device,
    catalog: Catalog,
    scanner: Scanner,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let device = Device::embedded(DeviceProfile::pm1725(), ImageSpec::Memory).unwrap();
        let catalog = load_tpch(&device, SF, &[TpchTable::Lineitem, TpchTable::Part]).unwrap();
        let module = build_filter_module(false).unwrap();
        let scanner = Scanner::new(&device, &module).unwrap();
        Fixture {
            device,
            catalog,
            scanner,
        }
    })
}

/// A scanner on its own host clock (tests run in parallel on one device).
fn scanner() -> Scanner {
    let f = fixture();
    let mut s = f.scanner.clone();
    s.set_device(f.device.with_own_clock());
    s
}

fn table(name: &str) -> &'static DeviceTable {
    fixture().catalog.get(name).unwrap()
}

/// Every row of the generated table satisfying `preds`, by decoding every page.
fn truth(t: TpchTable, preds: &[yoursql_core::BoundPredicate]) -> Vec<Vec<Value>> {
    let enc = t.encode(SF).unwrap();
    let mut out = Vec::new();
    for i in 0..enc.pages() {
        for row in decode_page(&enc.schema, enc.page(i).unwrap()).unwrap() {
            if preds.iter().all(|p| p.matches(&row)) {
                out.push(row);
            }
        }
    }
    out
}

fn date(s: &str) -> Value {
    Value::date(s).unwrap()
}

fn dec(s: &str) -> Value {
    Value::decimal(s).unwrap()
}

fn show(name: &str, o: &ScanOutput) {
    let s = &o.stats;
    println!(
        "{name} [{}]: {} rows, {:.3} ms, pages read {} (transferred {}, scanned on device {}, hinted {}), \
         PCIe {} B; decision: offloaded={} score={} sampled {}/{} ratio {:?}: {}",
        s.mode.name(),
        o.rows.len(),
        s.simulated_ns as f64 / 1e6,
        s.pages_read,
        s.pages_transferred,
        s.pages_scanned_on_device,
        s.pages_hinted,
        s.pcie_bytes,
        s.decision.offloaded,
        s.decision.limiting_score,
        s.decision.sampled_hinted,
        s.decision.sampled_pages,
        s.decision.sampled_ratio,
        s.decision.reason,
    );
}

/// Runs all three modes; checks rows against the truth; returns (conv, offload, auto).
fn three_modes(name: &str, t: TpchTable, preds: Vec<Predicate>) -> [ScanOutput; 3] {
    let tbl = table(t.name());
    let bound: Vec<_> = preds.iter().map(|p| p.bind(&tbl.schema).unwrap()).collect();
    let expected = truth(t, &bound);
    assert!(!expected.is_empty(), "{name}: selects rows at SF {SF}");
    let s = scanner();
    let runs = [ScanMode::Conv, ScanMode::Offload, ScanMode::Auto].map(|m| {
        let o = s.scan_collect(tbl, &bound, None, m).unwrap();
        show(name, &o);
        assert_eq!(o.rows, expected, "{name} {}", m.name());
        assert_eq!(o.stats.rows_out, expected.len() as u64);
        assert!(o.stats.exact && o.stats.simulated_ns > 0);
        o
    });
    let [conv, off, _] = &runs;
    assert!(!conv.stats.decision.offloaded && off.stats.decision.offloaded);
    assert_eq!(conv.stats.pages_transferred, tbl.pages);
    assert_eq!(conv.stats.rows_scanned, tbl.rows);
    assert!(off.stats.pages_scanned_on_device >= tbl.pages);
    assert_eq!(off.stats.pages_transferred, off.stats.pages_hinted);
    runs
}

#[test]
fn filter_query_offloads_and_reads_few_pages() {
    let [conv, off, auto] = three_modes(
        "filter query",
        TpchTable::Lineitem,
        vec![Predicate::cmp("l_shipdate", CmpOp::Eq, date("1995-01-17"))],
    );
    let d = &auto.stats.decision;
    assert!(d.offloaded, "{d:?}");
    assert!(d.sampled_pages > 0 && d.sampled_ratio.unwrap() < 0.1, "{d:?}");
    assert!(off.stats.pages_transferred * 10 < conv.stats.pages_transferred);
    assert!(off.stats.pcie_bytes * 10 < conv.stats.pcie_bytes);
    // The sampler is seeded: the same decision and numbers again.
    let tbl = table("lineitem");
    let again = scanner()
        .decide(
            tbl,
            &[Predicate::cmp("l_shipdate", CmpOp::Eq, date("1995-01-17"))
                .bind(&tbl.schema)
                .unwrap()],
            ScanMode::Auto,
        )
        .unwrap();
    assert_eq!(
        (again.sampled_pages, again.sampled_hinted),
        (d.sampled_pages, d.sampled_hinted)
    );
    assert_eq!(again.reason, d.reason);
}

#[test]
fn q6_is_not_offloaded_by_auto() {
    let [_, _, auto] = three_modes(
        "Q6",
        TpchTable::Lineitem,
        vec![
            Predicate::cmp("l_shipdate", CmpOp::Ge, date("1994-01-01")),
            Predicate::cmp("l_shipdate", CmpOp::Lt, date("1995-01-01")),
            Predicate::between("l_discount", dec("0.05"), dec("0.07")),
            Predicate::cmp("l_quantity", CmpOp::Lt, Value::Int(24)),
        ],
    );
    let d = &auto.stats.decision;
    assert!(!d.offloaded, "{d:?}");
    assert!(d.sampled_ratio.unwrap() > 0.5, "{d:?}");
    assert!(d.reason.contains("sampler"), "{d:?}");
}

#[test]
fn q14_part_like_and_q2_all_keys() {
    let [_, _, auto] = three_modes(
        "Q14 part",
        TpchTable::Part,
        vec![Predicate::like("p_type", "PROMO%")],
    );
    // A sixth of the parts, about thirty to a page: nearly every page holds one.
    assert!(!auto.stats.decision.offloaded, "{:?}", auto.stats.decision);
    // Two keys, every one required (MatchMode::All).
    let [_, off, _] = three_modes(
        "Q2 part",
        TpchTable::Part,
        vec![
            Predicate::cmp("p_size", CmpOp::Eq, Value::Int(15)),
            Predicate::like("p_type", "%BRASS"),
        ],
    );
    assert_eq!(off.stats.decision.keys, 2);
    assert!(off.stats.pages_hinted < table("part").pages);
}

#[test]
fn projection_batches_and_order() {
    let tbl = table("lineitem");
    let pred = Predicate::cmp("l_shipdate", CmpOp::Eq, date("1995-01-17"))
        .bind(&tbl.schema)
        .unwrap();
    let cols = [0usize, 10, 3];
    let mut s = scanner();
    s.config.batch_rows = 3;
    for mode in [ScanMode::Conv, ScanMode::Offload] {
        let mut batches = Vec::new();
        let stats = s
            .scan(tbl, std::slice::from_ref(&pred), Some(&cols), mode, &mut |b| {
                batches.push(b);
                Ok(())
            })
            .unwrap();
        assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 3));
        let rows: Vec<Vec<Value>> = batches.into_iter().flatten().collect();
        let expected: Vec<Vec<Value>> = truth(TpchTable::Lineitem, std::slice::from_ref(&pred))
            .into_iter()
            .map(|r| cols.iter().map(|&c| r[c].clone()).collect())
            .collect();
        assert_eq!(rows, expected, "{}", mode.name());
        assert_eq!(stats.rows_out, expected.len() as u64);
    }
    // No filter: every row, and the consumer can stop the scan.
    let all = s
        .scan_collect(table("part"), &[], Some(&[0]), ScanMode::Auto)
        .unwrap();
    assert_eq!(all.rows.len() as u64, table("part").rows);
    assert!(!all.stats.decision.offloaded);
    let e = s
        .scan(table("part"), &[], None, ScanMode::Conv, &mut |_| {
            Err("enough".into())
        })
        .unwrap_err();
    assert!(matches!(e, ScanError::Sink(ref m) if m == "enough"), "{e}");
}

#[test]
fn refusals_are_typed() {
    let s = scanner();
    let li = table("lineitem");
    let part_pred = Predicate::like("p_type", "PROMO%")
        .bind(&table("part").schema)
        .unwrap();
    let e = s
        .scan_collect(li, &[part_pred], None, ScanMode::Conv)
        .unwrap_err();
    assert!(matches!(e, ScanError::WrongTable { .. }), "{e}");
    let e = s.scan_collect(li, &[], Some(&[16]), ScanMode::Conv).unwrap_err();
    assert!(matches!(e, ScanError::Projection { index: 16, .. }), "{e}");
    let e = s.scan_collect(li, &[], None, ScanMode::Offload).unwrap_err();
    assert!(matches!(e, ScanError::CannotOffload { .. }), "{e}");
    let wide = Predicate::cmp("l_quantity", CmpOp::Lt, Value::Int(24))
        .bind(&li.schema)
        .unwrap();
    let e = s
        .scan_collect(li, std::slice::from_ref(&wide), None, ScanMode::Offload)
        .unwrap_err();
    assert!(e.to_string().contains("l_quantity"), "{e}");
    let d = s.decide(li, &[wide], ScanMode::Auto).unwrap();
    assert!(!d.offloaded && d.reason.contains("no matcher keys"), "{d:?}");
    // Without the module, Auto scans conventionally and says why.
    let conv = Scanner::conventional(&fixture().device.with_own_clock());
    let eq = Predicate::cmp("l_shipdate", CmpOp::Eq, date("1995-01-17"))
        .bind(&li.schema)
        .unwrap();
    let d = conv.decide(li, &[eq], ScanMode::Auto).unwrap();
    assert!(!d.offloaded && d.reason.contains("module"), "{d:?}");
}

#[test]
fn the_catalog_is_found_again() {
    let cat = open_catalog(&fixture().device).unwrap();
    for t in &fixture().catalog.tables {
        assert_eq!(cat.get(t.name()), Some(t));
    }
    assert_eq!(cat.tables.len(), 2);
    assert_eq!(cat.get("lineitem").unwrap().schema, tpch::lineitem_schema());
}

#[test]
fn stored_tables_are_replaced_and_checked() {
    let dev = Device::embedded(DeviceProfile::tiny(), ImageSpec::Memory).unwrap();
    let small = TpchTable::Part.encode(0.001).unwrap();
    let first = yoursql_core::store_table(&dev, &small).unwrap();
    let again = yoursql_core::store_table(&dev, &small).unwrap();
    assert_eq!(first, again);
    assert_eq!(yoursql_core::open_table(&dev, "part").unwrap(), first);
    let all = Scanner::conventional(&dev)
        .scan_collect(&first, &[], None, ScanMode::Conv)
        .unwrap();
    assert_eq!(all.rows.len() as u64, first.rows);
    // A description that disagrees with its page file is refused, naming the file.
    dev.remove_file("part.meta").unwrap();
    let meta = format!(
        "yoursql-table 1\ntable part\nrows {}\npages {}\ncolumn p_partkey BIGINT\n",
        first.rows,
        first.pages + 1
    );
    dev.put_bytes("part.meta", meta.as_bytes()).unwrap();
    let e = yoursql_core::open_table(&dev, "part").unwrap_err();
    assert!(
        e.to_string().contains("part.meta") && e.to_string().contains("part.tbl"),
        "{e}"
    );
    assert!(open_catalog(&dev).is_err());
    let e = yoursql_core::open_table(&dev, "orders").unwrap_err();
    assert!(e.to_string().contains("orders.meta"), "{e}");
}
