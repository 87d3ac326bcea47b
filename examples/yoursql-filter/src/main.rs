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
//! yoursql-filter tpch --sf 0.1 --queries 1,6 --mode both --devices 4
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use app_support::calibration::Calibration;
use app_support::cli::Compute;
use clap::{Args, Parser, Subcommand, ValueEnum};
use host_sdk::DeviceProfile;
use yoursql_core::{build_filter_module, ScanMode, TpchTable};
use yoursql_filter::queries;
use yoursql_filter::report::{json, result_table, side_by_side};
use yoursql_filter::session::{
    run_query, tables_for, QueryRun, Setup, SetupOptions, PAPER_HOST_MEMORY_PER_SF,
};

#[cfg(feature = "parquet")]
mod bench;
mod calibrate_engine;
mod tpch_cmd;

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
    /// Measures the cost per row of each DataFusion operator kind (the modeled engine compute)
    /// and writes it into the calibration file.
    CalibrateEngine(CalibrateEngineArgs),
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

/// The default scale factor.
const DEFAULT_SF: f64 = 0.01;

#[derive(Args, Debug, Clone)]
struct Common {
    /// TPC-H scale factor [default: 0.01; with --no-load: the image's].
    #[arg(long)]
    sf: Option<f64>,
    /// Device profile: a built-in name (pm1725, tiny) or a TOML file.
    #[arg(long, default_value = "pm1725")]
    profile: String,
    /// Sets one device profile field, e.g. `--set nand.read_ns=50000` (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    set: Vec<String>,
    /// Build the filter module in debug (faster to build, slower device-side code).
    #[arg(long)]
    debug_module: bool,
    /// How host and device compute are charged: modeled (calibrated costs times counted work,
    /// deterministic) or measured (CPU time; varies with the machine and its load).
    #[arg(long, value_enum, default_value_t = Compute::Modeled)]
    compute: Compute,
    /// The calibration file modeled compute uses [default: the shipped one].
    #[arg(long, value_name = "FILE")]
    calibration: Option<PathBuf>,
    /// A persistent device image: the tables are kept there between runs and loaded again only
    /// when the scale factor or the page format changed.
    #[arg(long, value_name = "PATH")]
    image: Option<PathBuf>,
    /// With --image: use the tables on the image as they are; a missing table or another scale
    /// factor than --sf is an error.
    #[arg(long, requires = "image")]
    no_load: bool,
    /// Host cores the query engine's compute is spread over (MariaDB ran a query on one).
    #[arg(long, value_name = "N", default_value_t = 1)]
    host_cores: u32,
    /// `--trace FILE.json`: the simulated timeline (Chrome trace-event JSON).
    #[command(flatten)]
    trace: app_support::cli::TraceArgs,
    /// Simulated SSDs the tables are spread over (contiguous page ranges; one DataFusion
    /// partition per device, scanned at once). With --image and N > 1: one image per device,
    /// PATH.dev0 .. PATH.dev<N-1>.
    #[arg(long, value_name = "N", default_value_t = 1)]
    devices: usize,
}

impl Common {
    fn sf(&self) -> f64 {
        self.sf.unwrap_or(DEFAULT_SF)
    }
}

/// A host buffer pool size: `paper` (YourSQL's 16 GiB per 100 of scale factor), `0` (no pool)
/// or a size such as `256MiB`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum HostMemory {
    Paper,
    Bytes(u64),
}

impl HostMemory {
    fn parse(s: &str) -> Result<HostMemory, String> {
        if s == "paper" {
            return Ok(HostMemory::Paper);
        }
        app_support::size::parse_size(s)
            .map(HostMemory::Bytes)
            .map_err(|e| format!("{e}; or `paper` (16 GiB per 100 of scale factor)"))
    }

    /// Bytes at scale factor `sf` (`None`: no pool).
    fn bytes(self, sf: f64) -> Option<u64> {
        match self {
            HostMemory::Paper => Some((PAPER_HOST_MEMORY_PER_SF * sf).round() as u64),
            HostMemory::Bytes(0) => None,
            HostMemory::Bytes(b) => Some(b),
        }
    }

    fn describe(self, sf: f64) -> String {
        match (self, self.bytes(sf)) {
            (_, None) => "no buffer pool".into(),
            (HostMemory::Paper, Some(b)) => format!("{} (paper ratio)", app_support::size::human(b)),
            (_, Some(b)) => app_support::size::human(b),
        }
    }
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
    /// The host buffer pool conventional scans read through (emptied before each run).
    #[arg(long, value_parser = HostMemory::parse, default_value = "paper")]
    host_memory: HostMemory,
}

#[derive(Args, Debug, Clone)]
struct CalibrateEngineArgs {
    /// Device profile: a built-in name (pm1725, tiny) or a TOML file.
    #[arg(long, default_value = "pm1725")]
    profile: String,
    /// Sets one device profile field (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    set: Vec<String>,
    /// TPC-H scale factor of the calibration run.
    #[arg(long, default_value_t = 0.1)]
    sf: f64,
    /// Runs of the 22 queries (the median per operator kind is kept).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The calibration file to update [default: the shipped one in the source tree].
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

impl CalibrateEngineArgs {
    fn common_profile(&self) -> Common {
        Common {
            sf: Some(self.sf),
            profile: self.profile.clone(),
            set: self.set.clone(),
            debug_module: false,
            compute: Compute::Measured,
            calibration: None,
            image: None,
            no_load: false,
            host_cores: 1,
            trace: Default::default(),
            devices: 1,
        }
    }
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
    /// The host buffer pool conventional scans read through: one size, or several (comma
    /// separated) for a sweep. The pool is emptied before each mode's pass over the queries and
    /// warms up over the queries, in order.
    #[arg(long, value_parser = HostMemory::parse, value_delimiter = ',', default_value = "paper")]
    host_memory: Vec<HostMemory>,
    /// Storage nodes: clusters run on Ballista in the `yoursql-cluster` package (`cargo run
    /// -p yoursql-cluster -- tpch --nodes N --devices-per-node M`); refused here with that advice.
    #[arg(long, value_name = "N", hide = true)]
    nodes: Option<String>,
    /// See --nodes.
    #[arg(long, value_name = "M", hide = true)]
    devices_per_node: Option<String>,
}

fn profile(c: &Common) -> Result<DeviceProfile> {
    DeviceProfile::load_with(&c.profile, &c.set).with_context(|| format!("device profile `{}`", c.profile))
}

/// The device, tables and charges of `c` (no buffer pool yet: `Setup::set_buffer_pool`).
fn setup(c: &Common, tables: &[TpchTable]) -> Result<Setup> {
    if let Some(sf) = c.sf {
        if !(sf.is_finite() && sf > 0.0) {
            bail!("--sf {sf} is not usable; expected a positive scale factor such as 0.01");
        }
    }
    if c.host_cores == 0 {
        bail!("--host-cores 0: expected at least 1 host core");
    }
    if c.devices == 0 {
        bail!("--devices 0: expected at least 1 device to store the tables on");
    }
    if c.devices > 1 && c.trace.trace.is_some() {
        // The recorder names tracks by channel, die and core, not by device: several
        // devices would share (and overlap on) one set of tracks.
        bail!(
            "--trace records one device's timeline; expected --devices 1 with --trace (got --devices {})",
            c.devices
        );
    }
    let module = build_filter_module(!c.debug_module).context("building the filter module")?;
    let calibration = Calibration::load_or_shipped(c.calibration.as_deref())?;
    let mut o = SetupOptions::new(profile(c)?, c.sf(), tables);
    o.sf = if c.no_load { c.sf } else { Some(c.sf()) };
    o.module = Some(module);
    o.compute = c.compute;
    o.calibration = Arc::new(calibration);
    o.image = c.image.clone();
    o.reuse_only = c.no_load;
    o.host_cores = c.host_cores;
    o.devices = c.devices;
    let s = Setup::open(&o)?;
    if let (Some(why), Some(image)) = (&s.loaded, &c.image) {
        let into = if c.devices == 1 {
            image.display().to_string()
        } else {
            format!("{}.dev0 .. .dev{}", image.display(), c.devices - 1)
        };
        eprintln!(
            "loaded the tables into {into} in {:.1} s (wall): {why}",
            s.load_wall.as_secs_f64()
        );
    }
    Ok(s)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(yoursql_filter::session::runtime()?)
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
    let mut s = setup(&a.common, &tables)?;
    s.set_buffer_pool(a.host_memory.bytes(s.sf));
    let rt = runtime()?;
    let mut runs = Vec::new();
    let mut spread = Vec::new();
    let mut identical = true;
    for mode in a.mode.modes() {
        let mut each = Vec::new();
        for _ in 0..a.runs {
            s.clear_buffer_pools();
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
        j["devices"] = serde_json::json!(s.device_count());
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
        println!(
            "query {name} at SF {} on {} x {}: {sql}",
            s.sf,
            s.device_count(),
            a.common.profile
        );
        if let Some(r) = runs.first() {
            println!("{}", result_table(r, a.show)?);
        }
        println!();
        println!("{}", side_by_side(&runs));
        for (mode, t) in &spread {
            println!(
                "{:<8} simulated over {} runs: median {:.3} ms (min {:.3} - max {:.3}; compute {})",
                mode.name(),
                t.len(),
                t[t.len() / 2] as f64 / 1e6,
                t[0] as f64 / 1e6,
                t[t.len() - 1] as f64 / 1e6,
                match a.common.compute {
                    Compute::Modeled => "modeled: runs are identical",
                    Compute::Measured => "measured: runs vary",
                }
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
    // One `Error: ...` line with every cause said once, no backtrace.
    match run_cli() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", app_support::program::error_text(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_cli() -> Result<()> {
    let cli = Cli::parse();
    let (trace, quiet) = match &cli.cmd {
        Some(Cmd::Run(a)) => (a.common.trace.clone(), a.json),
        Some(Cmd::Bench(a)) => (a.common.trace.clone(), a.json),
        Some(Cmd::Tpch(a)) => (a.common.trace.clone(), a.json),
        Some(Cmd::CalibrateEngine(_)) => (Default::default(), false),
        None => (cli.run.common.trace.clone(), cli.run.json),
    };
    app_support::trace::traced(&trace, "yoursql-filter", quiet, || run_cmd(cli))
}

fn run_cmd(cli: Cli) -> Result<()> {
    match cli.cmd {
        Some(Cmd::Run(a)) => run(a),
        Some(Cmd::Bench(a)) => bench(a),
        Some(Cmd::Tpch(a)) => tpch_cmd::tpch(a),
        Some(Cmd::CalibrateEngine(a)) => calibrate_engine::calibrate_engine(a),
        None => run(cli.run),
    }
}
