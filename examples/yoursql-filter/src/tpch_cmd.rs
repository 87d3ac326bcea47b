//! `yoursql-filter tpch`: `--print-sql N` prints the exact SQL of TPC-H query N; otherwise the
//! chosen queries (all 22 by default) run over all eight tables on one device in each mode,
//! with per query the answer's row count, whether the modes agree, and the simulated scan time
//! per mode.

use anyhow::{bail, Result};
use yoursql_core::TpchTable;
use yoursql_filter::queries::{self, NamedQuery};
use yoursql_filter::session::run_query;
use yoursql_filter::tpch_queries::TPCH;

use crate::{runtime, setup, TpchArgs};

fn chosen(list: Option<&str>) -> Result<Vec<NamedQuery>> {
    match list {
        None => Ok(TPCH.to_vec()),
        Some(l) => Ok(l.split(',').map(queries::tpch).collect::<Result<Vec<_>, _>>()?),
    }
}

pub(crate) fn tpch(a: TpchArgs) -> Result<()> {
    if let Some(n) = &a.print_sql {
        println!("{};", queries::tpch(n)?.sql);
        return Ok(());
    }
    let qs = chosen(a.queries.as_deref())?;
    let s = setup(&a.common, &TpchTable::ALL)?;
    let rt = runtime()?;
    let modes = a.mode.modes();
    let head: String = modes
        .iter()
        .map(|m| format!("{:>16}", format!("{} (ms)", m.name())))
        .collect();
    println!(
        "TPC-H at SF {} on {}: simulated scan time per mode",
        s.sf, a.common.profile
    );
    println!("{:<6}{:>8}{head}  identical", "query", "rows");
    let mut differ = Vec::new();
    for q in qs {
        let mut runs = Vec::new();
        for &m in &modes {
            runs.push(rt.block_on(run_query(&s, q.sql, m))?);
        }
        let same = runs.windows(2).all(|w| w[0].rows == w[1].rows);
        let times: String = runs
            .iter()
            .map(|r| format!("{:>16.3}", r.simulated_ns() as f64 / 1e6))
            .collect();
        let rows = runs.first().map_or(0, |r| r.rows.len());
        println!(
            "{:<6}{rows:>8}{times}  {}",
            q.name,
            if same { "yes" } else { "NO" }
        );
        if !same {
            differ.push(q.name);
        }
    }
    if !differ.is_empty() {
        bail!("the modes returned different results for {}", differ.join(", "));
    }
    Ok(())
}
