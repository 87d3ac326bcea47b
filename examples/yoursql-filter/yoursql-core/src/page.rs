//! Row pages: fixed 4 KiB pages, one per device block, so a matcher hint names one page.
//!
//! ```text
//! offset 0  magic 0x59 ('Y')
//!        1  format version (1)
//!        2  row count, big-endian u16
//!        4  rows, back to back (see crate::row), never across a page boundary
//!        .. zero padding to 4096
//! ```
//!
//! [`PageWriter`] packs rows: a row that does not fit in the rest of the current page starts a
//! new page. [`decode_page`] reads a page back into typed rows.

use crate::error::FormatError;
use crate::row::{decode_row, encode_row};
use crate::value::{Schema, Value};

// INVARIANT(page-is-block): one page, one device block
/// Bytes per page: one device block (`sim_nvme::LBA_BYTES`).
pub const PAGE_BYTES: usize = sim_nvme::LBA_BYTES as usize;
/// Bytes of the page header.
pub const HEADER_BYTES: usize = 4;
/// Largest encoded row.
pub const MAX_ROW_BYTES: usize = PAGE_BYTES - HEADER_BYTES;
/// First byte of every page.
pub const PAGE_MAGIC: u8 = b'Y';
/// The format version written in every page.
pub const FORMAT_VERSION: u8 = 1;

/// Packs rows into pages.
#[derive(Debug)]
pub struct PageWriter {
    schema: Schema,
    out: Vec<u8>,
    current: Vec<u8>,
    current_rows: u16,
    rows: u64,
    scratch: Vec<u8>,
}

impl PageWriter {
    /// An empty writer for rows of `schema`.
    pub fn new(schema: Schema) -> Self {
        PageWriter {
            schema,
            out: Vec::new(),
            current: Vec::with_capacity(PAGE_BYTES),
            current_rows: 0,
            rows: 0,
            scratch: Vec::new(),
        }
    }

    /// Appends a row, starting a new page if it does not fit in the current one.
    pub fn push(&mut self, row: &[Value]) -> Result<(), FormatError> {
        self.scratch.clear();
        encode_row(&self.schema, row, &mut self.scratch)?;
        if self.scratch.len() > MAX_ROW_BYTES {
            return Err(FormatError::RowTooLarge {
                table: self.schema.table().to_string(),
                len: self.scratch.len(),
                max: MAX_ROW_BYTES,
            });
        }
        let used = HEADER_BYTES + self.current.len();
        // INVARIANT(page-is-block): a row that does not fit starts a new page, never crosses one
        if used + self.scratch.len() > PAGE_BYTES || self.current_rows == u16::MAX {
            self.seal();
        }
        self.current.extend_from_slice(&self.scratch);
        self.current_rows += 1;
        self.rows += 1;
        Ok(())
    }

    fn seal(&mut self) {
        if self.current_rows == 0 {
            return;
        }
        let start = self.out.len();
        self.out.extend_from_slice(&[PAGE_MAGIC, FORMAT_VERSION]);
        self.out.extend_from_slice(&self.current_rows.to_be_bytes());
        self.out.extend_from_slice(&self.current);
        self.out.resize(start + PAGE_BYTES, 0);
        self.current.clear();
        self.current_rows = 0;
    }

    /// Pages completed so far (the current page not counted).
    pub fn sealed_pages(&self) -> usize {
        self.out.len() / PAGE_BYTES
    }

    /// Rows pushed so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Seals the last page and returns all pages back to back (`pages * 4096` bytes).
    pub fn finish(mut self) -> EncodedTable {
        self.seal();
        EncodedTable {
            schema: self.schema,
            rows: self.rows,
            bytes: self.out,
        }
    }
}

/// A table encoded into pages, not yet on a device.
#[derive(Debug, Clone)]
pub struct EncodedTable {
    /// The schema of the rows.
    pub schema: Schema,
    /// Rows in all pages.
    pub rows: u64,
    /// The pages, back to back.
    pub bytes: Vec<u8>,
}

impl EncodedTable {
    /// Number of pages.
    pub fn pages(&self) -> u64 {
        (self.bytes.len() / PAGE_BYTES) as u64
    }

    /// Page `i`, if it exists.
    pub fn page(&self, i: u64) -> Option<&[u8]> {
        let start = usize::try_from(i).ok()?.checked_mul(PAGE_BYTES)?;
        self.bytes.get(start..start + PAGE_BYTES)
    }
}

/// The row count in a page's header, after checking magic and version.
pub fn page_rows(page: &[u8]) -> Result<u16, FormatError> {
    if page.len() != PAGE_BYTES {
        return Err(FormatError::PageSize {
            len: page.len(),
            expected: PAGE_BYTES,
        });
    }
    if page[0] != PAGE_MAGIC {
        return Err(FormatError::BadMagic {
            found: page[0],
            expected: PAGE_MAGIC,
        });
    }
    if page[1] != FORMAT_VERSION {
        return Err(FormatError::BadVersion {
            found: page[1],
            expected: FORMAT_VERSION,
        });
    }
    Ok(u16::from_be_bytes([page[2], page[3]]))
}

/// Decodes every row of a page.
pub fn decode_page(schema: &Schema, page: &[u8]) -> Result<Vec<Vec<Value>>, FormatError> {
    let n = page_rows(page)?;
    let mut pos = HEADER_BYTES;
    (0..usize::from(n))
        .map(|i| decode_row(schema, page, &mut pos, i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::ColumnType;

    fn schema() -> Schema {
        Schema::new("t", &[("k", ColumnType::Int64), ("s", ColumnType::VarStr(4090))]).unwrap()
    }

    fn row(k: i64, len: usize) -> Vec<Value> {
        vec![Value::Int(k), Value::Str("a".repeat(len))]
    }

    /// Encoded size of `row(_, len)`: tag + 8 + tag + len + NUL.
    fn size(len: usize) -> usize {
        len + 11
    }

    #[test]
    fn a_row_that_does_not_fit_starts_a_new_page() {
        let mut w = PageWriter::new(schema());
        // First row leaves exactly 100 bytes free in page 0.
        let first = MAX_ROW_BYTES - 100 - 11;
        w.push(&row(0, first)).unwrap();
        assert_eq!(size(first), MAX_ROW_BYTES - 100);
        w.push(&row(1, 89)).unwrap(); // 100 bytes: fills page 0 exactly
        assert_eq!(w.sealed_pages(), 0);
        w.push(&row(2, 0)).unwrap(); // 11 bytes: no room, page 1
        assert_eq!(w.sealed_pages(), 1);
        w.push(&row(3, MAX_ROW_BYTES - 11 - size(0) + 1)).unwrap(); // one byte too many: page 2
        let t = w.finish();
        assert_eq!((t.pages(), t.rows), (3, 4));
        let p: Vec<_> = (0..3)
            .map(|i| decode_page(&t.schema, t.page(i).unwrap()).unwrap())
            .collect();
        assert_eq!(p[0], vec![row(0, first), row(1, 89)]);
        assert_eq!(p[1], vec![row(2, 0)]);
        assert_eq!(p[2], vec![row(3, MAX_ROW_BYTES - 11 - size(0) + 1)]);
        assert!(t.page(3).is_none());
    }

    #[test]
    fn a_row_larger_than_a_page_is_refused() {
        let s = Schema::new("t", &[("s", ColumnType::VarStr(5000))]).unwrap();
        let mut w = PageWriter::new(s);
        let e = w.push(&[Value::Str("x".repeat(MAX_ROW_BYTES))]).unwrap_err();
        assert!(matches!(e, FormatError::RowTooLarge { .. }), "{e}");
        w.push(&[Value::Str("x".repeat(MAX_ROW_BYTES - 2))]).unwrap();
        assert_eq!(w.finish().pages(), 1);
    }

    #[test]
    fn headers_are_checked() {
        let mut w = PageWriter::new(schema());
        w.push(&row(1, 3)).unwrap();
        let t = w.finish();
        let page = t.page(0).unwrap();
        assert_eq!(page_rows(page).unwrap(), 1);
        assert!(matches!(
            page_rows(&page[..100]),
            Err(FormatError::PageSize { .. })
        ));
        let mut bad = page.to_vec();
        bad[0] = 0;
        assert!(matches!(
            decode_page(&t.schema, &bad),
            Err(FormatError::BadMagic { .. })
        ));
        bad[0] = PAGE_MAGIC;
        bad[1] = 9;
        assert!(matches!(
            decode_page(&t.schema, &bad),
            Err(FormatError::BadVersion { .. })
        ));
        let mut bad = page.to_vec();
        bad[3] = 2; // claims two rows; the second is zero padding
        assert!(matches!(
            decode_page(&t.schema, &bad),
            Err(FormatError::Corrupt { row: 1, .. })
        ));
        assert!(PageWriter::new(schema()).finish().bytes.is_empty());
    }
}
