//! `yoursql-filter bench` (the `parquet` feature): wall time of the offloaded filter query beside
//! DataFusion on a Parquet copy of the same table, and the simulated times offload vs
//! conventional, from one run of the command (medians of `--runs`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use datafusion::prelude::SessionContext;
use yoursql_core::{ScanMode, TpchTable};
use yoursql_filter::queries::{self, NamedQuery};
use yoursql_filter::reference::{register_files, rows_as_text, Format};
use yoursql_filter::report::decisions;
use yoursql_filter::session::{run_query, QueryRun};

use crate::{runtime, setup, BenchArgs};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn median_u64(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn bench(a: BenchArgs) -> Result<()> {
    if a.runs == 0 {
        bail!("--runs 0; expected at least 1");
    }
    let q: NamedQuery = queries::FILTER;
    let t = Instant::now();
    let s = setup(&a.common, &[TpchTable::Lineitem])?;
    let load = t.elapsed();
    let rt = runtime()?;

    let mut offload: Vec<QueryRun> = Vec::new();
    let mut conv: Vec<QueryRun> = Vec::new();
    for _ in 0..a.runs {
        offload.push(rt.block_on(run_query(&s, q.sql, ScanMode::Offload))?);
        conv.push(rt.block_on(run_query(&s, q.sql, ScanMode::Conv))?);
    }
    let auto = rt.block_on(run_query(&s, q.sql, ScanMode::Auto))?;

    let dir = TempDir(std::env::temp_dir().join(format!("yoursql-filter-bench-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0)?;
    let ctx = SessionContext::new();
    let ctx_csv = SessionContext::new();
    let t = Instant::now();
    rt.block_on(register_files(&ctx, &dir.0, &["lineitem"], s.sf, Format::Parquet))?;
    let parquet_write = t.elapsed();
    let mut parquet = Vec::new();
    let mut parquet_rows = Vec::new();
    for _ in 0..a.runs {
        let t = Instant::now();
        let batches = rt.block_on(async { ctx.sql(q.sql).await?.collect().await })?;
        parquet.push(t.elapsed());
        parquet_rows = rows_as_text(&batches)?;
    }

    // The same rows parsed from CSV by DataFusion (all its threads' CPU time), beside the
    // conventional scan's host cost per row (one thread's CPU time).
    rt.block_on(register_files(&ctx_csv, &dir.0, &["lineitem"], s.sf, Format::Csv))?;
    let mut csv_cpu = Vec::new();
    for _ in 0..a.runs {
        let before = host_sdk::cpu::process_cpu_time();
        let batches = rt.block_on(async { ctx_csv.sql(q.sql).await?.collect().await })?;
        csv_cpu.push(host_sdk::cpu::process_cpu_time().saturating_sub(before));
        anyhow::ensure!(
            rows_as_text(&batches)? == parquet_rows,
            "DataFusion on CSV returned other rows"
        );
    }
    let table_rows: u64 = conv[0].scans.iter().map(|r| r.stats.rows_scanned).sum();
    let conv_row_ns = median_u64(
        conv.iter()
            .map(|r| r.scans.iter().map(|x| x.stats.host_compute_ns).sum::<u64>() / table_rows.max(1))
            .collect(),
    );
    let csv_row_ns = median(csv_cpu).as_nanos() as u64 / table_rows.max(1);
    let off_rows = &offload[0].rows;
    let same = offload.iter().chain(&conv).all(|r| &r.rows == off_rows) && &parquet_rows == off_rows;
    let off_wall = median(offload.iter().map(|r| r.wall).collect());
    let conv_wall = median(conv.iter().map(|r| r.wall).collect());
    let pq_wall = median(parquet);
    let off_sim = median_u64(offload.iter().map(QueryRun::simulated_ns).collect());
    let conv_sim = median_u64(conv.iter().map(QueryRun::simulated_ns).collect());
    let speedup = conv_sim as f64 / off_sim.max(1) as f64;
    let io = conv[0].pcie_bytes() as f64 / offload[0].pcie_bytes().max(1) as f64;
    // Wall times as multiples of DataFusion's on Parquet, from this run.
    let vs_parquet = |d: Duration| d.as_secs_f64() / pq_wall.as_secs_f64().max(1e-9);
    let (off_vs_pq, conv_vs_pq) = (vs_parquet(off_wall), vs_parquet(conv_wall));
    if a.json {
        let j = serde_json::json!({
            "query": q.sql,
            "sf": s.sf,
            "profile": a.common.profile,
            "runs": a.runs,
            "rows": off_rows.len(),
            "identical": same,
            "wall_ns": {
                "offload": off_wall.as_nanos() as u64,
                "conv": conv_wall.as_nanos() as u64,
                "datafusion_parquet": pq_wall.as_nanos() as u64,
            },
            "wall_vs_datafusion_parquet": { "offload": off_vs_pq, "conv": conv_vs_pq },
            "simulated_ns": { "offload": off_sim, "conv": conv_sim },
            "simulated_speedup": speedup,
            "pages_read": { "offload": offload[0].pages_read(), "conv": conv[0].pages_read() },
            "pages_transferred": { "offload": offload[0].pages_transferred(), "conv": conv[0].pages_transferred() },
            "pcie_bytes": { "offload": offload[0].pcie_bytes(), "conv": conv[0].pcie_bytes() },
            "auto_decision": decisions(&auto),
            "host_cpu_ns_per_row": {
                "conv_scan": conv_row_ns,
                "datafusion_csv": csv_row_ns,
                "rows": table_rows,
            },
        });
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        println!(
            "filter query at SF {} on {} ({} runs, medians; load {:.1} s, Parquet copy written in {:.1} s)",
            s.sf,
            a.common.profile,
            a.runs,
            load.as_secs_f64(),
            parquet_write.as_secs_f64()
        );
        println!("  {}", q.sql);
        println!(
            "rows: {} (published at SF 1: {})",
            off_rows.len(),
            q.reference_sf1
        );
        println!(
            "wall time, offloaded (DataFusion + device):  {:>10.1} ms ({:.2}x DataFusion on Parquet)",
            off_wall.as_secs_f64() * 1e3,
            off_vs_pq
        );
        println!(
            "wall time, conventional (DataFusion + device): {:>8.1} ms ({:.2}x DataFusion on Parquet)",
            conv_wall.as_secs_f64() * 1e3,
            conv_vs_pq
        );
        println!(
            "wall time, DataFusion on Parquet:            {:>10.1} ms",
            pq_wall.as_secs_f64() * 1e3
        );
        println!(
            "simulated, offload vs conv:  {} vs {} ({speedup:.2}x faster offloaded)",
            fmt_ms(off_sim),
            fmt_ms(conv_sim)
        );
        println!(
            "I/O: pages to host {} vs {}, PCIe {:.2} MiB vs {:.2} MiB ({io:.1}x less); NAND pages read {} vs {}",
            offload[0].pages_transferred(),
            conv[0].pages_transferred(),
            offload[0].pcie_bytes() as f64 / (1 << 20) as f64,
            conv[0].pcie_bytes() as f64 / (1 << 20) as f64,
            offload[0].pages_read(),
            conv[0].pages_read(),
        );
        for d in decisions(&auto) {
            println!("auto decision: {d}");
        }
        println!(
            "host CPU per row of {table_rows}: conventional scan (column first, one thread) {conv_row_ns} ns, DataFusion parsing the CSV copy (all threads) {csv_row_ns} ns"
        );
        println!(
            "results identical (offload, conv, DataFusion on Parquet): {}",
            if same { "yes" } else { "NO" }
        );
    }
    if !same {
        bail!("offload, conventional and Parquet results differ");
    }
    Ok(())
}

fn fmt_ms(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}
