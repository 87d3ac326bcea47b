//! Device table schemas and rows as Arrow: [`arrow_type`], [`arrow_schema`], [`rows_to_batch`],
//! and the day-number form of dates ([`date_to_days`], [`days_to_date`]).
//!
//! | `yoursql_core` type | Arrow type |
//! |---|---|
//! | `BIGINT` | `Int64` |
//! | `DECIMAL(15,s)` | `Decimal128(15, s)` (the scaled units unchanged) |
//! | `DATE` | `Date32` (days since 1970-01-01) |
//! | `CHAR(n)`, `VARCHAR(n)` | `Utf8` |
//!
//! Columns are not nullable: the row format has no NULL.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Date32Builder, Decimal128Builder, Int64Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema as ArrowSchema, SchemaRef};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use yoursql_core::{ColumnType, Date, Schema, Value};

use crate::error::Error;

/// Precision of every `DECIMAL` column (TPC-H's `DECIMAL(15,2)`).
pub const DECIMAL_PRECISION: u8 = 15;

/// The Arrow type of a column type.
pub fn arrow_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::Int64 => DataType::Int64,
        ColumnType::Decimal { scale } => DataType::Decimal128(DECIMAL_PRECISION, scale as i8),
        ColumnType::Date => DataType::Date32,
        ColumnType::FixedStr(_) | ColumnType::VarStr(_) => DataType::Utf8,
    }
}

/// The Arrow schema of a table (same column names and order).
pub fn arrow_schema(schema: &Schema) -> SchemaRef {
    Arc::new(ArrowSchema::new(
        schema
            .columns()
            .iter()
            .map(|c| Field::new(&c.name, arrow_type(c.ty), false))
            .collect::<Vec<_>>(),
    ))
}

/// Days from 1970-01-01 to `d` (negative before it), as Arrow's `Date32`.
pub fn date_to_days(d: Date) -> i32 {
    // Howard Hinnant's days_from_civil.
    let (m, dd) = (i64::from(d.month()), i64::from(d.day()));
    let y = i64::from(d.year()) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// The date `days` after 1970-01-01, or `None` outside years 1 to 9999.
pub fn days_to_date(days: i32) -> Option<Date> {
    // Howard Hinnant's civil_from_days.
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date::new(
        u16::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()
}

enum Builder {
    Int(Int64Builder),
    Decimal(Decimal128Builder, u8),
    Date(Date32Builder),
    Str(StringBuilder),
}

/// Builds a batch of the columns `projection` (indices into `schema`; all when `None`) from
/// rows holding the values of those columns in that order (a scan's projected rows). A value of
/// the wrong kind for its column is an error naming both.
pub fn rows_to_batch(
    schema: &Schema,
    rows: &[Vec<Value>],
    projection: Option<&[usize]>,
) -> Result<RecordBatch, Error> {
    let all: Vec<usize> = (0..schema.columns().len()).collect();
    let cols = projection.unwrap_or(&all);
    let full = arrow_schema(schema);
    let out_schema = Arc::new(full.project(cols).map_err(|e| Error::Arrow(e.to_string()))?);
    let mut builders: Vec<Builder> = cols
        .iter()
        .map(|&i| match schema.columns()[i].ty {
            ColumnType::Int64 => Builder::Int(Int64Builder::with_capacity(rows.len())),
            ColumnType::Decimal { scale } => {
                Builder::Decimal(Decimal128Builder::with_capacity(rows.len()), scale)
            }
            ColumnType::Date => Builder::Date(Date32Builder::with_capacity(rows.len())),
            ColumnType::FixedStr(_) | ColumnType::VarStr(_) => Builder::Str(StringBuilder::new()),
        })
        .collect();
    for row in rows {
        if row.len() != cols.len() {
            return Err(Error::RowWidth {
                table: schema.table().to_string(),
                got: row.len(),
                expected: cols.len(),
            });
        }
        for (j, (b, &i)) in builders.iter_mut().zip(cols).enumerate() {
            let col = &schema.columns()[i];
            let bad = || Error::RowValue {
                table: schema.table().to_string(),
                column: col.name.clone(),
                expected: col.ty.describe(),
                got: row.get(j).map_or("nothing", Value::kind),
            };
            match (b, row.get(j)) {
                (Builder::Int(b), Some(Value::Int(v))) => b.append_value(*v),
                (Builder::Decimal(b, scale), Some(Value::Decimal(d))) if d.scale == *scale => {
                    b.append_value(i128::from(d.units))
                }
                (Builder::Date(b), Some(Value::Date(d))) => b.append_value(date_to_days(*d)),
                (Builder::Str(b), Some(Value::Str(s))) => b.append_value(s),
                _ => return Err(bad()),
            }
        }
    }
    let arrays: Vec<ArrayRef> = builders
        .into_iter()
        .map(|b| -> Result<ArrayRef, Error> {
            Ok(match b {
                Builder::Int(mut b) => Arc::new(b.finish()),
                Builder::Decimal(mut b, scale) => Arc::new(
                    b.finish()
                        .with_precision_and_scale(DECIMAL_PRECISION, scale as i8)
                        .map_err(|e| Error::Arrow(e.to_string()))?,
                ),
                Builder::Date(mut b) => Arc::new(b.finish()),
                Builder::Str(mut b) => Arc::new(b.finish()),
            })
        })
        .collect::<Result<_, _>>()?;
    // An empty projection (COUNT(*)) still carries the row count.
    let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
    RecordBatch::try_new_with_options(out_schema, arrays, &options).map_err(|e| Error::Arrow(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip_and_match_known_days() {
        let d = |s| Date::parse(s).unwrap();
        assert_eq!(date_to_days(d("1970-01-01")), 0);
        assert_eq!(date_to_days(d("1969-12-31")), -1);
        assert_eq!(date_to_days(d("1995-01-17")), 9147);
        assert_eq!(date_to_days(d("2000-03-01")), 11_017);
        for days in -719_162..=(date_to_days(d("9999-12-31"))) {
            if days % 997 == 0 || days.abs() < 1500 {
                let date = days_to_date(days).unwrap();
                assert_eq!(date_to_days(date), days, "{date}");
            }
        }
        assert_eq!(days_to_date(-719_163), None);
        assert_eq!(days_to_date(2_932_897), None);
    }

    #[test]
    fn rows_become_typed_columns_and_bad_values_are_named() {
        let schema = Schema::new(
            "t",
            &[
                ("k", ColumnType::Int64),
                ("p", ColumnType::Decimal { scale: 2 }),
                ("d", ColumnType::Date),
                ("s", ColumnType::FixedStr(1)),
            ],
        )
        .unwrap();
        let rows = vec![vec![
            Value::Int(3),
            Value::decimal("-1.25").unwrap(),
            Value::date("1995-01-17").unwrap(),
            Value::str("R"),
        ]];
        let b = rows_to_batch(&schema, &rows, None).unwrap();
        assert_eq!(b.num_columns(), 4);
        assert_eq!(b.schema().field(1).data_type(), &DataType::Decimal128(15, 2));
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&[b])
            .unwrap()
            .to_string();
        assert!(text.contains("| 3 | -1.25 | 1995-01-17 | R |"), "{text}");
        let projected = vec![vec![rows[0][2].clone(), rows[0][0].clone()]];
        let p = rows_to_batch(&schema, &projected, Some(&[2, 0])).unwrap();
        assert_eq!(p.schema().field(0).name(), "d");
        assert!(rows_to_batch(&schema, &rows[..], Some(&[2, 0])).is_err());
        let none = rows_to_batch(&schema, &[vec![]], Some(&[])).unwrap();
        assert_eq!(none.num_rows(), 1);
        let mut bad = rows.clone();
        bad[0][0] = Value::str("x");
        let e = rows_to_batch(&schema, &bad, None).unwrap_err();
        assert!(e.to_string().contains("`k`"), "{e}");
        let e = rows_to_batch(&schema, &[vec![Value::Int(1)]], None).unwrap_err();
        assert!(
            matches!(
                e,
                Error::RowWidth {
                    got: 1,
                    expected: 4,
                    ..
                }
            ),
            "{e}"
        );
    }
}
