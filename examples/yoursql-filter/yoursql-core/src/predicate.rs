//! Filter predicates: the AST, binding to a schema, the software filter and YourSQL's limiting
//! score.
//!
//! A [`Predicate`] names columns; [`Predicate::bind`] resolves them against a [`Schema`] and
//! converts literals to the column's type (an integer literal on a `DECIMAL(15,2)` column becomes
//! a decimal of scale 2; `0.055` on that column is refused rather than rounded). The resulting
//! [`BoundPredicate`] evaluates rows ([`BoundPredicate::matches`], the software filter that
//! removes the matcher's false positives), scores itself ([`BoundPredicate::limiting_score`]) and
//! turns itself into matcher keys ([`BoundPredicate::match_plan`], in [`crate::keys`]).

use std::cmp::Ordering;
use std::fmt;

use crate::error::{FormatError, PredicateError};
use crate::page::decode_page;
use crate::value::{Column, ColumnType, Schema, Value};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The SQL spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn holds(self, ord: Ordering) -> bool {
        match self {
            CmpOp::Eq => ord == Ordering::Equal,
            CmpOp::Lt => ord == Ordering::Less,
            CmpOp::Le => ord != Ordering::Greater,
            CmpOp::Gt => ord == Ordering::Greater,
            CmpOp::Ge => ord != Ordering::Less,
        }
    }
}

/// A filter predicate over the columns of one table.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// `column op value`
    Cmp {
        /// Column name.
        column: String,
        /// Operator.
        op: CmpOp,
        /// Literal.
        value: Value,
    },
    /// `column BETWEEN low AND high` (both inclusive).
    Between {
        /// Column name.
        column: String,
        /// Lower bound.
        low: Value,
        /// Upper bound.
        high: Value,
    },
    /// `column LIKE pattern`, with pattern `X`, `X%`, `%X` or `%X%`.
    Like {
        /// Column name.
        column: String,
        /// The SQL pattern.
        pattern: String,
    },
    /// Conjunction.
    And(Vec<Predicate>),
}

impl Predicate {
    /// `column op value`.
    pub fn cmp(column: &str, op: CmpOp, value: Value) -> Self {
        Predicate::Cmp {
            column: column.to_string(),
            op,
            value,
        }
    }

    /// `column BETWEEN low AND high`.
    pub fn between(column: &str, low: Value, high: Value) -> Self {
        Predicate::Between {
            column: column.to_string(),
            low,
            high,
        }
    }

    /// `column LIKE pattern`.
    pub fn like(column: &str, pattern: &str) -> Self {
        Predicate::Like {
            column: column.to_string(),
            pattern: pattern.to_string(),
        }
    }

    /// Resolves columns and converts literals to the column types of `schema`.
    pub fn bind(&self, schema: &Schema) -> Result<BoundPredicate, PredicateError> {
        Ok(BoundPredicate {
            schema: schema.clone(),
            node: bind_node(self, schema)?,
        })
    }
}

/// The shape of a supported LIKE pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LikeKind {
    /// `'X'`: equality.
    Exact,
    /// `'X%'`
    Prefix,
    /// `'%X'`
    Suffix,
    /// `'%X%'`
    Contains,
}

impl LikeKind {
    /// Splits a pattern into its shape and text; `None` for `_` or an inner `%`.
    pub fn parse(pattern: &str) -> Option<(LikeKind, &str)> {
        let lead = pattern.starts_with('%');
        let body = if lead { &pattern[1..] } else { pattern };
        let trail = body.ends_with('%');
        let body = if trail { &body[..body.len() - 1] } else { body };
        if body.contains(['%', '_']) {
            return None;
        }
        let kind = match (lead, trail) {
            (false, false) => LikeKind::Exact,
            (false, true) => LikeKind::Prefix,
            (true, false) => LikeKind::Suffix,
            (true, true) => LikeKind::Contains,
        };
        Some((kind, body))
    }
}

/// A bound predicate node: column indices and literals of the column's type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Cmp {
        col: usize,
        op: CmpOp,
        lit: Value,
    },
    Between {
        col: usize,
        low: Value,
        high: Value,
    },
    Like {
        col: usize,
        kind: LikeKind,
        text: String,
    },
    And(Vec<Node>),
}

/// A predicate bound to a schema: evaluates rows, scores itself, and yields matcher keys.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundPredicate {
    pub(crate) schema: Schema,
    pub(crate) node: Node,
}

fn column<'s>(schema: &'s Schema, name: &str) -> Result<(usize, &'s Column), PredicateError> {
    schema
        .index_of(name)
        .map(|i| (i, &schema.columns()[i]))
        .ok_or_else(|| PredicateError::UnknownColumn {
            table: schema.table().to_string(),
            column: name.to_string(),
        })
}

/// Converts a literal to the type of `col`.
fn coerce(col: &Column, v: &Value) -> Result<Value, PredicateError> {
    let mismatch = || PredicateError::TypeMismatch {
        column: col.name.clone(),
        expected: col.ty.describe(),
        got: v.kind(),
        literal: v.to_string(),
    };
    let inexact = || PredicateError::Inexact {
        column: col.name.clone(),
        expected: col.ty.describe(),
        literal: v.to_string(),
    };
    match (col.ty, v) {
        (ColumnType::Int64, Value::Int(_)) => Ok(v.clone()),
        (ColumnType::Int64, Value::Decimal(d)) => d.rescale(0).map(Value::Int).ok_or_else(inexact),
        (ColumnType::Decimal { scale }, Value::Int(i)) => {
            let d = crate::value::Decimal { units: *i, scale: 0 };
            let units = d.rescale(scale).ok_or_else(inexact)?;
            Ok(Value::Decimal(crate::value::Decimal { units, scale }))
        }
        (ColumnType::Decimal { scale }, Value::Decimal(d)) => {
            let units = d.rescale(scale).ok_or_else(inexact)?;
            Ok(Value::Decimal(crate::value::Decimal { units, scale }))
        }
        (ColumnType::Date, Value::Date(_)) => Ok(v.clone()),
        (ColumnType::FixedStr(_) | ColumnType::VarStr(_), Value::Str(_)) => Ok(v.clone()),
        _ => Err(mismatch()),
    }
}

fn bind_node(p: &Predicate, schema: &Schema) -> Result<Node, PredicateError> {
    Ok(match p {
        Predicate::Cmp { column: c, op, value } => {
            let (col, def) = column(schema, c)?;
            Node::Cmp {
                col,
                op: *op,
                lit: coerce(def, value)?,
            }
        }
        Predicate::Between { column: c, low, high } => {
            let (col, def) = column(schema, c)?;
            Node::Between {
                col,
                low: coerce(def, low)?,
                high: coerce(def, high)?,
            }
        }
        Predicate::Like { column: c, pattern } => {
            let (col, def) = column(schema, c)?;
            if !matches!(def.ty, ColumnType::FixedStr(_) | ColumnType::VarStr(_)) {
                return Err(PredicateError::LikeOnNonString {
                    column: def.name.clone(),
                    expected: def.ty.describe(),
                });
            }
            let (kind, text) = LikeKind::parse(pattern).ok_or_else(|| PredicateError::UnsupportedLike {
                pattern: pattern.clone(),
            })?;
            Node::Like {
                col,
                kind,
                text: text.to_string(),
            }
        }
        Predicate::And(ps) => {
            if ps.is_empty() {
                return Err(PredicateError::EmptyAnd);
            }
            Node::And(
                ps.iter()
                    .map(|p| bind_node(p, schema))
                    .collect::<Result<_, _>>()?,
            )
        }
    })
}

/// Limiting scores (YourSQL): the more restrictive an operation usually is, the higher its score.
/// An `AND` scores the sum of its operands (two predicates restrict more than one, as the slides'
/// Q2 example ranks `part` with two predicates above `region` with one).
pub mod score {
    /// `=`, and `LIKE 'X'` without wildcards.
    pub const EQUAL: u32 = 10;
    /// `BETWEEN`: a closed range.
    pub const BETWEEN: u32 = 6;
    /// `LIKE 'X%'`: a prefix.
    pub const LIKE_PREFIX: u32 = 5;
    /// `LIKE '%X'`: a suffix.
    pub const LIKE_SUFFIX: u32 = 4;
    /// `<`, `<=`, `>`, `>=`: one side of a range (two of them on one column add up to 6, a
    /// `BETWEEN`).
    pub const INEQUALITY: u32 = 3;
    /// `LIKE '%X%'`: a substring anywhere.
    pub const LIKE_CONTAINS: u32 = 2;
    /// A table whose predicates score below this is not an early-filtering candidate: a lone
    /// inequality or substring search is not worth a device scan before sampling says so.
    pub const THRESHOLD: u32 = 5;
}

pub(crate) fn node_score(n: &Node) -> u32 {
    match n {
        Node::Cmp { op: CmpOp::Eq, .. } => score::EQUAL,
        Node::Cmp { .. } => score::INEQUALITY,
        Node::Between { .. } => score::BETWEEN,
        Node::Like { kind, .. } => match kind {
            LikeKind::Exact => score::EQUAL,
            LikeKind::Prefix => score::LIKE_PREFIX,
            LikeKind::Suffix => score::LIKE_SUFFIX,
            LikeKind::Contains => score::LIKE_CONTAINS,
        },
        Node::And(ns) => ns.iter().map(node_score).sum(),
    }
}

fn eval(n: &Node, row: &[Value]) -> bool {
    let get = |col: &usize| row.get(*col);
    match n {
        Node::Cmp { col, op, lit } => get(col).and_then(|v| v.compare(lit)).is_some_and(|o| op.holds(o)),
        Node::Between { col, low, high } => get(col).is_some_and(|v| {
            v.compare(low).is_some_and(|o| o != Ordering::Less)
                && v.compare(high).is_some_and(|o| o != Ordering::Greater)
        }),
        Node::Like { col, kind, text } => match get(col) {
            Some(Value::Str(s)) => match kind {
                LikeKind::Exact => s == text,
                LikeKind::Prefix => s.starts_with(text.as_str()),
                LikeKind::Suffix => s.ends_with(text.as_str()),
                LikeKind::Contains => s.contains(text.as_str()),
            },
            _ => false,
        },
        Node::And(ns) => ns.iter().all(|n| eval(n, row)),
    }
}

impl BoundPredicate {
    /// The schema the predicate is bound to.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The software filter: whether a row (values in schema order) satisfies the predicate. A
    /// value of the wrong kind or a missing column does not satisfy it.
    pub fn matches(&self, row: &[Value]) -> bool {
        eval(&self.node, row)
    }

    /// The columns the predicate reads (ascending, each once).
    pub fn columns(&self) -> Vec<usize> {
        fn go(n: &Node, out: &mut Vec<usize>) {
            match n {
                Node::Cmp { col, .. } | Node::Between { col, .. } | Node::Like { col, .. } => out.push(*col),
                Node::And(ns) => ns.iter().for_each(|n| go(n, out)),
            }
        }
        let mut out = Vec::new();
        go(&self.node, &mut out);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Decodes a page and keeps the rows that satisfy the predicate.
    pub fn filter_page(&self, page: &[u8]) -> Result<Vec<Vec<Value>>, FormatError> {
        let mut rows = decode_page(&self.schema, page)?;
        rows.retain(|r| self.matches(r));
        Ok(rows)
    }

    /// YourSQL's limiting score (see [`score`]).
    pub fn limiting_score(&self) -> u32 {
        node_score(&self.node)
    }
}

impl fmt::Display for BoundPredicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn go(n: &Node, s: &Schema, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let name = |c: &usize| s.columns().get(*c).map_or("?", |c| c.name.as_str());
            match n {
                Node::Cmp { col, op, lit } => write!(f, "{} {} '{lit}'", name(col), op.symbol()),
                Node::Between { col, low, high } => write!(f, "{} BETWEEN '{low}' AND '{high}'", name(col)),
                Node::Like { col, kind, text } => {
                    let (a, b) = match kind {
                        LikeKind::Exact => ("", ""),
                        LikeKind::Prefix => ("", "%"),
                        LikeKind::Suffix => ("%", ""),
                        LikeKind::Contains => ("%", "%"),
                    };
                    write!(f, "{} LIKE '{a}{text}{b}'", name(col))
                }
                Node::And(ns) => {
                    for (i, n) in ns.iter().enumerate() {
                        if i > 0 {
                            write!(f, " AND ")?;
                        }
                        go(n, s, f)?;
                    }
                    Ok(())
                }
            }
        }
        go(&self.node, &self.schema, f)
    }
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
                ("kind", ColumnType::VarStr(25)),
            ],
        )
        .unwrap()
    }

    fn row(k: i64, price: &str, day: &str, kind: &str) -> Vec<Value> {
        vec![
            Value::Int(k),
            Value::decimal(price).unwrap(),
            Value::date(day).unwrap(),
            Value::str(kind),
        ]
    }

    #[test]
    fn like_patterns_parse() {
        assert_eq!(LikeKind::parse("%BRASS"), Some((LikeKind::Suffix, "BRASS")));
        assert_eq!(LikeKind::parse("PROMO%"), Some((LikeKind::Prefix, "PROMO")));
        assert_eq!(LikeKind::parse("%green%"), Some((LikeKind::Contains, "green")));
        assert_eq!(LikeKind::parse("AIR"), Some((LikeKind::Exact, "AIR")));
        assert_eq!(LikeKind::parse("%"), Some((LikeKind::Suffix, "")));
        assert_eq!(LikeKind::parse("%%"), Some((LikeKind::Contains, "")));
        assert_eq!(LikeKind::parse("a%b"), None);
        assert_eq!(LikeKind::parse("a_b%"), None);
    }

    #[test]
    fn software_filter_evaluates_each_form() {
        let s = schema();
        let r = row(7, "-0.05", "1995-09-14", "PROMO BRUSHED BRASS");
        let yes = [
            Predicate::cmp("k", CmpOp::Eq, Value::Int(7)),
            Predicate::cmp("price", CmpOp::Lt, Value::Int(0)),
            Predicate::cmp("price", CmpOp::Ge, Value::decimal("-0.05").unwrap()),
            Predicate::between(
                "day",
                Value::date("1995-09-01").unwrap(),
                Value::date("1995-09-30").unwrap(),
            ),
            Predicate::like("kind", "PROMO%"),
            Predicate::like("kind", "%BRASS"),
            Predicate::like("kind", "%BRUSHED%"),
            Predicate::cmp("kind", CmpOp::Gt, Value::str("PROMO")),
        ];
        for p in yes {
            assert!(p.bind(&s).unwrap().matches(&r), "{p:?}");
        }
        let no = [
            Predicate::cmp("k", CmpOp::Gt, Value::Int(7)),
            Predicate::cmp("price", CmpOp::Le, Value::decimal("-0.06").unwrap()),
            Predicate::like("kind", "BRASS%"),
            Predicate::And(vec![
                Predicate::like("kind", "%BRASS"),
                Predicate::cmp("k", CmpOp::Eq, Value::Int(8)),
            ]),
        ];
        for p in no {
            assert!(!p.bind(&s).unwrap().matches(&r), "{p:?}");
        }
        // A short row does not satisfy anything, and does not panic.
        assert!(!Predicate::cmp("kind", CmpOp::Eq, Value::str("x"))
            .bind(&s)
            .unwrap()
            .matches(&r[..1]));
    }

    #[test]
    fn binding_refuses_bad_predicates_by_name() {
        let s = schema();
        let e = Predicate::cmp("nope", CmpOp::Eq, Value::Int(1))
            .bind(&s)
            .unwrap_err();
        assert!(e.to_string().contains("`nope`"), "{e}");
        let e = Predicate::cmp("day", CmpOp::Eq, Value::Int(1))
            .bind(&s)
            .unwrap_err();
        assert!(matches!(e, PredicateError::TypeMismatch { .. }), "{e}");
        let e = Predicate::cmp("price", CmpOp::Eq, Value::decimal("0.055").unwrap())
            .bind(&s)
            .unwrap_err();
        assert!(matches!(e, PredicateError::Inexact { .. }), "{e}");
        let e = Predicate::like("k", "1%").bind(&s).unwrap_err();
        assert!(matches!(e, PredicateError::LikeOnNonString { .. }), "{e}");
        let e = Predicate::like("kind", "a%b").bind(&s).unwrap_err();
        assert!(matches!(e, PredicateError::UnsupportedLike { .. }), "{e}");
        assert_eq!(
            Predicate::And(vec![]).bind(&s).unwrap_err(),
            PredicateError::EmptyAnd
        );
        let e = Predicate::cmp("price", CmpOp::Eq, Value::Int(i64::MAX))
            .bind(&s)
            .unwrap_err();
        assert!(matches!(e, PredicateError::Inexact { .. }), "{e}");
    }

    #[test]
    fn limiting_scores_rank_equality_first() {
        let s = schema();
        let sc = |p: Predicate| p.bind(&s).unwrap().limiting_score();
        let eq = sc(Predicate::cmp("k", CmpOp::Eq, Value::Int(1)));
        let between = sc(Predicate::between("k", Value::Int(1), Value::Int(2)));
        let prefix = sc(Predicate::like("kind", "A%"));
        let suffix = sc(Predicate::like("kind", "%A"));
        let lt = sc(Predicate::cmp("k", CmpOp::Lt, Value::Int(1)));
        let contains = sc(Predicate::like("kind", "%A%"));
        assert!(eq > between && between > prefix && prefix > suffix && suffix > lt && lt > contains);
        // Q2's part table (two predicates) outranks a single equality on region.
        let q2 = sc(Predicate::And(vec![
            Predicate::cmp("k", CmpOp::Eq, Value::Int(15)),
            Predicate::like("kind", "%BRASS"),
        ]));
        assert_eq!(q2, 14);
        assert!(q2 > eq && eq >= score::THRESHOLD && lt < score::THRESHOLD);
    }
}
