//! Reports of query runs: side-by-side text ([`side_by_side`]) and JSON ([`json`]).

use datafusion::arrow::util::pretty::pretty_format_batches;
use serde_json::{json, Value as Json};

use crate::error::Error;
use crate::provider::ScanRecord;
use crate::session::QueryRun;

fn ms(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / (1 << 20) as f64)
}

/// The decision of each scan in words: `lineitem: offloaded (..reason..)`.
pub fn decisions(run: &QueryRun) -> Vec<String> {
    run.scans
        .iter()
        .map(|s| {
            let d = &s.stats.decision;
            match &s.fallback {
                Some(why) => format!("{}: conventional (nothing to offload: {why})", s.table),
                None if d.offloaded => format!("{}: offloaded ({})", s.table, d.reason),
                None => format!("{}: conventional ({})", s.table, d.reason),
            }
        })
        .collect()
}

/// The first `limit` result rows as a table.
pub fn result_table(run: &QueryRun, limit: usize) -> Result<String, Error> {
    let mut left = limit;
    let mut shown = Vec::new();
    for b in &run.batches {
        if left == 0 {
            break;
        }
        let n = b.num_rows().min(left);
        shown.push(b.slice(0, n));
        left -= n;
    }
    let total: usize = run.batches.iter().map(|b| b.num_rows()).sum();
    let mut out = pretty_format_batches(&shown)
        .map_err(|e| Error::Arrow(e.to_string()))?
        .to_string();
    if total > limit {
        out.push_str(&format!("\n... {} more rows", total - limit));
    }
    Ok(out)
}

/// A table of the runs side by side: rows, simulated time, pages, PCIe bytes, wall time,
/// decisions; and the simulated speed-up of each run over the first conventional one.
pub fn side_by_side(runs: &[QueryRun]) -> String {
    let mut lines = Vec::new();
    let head: Vec<String> = runs.iter().map(|r| r.mode.name().to_string()).collect();
    let row = |name: &str, cells: Vec<String>| {
        let mut l = format!("{name:<26}");
        for c in cells {
            l.push_str(&format!("{c:>18}"));
        }
        l
    };
    lines.push(row("", head));
    lines.push(row(
        "result rows",
        runs.iter().map(|r| r.rows.len().to_string()).collect(),
    ));
    lines.push(row(
        "simulated time (scans)",
        runs.iter().map(|r| ms(r.simulated_ns())).collect(),
    ));
    lines.push(row(
        "table pages",
        runs.iter()
            .map(|r| {
                r.scans
                    .iter()
                    .map(|s| s.stats.pages_total)
                    .sum::<u64>()
                    .to_string()
            })
            .collect(),
    ));
    lines.push(row(
        "pages read from NAND",
        runs.iter().map(|r| r.pages_read().to_string()).collect(),
    ));
    lines.push(row(
        "pages moved to host",
        runs.iter().map(|r| r.pages_transferred().to_string()).collect(),
    ));
    lines.push(row(
        "PCIe bytes",
        runs.iter().map(|r| mib(r.pcie_bytes())).collect(),
    ));
    lines.push(row(
        "wall time (query)",
        runs.iter()
            .map(|r| format!("{:.1} ms", r.wall.as_secs_f64() * 1e3))
            .collect(),
    ));
    if let Some(conv) = runs.iter().find(|r| r.mode == yoursql_core::ScanMode::Conv) {
        lines.push(row(
            "simulated speed-up",
            runs.iter()
                .map(|r| {
                    format!(
                        "{:.2}x",
                        conv.simulated_ns() as f64 / r.simulated_ns().max(1) as f64
                    )
                })
                .collect(),
        ));
        lines.push(row(
            "PCIe reduction",
            runs.iter()
                .map(|r| format!("{:.2}x", conv.pcie_bytes() as f64 / r.pcie_bytes().max(1) as f64))
                .collect(),
        ));
    }
    for r in runs {
        for d in decisions(r) {
            lines.push(format!("{:<26}{d}", format!("decision ({})", r.mode.name())));
        }
    }
    lines.join("\n")
}

fn scan_json(s: &ScanRecord) -> Json {
    let st = &s.stats;
    let d = &st.decision;
    json!({
        "table": s.table,
        "predicate": s.predicate,
        "rows": s.rows,
        "simulated_ns": st.simulated_ns,
        "pages_total": st.pages_total,
        "pages_read": st.pages_read,
        "pages_scanned_on_device": st.pages_scanned_on_device,
        "pages_hinted": st.pages_hinted,
        "pages_transferred": st.pages_transferred,
        "pcie_bytes": st.pcie_bytes,
        "rows_scanned": st.rows_scanned,
        "host_compute_ns": st.host_compute_ns,
        "exact": st.exact,
        "fallback": s.fallback,
        "offload_decision": {
            "offloaded": d.offloaded,
            "limiting_score": d.limiting_score,
            "keys": d.keys,
            "sampled_pages": d.sampled_pages,
            "sampled_hinted": d.sampled_hinted,
            "sampled_ratio": d.sampled_ratio,
            "sample_ns": d.sample_ns,
            "reason": d.reason,
        },
    })
}

/// The JSON report: `rows`, `identical`, and per mode `simulated_ns`, `pages_read`,
/// `pages_transferred`, `pcie_bytes`, `wall_ns`, `offload_decision` (one entry per scan) and
/// the scans in detail; the first `limit` result rows.
pub fn json(query: &str, sql: &str, sf: f64, profile: &str, runs: &[QueryRun], limit: usize) -> Json {
    let mut modes = serde_json::Map::new();
    for r in runs {
        modes.insert(
            r.mode.name().to_string(),
            json!({
                "rows": r.rows.len(),
                "simulated_ns": r.simulated_ns(),
                "pages_read": r.pages_read(),
                "pages_transferred": r.pages_transferred(),
                "pcie_bytes": r.pcie_bytes(),
                "wall_ns": u64::try_from(r.wall.as_nanos()).unwrap_or(u64::MAX),
                "offload_decision": r.scans.iter().map(|s| json!({
                    "table": s.table,
                    "offloaded": s.stats.decision.offloaded,
                    "reason": s.fallback.as_ref().map_or(s.stats.decision.reason.clone(), |f| format!("nothing to offload: {f}")),
                })).collect::<Vec<_>>(),
                "scans": r.scans.iter().map(scan_json).collect::<Vec<_>>(),
            }),
        );
    }
    let identical = runs.windows(2).all(|w| w[0].rows == w[1].rows);
    let first = runs.first();
    json!({
        "query": query,
        "sql": sql,
        "sf": sf,
        "profile": profile,
        "rows": first.map_or(0, |r| r.rows.len()),
        "identical": identical,
        "modes": modes,
        "result": first.map(|r| r.rows.iter().take(limit).cloned().collect::<Vec<_>>()),
    })
}
