//! `yoursql-filter`: SQL through DataFusion over TPC-H tables on the simulated SSD, with the
//! filters offloaded YourSQL-style, conventionally read, or as the sampler decides; and a bench
//! against DataFusion on a Parquet copy.
//!
//! ```text
//! yoursql-filter --sf 0.01 --query filter --mode both
//! yoursql-filter --sf 0.1 --query "SELECT count(*) FROM lineitem WHERE l_shipmode = 'AIR'" --json
//! yoursql-filter bench --sf 1 --runs 5
//! yoursql-filter tpch --print-sql 15
//! yoursql-filter tpch --sf 0.01 --queries 1,6,14 --mode all
//! ```

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use host_sdk::DeviceProfile;
use yoursql_core::{build_filter_module, ScanMode, TpchTable};
use yoursql_filter::queries;
use yoursql_filter::report::{json, result_table, side_by_side};
use yoursql_filter::session::{run_query, tables_for, QueryRun, Setup};

#[cfg(feature = "parquet")]
mod bench;
mod tpch_cmd;
mod tpch_report;

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
    /// The 22 TPC-H queries over all eight tables, or `--print-sql N`.
    Tpch(TpchArgs),
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
    /// Device profile: a built-in name (pm1725, tiny) or a TOML file.
    #[arg(long, default_value = "pm1725")]
    profile: String,
    /// Sets one device profile field, e.g. `--set nand.read_ns=50000` (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    set: Vec<String>,
    /// Build the filter module in debug (faster to build, slower device-side code).
    #[arg(long)]
    debug_module: bool,
}

#[derive(Args, Debug, Clone)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    /// A named query (filter, q1 .. q22) or SQL text over the TPC-H tables.
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
    /// Runs of each mode: the host's work is measured CPU time, so the simulated time is shown
    /// as the median with min and max (the report is the median run's).
    #[arg(long, default_value_t = 3)]
    runs: usize,
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

#[derive(Args, Debug, Clone)]
// `--sf -1` reaches the scale-factor check instead of being taken for a flag.
#[command(allow_negative_numbers = true)]
struct TpchArgs {
    #[command(flatten)]
    common: Common,
    /// Print the exact SQL of TPC-H query N (1 to 22) and exit.
    #[arg(long, value_name = "N")]
    print_sql: Option<String>,
    /// The queries to run, by number (e.g. 1,6,14); all 22 when not given.
    #[arg(long)]
    queries: Option<String>,
    /// Scan mode(s).
    #[arg(long, value_enum, default_value_t = ModeArg::All)]
    mode: ModeArg,
    /// Print one JSON object (per query, totals, the comparison with YourSQL) instead of text.
    #[arg(long)]
    json: bool,
    /// Runs of each query in each mode; the median simulated time is reported, with min-max.
    #[arg(long, value_name = "N", default_value_t = 1)]
    runs: usize,
}

fn profile(c: &Common) -> Result<DeviceProfile> {
    DeviceProfile::load_with(&c.profile, &c.set).with_context(|| format!("device profile `{}`", c.profile))
}

fn setup(c: &Common, tables: &[TpchTable]) -> Result<Setup> {
    if !(c.sf.is_finite() && c.sf > 0.0) {
        bail!(
            "--sf {} is not usable; expected a positive scale factor such as 0.01",
            c.sf
        );
    }
    let module = build_filter_module(!c.debug_module).context("building the filter module")?;
    Ok(Setup::new(profile(c)?, c.sf, tables, Some(&module))?)
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
        let names: Vec<&str> = TpchTable::ALL.iter().map(|t| t.name()).collect();
        bail!(
            "the query names no stored table; expected one or more of {}",
            names.join(", ")
        );
    }
    if a.runs == 0 {
        bail!("--runs 0; expected at least 1");
    }
    let s = setup(&a.common, &tables)?;
    let rt = runtime()?;
    let mut runs = Vec::new();
    let mut spread = Vec::new();
    let mut identical = true;
    for mode in a.mode.modes() {
        let mut each = Vec::new();
        for _ in 0..a.runs {
            each.push(rt.block_on(run_query(&s, &sql, mode))?);
        }
        identical &= each.windows(2).all(|w| w[0].rows == w[1].rows);
        each.sort_by_key(QueryRun::simulated_ns);
        let times: Vec<u64> = each.iter().map(QueryRun::simulated_ns).collect();
        spread.push((mode, times));
        // The median run is the one reported.
        let mid = each.len() / 2;
        runs.push(each.swap_remove(mid));
    }
    identical &= runs.windows(2).all(|w| w[0].rows == w[1].rows);
    if a.json {
        let mut j = json(&name, &sql, s.sf, &a.common.profile, &runs, a.show);
        j["runs"] = serde_json::json!(spread
            .iter()
            .map(|(mode, t)| serde_json::json!({
                "mode": mode.name(),
                "simulated_ns": t,
                "median_ns": t[t.len() / 2],
                "min_ns": t[0],
                "max_ns": t[t.len() - 1],
            }))
            .collect::<Vec<_>>());
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        println!("query {name} at SF {} on {}: {sql}", s.sf, a.common.profile);
        if let Some(r) = runs.first() {
            println!("{}", result_table(r, a.show)?);
        }
        println!();
        println!("{}", side_by_side(&runs));
        for (mode, t) in &spread {
            println!(
                "{:<8} simulated over {} runs: median {:.3} ms (min {:.3} - max {:.3}; host work is measured CPU time)",
                mode.name(),
                t.len(),
                t[t.len() / 2] as f64 / 1e6,
                t[0] as f64 / 1e6,
                t[t.len() - 1] as f64 / 1e6
            );
        }
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

#[cfg(not(feature = "parquet"))]
fn bench(_: BenchArgs) -> Result<()> {
    bail!(
        "`bench` compares with DataFusion on a Parquet copy, and this build has no Parquet; \
         expected a build with the `parquet` feature: \
         cargo run --release -p yoursql-filter --features parquet -- bench --sf 1"
    )
}

#[cfg(feature = "parquet")]
use bench::bench;

fn main() -> std::process::ExitCode {
    // One `Error: ...` line with every cause, no backtrace.
    match run_cli() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_cli() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Some(Cmd::Run(a)) => run(a),
        Some(Cmd::Bench(a)) => bench(a),
        Some(Cmd::Tpch(a)) => tpch_cmd::tpch(a),
        None => run(cli.run),
    }
}
