//! TPC-H tables generated with `tpchgen` (output identical to `dbgen`), encoded into row pages
//! and written to a simulated SSD.
//!
//! `lineitem` and `part` (which Q14 joins) are provided. Quantities, prices, discounts and taxes
//! are `DECIMAL(15,2)` (scaled by 100; `tpchgen` gives `l_quantity` as an integer, which is
//! scaled here); dates are `DATE`; the one-letter flags are `CHAR(1)`; all other text is
//! `VARCHAR` with the TPC-H maximum length.

use sim_nvme::{Lba, SimTime, Ssd, LBA_BYTES};
use tpchgen::dates::TPCHDate;
use tpchgen::generators::{LineItemGenerator, PartGenerator};

use crate::error::LoadError;
use crate::page::{EncodedTable, PageWriter, PAGE_BYTES};
use crate::value::{ColumnType, Date, Decimal, Schema, Value};

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

const D2: ColumnType = ColumnType::Decimal { scale: 2 };

/// The `lineitem` schema.
pub fn lineitem_schema() -> Schema {
    Schema::trusted(
        "lineitem",
        &[
            ("l_orderkey", ColumnType::Int64),
            ("l_partkey", ColumnType::Int64),
            ("l_suppkey", ColumnType::Int64),
            ("l_linenumber", ColumnType::Int64),
            ("l_quantity", D2),
            ("l_extendedprice", D2),
            ("l_discount", D2),
            ("l_tax", D2),
            ("l_returnflag", ColumnType::FixedStr(1)),
            ("l_linestatus", ColumnType::FixedStr(1)),
            ("l_shipdate", ColumnType::Date),
            ("l_commitdate", ColumnType::Date),
            ("l_receiptdate", ColumnType::Date),
            ("l_shipinstruct", ColumnType::VarStr(25)),
            ("l_shipmode", ColumnType::VarStr(10)),
            ("l_comment", ColumnType::VarStr(44)),
        ],
    )
}

/// The `part` schema.
pub fn part_schema() -> Schema {
    Schema::trusted(
        "part",
        &[
            ("p_partkey", ColumnType::Int64),
            ("p_name", ColumnType::VarStr(55)),
            ("p_mfgr", ColumnType::VarStr(25)),
            ("p_brand", ColumnType::VarStr(10)),
            ("p_type", ColumnType::VarStr(25)),
            ("p_size", ColumnType::Int64),
            ("p_container", ColumnType::VarStr(10)),
            ("p_retailprice", D2),
            ("p_comment", ColumnType::VarStr(23)),
        ],
    )
}

fn check_sf(sf: f64) -> Result<(), LoadError> {
    if sf.is_finite() && sf > 0.0 && sf <= 100_000.0 {
        Ok(())
    } else {
        Err(LoadError::ScaleFactor(sf))
    }
}

fn date(d: TPCHDate) -> Result<Value, LoadError> {
    let (y, m, day) = d.to_ymd();
    // `tpchgen` counts years from 1900.
    let year = u16::try_from(1900 + y).unwrap_or(0);
    let month = u8::try_from(m).unwrap_or(0);
    let day = u8::try_from(day).unwrap_or(0);
    Ok(Value::Date(Date::new(year, month, day)?))
}

fn d2(units: i64) -> Value {
    Value::Decimal(Decimal { units, scale: 2 })
}

fn s(text: &str) -> Value {
    Value::Str(text.to_string())
}

/// The rows of `lineitem` at scale factor `sf`, in generation (`l_orderkey`) order.
pub fn lineitem_rows(sf: f64) -> Result<impl Iterator<Item = Result<Vec<Value>, LoadError>>, LoadError> {
    check_sf(sf)?;
    Ok(LineItemGenerator::new(sf, 1, 1).into_iter().map(|l| {
        Ok(vec![
            Value::Int(l.l_orderkey),
            Value::Int(l.l_partkey),
            Value::Int(l.l_suppkey),
            Value::Int(i64::from(l.l_linenumber)),
            d2(l.l_quantity.saturating_mul(100)),
            d2(l.l_extendedprice.0),
            d2(l.l_discount.0),
            d2(l.l_tax.0),
            s(l.l_returnflag),
            s(l.l_linestatus),
            date(l.l_shipdate)?,
            date(l.l_commitdate)?,
            date(l.l_receiptdate)?,
            s(l.l_shipinstruct),
            s(l.l_shipmode),
            s(l.l_comment),
        ])
    }))
}

/// The rows of `part` at scale factor `sf`, in `p_partkey` order.
pub fn part_rows(sf: f64) -> Result<impl Iterator<Item = Result<Vec<Value>, LoadError>>, LoadError> {
    check_sf(sf)?;
    Ok(PartGenerator::new(sf, 1, 1).into_iter().map(|p| {
        Ok(vec![
            Value::Int(p.p_partkey),
            Value::Str(p.p_name.to_string()),
            Value::Str(p.p_mfgr.to_string()),
            Value::Str(p.p_brand.to_string()),
            s(p.p_type),
            Value::Int(i64::from(p.p_size)),
            s(p.p_container),
            d2(p.p_retailprice.0),
            s(p.p_comment),
        ])
    }))
}

/// Packs rows into pages.
pub fn encode_rows(
    schema: Schema,
    rows: impl Iterator<Item = Result<Vec<Value>, LoadError>>,
) -> Result<EncodedTable, LoadError> {
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
            assert!(
                matches!(lineitem_rows(sf), Err(LoadError::ScaleFactor(_))),
                "{sf}"
            );
            assert!(matches!(part_rows(sf), Err(LoadError::ScaleFactor(_))), "{sf}");
        }
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
