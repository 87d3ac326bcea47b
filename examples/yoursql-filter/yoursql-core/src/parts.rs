//! TPC-H tables partitioned over several devices: device `i` of `N` stores the contiguous
//! row-page range `[i*P/N, (i+1)*P/N)` of every table of `P` pages, as a table of its own (its
//! `<t>.tbl` and `<t>.meta` hold only its pages and rows), and records its part in its
//! `tpch.set` (`part i of N`, see [`crate::store`]), so that a device image loaded for another
//! partitioning is reloaded (or refused by [`open_tpch_parts`]). Concatenating the parts in
//! device order gives the table in its generation order.
//!
//! A table with fewer pages than devices leaves some devices an empty part (0 pages, 0 rows, an
//! empty page file); an engine skips those parts instead of scanning them.
//!
//! One device is the whole table (`part 0 of 1`); [`crate::store`]'s single-device functions are
//! these with one device.

use host_sdk::Device;

use crate::error::StoreError;
use crate::page::{page_rows, EncodedTable, PAGE_BYTES};
use crate::store::{
    held, open_catalog, remove_tpch_set, store_table, tpch_set, write_tpch_set, Catalog, TpchTable,
};

/// Which part of every table a device holds: `index` of `of` (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Part {
    /// The device's place, from 0.
    pub index: usize,
    /// The number of devices the tables are spread over (at least 1).
    pub of: usize,
}

impl Part {
    /// The whole table, on one device.
    pub const WHOLE: Part = Part { index: 0, of: 1 };

    /// `I of N` with `I < N`.
    pub(crate) fn parse(s: &str) -> Option<Part> {
        let (i, n) = s.split_once(" of ")?;
        let p = Part {
            index: i.trim().parse().ok()?,
            of: n.trim().parse().ok()?,
        };
        (p.index < p.of).then_some(p)
    }

    /// The pages `[first, end)` of a table of `pages` pages this part holds.
    pub fn pages(self, pages: u64) -> (u64, u64) {
        let of = self.of.max(1) as u128;
        let at = |i: usize| (u128::from(pages) * i as u128 / of) as u64;
        (at(self.index), at(self.index + 1))
    }

    /// This part of `table`: its pages (module docs) and their rows.
    pub fn of_table(self, table: &EncodedTable) -> EncodedTable {
        let (first, end) = self.pages(table.pages());
        let bytes = table.bytes[first as usize * PAGE_BYTES..end as usize * PAGE_BYTES].to_vec();
        // Pages written by the encoder: their headers are valid.
        let rows = bytes
            .chunks_exact(PAGE_BYTES)
            .map(|p| u64::from(page_rows(p).unwrap_or(0)))
            .sum();
        EncodedTable {
            schema: table.schema.clone(),
            rows,
            bytes,
        }
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} of {}", self.index, self.of)
    }
}

/// `e` on device `i` of `n` (unchanged with one device).
fn on(i: usize, n: usize, e: StoreError) -> StoreError {
    if n == 1 {
        e
    } else {
        StoreError::OnDevice {
            device: i,
            of: n,
            source: Box::new(e),
        }
    }
}

/// Generates `tables` at scale factor `sf` (each once) and stores part `i` of `devs.len()` on
/// `devs[i]` (replacing tables of the same names). Returns each device's catalog, in the order
/// of `tables`.
pub fn load_tpch_parts(devs: &[Device], sf: f64, tables: &[TpchTable]) -> Result<Vec<Catalog>, StoreError> {
    let n = devs.len();
    for (i, d) in devs.iter().enumerate() {
        remove_tpch_set(d).map_err(|e| on(i, n, e))?;
    }
    let mut out = vec![Catalog::default(); n];
    for t in tables {
        let encoded = t.encode(sf)?;
        for (i, d) in devs.iter().enumerate() {
            let part = Part { index: i, of: n };
            let stored = if n == 1 {
                store_table(d, &encoded)
            } else {
                store_table(d, &part.of_table(&encoded))
            };
            out[i].tables.push(stored.map_err(|e| on(i, n, e))?);
        }
    }
    // Written last: a load cut short leaves no set record, so the next run reloads.
    for (i, d) in devs.iter().enumerate() {
        write_tpch_set(d, sf, tables, Part { index: i, of: n }).map_err(|e| on(i, n, e))?;
    }
    Ok(out)
}

/// `tables` at `sf` on `devs` without loading anything (`sf` `None`: whatever scale factor they
/// were loaded at, the same on every device): each device's catalog (in the order given) and
/// the scale factor. Refuses a missing table ([`StoreError::MissingTable`]), another scale
/// factor ([`StoreError::OtherScale`]) and another part than `i of devs.len()`
/// ([`StoreError::OtherPart`]), naming the device when there are several.
pub fn open_tpch_parts(
    devs: &[Device],
    sf: Option<f64>,
    tables: &[TpchTable],
) -> Result<(Vec<Catalog>, f64), StoreError> {
    let n = devs.len();
    let mut wanted = sf;
    let mut out = Vec::new();
    for (i, dev) in devs.iter().enumerate() {
        let all = open_catalog(dev).map_err(|e| on(i, n, e))?;
        let set = tpch_set(dev).map_err(|e| on(i, n, e))?;
        let mut catalog = Catalog::default();
        for t in tables {
            let on_set = set
                .as_ref()
                .is_some_and(|s| s.tables.iter().any(|x| x == t.name()));
            match all.get(t.name()) {
                Some(found) if on_set => catalog.tables.push(found.clone()),
                _ => {
                    let e = StoreError::MissingTable {
                        table: t.name().to_owned(),
                        held: held(&all),
                    };
                    return Err(on(i, n, e));
                }
            }
        }
        let (stored, part) = set.map_or((0.0, Part::WHOLE), |s| (s.sf, s.part));
        match wanted {
            Some(w) if w != stored => return Err(on(i, n, StoreError::OtherScale { stored, wanted: w })),
            _ => wanted = Some(stored),
        }
        let want = Part { index: i, of: n };
        if part != want {
            let e = StoreError::OtherPart {
                stored: part.to_string(),
                wanted: want.to_string(),
            };
            return Err(on(i, n, e));
        }
        out.push(catalog);
    }
    Ok((out, wanted.unwrap_or(0.0)))
}

/// One device's stored TPC-H part, whichever it is (for a process that serves some devices of
/// a set, such as a cluster node's executor): the catalog of every table of its set, the scale
/// factor and which part it holds. Refuses a device without a TPC-H set
/// ([`StoreError::MissingTable`], naming what it holds) and a table of the set it does not hold.
pub fn open_tpch_part(dev: &Device) -> Result<(Catalog, f64, Part), StoreError> {
    let all = open_catalog(dev)?;
    let Some(set) = tpch_set(dev)? else {
        return Err(StoreError::MissingTable {
            table: "(a TPC-H set)".to_owned(),
            held: held(&all),
        });
    };
    let mut catalog = Catalog::default();
    for t in &set.tables {
        let found = all.get(t).ok_or_else(|| StoreError::MissingTable {
            table: t.clone(),
            held: held(&all),
        })?;
        catalog.tables.push(found.clone());
    }
    Ok((catalog, set.sf, set.part))
}

/// `tables` at `sf` on `devs`: the stored ones when every device's TPC-H set was loaded at
/// `sf` with this page format as its part (`i of devs.len()`) and holds every one of `tables`,
/// else all of `tables` generated and stored on all devices ([`load_tpch_parts`]). Returns each
/// device's catalog and, when it loaded, why.
pub fn tpch_tables_parts(
    devs: &[Device],
    sf: f64,
    tables: &[TpchTable],
) -> Result<(Vec<Catalog>, Option<String>), StoreError> {
    let n = devs.len();
    let mut why = None;
    for (i, dev) in devs.iter().enumerate() {
        let want = Part { index: i, of: n };
        let problem = match tpch_set(dev) {
            Ok(None) => Some("the device holds no TPC-H tables".to_string()),
            Err(e) => Some(e.to_string()),
            Ok(Some(s)) if s.format != crate::page::FORMAT_VERSION => Some(format!(
                "the device's tables are in page format {}; this build writes format {}",
                s.format,
                crate::page::FORMAT_VERSION
            )),
            Ok(Some(s)) if s.sf != sf => {
                Some(format!("the device holds scale factor {}; asked for {sf}", s.sf))
            }
            Ok(Some(s)) if s.part != want => Some(format!(
                "the device holds part {} of the tables; asked for part {want}",
                s.part
            )),
            Ok(Some(_)) => None,
        };
        if let Some(p) = problem {
            why = Some(if n == 1 {
                p
            } else {
                format!("device {i} of {n}: {p}")
            });
            break;
        }
    }
    if why.is_none() {
        match open_tpch_parts(devs, Some(sf), tables) {
            Ok((catalogs, _)) => return Ok((catalogs, None)),
            Err(e) => why = Some(e.to_string()),
        }
    }
    Ok((load_tpch_parts(devs, sf, tables)?, why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_pages_once_in_order() {
        for pages in [0u64, 1, 3, 4, 5, 2209] {
            for of in 1..=5 {
                let mut next = 0;
                for index in 0..of {
                    let (first, end) = Part { index, of }.pages(pages);
                    assert_eq!(first, next, "{pages} pages, part {index} of {of}");
                    assert!(end >= first);
                    next = end;
                }
                assert_eq!(next, pages);
            }
        }
        assert_eq!(Part::parse("2 of 4"), Some(Part { index: 2, of: 4 }));
        for bad in ["4 of 4", "x of 2", "1", ""] {
            assert_eq!(Part::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_split_table_keeps_every_row_once() {
        let t = TpchTable::Nation.encode(0.01).unwrap();
        let whole = TpchTable::Orders.encode(0.001).unwrap();
        for table in [&t, &whole] {
            for of in 1..=4 {
                let parts: Vec<EncodedTable> =
                    (0..of).map(|index| Part { index, of }.of_table(table)).collect();
                assert_eq!(parts.iter().map(|p| p.rows).sum::<u64>(), table.rows);
                let bytes: Vec<u8> = parts.iter().flat_map(|p| p.bytes.clone()).collect();
                assert_eq!(bytes, table.bytes);
            }
        }
    }
}
