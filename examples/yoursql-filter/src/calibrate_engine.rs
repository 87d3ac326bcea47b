//! `yoursql-filter calibrate-engine`: the cost per row consumed of each DataFusion operator
//! kind, for the modeled engine compute ([`yoursql_filter::engine`]), written into the
//! calibration file's `[engine.*]` entries (the other entries are kept).
//!
//! **Derivation.** The 22 TPC-H queries run `--runs` times at `--sf` with conventional scans,
//! measured compute and one partition. For each operator kind, each run gives DataFusion's
//! `elapsed_compute` metric summed over the kind's operators divided by their units (rows
//! consumed times one plus the nodes of the expressions they evaluate);
//! the entry is the median over the runs. `other` (charged to kinds without an entry) is the same
//! over all operators. `elapsed_compute` attributes time to operator kinds but does not add up
//! to the query thread's CPU time (operators time overlapping sections, and some work is outside
//! any operator), so every cost is then scaled by one factor: the 22 queries' measured thread CPU
//! time (median over the runs) over their modeled compute with the unscaled costs. The total is
//! then right by construction; each query's modeled compute is printed beside its measured CPU
//! time, so the per-query error is on record.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use app_support::calibration::{Calibration, HostCost};
use app_support::cli::Compute;
use yoursql_core::{ScanMode, TpchTable};
use yoursql_filter::engine::{EngineCharge, EngineCosts, OTHER};
use yoursql_filter::session::{run_query, Setup, SetupOptions};
use yoursql_filter::tpch_queries::TPCH;

use crate::{profile, runtime, CalibrateEngineArgs};
use yoursql_filter::tpch_report::{median, median_f64};

pub(crate) fn calibrate_engine(a: CalibrateEngineArgs) -> Result<()> {
    anyhow::ensure!(a.runs > 0, "--runs 0: expected at least 1 run");
    anyhow::ensure!(
        a.sf.is_finite() && a.sf > 0.0,
        "--sf {} is not usable; expected a positive scale factor",
        a.sf
    );
    let path = a.output.clone().unwrap_or_else(shipped_path);
    let mut cal =
        Calibration::load_or_shipped(Some(&path)).or_else(|_| Calibration::load_or_shipped(None))?;
    let mut o = SetupOptions::new(profile(&a.common_profile())?, a.sf, &TpchTable::ALL);
    o.compute = Compute::Measured;
    o.calibration = Arc::new(cal.clone());
    eprintln!("generating and storing the eight TPC-H tables at SF {}", a.sf);
    let s = Setup::open(&o)?;
    let rt = runtime()?;
    // Per kind and run: (elapsed ns, rows); per query: measured CPU ns of each run.
    let mut per_kind: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    let mut runs_of_query: Vec<Vec<(u64, yoursql_filter::engine::EngineWork)>> = vec![Vec::new(); TPCH.len()];
    for run in 0..a.runs {
        let mut kind_run: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (i, q) in TPCH.iter().enumerate() {
            eprintln!("run {} of {}: {}", run + 1, a.runs, q.name);
            let r = rt.block_on(run_query(&s, q.sql, ScanMode::Conv))?;
            for op in &r.engine.work.operators {
                let e = kind_run.entry(op.operator.clone()).or_default();
                e.0 += op.elapsed_compute_ns;
                e.1 += op.units();
                let all = kind_run.entry(OTHER.to_string()).or_default();
                all.0 += op.elapsed_compute_ns;
                all.1 += op.units();
            }
            runs_of_query[i].push((r.engine.cpu_ns, r.engine.work.clone()));
        }
        for (k, v) in kind_run {
            per_kind.entry(k).or_default().push(v);
        }
    }
    let mut raw = BTreeMap::new();
    for (kind, runs) in &per_kind {
        let rows = runs.iter().map(|r| r.1).max().unwrap_or(0);
        if rows > 0 {
            let ps = median_f64(
                runs.iter()
                    .map(|(ns, rows)| *ns as f64 * 1000.0 / (*rows).max(1) as f64)
                    .collect(),
            );
            raw.insert(kind.clone(), ps.round() as u64);
        }
    }
    let modeled_total =
        |costs: &EngineCosts| -> f64 { runs_of_query.iter().map(|r| costs.charge(&r[0].1) as f64).sum() };
    let measured_total: f64 = runs_of_query
        .iter()
        .map(|r| median(&r.iter().map(|x| x.0).collect::<Vec<_>>()) as f64)
        .sum();
    let scale = measured_total
        / modeled_total(&EngineCosts {
            ps_per_row: raw.clone(),
        })
        .max(1.0);
    let mut engine = BTreeMap::new();
    for (kind, runs) in &per_kind {
        let rows = runs.iter().map(|r| r.1).max().unwrap_or(0);
        if rows == 0 {
            continue;
        }
        let Some(&ps) = raw.get(kind) else { continue };
        engine.insert(
            kind.clone(),
            HostCost {
                unit: "row consumed x (1 + expression nodes)".into(),
                ps_per_unit: (ps as f64 * scale).round() as u64,
                derivation: format!(
                    "yoursql-filter calibrate-engine: the 22 TPC-H queries at SF {}, conventional scans, one partition, {} run(s); \
                     DataFusion's elapsed_compute of {} over its {} units (rows consumed x (1 + expression nodes)) per run, median, {ps} ps; \
                     times {scale:.3} (the queries' measured thread CPU time over their modeled compute)",
                    a.sf,
                    a.runs,
                    if kind == OTHER { "all operators".to_string() } else { format!("every {kind}") },
                    rows
                ),
            },
        );
    }
    let costs = EngineCosts {
        ps_per_row: engine.iter().map(|(k, c)| (k.clone(), c.ps_per_unit)).collect(),
    };
    println!(
        "engine costs (ps per unit) at SF {}, {} run(s), scaled by {scale:.3}:",
        a.sf, a.runs
    );
    for (k, c) in &engine {
        println!("  {k:<28} {:>10}", c.ps_per_unit);
    }
    println!();
    println!(
        "{:<6} {:>14} {:>20} {:>8}",
        "query", "modeled ms", "measured CPU ms", "ratio"
    );
    let (mut tm, mut tc) = (0.0, 0.0);
    for (q, runs) in TPCH.iter().zip(&runs_of_query) {
        let modeled = EngineCharge::Modeled(costs.clone())
            .time(runs[0].1.clone(), std::time::Duration::ZERO, 1)
            .cpu_ns as f64;
        let measured = median(&runs.iter().map(|r| r.0).collect::<Vec<_>>()) as f64;
        tm += modeled;
        tc += measured;
        println!(
            "{:<6} {:>14.3} {:>20.3} {:>8.2}",
            q.name,
            modeled / 1e6,
            measured / 1e6,
            modeled / measured.max(1.0)
        );
    }
    println!(
        "{:<6} {:>14.3} {:>20.3} {:>8.2}",
        "total",
        tm / 1e6,
        tc / 1e6,
        tm / tc.max(1.0)
    );
    cal.engine = engine;
    std::fs::write(&path, cal.to_toml()).with_context(|| format!("writing {}", path.display()))?;
    println!("\nwrote {}", path.display());
    Ok(())
}

/// The calibration file shipped in the source tree.
pub(crate) fn shipped_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../app-support/calibration.toml")
}
