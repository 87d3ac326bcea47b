//! TPC-H tables generated with `tpchgen` (output identical to `dbgen`), encoded into row pages
//! and written to a simulated SSD.
//!
//! All eight tables: [`schema`] (their schemas and column types), [`rows`] (their rows at a
//! scale factor); here, packing rows into pages ([`encode_rows`]) and writing them to a raw
//! simulated SSD ([`write_table`], [`read_pages`]). Money and quantities are `DECIMAL(15,2)`
//! (scaled by 100; `tpchgen` gives `l_quantity` as an integer, which is scaled), dates `DATE`,
//! keys and other integers `BIGINT`.

pub mod rows;
pub mod schema;

pub use rows::{
    check_sf, customer_rows, lineitem_rows, nation_rows, orders_rows, part_rows, partsupp_rows, region_rows,
    supplier_rows, RowResult,
};
pub use schema::{
    customer_schema, lineitem_schema, nation_schema, orders_schema, part_schema, partsupp_schema,
    region_schema, supplier_schema,
};

use sim_nvme::{Lba, SimTime, Ssd, LBA_BYTES};

use crate::error::LoadError;
use crate::page::{EncodedTable, PageWriter, PAGE_BYTES};
use crate::value::Schema;

/// Largest host write issued while loading (the NVMe transfer size of small devices).
pub const WRITE_CHUNK_BYTES: usize = 128 << 10;

/// Where a table lives on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDesc {
    /// The schema, which names the table.
    pub schema: Schema,
    /// The block of page 0; page `i` is at `first_lba + i`.
    pub first_lba: Lba,
    /// Number of pages (= blocks).
    pub pages: u64,
    /// Number of rows.
    pub rows: u64,
}

impl TableDesc {
    /// The block after the table's last page (where the next table can start).
    pub fn end_lba(&self) -> Lba {
        self.first_lba.offset(self.pages)
    }
}

/// Packs rows into pages.
pub fn encode_rows(schema: Schema, rows: impl Iterator<Item = RowResult>) -> Result<EncodedTable, LoadError> {
    let mut w = PageWriter::new(schema);
    for row in rows {
        w.push(&row?)?;
    }
    Ok(w.finish())
}

/// Writes an encoded table to `ssd` from `first_lba` with host writes of at most
/// [`WRITE_CHUNK_BYTES`] (and the device's transfer limit), each issued when the previous one
/// completes, the first at `at`. Returns the table's descriptor and the last completion.
pub fn write_table(
    ssd: &mut Ssd,
    at: SimTime,
    first_lba: Lba,
    table: &EncodedTable,
) -> Result<(TableDesc, SimTime), LoadError> {
    let pages = table.pages();
    let capacity = ssd.capacity_lbas();
    if first_lba.0 >= capacity || pages > capacity - first_lba.0 {
        return Err(LoadError::NoRoom {
            table: table.schema.table().to_string(),
            pages,
            start: first_lba.0,
            capacity,
        });
    }
    let max_transfer = ssd.profile().controller.max_transfer_bytes as usize;
    let chunk = WRITE_CHUNK_BYTES.min(max_transfer).max(PAGE_BYTES) / PAGE_BYTES * PAGE_BYTES;
    let mut t = at;
    for (i, data) in table.bytes.chunks(chunk).enumerate() {
        let lba = first_lba.offset((i * chunk) as u64 / LBA_BYTES);
        t = ssd.host_write(t, lba, data)?;
    }
    let desc = TableDesc {
        schema: table.schema.clone(),
        first_lba,
        pages,
        rows: table.rows,
    };
    Ok((desc, t))
}

/// Generates `lineitem` at `sf` and writes it from `first_lba`.
pub fn load_lineitem(
    ssd: &mut Ssd,
    sf: f64,
    first_lba: Lba,
    at: SimTime,
) -> Result<(TableDesc, SimTime), LoadError> {
    let table = encode_rows(lineitem_schema(), lineitem_rows(sf)?)?;
    write_table(ssd, at, first_lba, &table)
}

/// Generates `part` at `sf` and writes it from `first_lba`.
pub fn load_part(
    ssd: &mut Ssd,
    sf: f64,
    first_lba: Lba,
    at: SimTime,
) -> Result<(TableDesc, SimTime), LoadError> {
    let table = encode_rows(part_schema(), part_rows(sf)?)?;
    write_table(ssd, at, first_lba, &table)
}

/// Reads pages `first..first + count` of a table with internal reads (no PCIe) of at most
/// [`WRITE_CHUNK_BYTES`] each. Returns the pages back to back and the last completion.
pub fn read_pages(
    ssd: &mut Ssd,
    at: SimTime,
    table: &TableDesc,
    first: u64,
    count: u64,
) -> Result<(Vec<u8>, SimTime), LoadError> {
    if first > table.pages || count > table.pages - first {
        return Err(LoadError::NoRoom {
            table: table.schema.table().to_string(),
            pages: first.saturating_add(count),
            start: table.first_lba.0,
            capacity: table.first_lba.0 + table.pages,
        });
    }
    let mut buf = vec![0u8; count as usize * PAGE_BYTES];
    let per = (WRITE_CHUNK_BYTES / PAGE_BYTES) as u64;
    let mut t = at;
    let mut done = at;
    for (i, chunk) in buf.chunks_mut(per as usize * PAGE_BYTES).enumerate() {
        let lba = table.first_lba.offset(first + i as u64 * per);
        done = done.max(ssd.internal_read(t, lba, chunk)?);
        t = done;
    }
    Ok((buf, done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TpchTable;
    use crate::value::Value;

    #[test]
    fn generated_rows_match_dbgen_text() {
        // The first line of dbgen's lineitem.tbl (see the tpchgen docs).
        let first = lineitem_rows(1.0).unwrap().next().unwrap().unwrap();
        let text: Vec<String> = first.iter().map(|v| v.to_string()).collect();
        assert_eq!(
            text.join("|"),
            "1|155190|7706|1|17.00|21168.23|0.04|0.02|N|O|1996-03-13|1996-02-12|1996-03-22|\
             DELIVER IN PERSON|TRUCK|egular courts above the"
        );
        let part = part_rows(1.0).unwrap().next().unwrap().unwrap();
        assert_eq!(part[4], Value::str("PROMO BURNISHED COPPER"));
        assert_eq!(part[7], Value::decimal("901.00").unwrap());
    }

    #[test]
    fn bad_scale_factors_are_refused() {
        for sf in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            for t in TpchTable::ALL {
                let e = t.rows(sf).err();
                assert!(
                    matches!(e, Some(LoadError::ScaleFactor(_))),
                    "{} at {sf}",
                    t.name()
                );
            }
        }
    }

    /// `tpchgen`'s own `.tbl` line of every row of every table (first rows at SF 0.01).
    fn dbgen_lines(t: TpchTable, n: usize) -> Vec<String> {
        use tpchgen::generators as g;
        fn first<T: std::fmt::Display>(it: impl IntoIterator<Item = T>, n: usize) -> Vec<String> {
            it.into_iter().take(n).map(|r| r.to_string()).collect()
        }
        let sf = 0.01;
        match t {
            TpchTable::Region => first(g::RegionGenerator::new(sf, 1, 1), n),
            TpchTable::Nation => first(g::NationGenerator::new(sf, 1, 1), n),
            TpchTable::Supplier => first(g::SupplierGenerator::new(sf, 1, 1), n),
            TpchTable::Customer => first(g::CustomerGenerator::new(sf, 1, 1), n),
            TpchTable::Part => first(g::PartGenerator::new(sf, 1, 1), n),
            TpchTable::Partsupp => first(g::PartSuppGenerator::new(sf, 1, 1), n),
            TpchTable::Orders => first(g::OrderGenerator::new(sf, 1, 1), n),
            TpchTable::Lineitem => first(g::LineItemGenerator::new(sf, 1, 1), n),
        }
    }

    #[test]
    fn every_table_prints_as_dbgen_does() {
        for t in TpchTable::ALL {
            let ours: Vec<String> = t
                .rows(0.01)
                .unwrap()
                .take(40)
                .map(|r| {
                    let cells: Vec<String> = r
                        .unwrap()
                        .iter()
                        .enumerate()
                        .map(|(i, v)| match v {
                            // dbgen prints l_quantity as a whole number; it is DECIMAL(15,2) here.
                            Value::Decimal(d) if t == TpchTable::Lineitem && i == 4 => {
                                assert_eq!(d.units % 100, 0);
                                format!("{}|", d.units / 100)
                            }
                            v => format!("{v}|"),
                        })
                        .collect();
                    cells.concat()
                })
                .collect();
            assert_eq!(ours, dbgen_lines(t, 40), "{}", t.name());
            assert_eq!(t.schema().table(), t.name());
            assert_eq!(TpchTable::named(t.name()), Some(t));
        }
        assert_eq!(TpchTable::named("lineitems"), None);
    }

    #[test]
    fn every_table_has_the_specified_cardinality_and_encodes() {
        // TPC-H clause 4.2.5 at SF 0.01; lineitem is 1 to 7 lines per order (about 4 on average).
        let expected = |t: TpchTable| -> (u64, u64) {
            match t {
                TpchTable::Region => (5, 5),
                TpchTable::Nation => (25, 25),
                TpchTable::Supplier => (100, 100),
                TpchTable::Customer => (1_500, 1_500),
                TpchTable::Part => (2_000, 2_000),
                TpchTable::Partsupp => (8_000, 8_000),
                TpchTable::Orders => (15_000, 15_000),
                TpchTable::Lineitem => (57_000, 63_000),
            }
        };
        for t in TpchTable::ALL {
            // Encoding checks every value against its column (CHAR(n) is exactly n bytes).
            let enc = t.encode(0.01).unwrap();
            let (lo, hi) = expected(t);
            assert!(
                (lo..=hi).contains(&enc.rows),
                "{}: {} rows; expected {lo}..={hi}",
                t.name(),
                enc.rows
            );
            assert!(enc.pages() >= 1);
        }
        // The published first order of dbgen at SF 1.
        let order = orders_rows(1.0).unwrap().next().unwrap().unwrap();
        assert_eq!(order[4], Value::date("1996-01-02").unwrap());
        assert_eq!(order[2], Value::str("O"));
    }

    #[test]
    fn a_table_past_the_device_end_is_refused() {
        let mut ssd = Ssd::in_memory(sim_nvme::DeviceProfile::tiny()).unwrap();
        let table = encode_rows(part_schema(), part_rows(0.001).unwrap()).unwrap();
        let cap = ssd.capacity_lbas();
        let e = write_table(&mut ssd, SimTime::ZERO, Lba(cap - 1), &table).unwrap_err();
        assert!(matches!(e, LoadError::NoRoom { .. }), "{e}");
        assert!(e.to_string().contains("`part`"), "{e}");
        let (desc, _) = write_table(&mut ssd, SimTime::ZERO, Lba(10), &table).unwrap();
        assert!(read_pages(&mut ssd, SimTime::ZERO, &desc, desc.pages, 1).is_err());
        let (bytes, _) = read_pages(&mut ssd, SimTime::ZERO, &desc, 0, desc.pages).unwrap();
        assert_eq!(bytes, table.bytes);
    }
}
