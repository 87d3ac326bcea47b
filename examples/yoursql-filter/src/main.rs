//! `yoursql-filter`: SQL through DataFusion over TPC-H tables on the simulated SSD, with the
//! filters offloaded YourSQL-style, conventionally read, or as the sampler decides; and a bench
//! against DataFusion on a Parquet copy.
//!
//! ```text
//! yoursql-filter --sf 0.01 --query filter --mode both
//! yoursql-filter --sf 0.1 --query "SELECT count(*) FROM lineitem WHERE l_shipmode = 'AIR'" --json
//! yoursql-filter bench --sf 1 --runs 5
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use datafusion::prelude::SessionContext;
use host_sdk::DeviceProfile;
use yoursql_core::{build_filter_module, ScanMode, TpchTable};
use yoursql_filter::queries::{self, NamedQuery};
use yoursql_filter::reference::{register_files, rows_as_text, Format};
use yoursql_filter::report::{decisions, json, result_table, side_by_side};
use yoursql_filter::session::{run_query, tables_for, QueryRun, Setup};

#[derive(Parser, Debug)]
#[command(
    name = "yoursql-filter",
    about = "DataFusion over YourSQL-style filter offload on the simulated SSD"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run a query (the default when no subcommand is given).
    Run(RunArgs),
    /// Wall time of the offloaded filter query beside DataFusion on a Parquet copy, and the
    /// simulated times offload vs conventional.
    Bench(BenchArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ModeArg {
    /// Offload the filters to the device's matchers.
    Offload,
    /// Read every page on the host.
    Conv,
    /// YourSQL's decision (limiting score and sampler).
    Auto,
    /// Conventional and offloaded, side by side.
    Both,
    /// Conventional, offloaded and auto.
    All,
}

impl ModeArg {
    fn modes(self) -> Vec<ScanMode> {
        match self {
            ModeArg::Offload => vec![ScanMode::Offload],
            ModeArg::Conv => vec![ScanMode::Conv],
            ModeArg::Auto => vec![ScanMode::Auto],
            ModeArg::Both => vec![ScanMode::Conv, ScanMode::Offload],
            ModeArg::All => vec![ScanMode::Conv, ScanMode::Offload, ScanMode::Auto],
        }
    }
}

#[derive(Args, Debug, Clone)]
struct Common {
    /// TPC-H scale factor.
    #[arg(long, default_value_t = 0.01)]
    sf: f64,
    /// Device profile (pm1725 or tiny).
    #[arg(long, default_value = "pm1725")]
    profile: String,
    /// Build the filter module in debug (faster to build, slower device-side code).
    #[arg(long)]
    debug_module: bool,
}

#[derive(Args, Debug, Clone)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    /// A named query (filter, q6, q14) or SQL text over `lineitem` and `part`.
    #[arg(long, default_value = "filter")]
    query: String,
    /// Scan mode(s).
    #[arg(long, value_enum, default_value_t = ModeArg::Both)]
    mode: ModeArg,
    /// Print a JSON report instead of text.
    #[arg(long)]
    json: bool,
    /// Result rows to show.
    #[arg(long, default_value_t = 20)]
    show: usize,
}

#[derive(Args, Debug, Clone)]
struct BenchArgs {
    #[command(flatten)]
    common: Common,
    /// Runs per measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Print a JSON report instead of text.
    #[arg(long)]
    json: bool,
}

fn profile(name: &str) -> Result<DeviceProfile> {
    DeviceProfile::builtin(name).with_context(|| {
        format!(
            "no device profile `{name}`; expected one of {}",
            DeviceProfile::BUILTINS.join(", ")
        )
    })
}

fn setup(c: &Common, tables: &[TpchTable]) -> Result<Setup> {
    if !(c.sf.is_finite() && c.sf > 0.0) {
        bail!(
            "--sf {} is not usable; expected a positive scale factor such as 0.01",
            c.sf
        );
    }
    let module = build_filter_module(!c.debug_module).context("building the filter module")?;
    Ok(Setup::new(profile(&c.profile)?, c.sf, tables, Some(&module))?)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

fn run(a: RunArgs) -> Result<()> {
    let (name, sql) = match queries::named(&a.query) {
        Ok(q) => (q.name.to_string(), q.sql.to_string()),
        Err(_) => ("sql".to_string(), a.query.clone()),
    };
    let tables = tables_for(&sql);
    if tables.is_empty() {
        bail!("the query names no stored table; expected lineitem and/or part");
    }
    let s = setup(&a.common, &tables)?;
    let rt = runtime()?;
    let mut runs = Vec::new();
    for mode in a.mode.modes() {
        runs.push(rt.block_on(run_query(&s, &sql, mode))?);
    }
    let identical = runs.windows(2).all(|w| w[0].rows == w[1].rows);
    if a.json {
        let j = json(&name, &sql, s.sf, &a.common.profile, &runs, a.show);
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        println!("query {name} at SF {} on {}: {sql}", s.sf, a.common.profile);
        if let Some(r) = runs.first() {
            println!("{}", result_table(r, a.show)?);
        }
        println!();
        println!("{}", side_by_side(&runs));
        if runs.len() > 1 {
            println!(
                "results identical across modes: {}",
                if identical { "yes" } else { "NO" }
            );
        }
    }
    if !identical {
        bail!("the modes returned different results");
    }
    Ok(())
}

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

fn bench(a: BenchArgs) -> Result<()> {
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

    let off_rows = &offload[0].rows;
    let same = offload.iter().chain(&conv).all(|r| &r.rows == off_rows) && &parquet_rows == off_rows;
    let off_wall = median(offload.iter().map(|r| r.wall).collect());
    let conv_wall = median(conv.iter().map(|r| r.wall).collect());
    let pq_wall = median(parquet);
    let off_sim = median_u64(offload.iter().map(QueryRun::simulated_ns).collect());
    let conv_sim = median_u64(conv.iter().map(QueryRun::simulated_ns).collect());
    let speedup = conv_sim as f64 / off_sim.max(1) as f64;
    let io = conv[0].pcie_bytes() as f64 / offload[0].pcie_bytes().max(1) as f64;
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
            "simulated_ns": { "offload": off_sim, "conv": conv_sim },
            "simulated_speedup": speedup,
            "pages_read": { "offload": offload[0].pages_read(), "conv": conv[0].pages_read() },
            "pages_transferred": { "offload": offload[0].pages_transferred(), "conv": conv[0].pages_transferred() },
            "pcie_bytes": { "offload": offload[0].pcie_bytes(), "conv": conv[0].pcie_bytes() },
            "auto_decision": decisions(&auto),
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
            "wall time, offloaded (DataFusion + device):  {:>10.1} ms",
            off_wall.as_secs_f64() * 1e3
        );
        println!(
            "wall time, conventional (DataFusion + device): {:>8.1} ms",
            conv_wall.as_secs_f64() * 1e3
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

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Some(Cmd::Run(a)) => run(a),
        Some(Cmd::Bench(a)) => bench(a),
        None => run(cli.run),
    }
}
