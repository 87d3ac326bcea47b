//! One pass over TPC-H queries: each query in each scan mode `runs` times, the host buffer pool
//! emptied before each mode's pass over the queries (and warmed by the queries in order), then
//! each query's figures per mode ([`QueryFigures`]) and whether all its runs returned the same
//! rows. `yoursql-filter tpch` and `suite paper` (its TPC-H rows) both run their queries here.

use yoursql_core::ScanMode;

use crate::queries::NamedQuery;
use crate::session::{run_query, QueryRun, Setup};
use crate::tpch_report::{ModeFigures, QueryFigures};
use crate::Error;

/// Runs `queries` on `setup` in each of `modes`, `runs` times each (at least once), on the
/// current-thread runtime `rt` ([`crate::session::runtime`]); figures in query order. A query
/// whose runs returned different rows has `identical == false`.
pub fn run(
    setup: &Setup,
    rt: &tokio::runtime::Runtime,
    queries: &[NamedQuery],
    modes: &[ScanMode],
    runs: usize,
) -> Result<Vec<QueryFigures>, Error> {
    // runs[q][mode][run]
    let mut all: Vec<Vec<Vec<QueryRun>>> = vec![vec![Vec::new(); modes.len()]; queries.len()];
    for (mi, &m) in modes.iter().enumerate() {
        for _ in 0..runs.max(1) {
            setup.clear_buffer_pools();
            for (qi, q) in queries.iter().enumerate() {
                all[qi][mi].push(rt.block_on(run_query(setup, q.sql, m))?);
            }
        }
    }
    Ok(queries
        .iter()
        .zip(&all)
        .map(|(q, per_mode)| {
            let first_rows = per_mode.first().and_then(|r| r.first()).map(|r| &r.rows);
            QueryFigures {
                name: q.name.to_string(),
                rows: first_rows.map_or(0, Vec::len),
                identical: per_mode.iter().flatten().all(|r| Some(&r.rows) == first_rows),
                modes: modes
                    .iter()
                    .zip(per_mode)
                    .map(|(&m, r)| ModeFigures::from_runs(m, r, &setup.profile))
                    .collect(),
            }
        })
        .collect())
}
