//! The named queries: YourSQL's filter query, TPC-H Q6 and Q14 (standard substitution
//! parameters), with their public reference answers at scale factor 1.

use crate::error::Error;

/// A named query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedQuery {
    /// Short name (`filter`, `q6`, `q14`).
    pub name: &'static str,
    /// The SQL text.
    pub sql: &'static str,
    /// The tables it reads.
    pub tables: &'static [&'static str],
    /// The published answer at SF 1, for the report.
    pub reference_sf1: &'static str,
}

/// YourSQL's selective filter query (Biscuit slides).
pub const FILTER: NamedQuery = NamedQuery {
    name: "filter",
    sql: "SELECT l_orderkey, l_shipdate, l_linenumber FROM lineitem WHERE l_shipdate = DATE '1995-01-17'",
    tables: &["lineitem"],
    reference_sf1: "2,479 rows",
};

/// TPC-H Q6 (forecasting revenue change).
pub const Q6: NamedQuery = NamedQuery {
    name: "q6",
    sql: "SELECT sum(l_extendedprice * l_discount) AS revenue FROM lineitem \
          WHERE l_shipdate >= DATE '1994-01-01' \
          AND l_shipdate < DATE '1994-01-01' + INTERVAL '1' YEAR \
          AND l_discount BETWEEN 0.06 - 0.01 AND 0.06 + 0.01 \
          AND l_quantity < 24",
    tables: &["lineitem"],
    reference_sf1: "revenue 123141078.2283",
};

/// TPC-H Q14 (promotion effect), joining `lineitem` and `part`.
pub const Q14: NamedQuery = NamedQuery {
    name: "q14",
    sql: "SELECT 100.00 * sum(CASE WHEN p_type LIKE 'PROMO%' \
          THEN l_extendedprice * (1 - l_discount) ELSE 0 END) \
          / sum(l_extendedprice * (1 - l_discount)) AS promo_revenue \
          FROM lineitem, part \
          WHERE l_partkey = p_partkey \
          AND l_shipdate >= DATE '1995-09-01' \
          AND l_shipdate < DATE '1995-09-01' + INTERVAL '1' MONTH",
    tables: &["lineitem", "part"],
    reference_sf1: "promo_revenue 16.38",
};

/// All named queries.
pub const ALL: [NamedQuery; 3] = [FILTER, Q6, Q14];

/// The named query `name` (case-insensitive).
pub fn named(name: &str) -> Result<NamedQuery, Error> {
    ALL.iter()
        .find(|q| q.name.eq_ignore_ascii_case(name))
        .copied()
        .ok_or_else(|| Error::UnknownQuery(name.to_string()))
}
