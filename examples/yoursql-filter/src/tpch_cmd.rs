//! `yoursql-filter tpch`: `--print-sql N` prints the exact SQL of TPC-H query N; otherwise the
//! chosen queries (`--queries 1,6,14`; all 22 by default) run over all eight tables on one
//! device in each mode of `--mode` (conv, offload, auto, both = conv and offload, all), each
//! query and mode `--runs N` times (default 1).
//!
//! Per query: the answer's row count, whether every run in every mode returned the same rows,
//! the median simulated time per mode with its min-max over the runs (host decoding and
//! filtering are charged as measured CPU time, so runs vary), pages read, PCIe bytes, and the
//! per-scan offload decisions (table, offloaded or not, the reason) of the median run. Then
//! totals per mode (the sum of the per-query medians), the five queries with the largest
//! conventional time and their average speed-up (conv / offload and conv / auto), and the count
//! of queries with at least one offloaded scan in `auto`, beside YourSQL's published 3.6x
//! (total), 15x (top five average) and 8 of 22 (offloaded). `--json` prints all of it as one
//! JSON object (see `tpch_report::json`).
//!
//! The simulated time of a query is the sum of its device scans' simulated times
//! (`QueryRun::simulated_ns`): device work, PCIe transfer, the host's decoding and filtering.
//! DataFusion's own operators (joins, aggregates, sorts) are not in it yet, so the ratios
//! compare scan time, where YourSQL's compare whole queries.
//!
//! Errors: an unknown query number or one listed twice, `--runs 0`, a scale factor of 0 or
//! below, and modes that return different rows.

use anyhow::{bail, Result};
use yoursql_core::TpchTable;
use yoursql_filter::queries::{self, NamedQuery};
use yoursql_filter::session::run_query;
use yoursql_filter::tpch_queries::TPCH;

use crate::tpch_report::{self, ModeFigures, QueryFigures};
use crate::{runtime, setup, TpchArgs};

fn chosen(list: Option<&str>) -> Result<Vec<NamedQuery>> {
    let qs = match list {
        None => TPCH.to_vec(),
        Some(l) => l.split(',').map(queries::tpch).collect::<Result<Vec<_>, _>>()?,
    };
    for (i, q) in qs.iter().enumerate() {
        if qs[..i].iter().any(|p| p.name == q.name) {
            bail!(
                "--queries names {} twice; expected each query number (1 to 22) at most once",
                q.name
            );
        }
    }
    Ok(qs)
}

pub(crate) fn tpch(a: TpchArgs) -> Result<()> {
    if let Some(n) = &a.print_sql {
        println!("{};", queries::tpch(n)?.sql);
        return Ok(());
    }
    if a.runs == 0 {
        bail!("--runs 0: expected at least 1 run of each query in each mode");
    }
    let qs = chosen(a.queries.as_deref())?;
    let s = setup(&a.common, &TpchTable::ALL)?;
    let rt = runtime()?;
    let modes = a.mode.modes();
    let mut figures = Vec::new();
    let mut differ = Vec::new();
    for q in &qs {
        let mut first_rows: Option<Vec<Vec<String>>> = None;
        let mut identical = true;
        let mut per_mode = Vec::new();
        for &m in &modes {
            let mut runs = Vec::new();
            for _ in 0..a.runs {
                let r = rt.block_on(run_query(&s, q.sql, m))?;
                match &first_rows {
                    None => first_rows = Some(r.rows.clone()),
                    Some(rows) => identical &= *rows == r.rows,
                }
                runs.push(r);
            }
            per_mode.push(ModeFigures::from_runs(m, &runs));
        }
        if !identical {
            differ.push(q.name);
        }
        figures.push(QueryFigures {
            name: q.name.to_string(),
            rows: first_rows.map_or(0, |r| r.len()),
            identical,
            modes: per_mode,
        });
    }
    let summary = tpch_report::summarize(&figures, &modes);
    if a.json {
        let j = tpch_report::json(s.sf, &a.common.profile, a.runs, &figures, &summary);
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        let head = format!(
            "TPC-H at SF {} on {}: {} queries, {} run(s) each per mode",
            s.sf,
            a.common.profile,
            qs.len(),
            a.runs
        );
        println!("{}", tpch_report::text(&head, a.runs, &figures, &summary));
    }
    if !differ.is_empty() {
        bail!("the modes returned different results for {}", differ.join(", "));
    }
    Ok(())
}
