//! Predicates to hardware matcher keys (YourSQL's filtering condition pushdown).
//!
//! **Keys are conservative** (INVARIANT(keys-conservative)): every page that holds a row
//! satisfying the predicate is hinted.
//! Each rule below only ever produces a key that is a substring of the encoding of every
//! satisfying row (see [`crate::row`] for the encoding):
//!
//! | predicate | key(s) |
//! |---|---|
//! | `c = v` on a number or date | `tag(c) ‖ enc(v)` |
//! | a range on a number or date (`<`, `<=`, `>`, `>=`, `BETWEEN`, and all of them on one column intersected) | `tag(c) ‖ p` for each byte prefix `p` between `enc(lo)` and `enc(hi)`, at the longest prefix length that needs at most the key budget; with a budget of one, the common prefix (the slides' month example) |
//! | `c = 's'` or `LIKE 's'` | `tag(c) ‖ s ‖ 00` (`VARCHAR`), `tag(c) ‖ s` (`CHAR`) |
//! | `BETWEEN 'a' AND 'b'` on strings | `tag(c) ‖ common prefix of a and b` |
//! | `LIKE 'X%'` | `tag(c) ‖ X` |
//! | `LIKE '%X'` | `X ‖ 00` (`VARCHAR`), `X` (`CHAR`) |
//! | `LIKE '%X%'` | `X` |
//! | `AND` | see below |
//!
//! A key longer than `matcher.max_key_bytes` is cut to a substring of itself (the front, or for
//! suffix keys the back), which stays conservative. A range whose keys would be no more than the
//! tag (for example `l_quantity < 24`, whose bounds share no byte), a one-sided string range, and
//! `LIKE '%'` are not offloadable.
//!
//! **AND.** The matcher has one mode per scan. `MatchMode::All` with one key per operand is
//! conservative (a page with a satisfying row holds every operand's key); `MatchMode::Any` with
//! the keys of one operand is conservative too. Operands on one column are first intersected
//! into one range. The plan is `All` over each operand's single best key (highest limiting score
//! first, up to `max_keys`) when one of those keys pins a whole value; otherwise, if one operand
//! can be enumerated exactly within the key budget (such as `l_discount BETWEEN 0.05 AND 0.07`,
//! three values), `Any` over that operand's keys; otherwise `All` over the single keys. Operands
//! that cannot be offloaded are left to the software filter.

use sim_nvme::profile::MatcherLimits;
use sim_nvme::{Lba, MatchMode, MatchRequest};

use crate::error::NotOffloadable;
use crate::predicate::{node_score, score, BoundPredicate, CmpOp, LikeKind, Node};
use crate::row::{encode_value, fixed_width, tag};
use crate::value::{ColumnType, Decimal, Schema, Value};

/// Keys and mode for one matcher scan over a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchPlan {
    /// The keys, each within the profile's limits.
    pub keys: Vec<Vec<u8>>,
    /// How key hits combine.
    pub mode: MatchMode,
    /// Whether every key pins a whole column value (equality, or a range enumerated value by
    /// value), rather than a prefix or substring of values.
    pub exact: bool,
}

impl MatchPlan {
    /// The matcher request for `count` pages from `start`.
    pub fn request(&self, start: Lba, count: u64) -> MatchRequest {
        MatchRequest {
            keys: self.keys.clone(),
            mode: self.mode,
            start,
            count,
        }
    }
}

/// One operand after same-column ranges are intersected.
#[derive(Debug, Clone)]
enum Constraint {
    /// Inclusive byte bounds of the value encoding (strings: without the NUL); `None` is open.
    Range {
        col: usize,
        lo: Option<Vec<u8>>,
        hi: Option<Vec<u8>>,
        /// A one-sided operator seen, for the error on strings.
        open_op: Option<&'static str>,
        score: u32,
    },
    Like {
        col: usize,
        kind: LikeKind,
        text: Vec<u8>,
        score: u32,
    },
}

impl Constraint {
    fn score(&self) -> u32 {
        match self {
            Constraint::Range { score, .. } | Constraint::Like { score, .. } => *score,
        }
    }
}

/// Keys of one constraint: an `Any` set.
struct Keys {
    keys: Vec<Vec<u8>>,
    exact: bool,
}

fn value_bytes(schema: &Schema, col: usize, v: &Value) -> Vec<u8> {
    let c = &schema.columns()[col];
    let mut out = Vec::new();
    match v {
        // Strings: the raw bytes (length and NUL are checked by the key rules, not here).
        Value::Str(s) => out.extend_from_slice(s.as_bytes()),
        _ => {
            // Literals were coerced to the column type when binding, so this cannot fail; if it
            // ever did, an empty encoding makes the range open, which stays conservative.
            let _ = encode_value(&c.name, c.ty, v, &mut out);
        }
    }
    out
}

/// The next (`up`) or previous value of a number or date; `None` past the end of the type.
fn step(v: &Value, up: bool) -> Option<Value> {
    let d = if up { 1 } else { -1 };
    match v {
        Value::Int(i) => i.checked_add(d).map(Value::Int),
        Value::Decimal(x) => x
            .units
            .checked_add(d)
            .map(|units| Value::Decimal(Decimal { units, ..*x })),
        Value::Date(x) => if up { x.succ() } else { x.pred() }.map(Value::Date),
        Value::Str(_) => None,
    }
}

/// Big-endian increment; `None` above all `FF`.
fn increment(mut b: Vec<u8>) -> Option<Vec<u8>> {
    for byte in b.iter_mut().rev() {
        if *byte < 0xFF {
            *byte += 1;
            return Some(b);
        }
        *byte = 0;
    }
    None
}

fn flatten<'a>(n: &'a Node, out: &mut Vec<&'a Node>) {
    match n {
        Node::And(ns) => ns.iter().for_each(|n| flatten(n, out)),
        leaf => out.push(leaf),
    }
}

/// Turns leaves into constraints, intersecting ranges on one column. An empty range of a fixed
/// width column (`x < 0` on the smallest value) becomes `lo > hi`.
fn constraints(schema: &Schema, leaves: &[&Node]) -> Vec<Constraint> {
    let mut out: Vec<Constraint> = Vec::new();
    for leaf in leaves {
        let (col, lo, hi, open_op, sc) = match leaf {
            Node::Like { col, kind, text } => {
                out.push(Constraint::Like {
                    col: *col,
                    kind: *kind,
                    text: text.as_bytes().to_vec(),
                    score: node_score(leaf),
                });
                continue;
            }
            Node::Between { col, low, high } => (
                *col,
                Some(value_bytes(schema, *col, low)),
                Some(value_bytes(schema, *col, high)),
                None,
                score::BETWEEN,
            ),
            Node::Cmp { col, op, lit } => {
                let b = value_bytes(schema, *col, lit);
                let impossible = || (Some(vec![0xFF; b.len()]), Some(vec![0; b.len()]));
                let bytes = |v: Value| value_bytes(schema, *col, &v);
                let (lo, hi) = match (op, lit) {
                    (CmpOp::Eq, _) => (Some(b.clone()), Some(b.clone())),
                    (CmpOp::Le, _) => (None, Some(b.clone())),
                    (CmpOp::Ge, _) => (Some(b.clone()), None),
                    // Strings: the inclusive bound is a superset, which is conservative.
                    (CmpOp::Lt, Value::Str(_)) => (None, Some(b.clone())),
                    (CmpOp::Gt, Value::Str(_)) => (Some(b.clone()), None),
                    // Strict bounds on numbers and dates: the neighbouring value, so that
                    // `< 1995-10-01` ends at 1995-09-30 and keeps the month's prefix.
                    (CmpOp::Lt, v) => step(v, false).map_or_else(impossible, |h| (None, Some(bytes(h)))),
                    (CmpOp::Gt, v) => step(v, true).map_or_else(impossible, |l| (Some(bytes(l)), None)),
                };
                let open = (*op != CmpOp::Eq).then(|| op.symbol());
                let sc = if *op == CmpOp::Eq {
                    score::EQUAL
                } else {
                    score::INEQUALITY
                };
                (*col, lo, hi, open, sc)
            }
            Node::And(_) => continue, // flattened away
        };
        let existing = out
            .iter_mut()
            .find(|c| matches!(c, Constraint::Range { col: c2, .. } if *c2 == col));
        match existing {
            Some(Constraint::Range {
                lo: l,
                hi: h,
                open_op: o,
                score: s,
                ..
            }) => {
                *l = match (l.take(), lo) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                *h = match (h.take(), hi) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                *o = o.or(open_op);
                *s += sc;
            }
            _ => out.push(Constraint::Range {
                col,
                lo,
                hi,
                open_op,
                score: sc,
            }),
        }
    }
    out
}

/// Keys with the tag in front, cut to `max` bytes from the front (or from the back).
fn clip(key: Vec<u8>, max: usize, keep_back: bool) -> (Vec<u8>, bool) {
    if key.len() <= max {
        return (key, false);
    }
    let cut = if keep_back {
        key[key.len() - max..].to_vec()
    } else {
        key[..max].to_vec()
    };
    (cut, true)
}

fn tagged(col: usize, bytes: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(bytes.len() + 1);
    k.push(tag(col));
    k.extend_from_slice(bytes);
    k
}

/// The key for `c = s` on a string column.
fn string_eq(col: usize, ty: ColumnType, s: &[u8], max: usize) -> Keys {
    let mut k = tagged(col, s);
    if matches!(ty, ColumnType::VarStr(_)) {
        k.push(0);
    }
    let (k, cut) = clip(k, max, false);
    Keys {
        keys: vec![k],
        exact: !cut,
    }
}

/// Prefix cover of `[lo, hi]` (fixed width): the longest prefix length whose prefixes between
/// `lo` and `hi` number at most `budget`.
fn cover(col: usize, lo: &[u8], hi: &[u8], budget: usize, max: usize) -> Option<Keys> {
    let width = lo.len().min(hi.len());
    let lmax = width.min(max - 1).min(15);
    let as_int = |b: &[u8]| b.iter().fold(0u128, |acc, &x| (acc << 8) | u128::from(x));
    let count = |l: usize| as_int(&hi[..l]).saturating_sub(as_int(&lo[..l])) + 1;
    let mut best = 0;
    for l in 1..=lmax {
        if count(l) <= budget as u128 {
            best = l;
        } else {
            break;
        }
    }
    if best == 0 {
        return None;
    }
    let mut keys = Vec::new();
    let mut p = lo[..best].to_vec();
    for i in 0..count(best) {
        keys.push(tagged(col, &p));
        if i + 1 < count(best) {
            p = increment(p)?;
        }
    }
    Some(Keys {
        keys,
        exact: best == width,
    })
}

fn constraint_keys(
    schema: &Schema,
    c: &Constraint,
    budget: usize,
    max: usize,
) -> Result<Keys, NotOffloadable> {
    let name = |col: usize| schema.columns()[col].name.clone();
    match c {
        Constraint::Like { col, kind, text, .. } => {
            let ty = schema.columns()[*col].ty;
            let var = matches!(ty, ColumnType::VarStr(_));
            if text.is_empty() && *kind != LikeKind::Exact {
                return Err(NotOffloadable::LikeMatchesAll { column: name(*col) });
            }
            let (key, keep_back) = match kind {
                LikeKind::Exact => return Ok(string_eq(*col, ty, text, max)),
                LikeKind::Prefix => (tagged(*col, text), false),
                LikeKind::Suffix if var => ([text.as_slice(), &[0]].concat(), true),
                LikeKind::Suffix => (text.clone(), true),
                LikeKind::Contains => (text.clone(), false),
            };
            Ok(Keys {
                keys: vec![clip(key, max, keep_back).0],
                exact: false,
            })
        }
        Constraint::Range {
            col, lo, hi, open_op, ..
        } => {
            let ty = schema.columns()[*col].ty;
            let empty = || NotOffloadable::EmptyRange { column: name(*col) };
            match fixed_width(ty) {
                Some(w) if !matches!(ty, ColumnType::FixedStr(_)) => {
                    let lo = lo.clone().unwrap_or_else(|| vec![0; w]);
                    let hi = hi.clone().unwrap_or_else(|| vec![0xFF; w]);
                    if lo > hi {
                        return Err(empty());
                    }
                    cover(*col, &lo, &hi, budget, max)
                        .ok_or_else(|| NotOffloadable::RangeTooWide { column: name(*col) })
                }
                _ => {
                    let (Some(lo), Some(hi)) = (lo, hi) else {
                        return Err(NotOffloadable::StringInequality {
                            column: name(*col),
                            op: open_op.unwrap_or("<"),
                        });
                    };
                    if lo > hi {
                        return Err(empty());
                    }
                    if lo == hi {
                        return Ok(string_eq(*col, ty, lo, max));
                    }
                    let cp = lo.iter().zip(hi).take_while(|(a, b)| a == b).count();
                    if cp == 0 {
                        return Err(NotOffloadable::RangeTooWide { column: name(*col) });
                    }
                    Ok(Keys {
                        keys: vec![clip(tagged(*col, &lo[..cp]), max, false).0],
                        exact: false,
                    })
                }
            }
        }
    }
}

impl BoundPredicate {
    // INVARIANT(keys-conservative): each key is a substring of every satisfying row's encoding
    /// Matcher keys and mode for this predicate within `limits`, or why it cannot be offloaded.
    /// See the module docs for the rules.
    pub fn match_plan(&self, limits: &MatcherLimits) -> Result<MatchPlan, NotOffloadable> {
        let (max_keys, max) = (limits.max_keys as usize, limits.max_key_bytes as usize);
        if max_keys == 0 || max < 2 {
            return Err(NotOffloadable::MatcherTooSmall {
                max_keys: limits.max_keys,
                max_key_bytes: limits.max_key_bytes,
            });
        }
        let mut leaves = Vec::new();
        flatten(&self.node, &mut leaves);
        let mut cs = constraints(&self.schema, &leaves);
        // Highest limiting score first; the sort is stable, so ties keep predicate order.
        cs.sort_by_key(|c| std::cmp::Reverse(c.score()));
        let mut singles = Vec::new();
        let mut first_err = None;
        for c in &cs {
            match constraint_keys(&self.schema, c, 1, max) {
                Ok(k) => singles.push((c, k)),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        if singles.is_empty() {
            let first = first_err.unwrap_or(NotOffloadable::MatcherTooSmall {
                max_keys: limits.max_keys,
                max_key_bytes: limits.max_key_bytes,
            });
            return Err(if cs.len() > 1 {
                NotOffloadable::NoOperand {
                    first: Box::new(first),
                }
            } else {
                first
            });
        }
        let any_of = |c: &Constraint| -> Result<MatchPlan, NotOffloadable> {
            let k = constraint_keys(&self.schema, c, max_keys, max)?;
            Ok(MatchPlan {
                keys: k.keys,
                mode: MatchMode::Any,
                exact: k.exact,
            })
        };
        if singles.len() == 1 {
            return any_of(singles[0].0);
        }
        // Exact keys first, then by score (already sorted).
        singles.sort_by_key(|(_, k)| !k.exact);
        let mut all = MatchPlan {
            keys: Vec::new(),
            mode: MatchMode::All,
            exact: true,
        };
        for (_, k) in singles.iter().take(max_keys) {
            if !all.keys.contains(&k.keys[0]) {
                all.keys.push(k.keys[0].clone());
            }
            all.exact &= k.exact;
        }
        if singles.iter().any(|(_, k)| k.exact) {
            return Ok(all);
        }
        for (c, _) in &singles {
            let multi = any_of(c)?;
            if multi.exact && multi.keys.len() > 1 {
                return Ok(multi);
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predicate::Predicate;
    use crate::row::encode_row;

    fn schema() -> Schema {
        Schema::new(
            "t",
            &[
                ("qty", ColumnType::Decimal { scale: 2 }),
                ("disc", ColumnType::Decimal { scale: 2 }),
                ("ship", ColumnType::Date),
                ("flag", ColumnType::FixedStr(1)),
                ("ptype", ColumnType::VarStr(25)),
                ("size", ColumnType::Int64),
            ],
        )
        .unwrap()
    }

    fn limits() -> MatcherLimits {
        sim_nvme::DeviceProfile::tiny().matcher
    }

    fn plan(p: Predicate) -> Result<MatchPlan, NotOffloadable> {
        p.bind(&schema()).unwrap().match_plan(&limits())
    }

    fn date(s: &str) -> Value {
        Value::date(s).unwrap()
    }

    #[test]
    fn date_equality_is_one_exact_key() {
        let p = plan(Predicate::cmp("ship", CmpOp::Eq, date("1995-01-17"))).unwrap();
        assert_eq!(p.keys, vec![vec![0xC2, 0x07, 0xCB, 1, 17]]);
        assert!(p.exact && p.mode == MatchMode::Any);
    }

    #[test]
    fn a_month_range_becomes_the_month_prefix() {
        let p = plan(Predicate::And(vec![
            Predicate::cmp("ship", CmpOp::Ge, date("1995-09-01")),
            Predicate::cmp("ship", CmpOp::Lt, date("1995-10-01")),
        ]))
        .unwrap();
        assert_eq!(p.keys, vec![vec![0xC2, 0x07, 0xCB, 0x09]]);
        assert!(!p.exact);
        // A short range is enumerated day by day within the key budget.
        let p = plan(Predicate::between("ship", date("1995-09-27"), date("1995-09-29"))).unwrap();
        assert_eq!(p.keys.len(), 3, "{p:?}");
        assert_eq!(p.keys[0], vec![0xC2, 0x07, 0xCB, 0x09, 27]);
        assert!(p.exact);
        // Across a month end the days are not adjacent bytes: one key per month.
        let p = plan(Predicate::between("ship", date("1995-09-29"), date("1995-10-01"))).unwrap();
        assert_eq!(
            p.keys,
            vec![vec![0xC2, 0x07, 0xCB, 0x09], vec![0xC2, 0x07, 0xCB, 0x0A]]
        );
        // A year is a 2-byte prefix (`< 1995-01-01` ends at 1994-12-31, not at "1995-01-00").
        let p = plan(Predicate::And(vec![
            Predicate::cmp("ship", CmpOp::Ge, date("1994-01-01")),
            Predicate::cmp("ship", CmpOp::Lt, date("1995-01-01")),
        ]))
        .unwrap();
        assert_eq!(p.keys, vec![vec![0xC2, 0x07, 0xCA]]);
    }

    #[test]
    fn open_and_empty_ranges() {
        assert!(matches!(
            plan(Predicate::cmp("qty", CmpOp::Lt, Value::Int(24))),
            Err(NotOffloadable::RangeTooWide { .. })
        ));
        assert!(matches!(
            plan(Predicate::And(vec![
                Predicate::cmp("size", CmpOp::Gt, Value::Int(5)),
                Predicate::cmp("size", CmpOp::Lt, Value::Int(6)),
            ])),
            Err(NotOffloadable::EmptyRange { .. })
        ));
        assert!(matches!(
            plan(Predicate::cmp("size", CmpOp::Lt, Value::Int(i64::MIN))),
            Err(NotOffloadable::EmptyRange { .. })
        ));
        assert!(matches!(
            plan(Predicate::cmp("ptype", CmpOp::Lt, Value::str("B"))),
            Err(NotOffloadable::StringInequality { .. })
        ));
        assert!(matches!(
            plan(Predicate::like("ptype", "%")),
            Err(NotOffloadable::LikeMatchesAll { .. })
        ));
        let e = plan(Predicate::And(vec![
            Predicate::like("ptype", "%"),
            Predicate::cmp("qty", CmpOp::Gt, Value::Int(3)),
        ]))
        .unwrap_err();
        assert!(matches!(e, NotOffloadable::NoOperand { .. }), "{e}");
    }

    #[test]
    fn negative_decimal_ranges_cover_across_zero() {
        // [-0.01, 0.01]: 7F FF .. FF, 80 00 .. 00, 80 00 .. 01: no common byte.
        let p = plan(Predicate::between(
            "disc",
            Value::decimal("-0.01").unwrap(),
            Value::decimal("0.01").unwrap(),
        ));
        assert!(matches!(p, Err(NotOffloadable::RangeTooWide { .. })), "{p:?}");
        // [-0.03, -0.01] is three exact keys.
        let p = plan(Predicate::between(
            "disc",
            Value::decimal("-0.03").unwrap(),
            Value::decimal("-0.01").unwrap(),
        ))
        .unwrap();
        assert!(p.exact && p.keys.len() == 3);
        assert_eq!(p.keys[2][1..], crate::row::encode_i64(-1));
    }

    #[test]
    fn strings_and_likes() {
        let p = plan(Predicate::cmp("ptype", CmpOp::Eq, Value::str("AIR"))).unwrap();
        assert_eq!(p.keys, vec![b"\xC4AIR\0".to_vec()]);
        let p = plan(Predicate::cmp("ptype", CmpOp::Eq, Value::str(""))).unwrap();
        assert_eq!(p.keys, vec![b"\xC4\0".to_vec()]);
        let p = plan(Predicate::cmp("flag", CmpOp::Eq, Value::str("R"))).unwrap();
        assert_eq!(p.keys, vec![b"\xC3R".to_vec()]);
        assert_eq!(
            plan(Predicate::like("ptype", "PROMO%")).unwrap().keys,
            vec![b"\xC4PROMO".to_vec()]
        );
        assert_eq!(
            plan(Predicate::like("ptype", "%BRASS")).unwrap().keys,
            vec![b"BRASS\0".to_vec()]
        );
        assert_eq!(
            plan(Predicate::like("ptype", "%BR%")).unwrap().keys,
            vec![b"BR".to_vec()]
        );
        let long = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let p = plan(Predicate::like("ptype", &format!("%{long}"))).unwrap();
        assert_eq!(p.keys, vec![b"LMNOPQRSTUVWXYZ\0".to_vec()]);
        let p = plan(Predicate::cmp("ptype", CmpOp::Eq, Value::str(long))).unwrap();
        assert_eq!((p.keys[0].len(), p.exact), (16, false));
        let p = plan(Predicate::between(
            "ptype",
            Value::str("PROMO A"),
            Value::str("PROMO Z"),
        ))
        .unwrap();
        assert_eq!(p.keys, vec![b"\xC4PROMO ".to_vec()]);
    }

    #[test]
    fn and_prefers_exact_keys_then_enumerations() {
        // Q2's part predicates: both keys, All.
        let p = plan(Predicate::And(vec![
            Predicate::cmp("size", CmpOp::Eq, Value::Int(15)),
            Predicate::like("ptype", "%BRASS"),
        ]))
        .unwrap();
        assert_eq!(p.mode, MatchMode::All);
        assert_eq!(p.keys.len(), 2);
        // Q6: the discount enumerates exactly in three keys.
        let q6 = plan(Predicate::And(vec![
            Predicate::cmp("ship", CmpOp::Ge, date("1994-01-01")),
            Predicate::cmp("ship", CmpOp::Lt, date("1995-01-01")),
            Predicate::between(
                "disc",
                Value::decimal("0.05").unwrap(),
                Value::decimal("0.07").unwrap(),
            ),
            Predicate::cmp("qty", CmpOp::Lt, Value::Int(24)),
        ]))
        .unwrap();
        assert_eq!((q6.mode, q6.exact, q6.keys.len()), (MatchMode::Any, true, 3));
        // Without an enumerable operand: All over the prefixes.
        let p = plan(Predicate::And(vec![
            Predicate::between("ship", date("1994-01-01"), date("1994-12-31")),
            Predicate::like("ptype", "PROMO%"),
        ]))
        .unwrap();
        assert_eq!(p.mode, MatchMode::All);
        assert_eq!(p.keys, vec![vec![0xC2, 0x07, 0xCA], b"\xC4PROMO".to_vec()]);
    }

    #[test]
    fn keys_respect_small_matchers() {
        let small = MatcherLimits {
            max_keys: 1,
            max_key_bytes: 3,
            ns_per_page: 0,
        };
        let p = Predicate::cmp("ship", CmpOp::Eq, date("1995-01-17"))
            .bind(&schema())
            .unwrap();
        assert_eq!(p.match_plan(&small).unwrap().keys, vec![vec![0xC2, 0x07, 0xCB]]);
        let none = MatcherLimits { max_keys: 0, ..small };
        assert!(matches!(
            p.match_plan(&none),
            Err(NotOffloadable::MatcherTooSmall { .. })
        ));
    }

    /// Every key of a plan occurs in the encoding of every row that satisfies the predicate.
    #[test]
    fn keys_occur_in_every_satisfying_row() {
        let s = schema();
        let preds = [
            Predicate::between(
                "disc",
                Value::decimal("-0.03").unwrap(),
                Value::decimal("0.02").unwrap(),
            ),
            Predicate::cmp("disc", CmpOp::Le, Value::decimal("-0.98").unwrap()),
            Predicate::cmp("disc", CmpOp::Gt, Value::decimal("0.97").unwrap()),
            Predicate::like("ptype", "%X"),
            Predicate::between("ship", date("1995-12-30"), date("1996-01-02")),
        ];
        for p in &preds {
            let b = p.bind(&s).unwrap();
            let plan = match b.match_plan(&limits()) {
                Ok(plan) => plan,
                Err(_) => continue,
            };
            for units in -100..=100i64 {
                for (day, text) in [("1995-12-30", "X"), ("1996-01-01", ""), ("1995-06-01", "AX")] {
                    let row = vec![
                        Value::Decimal(Decimal { units: 1, scale: 2 }),
                        Value::Decimal(Decimal { units, scale: 2 }),
                        date(day),
                        Value::str("N"),
                        Value::str(text),
                        Value::Int(units),
                    ];
                    if !b.matches(&row) {
                        continue;
                    }
                    let mut enc = Vec::new();
                    encode_row(&s, &row, &mut enc).unwrap();
                    let hit = |k: &Vec<u8>| enc.windows(k.len()).any(|w| w == k.as_slice());
                    let ok = match plan.mode {
                        MatchMode::Any => plan.keys.iter().any(hit),
                        MatchMode::All => plan.keys.iter().all(hit),
                    };
                    assert!(ok, "{p:?} row {row:?} plan {plan:?}");
                }
            }
        }
    }
}
