//! Tables as device files: `<table>.tbl` holds the row pages back to back (page `i` at byte
//! `i * 4096`, one device block each, so a matcher hint on block `i` of the file names page
//! `i`), and `<table>.meta` a small text description of the table:
//!
//! ```text
//! yoursql-table 1
//! table lineitem
//! rows 60175
//! pages 2209
//! column l_orderkey BIGINT
//! column l_quantity DECIMAL(15,2)
//! ...
//! ```
//!
//! [`load_tpch`] generates TPC-H tables and stores them and records the set in `tpch.set`
//! (scale factor, page format, tables loaded):
//!
//! ```text
//! yoursql-tpch 1
//! sf 0.01
//! page-format 1
//! tables region nation lineitem
//! part 0 of 1
//! ```
//!
//! The `part` line says which part of every table the device holds when tables are partitioned
//! over several devices ([`crate::parts`]); a record without it holds the whole tables.
//!
//! [`open_catalog`] finds every stored table again (for instance on a persistent device
//! image); [`tpch_tables`] reuses the TPC-H tables of a persistent image when they were loaded
//! at the same scale factor and page format, and reloads them otherwise; [`open_tpch`] opens
//! them without loading, refusing a missing table or another scale factor.

use host_sdk::Device;

use crate::error::{FormatError, LoadError, StoreError};
use crate::page::{EncodedTable, PAGE_BYTES};
use crate::parts::Part;
use crate::tpch;
use crate::value::{ColumnType, Schema};

/// Suffix of a table's page file.
pub const DATA_SUFFIX: &str = ".tbl";
/// Suffix of a table's description file.
pub const META_SUFFIX: &str = ".meta";
const META_MAGIC: &str = "yoursql-table 1";
/// The device file recording the loaded TPC-H set.
pub const TPCH_SET_FILE: &str = "tpch.set";
const SET_MAGIC: &str = "yoursql-tpch 1";

/// A table stored on a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTable {
    /// The schema, which names the table.
    pub schema: Schema,
    /// The device file holding the pages (`<table>.tbl`).
    pub file: String,
    /// Rows in all pages.
    pub rows: u64,
    /// Pages (4 KiB each).
    pub pages: u64,
}

impl DeviceTable {
    /// The table's name.
    pub fn name(&self) -> &str {
        self.schema.table()
    }

    /// Bytes of the page file.
    pub fn bytes(&self) -> u64 {
        self.pages * PAGE_BYTES as u64
    }
}

/// The tables of a device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// The tables, by name order.
    pub tables: Vec<DeviceTable>,
}

impl Catalog {
    /// The table called `name`.
    pub fn get(&self, name: &str) -> Option<&DeviceTable> {
        self.tables.iter().find(|t| t.name() == name)
    }
}

/// A TPC-H table this crate generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TpchTable {
    /// `region` (5 rows).
    Region,
    /// `nation` (25 rows).
    Nation,
    /// `supplier` (10,000 x SF rows).
    Supplier,
    /// `customer` (150,000 x SF rows).
    Customer,
    /// `part` (200,000 x SF rows).
    Part,
    /// `partsupp` (800,000 x SF rows).
    Partsupp,
    /// `orders` (1,500,000 x SF rows).
    Orders,
    /// `lineitem` (about 6,000,000 x SF rows).
    Lineitem,
}

/// The rows of a table, boxed so that every table has the same type.
pub type TpchRows = Box<dyn Iterator<Item = tpch::RowResult>>;

impl TpchTable {
    /// All eight tables, smallest first.
    pub const ALL: [TpchTable; 8] = [
        TpchTable::Region,
        TpchTable::Nation,
        TpchTable::Supplier,
        TpchTable::Customer,
        TpchTable::Part,
        TpchTable::Partsupp,
        TpchTable::Orders,
        TpchTable::Lineitem,
    ];

    /// The table name.
    pub fn name(self) -> &'static str {
        match self {
            TpchTable::Region => "region",
            TpchTable::Nation => "nation",
            TpchTable::Supplier => "supplier",
            TpchTable::Customer => "customer",
            TpchTable::Part => "part",
            TpchTable::Partsupp => "partsupp",
            TpchTable::Orders => "orders",
            TpchTable::Lineitem => "lineitem",
        }
    }

    /// The table called `name` (lower case, as TPC-H spells it).
    pub fn named(name: &str) -> Option<TpchTable> {
        TpchTable::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The table's schema.
    pub fn schema(self) -> Schema {
        match self {
            TpchTable::Region => tpch::region_schema(),
            TpchTable::Nation => tpch::nation_schema(),
            TpchTable::Supplier => tpch::supplier_schema(),
            TpchTable::Customer => tpch::customer_schema(),
            TpchTable::Part => tpch::part_schema(),
            TpchTable::Partsupp => tpch::partsupp_schema(),
            TpchTable::Orders => tpch::orders_schema(),
            TpchTable::Lineitem => tpch::lineitem_schema(),
        }
    }

    /// The table's rows at scale factor `sf`, in generation order.
    pub fn rows(self, sf: f64) -> Result<TpchRows, LoadError> {
        Ok(match self {
            TpchTable::Region => Box::new(tpch::region_rows(sf)?),
            TpchTable::Nation => Box::new(tpch::nation_rows(sf)?),
            TpchTable::Supplier => Box::new(tpch::supplier_rows(sf)?),
            TpchTable::Customer => Box::new(tpch::customer_rows(sf)?),
            TpchTable::Part => Box::new(tpch::part_rows(sf)?),
            TpchTable::Partsupp => Box::new(tpch::partsupp_rows(sf)?),
            TpchTable::Orders => Box::new(tpch::orders_rows(sf)?),
            TpchTable::Lineitem => Box::new(tpch::lineitem_rows(sf)?),
        })
    }

    /// Generates and encodes the table at scale factor `sf`.
    pub fn encode(self, sf: f64) -> Result<EncodedTable, LoadError> {
        tpch::encode_rows(self.schema(), self.rows(sf)?)
    }
}

/// Generates `tables` at scale factor `sf` and stores them on `dev` (replacing tables of the
/// same names). Returns the catalog of the stored tables, in the order given.
pub fn load_tpch(dev: &Device, sf: f64, tables: &[TpchTable]) -> Result<Catalog, StoreError> {
    let mut c = crate::parts::load_tpch_parts(std::slice::from_ref(dev), sf, tables)?;
    Ok(c.remove(0))
}

/// The recorded TPC-H set of a device (`tpch.set`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TpchSet {
    pub(crate) sf: f64,
    pub(crate) format: u8,
    pub(crate) tables: Vec<String>,
    /// The device's part of every table (a record without a `part` line: the whole table).
    pub(crate) part: Part,
}

/// Writes `dev`'s `tpch.set` record.
pub(crate) fn write_tpch_set(
    dev: &Device,
    sf: f64,
    tables: &[TpchTable],
    part: Part,
) -> Result<(), StoreError> {
    let names: Vec<&str> = tables.iter().map(|t| t.name()).collect();
    let set = format!(
        "{SET_MAGIC}\nsf {sf}\npage-format {}\ntables {}\npart {} of {}\n",
        crate::page::FORMAT_VERSION,
        names.join(" "),
        part.index,
        part.of
    );
    dev.put_bytes(TPCH_SET_FILE, set.as_bytes())?;
    Ok(())
}

/// Removes `dev`'s `tpch.set` record, if any.
pub(crate) fn remove_tpch_set(dev: &Device) -> Result<(), StoreError> {
    if dev.file_info(TPCH_SET_FILE).is_ok() {
        dev.remove_file(TPCH_SET_FILE)?;
    }
    Ok(())
}

/// The recorded TPC-H set of a device, `None` if the device has no record.
pub(crate) fn tpch_set(dev: &Device) -> Result<Option<TpchSet>, StoreError> {
    if dev.file_info(TPCH_SET_FILE).is_err() {
        return Ok(None);
    }
    let bytes = dev.get_bytes(TPCH_SET_FILE)?;
    let bad = |problem: &str| StoreError::Meta {
        file: TPCH_SET_FILE.to_owned(),
        problem: problem.to_owned(),
    };
    let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text"))?;
    let mut lines = text.lines();
    if lines.next() != Some(SET_MAGIC) {
        return Err(bad(&format!("first line is not `{SET_MAGIC}`")));
    }
    let mut field = |key: &str| {
        lines
            .next()
            .and_then(|l| l.strip_prefix(key))
            .map(|r| r.strip_prefix(' ').unwrap_or(r))
            .map(str::to_owned)
            .ok_or_else(|| bad(&format!("expected a `{key}` line")))
    };
    let sf: f64 = field("sf")?.parse().map_err(|_| bad("`sf` is not a number"))?;
    let format: u8 = field("page-format")?
        .parse()
        .map_err(|_| bad("`page-format` is not a whole number"))?;
    let tables = field("tables")?.split_whitespace().map(str::to_owned).collect();
    let part = match field("part") {
        Err(_) => Part::WHOLE,
        Ok(p) => Part::parse(&p).ok_or_else(|| bad(&format!("`part {p}`; expected `part I of N`, I < N")))?,
    };
    Ok(Some(TpchSet {
        sf,
        format,
        tables,
        part,
    }))
}

/// The held tables, for errors.
pub(crate) fn held(catalog: &Catalog) -> String {
    let names: Vec<&str> = catalog.tables.iter().map(DeviceTable::name).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// `tables` at `sf` on `dev` without loading anything; `sf` `None`: whatever scale factor they
/// were loaded at. Refuses a table the device lacks ([`StoreError::MissingTable`]), tables
/// loaded at another scale factor ([`StoreError::OtherScale`]) and a device holding a part of
/// a partitioned set ([`StoreError::OtherPart`]). Returns the catalog (in the order given) and
/// the scale factor.
pub fn open_tpch(dev: &Device, sf: Option<f64>, tables: &[TpchTable]) -> Result<(Catalog, f64), StoreError> {
    let (mut c, sf) = crate::parts::open_tpch_parts(std::slice::from_ref(dev), sf, tables)?;
    Ok((c.remove(0), sf))
}

/// `tables` at `sf` on `dev`: the stored ones when the device's TPC-H set was loaded at `sf`
/// with this page format, whole, and holds every one of `tables`, else all of `tables`
/// generated and stored. Returns the catalog and, when it loaded, why.
pub fn tpch_tables(
    dev: &Device,
    sf: f64,
    tables: &[TpchTable],
) -> Result<(Catalog, Option<String>), StoreError> {
    let (mut c, why) = crate::parts::tpch_tables_parts(std::slice::from_ref(dev), sf, tables)?;
    Ok((c.remove(0), why))
}

/// Stores an encoded table as `<name>.tbl` and `<name>.meta`, replacing existing files.
pub fn store_table(dev: &Device, table: &EncodedTable) -> Result<DeviceTable, StoreError> {
    let name = table.schema.table();
    let desc = DeviceTable {
        schema: table.schema.clone(),
        file: format!("{name}{DATA_SUFFIX}"),
        rows: table.rows,
        pages: table.pages(),
    };
    let meta = format!("{name}{META_SUFFIX}");
    for f in [&desc.file, &meta] {
        if dev.file_info(f).is_ok() {
            dev.remove_file(f)?;
        }
    }
    dev.put_bytes(&desc.file, &table.bytes)?;
    dev.put_bytes(&meta, encode_meta(&desc).as_bytes())?;
    Ok(desc)
}

/// Opens table `name` from its description file.
pub fn open_table(dev: &Device, name: &str) -> Result<DeviceTable, StoreError> {
    let meta = format!("{name}{META_SUFFIX}");
    let bytes = dev.get_bytes(&meta)?;
    let text = String::from_utf8(bytes).map_err(|_| StoreError::Meta {
        file: meta.clone(),
        problem: "not UTF-8 text".into(),
    })?;
    let desc = decode_meta(&meta, &text)?;
    let size = dev.file_info(&desc.file)?.size;
    if size != desc.bytes() {
        return Err(StoreError::Meta {
            file: meta,
            problem: format!(
                "`{}` is {size} bytes; expected {} pages of {PAGE_BYTES} bytes",
                desc.file, desc.pages
            ),
        });
    }
    Ok(desc)
}

/// Every table on `dev` (every `*.meta` file), by name.
pub fn open_catalog(dev: &Device) -> Result<Catalog, StoreError> {
    let mut names: Vec<String> = dev
        .list_files()?
        .into_iter()
        .filter_map(|f| f.name.strip_suffix(META_SUFFIX).map(str::to_owned))
        .collect();
    names.sort();
    let tables = names
        .iter()
        .map(|n| open_table(dev, n))
        .collect::<Result<_, _>>()?;
    Ok(Catalog { tables })
}

fn encode_meta(t: &DeviceTable) -> String {
    let mut s = format!(
        "{META_MAGIC}\ntable {}\nrows {}\npages {}\n",
        t.name(),
        t.rows,
        t.pages
    );
    for c in t.schema.columns() {
        s.push_str(&format!("column {} {}\n", c.name, c.ty.describe()));
    }
    s
}

fn parse_type(text: &str) -> Option<ColumnType> {
    let arg = |prefix: &str| -> Option<&str> { text.strip_prefix(prefix)?.strip_suffix(')') };
    match text {
        "BIGINT" => Some(ColumnType::Int64),
        "DATE" => Some(ColumnType::Date),
        _ => {
            if let Some(a) = arg("DECIMAL(15,") {
                a.parse().ok().map(|scale| ColumnType::Decimal { scale })
            } else if let Some(a) = arg("CHAR(") {
                a.parse().ok().map(ColumnType::FixedStr)
            } else {
                arg("VARCHAR(")?.parse().ok().map(ColumnType::VarStr)
            }
        }
    }
}

fn decode_meta(file: &str, text: &str) -> Result<DeviceTable, StoreError> {
    let bad = |problem: String| StoreError::Meta {
        file: file.to_owned(),
        problem,
    };
    let mut lines = text.lines();
    if lines.next() != Some(META_MAGIC) {
        return Err(bad(format!("first line is not `{META_MAGIC}`")));
    }
    let mut field = |key: &str| -> Result<String, StoreError> {
        let line = lines.next().unwrap_or_default();
        line.strip_prefix(key)
            .and_then(|r| r.strip_prefix(' '))
            .map(str::to_owned)
            .ok_or_else(|| bad(format!("line `{line}`; expected `{key} ...`")))
    };
    let table = field("table")?;
    let num = |key: &str, v: String| {
        v.parse::<u64>()
            .map_err(|_| bad(format!("{key} `{v}`; expected a whole number")))
    };
    let rows = num("rows", field("rows")?)?;
    let pages = num("pages", field("pages")?)?;
    let mut cols: Vec<(String, ColumnType)> = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let mut parts = line.splitn(3, ' ');
        let (Some("column"), Some(name), Some(ty)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad(format!("line `{line}`; expected `column NAME TYPE`")));
        };
        let ty = parse_type(ty).ok_or_else(|| bad(format!("column `{name}` has unknown type `{ty}`")))?;
        cols.push((name.to_owned(), ty));
    }
    let named: Vec<(&str, ColumnType)> = cols.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    let schema = Schema::new(&table, &named).map_err(|e: FormatError| bad(e.to_string()))?;
    Ok(DeviceTable {
        file: format!("{table}{DATA_SUFFIX}"),
        schema,
        rows,
        pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_round_trip_and_are_checked() {
        for schema in TpchTable::ALL.map(TpchTable::schema) {
            let t = DeviceTable {
                file: format!("{}.tbl", schema.table()),
                schema,
                rows: 12,
                pages: 3,
            };
            assert_eq!(decode_meta("x.meta", &encode_meta(&t)).unwrap(), t);
        }
        for bad in [
            "",
            "yoursql-table 2\n",
            "yoursql-table 1\ntable t\nrows x\npages 1\ncolumn a BIGINT\n",
            "yoursql-table 1\ntable t\nrows 1\npages 1\ncolumn a FLOAT\n",
            "yoursql-table 1\ntable t\nrows 1\npages 1\n",
        ] {
            let e = decode_meta("x.meta", bad).unwrap_err();
            assert!(e.to_string().contains("x.meta"), "{e}");
        }
    }
}
