//! `yoursql-filter tpch`: `--print-sql N` prints the exact SQL of TPC-H query N; otherwise the
//! chosen queries (`--queries 1,6,14`; all 22 by default) run over all eight tables on one
//! device (or `--devices N`, the tables spread over them) in each mode of `--mode` (conv, offload, auto, both = conv and offload, all), each
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
//! The simulated time of a query (`QueryRun::simulated_ns`) is its device scans one after
//! another (device work, PCIe transfer, the host's decoding and filtering) plus the engine's
//! operators on `--host-cores` (default 1). Compute is modeled by default, so every figure is
//! the same on every run; `--compute measured` charges CPU time instead.
//!
//! **Host memory.** Conventional scans read through a host buffer pool (`--host-memory`,
//! default YourSQL's ratio of 16 GiB per 100 of scale factor), emptied before each mode's pass
//! over the queries and warmed by the queries in order; several sizes (`--host-memory
//! 0,paper,1GiB`) give one report each and a sweep of the totals and speed-ups.
//!
//! Errors: an unknown query number or one listed twice, `--runs 0`, a scale factor of 0 or
//! below, `--host-cores 0`, a table missing on an image or another scale factor (with
//! `--no-load`), and modes that return different rows.

use anyhow::{bail, Result};
use app_support::cli::Compute;
use yoursql_core::TpchTable;
use yoursql_filter::queries;

use crate::{runtime, setup, TpchArgs};
use yoursql_filter::tpch_pass;
use yoursql_filter::tpch_report;

pub(crate) fn tpch(a: TpchArgs) -> Result<()> {
    if let Some(n) = &a.print_sql {
        println!("{};", queries::tpch(n)?.sql);
        return Ok(());
    }
    if a.nodes.is_some() || a.devices_per_node.is_some() {
        bail!(
            "--nodes and --devices-per-node describe a cluster; expected `cargo run --release -p \
             yoursql-cluster -- tpch --nodes N --devices-per-node M` (clusters run on Ballista in \
             the yoursql-cluster package; here `--devices N` spreads the tables over N devices of \
             one host)"
        );
    }
    if a.runs == 0 {
        bail!("--runs 0: expected at least 1 run of each query in each mode");
    }
    let qs = queries::tpch_list(a.queries.as_deref())?;
    let mut s = setup(&a.common, &TpchTable::ALL)?;
    let rt = runtime()?;
    let modes = a.mode.modes();
    let mut reports = Vec::new();
    let mut sweep = Vec::new();
    let mut differ = Vec::new();
    for &memory in &a.host_memory {
        s.set_buffer_pool(memory.bytes(s.sf));
        let figures = tpch_pass::run(&s, &rt, &qs, &modes, a.runs)?;
        for q in figures.iter().filter(|q| !q.identical) {
            if !differ.contains(&q.name) {
                differ.push(q.name.clone());
            }
        }
        let summary = tpch_report::summarize(&figures, &modes);
        sweep.push(tpch_report::SweepPoint {
            host_memory: memory.describe(s.sf),
            bytes: memory.bytes(s.sf).unwrap_or(0),
            totals: summary.totals.clone(),
            total_offload: summary.total_offload,
            total_auto: summary.total_auto,
        });
        reports.push((memory, figures, summary));
    }
    let context = tpch_report::Context {
        sf: s.sf,
        profile: a.common.profile.clone(),
        runs: a.runs,
        compute: match a.common.compute {
            Compute::Modeled => "modeled",
            Compute::Measured => "measured",
        },
        host_cores: s.host_cores,
        devices: s.device_count(),
    };
    if a.json {
        let per_size: Vec<_> = reports
            .iter()
            .map(|(m, f, sum)| tpch_report::json(&context, &m.describe(s.sf), f, sum))
            .collect();
        let j = serde_json::json!({
            "runs_by_host_memory": per_size,
            "sweep": tpch_report::sweep_json(&sweep),
        });
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        for (m, figures, summary) in &reports {
            let head = format!(
                "TPC-H at SF {} on {} x {}: {} queries, {} run(s) each per mode, compute {}, engine on {} host core(s), host buffer pool {}",
                s.sf,
                s.device_count(),
                a.common.profile,
                qs.len(),
                a.runs,
                context.compute,
                s.host_cores,
                m.describe(s.sf)
            );
            println!("{}\n", tpch_report::text(&head, a.runs, figures, summary));
        }
        if sweep.len() > 1 {
            println!("{}", tpch_report::sweep_text(&sweep));
        }
    }
    if !differ.is_empty() {
        bail!("the modes returned different results for {}", differ.join(", "));
    }
    Ok(())
}
