//! The byte encoding of rows, chosen so that the channel pattern matcher can find values.
//!
//! A row is its columns in schema order. Each column is a **tag byte** (`0xC0 + column index`)
//! followed by the value:
//!
//! | type | bytes after the tag | order-preserving |
//! |---|---|---|
//! | `BIGINT`, `DECIMAL(p,s)` | the (scaled) `i64`, big-endian, sign bit flipped | yes (unsigned byte order) |
//! | `DATE` | year as big-endian `u16`, month `u8`, day `u8` | yes |
//! | `CHAR(n)` | exactly `n` bytes | yes (for equal `n`) |
//! | `VARCHAR(max)` | the bytes, then `0x00` | yes (NUL sorts first) |
//!
//! Why this form:
//! - **The tag makes keys column-specific, and stays conservative.** Every encoded value of
//!   column `i` is preceded by tag `i`, so a key `tag ‖ value-prefix` is found in every page that
//!   holds a row whose value has that prefix. Without it, `l_shipdate = 1995-01-17` would also
//!   hint pages whose `l_commitdate` or `l_receiptdate` is that day (three date columns side by
//!   side in `lineitem`). TPC-H text is ASCII, so tags (`>= 0xC0`) never occur in strings; they
//!   can occur inside binary numbers, which only adds false positives.
//! - **Ranges become byte prefixes.** The encodings are big-endian and order-preserving, so the
//!   values of a range `[lo, hi]` are exactly the byte strings between `enc(lo)` and `enc(hi)`,
//!   all of which start with their common prefix. The YourSQL slides store dates in MySQL's
//!   3-byte packed form (`YYYY*512 + MM*32 + DD`, sign bit set): September 1995 is `8F 97 21` to
//!   `8F 97 41`, and the common prefix `8F 97` also admits August and October to December,
//!   because the month straddles a byte boundary. Putting year, month and day in their own bytes
//!   makes a calendar month exactly one 3-byte prefix (`07 CB 09` for 1995-09) and a year exactly
//!   one 2-byte prefix, so a month range has no false positives from neighbouring months.
//!   A day number would be compact too, but a month is then not a prefix (`1995-09` is days
//!   9374..=9403, prefix `24 9E..24 BB`, shared with 256 days).
//! - **Decimals as sign-flipped big-endian `i64`**: negative values sort before positive ones
//!   byte-wise (`-0.01` is `7F FF .. FF`, `0.00` is `80 00 .. 00`), so ranges over negative and
//!   positive values work the same way.
//! - **`VARCHAR` ends with `0x00`**, so equality is an exact key (`tag ‖ bytes ‖ 00`, the NUL
//!   stops `'AIR'` from matching `'AIR REG'`), a prefix `LIKE 'X%'` is `tag ‖ X` and a suffix
//!   `LIKE '%X'` is `X ‖ 00`. A length prefix would have put the unknown length between the tag
//!   and the text.

use crate::error::FormatError;
use crate::value::{ColumnType, Date, Decimal, Schema, Value};

/// The first column tag; column `i` is tagged `TAG_BASE + i`.
pub const TAG_BASE: u8 = 0xC0;

/// The tag byte of column `index`.
pub fn tag(index: usize) -> u8 {
    TAG_BASE.wrapping_add(index as u8)
}

/// Width of the value bytes of a fixed-width type (`None` for `VARCHAR`).
pub fn fixed_width(ty: ColumnType) -> Option<usize> {
    match ty {
        ColumnType::Int64 | ColumnType::Decimal { .. } => Some(8),
        ColumnType::Date => Some(4),
        ColumnType::FixedStr(n) => Some(usize::from(n)),
        ColumnType::VarStr(_) => None,
    }
}

/// The order-preserving bytes of an `i64`.
pub fn encode_i64(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

/// The order-preserving bytes of a date.
pub fn encode_date(d: Date) -> [u8; 4] {
    let y = d.year().to_be_bytes();
    [y[0], y[1], d.month(), d.day()]
}

fn mismatch(name: &str, ty: ColumnType, v: &Value) -> FormatError {
    FormatError::TypeMismatch {
        column: name.to_string(),
        expected: ty.describe(),
        got: v.kind(),
    }
}

/// Appends the value bytes (without the tag) of `v` as column `name` of type `ty`.
pub fn encode_value(name: &str, ty: ColumnType, v: &Value, out: &mut Vec<u8>) -> Result<(), FormatError> {
    match (ty, v) {
        (ColumnType::Int64, Value::Int(i)) => out.extend_from_slice(&encode_i64(*i)),
        (ColumnType::Decimal { scale }, Value::Decimal(d)) if d.scale == scale => {
            out.extend_from_slice(&encode_i64(d.units))
        }
        (ColumnType::Date, Value::Date(d)) => out.extend_from_slice(&encode_date(*d)),
        (ColumnType::FixedStr(n), Value::Str(s)) => {
            if s.len() != usize::from(n) {
                return Err(FormatError::StringLength {
                    column: name.to_string(),
                    len: s.len(),
                    expected: format!("exactly {n}"),
                });
            }
            out.extend_from_slice(s.as_bytes());
        }
        (ColumnType::VarStr(max), Value::Str(s)) => {
            if s.len() > usize::from(max) {
                return Err(FormatError::StringLength {
                    column: name.to_string(),
                    len: s.len(),
                    expected: format!("at most {max}"),
                });
            }
            if s.as_bytes().contains(&0) {
                return Err(FormatError::NulInString {
                    column: name.to_string(),
                });
            }
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        _ => return Err(mismatch(name, ty, v)),
    }
    Ok(())
}

/// Appends the encoding of a whole row.
pub fn encode_row(schema: &Schema, row: &[Value], out: &mut Vec<u8>) -> Result<(), FormatError> {
    let cols = schema.columns();
    if row.len() != cols.len() {
        return Err(FormatError::Arity {
            table: schema.table().to_string(),
            got: row.len(),
            expected: cols.len(),
        });
    }
    for (i, (col, v)) in cols.iter().zip(row).enumerate() {
        out.push(tag(i));
        encode_value(&col.name, col.ty, v, out)?;
    }
    Ok(())
}

/// Decodes one row starting at `*pos` of `buf` and advances `*pos` past it. `row` is the row's
/// index in its page, for error messages.
pub fn decode_row(
    schema: &Schema,
    buf: &[u8],
    pos: &mut usize,
    row: usize,
) -> Result<Vec<Value>, FormatError> {
    let mut values = Vec::with_capacity(schema.columns().len());
    for i in 0..schema.columns().len() {
        values.push(decode_column(schema, i, buf, pos, row)?);
    }
    Ok(values)
}

/// The bytes of column `i`'s value at `*pos` (its tag checked), and where the next column
/// starts. Strings are not checked for UTF-8 here.
fn column_bytes<'b>(
    schema: &Schema,
    i: usize,
    buf: &'b [u8],
    pos: usize,
    row: usize,
) -> Result<(&'b [u8], usize), FormatError> {
    let col = &schema.columns()[i];
    let corrupt = |problem: String| FormatError::Corrupt {
        row,
        column: col.name.clone(),
        problem,
    };
    let found = *buf
        .get(pos)
        .ok_or_else(|| corrupt("the page ends before the column".into()))?;
    if found != tag(i) {
        return Err(corrupt(format!("tag {found:#04x}; expected {:#04x}", tag(i))));
    }
    let rest = &buf[pos + 1..];
    let (len, used) = match fixed_width(col.ty) {
        Some(n) => (n, n),
        None => {
            let end = rest
                .iter()
                .position(|&c| c == 0)
                .ok_or_else(|| corrupt("no NUL terminator before the page end".into()))?;
            (end, end + 1)
        }
    };
    let bytes = rest
        .get(..len)
        .ok_or_else(|| corrupt(format!("{} bytes left; expected {len}", rest.len())))?;
    Ok((bytes, pos + 1 + used))
}

/// Skips column `i`'s value at `*pos` (checking its tag and length, not decoding it).
pub fn skip_column(
    schema: &Schema,
    i: usize,
    buf: &[u8],
    pos: &mut usize,
    row: usize,
) -> Result<(), FormatError> {
    *pos = column_bytes(schema, i, buf, *pos, row)?.1;
    Ok(())
}

/// Decodes column `i`'s value at `*pos` and advances `*pos` past it.
pub fn decode_column(
    schema: &Schema,
    i: usize,
    buf: &[u8],
    pos: &mut usize,
    row: usize,
) -> Result<Value, FormatError> {
    let (b, next) = column_bytes(schema, i, buf, *pos, row)?;
    let col = &schema.columns()[i];
    let corrupt = |problem: String| FormatError::Corrupt {
        row,
        column: col.name.clone(),
        problem,
    };
    let value = match col.ty {
        ColumnType::Int64 | ColumnType::Decimal { .. } => {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            let v = (u64::from_be_bytes(a) ^ (1 << 63)) as i64;
            match col.ty {
                ColumnType::Decimal { scale } => Value::Decimal(Decimal { units: v, scale }),
                _ => Value::Int(v),
            }
        }
        ColumnType::Date => Value::Date(
            Date::new(u16::from_be_bytes([b[0], b[1]]), b[2], b[3]).map_err(|e| corrupt(e.to_string()))?,
        ),
        ColumnType::FixedStr(_) => Value::Str(
            std::str::from_utf8(b)
                .map_err(|_| corrupt("text is not UTF-8".into()))?
                .to_string(),
        ),
        ColumnType::VarStr(max) => {
            if b.len() > usize::from(max) {
                return Err(corrupt(format!(
                    "string of {} bytes; expected at most {max}",
                    b.len()
                )));
            }
            Value::Str(
                std::str::from_utf8(b)
                    .map_err(|_| corrupt("text is not UTF-8".into()))?
                    .to_string(),
            )
        }
    };
    *pos = next;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::new(
            "t",
            &[
                ("k", ColumnType::Int64),
                ("price", ColumnType::Decimal { scale: 2 }),
                ("day", ColumnType::Date),
                ("flag", ColumnType::FixedStr(1)),
                ("note", ColumnType::VarStr(20)),
            ],
        )
        .unwrap()
    }

    fn row(k: i64, price: &str, day: &str, note: &str) -> Vec<Value> {
        vec![
            Value::Int(k),
            Value::decimal(price).unwrap(),
            Value::date(day).unwrap(),
            Value::str("R"),
            Value::str(note),
        ]
    }

    #[test]
    fn rows_round_trip_including_empty_strings_and_negatives() {
        let s = schema();
        let rows = [
            row(-5, "-12.34", "1995-01-17", ""),
            row(i64::MAX, "0.00", "9999-12-31", "hello"),
            row(i64::MIN, "-0.01", "0001-01-01", "x"),
        ];
        let mut buf = Vec::new();
        for r in &rows {
            encode_row(&s, r, &mut buf).unwrap();
        }
        let mut pos = 0;
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(&decode_row(&s, &buf, &mut pos, i).unwrap(), r);
        }
        assert_eq!(pos, buf.len());
    }

    #[test]
    fn encodings_preserve_order_including_negative_decimals() {
        let vals = [
            "-100.00", "-12.34", "-0.01", "0.00", "0.01", "0.05", "12.34", "100.00",
        ];
        let enc: Vec<[u8; 8]> = vals
            .iter()
            .map(|v| encode_i64(Decimal::parse(v).unwrap().units))
            .collect();
        assert!(enc.windows(2).all(|w| w[0] < w[1]), "{enc:02x?}");
        assert_eq!(enc[2], [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(enc[3], [0x80, 0, 0, 0, 0, 0, 0, 0]);
        let days = [
            "1994-12-31",
            "1995-01-01",
            "1995-01-17",
            "1995-09-30",
            "1995-10-01",
        ];
        let enc: Vec<[u8; 4]> = days
            .iter()
            .map(|d| encode_date(Date::parse(d).unwrap()))
            .collect();
        assert!(enc.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(enc[3], [0x07, 0xcb, 0x09, 30]);
    }

    #[test]
    fn bad_values_are_refused_with_names() {
        let s = schema();
        let mut buf = Vec::new();
        let mut r = row(1, "1.00", "1995-01-01", "ok");
        r[3] = Value::str("RR");
        let e = encode_row(&s, &r, &mut buf).unwrap_err();
        assert!(e.to_string().contains("`flag`"), "{e}");
        r[3] = Value::Int(3);
        assert!(matches!(
            encode_row(&s, &r, &mut buf),
            Err(FormatError::TypeMismatch { .. })
        ));
        let mut r = row(1, "1.00", "1995-01-01", "a\0b");
        assert!(matches!(
            encode_row(&s, &r, &mut buf),
            Err(FormatError::NulInString { .. })
        ));
        r[4] = Value::str(&"x".repeat(21));
        assert!(matches!(
            encode_row(&s, &r, &mut buf),
            Err(FormatError::StringLength { .. })
        ));
        r[1] = Value::decimal("1.0").unwrap();
        assert!(matches!(
            encode_row(&s, &r, &mut buf),
            Err(FormatError::TypeMismatch { .. })
        ));
        assert!(matches!(
            encode_row(&s, &r[..2], &mut buf),
            Err(FormatError::Arity { .. })
        ));
    }

    #[test]
    fn corrupt_bytes_are_errors_not_panics() {
        let s = schema();
        let mut buf = Vec::new();
        encode_row(&s, &row(7, "1.50", "1995-01-17", "abc"), &mut buf).unwrap();
        for cut in 0..buf.len() {
            let mut pos = 0;
            assert!(decode_row(&s, &buf[..cut], &mut pos, 0).is_err(), "cut at {cut}");
        }
        let mut bad = buf.clone();
        bad[0] = 0x00;
        assert!(decode_row(&s, &bad, &mut 0, 0).is_err());
        let mut bad = buf.clone();
        bad[1 + 8 + 1 + 8 + 1 + 2] = 13; // month 13
        assert!(decode_row(&s, &bad, &mut 0, 0).is_err());
        // Fuzz-ish: every single-byte corruption decodes or errors, never panics.
        for i in 0..buf.len() {
            for v in [0u8, 0x7f, 0xc3, 0xff] {
                let mut b = buf.clone();
                b[i] = v;
                let _ = decode_row(&s, &b, &mut 0, 0);
            }
        }
    }
}
