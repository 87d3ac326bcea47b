//! DataFusion filter expressions to `yoursql_core` predicates: [`to_predicate`].
//!
//! Converted (after DataFusion's simplifier has folded constants such as
//! `DATE '1994-01-01' + INTERVAL '1' YEAR`):
//! - `column op literal` and `literal op column` with `=`, `<`, `<=`, `>`, `>=`, on integer,
//!   decimal, date and string literals;
//! - `column BETWEEN literal AND literal`;
//! - `column LIKE 'X'`, `'X%'`, `'%X'`, `'%X%'` (case-sensitive, no `_`, no escape character);
//! - `AND` of any of these.
//!
//! A column may be wrapped in a cast that keeps every value unchanged (a wider `Int64`/decimal
//! of the same scale, `Date32` to itself, string to string). Everything else (`OR`, `NOT`,
//! `<>`, `IN`, `IS NULL`, floats, functions, `ILIKE`, `NOT LIKE`, ...) is refused with
//! [`Unsupported`], and the provider reports it as not pushed down. A literal that does not fit
//! the column exactly (`l_discount = 0.055` on `DECIMAL(15,2)`) is refused at binding.

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use datafusion::scalar::ScalarValue;
use yoursql_core::{CmpOp, Decimal, Predicate, Schema, Value};

use crate::arrow_map::{arrow_type, days_to_date};

/// Why an expression is not converted (the text names the part that is not).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter `{expr}` is not pushed down: {reason}")]
pub struct Unsupported {
    /// The expression, as DataFusion prints it.
    pub expr: String,
    /// What is not supported.
    pub reason: String,
}

fn unsupported(e: &Expr, reason: impl Into<String>) -> Unsupported {
    Unsupported {
        expr: e.to_string(),
        reason: reason.into(),
    }
}

/// Converts a filter over the table of `schema` into a predicate and checks that it binds
/// (columns exist, literals fit their column exactly).
pub fn to_predicate(e: &Expr, schema: &Schema) -> Result<Predicate, Unsupported> {
    let p = convert(e, schema)?;
    p.bind(schema).map_err(|err| unsupported(e, err.to_string()))?;
    Ok(p)
}

/// Converts several filters (a conjunction) into one predicate; `None` for no filters.
pub fn conjunction(filters: &[Expr], schema: &Schema) -> Result<Option<Predicate>, Unsupported> {
    let mut ps = filters
        .iter()
        .map(|f| to_predicate(f, schema))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(match ps.len() {
        0 => None,
        1 => ps.pop(),
        _ => Some(Predicate::And(ps)),
    })
}

fn convert(e: &Expr, schema: &Schema) -> Result<Predicate, Unsupported> {
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            if *op == Operator::And {
                let mut parts = Vec::new();
                for side in [left, right] {
                    match convert(side, schema)? {
                        Predicate::And(inner) => parts.extend(inner),
                        p => parts.push(p),
                    }
                }
                return Ok(Predicate::And(parts));
            }
            let cmp = match op {
                Operator::Eq => CmpOp::Eq,
                Operator::Lt => CmpOp::Lt,
                Operator::LtEq => CmpOp::Le,
                Operator::Gt => CmpOp::Gt,
                Operator::GtEq => CmpOp::Ge,
                other => return Err(unsupported(e, format!("operator `{other}`"))),
            };
            if let (Some(col), Some(lit)) = (column_of(left, schema), literal_of(right)) {
                Ok(Predicate::cmp(&col, cmp, lit.map_err(|r| unsupported(e, r))?))
            } else if let (Some(lit), Some(col)) = (literal_of(left), column_of(right, schema)) {
                Ok(Predicate::cmp(
                    &col,
                    flip(cmp),
                    lit.map_err(|r| unsupported(e, r))?,
                ))
            } else {
                Err(unsupported(e, "expected a column compared with a literal"))
            }
        }
        Expr::Between(b) => {
            if b.negated {
                return Err(unsupported(e, "NOT BETWEEN"));
            }
            let col = column_of(&b.expr, schema).ok_or_else(|| unsupported(e, "expected a column"))?;
            let low = literal_of(&b.low).ok_or_else(|| unsupported(e, "expected a literal low bound"))?;
            let high = literal_of(&b.high).ok_or_else(|| unsupported(e, "expected a literal high bound"))?;
            Ok(Predicate::between(
                &col,
                low.map_err(|r| unsupported(e, r))?,
                high.map_err(|r| unsupported(e, r))?,
            ))
        }
        Expr::Like(l) => {
            if l.negated || l.case_insensitive {
                return Err(unsupported(e, "NOT LIKE and ILIKE"));
            }
            if l.escape_char.is_some() {
                return Err(unsupported(e, "an ESCAPE character"));
            }
            let col = column_of(&l.expr, schema).ok_or_else(|| unsupported(e, "expected a column"))?;
            let pattern = match literal_of(&l.pattern) {
                Some(Ok(Value::Str(s))) => s,
                _ => return Err(unsupported(e, "expected a string literal pattern")),
            };
            // DataFusion treats `\` as an escape in patterns; the core matcher does not.
            if pattern.contains('\\') {
                return Err(unsupported(e, "a backslash in the pattern"));
            }
            Ok(Predicate::like(&col, &pattern))
        }
        _ => Err(unsupported(e, "expected a comparison, BETWEEN, LIKE or AND")),
    }
}

pub(crate) fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
    }
}

/// The table column `e` reads, possibly through a cast that changes no value.
fn column_of(e: &Expr, schema: &Schema) -> Option<String> {
    match e {
        Expr::Column(c) => schema.index_of(&c.name).map(|_| c.name.clone()),
        Expr::Cast(c) => {
            let name = column_of(&c.expr, schema)?;
            let from = arrow_type(schema.columns()[schema.index_of(&name)?].ty);
            lossless(&from, c.field.data_type()).then_some(name)
        }
        Expr::TryCast(c) => {
            let name = column_of(&c.expr, schema)?;
            let from = arrow_type(schema.columns()[schema.index_of(&name)?].ty);
            lossless(&from, c.field.data_type()).then_some(name)
        }
        _ => None,
    }
}

/// Whether casting every value of `from` to `to` keeps it equal (so comparing after the cast is
/// comparing the stored value).
fn lossless(from: &DataType, to: &DataType) -> bool {
    match (from, to) {
        (DataType::Int64, DataType::Int64) | (DataType::Date32, DataType::Date32) => true,
        (DataType::Utf8, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => true,
        // Decimal128(15, s) values fit any decimal with at least 15 - s integer digits.
        (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2) | DataType::Decimal256(p2, s2)) => {
            s2 >= s1 && i16::from(*p2) - i16::from(*s2) >= i16::from(*p1) - i16::from(*s1)
        }
        (DataType::Int64, DataType::Decimal128(p, s) | DataType::Decimal256(p, s)) => {
            i16::from(*p) - i16::from(*s) >= 19
        }
        _ => false,
    }
}

/// The value of a literal: `None` if `e` is not a literal, `Some(Err)` for one of a kind that is
/// not converted.
fn literal_of(e: &Expr) -> Option<Result<Value, String>> {
    let v = match e {
        Expr::Literal(v, _) => v,
        _ => return None,
    };
    Some(scalar(v))
}

pub(crate) fn scalar(v: &ScalarValue) -> Result<Value, String> {
    let int = |x: Option<i64>| x.map(Value::Int).ok_or_else(|| "NULL literal".to_string());
    match v {
        ScalarValue::Int8(x) => int(x.map(i64::from)),
        ScalarValue::Int16(x) => int(x.map(i64::from)),
        ScalarValue::Int32(x) => int(x.map(i64::from)),
        ScalarValue::Int64(x) => int(*x),
        ScalarValue::UInt8(x) => int(x.map(i64::from)),
        ScalarValue::UInt16(x) => int(x.map(i64::from)),
        ScalarValue::UInt32(x) => int(x.map(i64::from)),
        ScalarValue::UInt64(x) => int(x.and_then(|x| i64::try_from(x).ok())),
        ScalarValue::Decimal128(Some(units), _, scale) => {
            let units = i64::try_from(*units).map_err(|_| format!("decimal {units} out of range"))?;
            let scale = u8::try_from(*scale)
                .ok()
                .filter(|s| *s <= Decimal::MAX_SCALE)
                .ok_or_else(|| format!("decimal scale {scale}"))?;
            Ok(Value::Decimal(Decimal { units, scale }))
        }
        ScalarValue::Date32(Some(days)) => days_to_date(*days)
            .map(Value::Date)
            .ok_or_else(|| format!("date {days} days from 1970 is outside years 1 to 9999")),
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => {
            Ok(Value::Str(s.clone()))
        }
        other => Err(format!("literal `{other}` of type {}", other.data_type())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};
    use yoursql_core::tpch::lineitem_schema;

    fn date(s: &str) -> Expr {
        let days = crate::arrow_map::date_to_days(yoursql_core::Date::parse(s).unwrap());
        Expr::Literal(ScalarValue::Date32(Some(days)), None)
    }

    fn dec(units: i128, p: u8, s: i8) -> Expr {
        Expr::Literal(ScalarValue::Decimal128(Some(units), p, s), None)
    }

    #[test]
    fn comparisons_between_like_and_and_convert() {
        let s = lineitem_schema();
        let p = to_predicate(&col("l_shipdate").eq(date("1995-01-17")), &s).unwrap();
        assert_eq!(
            p,
            Predicate::cmp("l_shipdate", CmpOp::Eq, Value::date("1995-01-17").unwrap())
        );
        // Literal on the left flips the operator.
        let p = to_predicate(&date("1994-01-01").lt_eq(col("l_shipdate")), &s).unwrap();
        assert_eq!(
            p,
            Predicate::cmp("l_shipdate", CmpOp::Ge, Value::date("1994-01-01").unwrap())
        );
        let p = to_predicate(&col("l_discount").between(dec(5, 15, 2), dec(7, 15, 2)), &s).unwrap();
        assert!(matches!(p, Predicate::Between { .. }), "{p:?}");
        let p = to_predicate(&col("l_quantity").lt(lit(24i64)), &s).unwrap();
        assert_eq!(p, Predicate::cmp("l_quantity", CmpOp::Lt, Value::Int(24)));
        let p = to_predicate(&col("l_shipmode").like(lit("%AIR%")), &s).unwrap();
        assert_eq!(p, Predicate::like("l_shipmode", "%AIR%"));
        let both = col("l_returnflag")
            .eq(lit("R"))
            .and(col("l_orderkey").gt(lit(5i32)));
        assert!(matches!(to_predicate(&both, &s).unwrap(), Predicate::And(v) if v.len() == 2));
        // A widening cast of the column keeps the value.
        let cast = Expr::Cast(datafusion::logical_expr::Cast::new(
            Box::new(col("l_discount")),
            DataType::Decimal128(20, 2),
        ));
        assert!(to_predicate(&cast.gt_eq(dec(5, 20, 2)), &s).is_ok());
    }

    #[test]
    fn everything_else_is_refused_with_a_reason() {
        let s = lineitem_schema();
        let refused = [
            col("l_shipdate").not_eq(date("1995-01-17")),
            col("l_orderkey")
                .eq(lit(1i64))
                .or(col("l_orderkey").eq(lit(2i64))),
            col("l_shipmode").not_like(lit("AIR%")),
            col("l_shipmode").ilike(lit("air%")),
            col("l_shipmode").like(lit("A_R")),
            col("l_discount").eq(lit(0.05f64)),
            col("l_discount").eq(dec(55, 15, 3)),
            col("l_orderkey").eq(col("l_partkey")),
            col("nope").eq(lit(1i64)),
            col("l_shipdate").eq(lit(1i64)),
            col("l_discount").not_between(dec(5, 15, 2), dec(7, 15, 2)),
            Expr::Cast(datafusion::logical_expr::Cast::new(
                Box::new(col("l_discount")),
                DataType::Decimal128(15, 1),
            ))
            .eq(dec(1, 15, 1)),
        ];
        for e in refused {
            let err = to_predicate(&e, &s).unwrap_err();
            assert!(!err.reason.is_empty(), "{e}");
        }
    }

    #[test]
    fn conjunctions_combine_filters() {
        let s = lineitem_schema();
        assert_eq!(conjunction(&[], &s).unwrap(), None);
        let fs = [
            col("l_shipdate").gt_eq(date("1994-01-01")),
            col("l_shipdate").lt(date("1995-01-01")),
        ];
        assert!(matches!(conjunction(&fs, &s).unwrap(), Some(Predicate::And(v)) if v.len() == 2));
    }
}
