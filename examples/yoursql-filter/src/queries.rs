//! The named queries: YourSQL's filter query and the 22 TPC-H queries (`q1` .. `q22`, in
//! [`crate::tpch_queries`]; Q6 and Q14 are here), with their public reference answers at scale
//! factor 1; [`named`] finds one by name, [`tpch`] by number.

use crate::error::Error;
use crate::tpch_queries::TPCH;

/// A named query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedQuery {
    /// Short name (`filter`, `q1` .. `q22`).
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

/// Every named query: the filter query, then TPC-H Q1 to Q22.
pub fn all() -> impl Iterator<Item = NamedQuery> {
    std::iter::once(FILTER).chain(TPCH)
}

/// The named query `name` (case-insensitive).
pub fn named(name: &str) -> Result<NamedQuery, Error> {
    all()
        .find(|q| q.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| Error::UnknownQuery(name.to_string()))
}

/// TPC-H query number `n` (`"1"` to `"22"`, surrounding spaces allowed); anything else is an
/// error naming what was given and the valid range.
pub fn tpch(n: &str) -> Result<NamedQuery, Error> {
    n.trim()
        .parse::<usize>()
        .ok()
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| TPCH.get(i))
        .copied()
        .ok_or_else(|| Error::UnknownTpchQuery(n.to_string()))
}

/// The TPC-H queries of `list` (`"1,6,14"`), in its order; all 22 when `None`. An unknown
/// number or one listed twice is an error naming it.
pub fn tpch_list(list: Option<&str>) -> Result<Vec<NamedQuery>, Error> {
    let qs = match list {
        None => TPCH.to_vec(),
        Some(l) => l.split(',').map(tpch).collect::<Result<Vec<_>, _>>()?,
    };
    for (i, q) in qs.iter().enumerate() {
        if qs[..i].iter().any(|p| p.name == q.name) {
            return Err(Error::RepeatedQuery(q.name.to_string()));
        }
    }
    Ok(qs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_found_by_number_and_name() {
        for n in 1..=22 {
            let q = tpch(&n.to_string()).unwrap();
            assert_eq!(q.name, format!("q{n}"));
            assert_eq!(named(&format!("Q{n}")).unwrap(), q);
            let lower = q.sql.to_ascii_lowercase();
            let starts = ["select ", "with "].iter().any(|w| lower.starts_with(w));
            assert!(!q.tables.is_empty() && starts, "{}", q.name);
        }
        assert_eq!(tpch(" 6 ").unwrap(), Q6);
        assert_eq!(named("filter").unwrap(), FILTER);
        assert_eq!(all().count(), 23);
    }

    #[test]
    fn unknown_query_numbers_and_names_are_refused_with_the_valid_range() {
        for bad in ["0", "23", "-1", "6.0", "q6", "", "99999999999999999999999"] {
            let e = tpch(bad).unwrap_err();
            assert!(matches!(e, Error::UnknownTpchQuery(_)), "{bad}: {e}");
            let text = e.to_string();
            assert!(
                text.contains(&format!("`{bad}`")) && text.contains("1 to 22"),
                "{text}"
            );
        }
        let e = named("q23").unwrap_err();
        assert!(
            e.to_string().contains("`q23`") && e.to_string().contains("q22"),
            "{e}"
        );
    }
}
