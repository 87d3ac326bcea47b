//! `yoursql-cluster tpch`: the TPC-H queries on an in-process Ballista cluster of storage
//! nodes, each with its own simulated devices (`yoursql_cluster::Cluster`).
//!
//! `--nodes 4 --devices-per-node 2` is one layout; lists (`--nodes 1,2,4`) run every layout,
//! one after another, each on fresh devices holding the eight tables at `--sf`, spread over
//! all the layout's devices. Every query runs in each mode of `--mode` (conv, offload, both).
//!
//! Per layout and query: rows, the simulated time ([`yoursql_cluster::timing`]) and its
//! parts (the critical path's device scans, engine compute and network), the bytes that crossed
//! the network, the stages, and the wall time. With several layouts, a table of the simulated
//! times per layout and each one's speed-up over the first.
//!
//! **Answers are checked.** Every query's rows on every layout are compared with the
//! single-process engine's (`yoursql_filter::run_query`) over the first layout's devices, in
//! the same mode; any difference is reported and the command fails.
//!
//! The simulated figures are the same on every run (modeled compute, fixed placement, one scan
//! at a time per device); wall times are the machine's.

mod process;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use app_support::calibration::Calibration;
use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;
use sim_nvme::DeviceProfile;
use yoursql_cluster::{Cluster, ClusterOptions, ClusterRun};
use yoursql_core::{ScanMode, TpchTable};
use yoursql_filter::queries::{self, NamedQuery};
use yoursql_filter::session::{run_query, Setup, SetupOptions};

#[derive(Parser, Debug)]
#[command(
    name = "yoursql-cluster",
    about = "TPC-H on a Ballista cluster of simulated storage nodes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs TPC-H queries on one or more cluster layouts and checks their answers; with
    /// --scheduler, on a cluster of separate processes.
    Tpch(TpchArgs),
    /// Runs a cluster's scheduler until stopped (a cluster of separate processes).
    Scheduler(process::SchedulerArgs),
    /// Runs one storage node's executor over its devices, each served by `ndp serve`, until
    /// stopped.
    Executor(process::ExecutorArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ModeArg {
    /// Conventional scans.
    Conv,
    /// Scans offloaded to the devices' filter SSDlets.
    Offload,
    /// Conv, then offload.
    Both,
}

impl ModeArg {
    fn modes(self) -> Vec<ScanMode> {
        match self {
            ModeArg::Conv => vec![ScanMode::Conv],
            ModeArg::Offload => vec![ScanMode::Offload],
            ModeArg::Both => vec![ScanMode::Conv, ScanMode::Offload],
        }
    }
}

#[derive(clap::Args, Debug)]
pub(crate) struct TpchArgs {
    /// TPC-H scale factor.
    #[arg(long, default_value_t = 0.01, conflicts_with = "scheduler")]
    sf: f64,
    /// Storage nodes: one count, or several (comma separated) for one layout each.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    nodes: Vec<usize>,
    /// Devices per node: one count, or several (every combination with --nodes is a layout).
    #[arg(long, value_delimiter = ',', default_value = "1")]
    devices_per_node: Vec<usize>,
    /// The queries, by number (e.g. 1,6,14); all 22 when not given.
    #[arg(long)]
    queries: Option<String>,
    /// Scan mode(s).
    #[arg(long, value_enum, default_value_t = ModeArg::Both)]
    mode: ModeArg,
    /// Device profile: a built-in name (pm1725, tiny) or a TOML file; its `network` section
    /// times the shuffles.
    #[arg(long, default_value = "pm1725", conflicts_with = "scheduler")]
    profile: String,
    /// Sets one device profile field, e.g. `--set network.bandwidth_mb_per_s=117` (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE", conflicts_with = "scheduler")]
    set: Vec<String>,
    /// Build the filter module in debug (faster to build, slower device-side code).
    #[arg(long, conflicts_with = "scheduler")]
    debug_module: bool,
    /// The engine calibration file [default: the shipped one].
    #[arg(long, value_name = "FILE", conflicts_with = "scheduler")]
    calibration: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Run on the cluster whose scheduler listens at HOST:PORT (separate processes: `scheduler`,
    /// one `executor` per node) instead of an in-process one; the devices are then given with
    /// --device, and --nodes and --devices-per-node give its one layout.
    #[arg(long, value_name = "HOST:PORT")]
    scheduler: Option<String>,
    /// With --scheduler: every device of the cluster, node by node (a Unix socket of `ndp
    /// serve`, or `tcp:HOST:PORT` with --token-file), to read where each table part lives.
    #[arg(long = "device", value_name = "SOCKET|tcp:HOST:PORT", requires = "scheduler")]
    devices: Vec<String>,
    /// The file holding the `ndp serve --listen` token, for tcp: devices.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// With --scheduler: seconds each query may take before it fails (a node whose executor
    /// is not running never takes its partitions).
    #[arg(long, value_name = "SECONDS", default_value_t = 600, requires = "scheduler")]
    timeout: u64,
}

/// One query's run in one mode on one layout.
#[derive(Debug, Serialize)]
struct QueryFigures {
    query: String,
    mode: &'static str,
    rows: usize,
    simulated_ns: u64,
    scan_ns: u64,
    engine_ns: u64,
    network_ns: u64,
    network_bytes: u64,
    /// Of `network_bytes`, the result's to the client.
    result_bytes: u64,
    stages: usize,
    tasks: usize,
    wall_ms: f64,
    /// Same rows as the single-process engine on the first layout's devices.
    matches_one_process: bool,
}

#[derive(Debug, Serialize)]
struct LayoutFigures {
    nodes: usize,
    devices_per_node: usize,
    target_partitions: usize,
    load_s: f64,
    queries: Vec<QueryFigures>,
}

#[derive(Debug, Serialize)]
struct Report {
    sf: f64,
    profile: String,
    network_mb_per_s: u64,
    network_round_trip_ns: u64,
    layouts: Vec<LayoutFigures>,
    /// Every layout and mode gave every query the same rows as one process.
    identical: bool,
    differ: Vec<String>,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Tpch(a) if a.scheduler.is_some() => process::tpch_remote(&a),
        Command::Tpch(a) => tpch(a),
        Command::Scheduler(a) => process::scheduler(&a),
        Command::Executor(a) => process::executor(&a),
    }
}

fn layouts(a: &TpchArgs) -> Result<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    for &n in &a.nodes {
        for &d in &a.devices_per_node {
            if n == 0 || d == 0 {
                bail!(
                    "--nodes {n} --devices-per-node {d}: expected at least one node of at least one device"
                );
            }
            if n.checked_mul(d).is_none_or(|all| all > 64) {
                bail!("{n} nodes x {d} devices: expected at most 64 devices in all");
            }
            if !out.contains(&(n, d)) {
                out.push((n, d));
            }
        }
    }
    Ok(out)
}

fn tpch(a: TpchArgs) -> Result<()> {
    if !(a.sf.is_finite() && a.sf > 0.0) {
        bail!(
            "--sf {} is not usable; expected a positive scale factor such as 0.01",
            a.sf
        );
    }
    let qs = queries::tpch_list(a.queries.as_deref())?;
    let layouts = layouts(&a)?;
    let profile = DeviceProfile::load_with(&a.profile, &a.set)
        .with_context(|| format!("device profile `{}`", a.profile))?;
    let module = yoursql_core::build_filter_module(!a.debug_module).context("building the filter module")?;
    let calibration = Arc::new(Calibration::load_or_shipped(a.calibration.as_deref())?);
    let modes = a.mode.modes();
    let rt = yoursql_filter::session::runtime()?;

    let mut reference: BTreeMap<(String, &'static str), Vec<Vec<String>>> = BTreeMap::new();
    let mut report = Report {
        sf: a.sf,
        profile: profile.name.clone(),
        network_mb_per_s: profile.network.bandwidth_mb_per_s,
        network_round_trip_ns: profile.network.round_trip_ns,
        layouts: Vec::new(),
        identical: true,
        differ: Vec::new(),
    };
    for (li, &(nodes, per_node)) in layouts.iter().enumerate() {
        let mut o = SetupOptions::new(profile.clone(), a.sf, &TpchTable::ALL);
        o.module = Some(module.clone());
        o.calibration = Arc::clone(&calibration);
        o.devices = nodes * per_node;
        if !a.json {
            eprintln!(
                "loading SF {} onto {} device(s) for {nodes} node(s) x {per_node} ...",
                a.sf, o.devices
            );
        }
        let setup = Setup::open(&o).context("loading the tables")?;
        let cluster = Cluster::from_setup(&setup, nodes, ClusterOptions::default())?;
        let mut figures = Vec::new();
        for q in &qs {
            for &mode in &modes {
                let key = (q.name.to_string(), mode.name());
                if li == 0 {
                    let one = rt
                        .block_on(run_query(&setup, q.sql, mode))
                        .with_context(|| format!("{} {} in one process", q.name, mode.name()))?;
                    reference.insert(key.clone(), one.rows);
                }
                let run = cluster
                    .run_query(q.sql, mode)
                    .with_context(|| format!("{} {} on {nodes} x {per_node}", q.name, mode.name()))?;
                let matches = reference.get(&key) == Some(&run.rows);
                if !matches {
                    report.identical = false;
                    report
                        .differ
                        .push(format!("{} {} on {nodes} x {per_node}", q.name, mode.name()));
                }
                figures.push(query_figures(q, mode, &run, matches));
            }
        }
        let layout = LayoutFigures {
            nodes,
            devices_per_node: per_node,
            target_partitions: cluster.target_partitions(),
            load_s: setup.load_wall.as_secs_f64(),
            queries: figures,
        };
        if !a.json {
            print_layout(&layout);
        }
        report.layouts.push(layout);
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&report);
    }
    if !report.identical {
        bail!("answers differ from one process's: {}", report.differ.join(", "));
    }
    Ok(())
}

fn query_figures(q: &NamedQuery, mode: ScanMode, run: &ClusterRun, matches: bool) -> QueryFigures {
    let t = &run.time;
    QueryFigures {
        query: q.name.to_string(),
        mode: mode.name(),
        rows: run.rows.len(),
        simulated_ns: t.total_ns,
        scan_ns: t.critical_scan_ns(),
        engine_ns: t.critical_engine_ns(),
        network_ns: t.network_ns(),
        network_bytes: t.network_bytes(),
        result_bytes: t.result.bytes,
        stages: t.stages.len(),
        tasks: run.tasks.len(),
        wall_ms: run.wall.as_secs_f64() * 1e3,
        matches_one_process: matches,
    }
}

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

fn print_layout(l: &LayoutFigures) {
    println!(
        "\n{} node(s) x {} device(s), {} partitions above the scans (tables loaded in {:.1} s)",
        l.nodes, l.devices_per_node, l.target_partitions, l.load_s
    );
    println!(
        "{:<5} {:<8} {:>7} {:>13} {:>10} {:>10} {:>10} {:>12} {:>6} {:>9} {:>6}",
        "query",
        "mode",
        "rows",
        "simulated ms",
        "scans ms",
        "engine ms",
        "network ms",
        "network B",
        "stages",
        "wall ms",
        "same"
    );
    for q in &l.queries {
        println!(
            "{:<5} {:<8} {:>7} {:>13} {:>10} {:>10} {:>10} {:>12} {:>6} {:>9.0} {:>6}",
            q.query,
            q.mode,
            q.rows,
            ms(q.simulated_ns),
            ms(q.scan_ns),
            ms(q.engine_ns),
            ms(q.network_ns),
            q.network_bytes,
            q.stages,
            q.wall_ms,
            if q.matches_one_process { "yes" } else { "NO" }
        );
    }
}

fn print_summary(r: &Report) {
    println!(
        "\nanswers: {}",
        if r.identical {
            "every layout and mode gave every query the rows of one process".to_string()
        } else {
            format!("DIFFER: {}", r.differ.join(", "))
        }
    );
    if r.layouts.len() < 2 {
        return;
    }
    let names: Vec<String> = r
        .layouts
        .iter()
        .map(|l| format!("{}x{}", l.nodes, l.devices_per_node))
        .collect();
    println!(
        "\nsimulated ms per layout (nodes x devices per node; in brackets the speed-up over {}):",
        names[0]
    );
    print!("{:<5} {:<8}", "query", "mode");
    for n in &names {
        print!(" {n:>18}");
    }
    println!();
    for (i, q) in r.layouts[0].queries.iter().enumerate() {
        print!("{:<5} {:<8}", q.query, q.mode);
        for l in &r.layouts {
            let t = l.queries[i].simulated_ns;
            print!(
                " {:>18}",
                format!("{} ({:.2}x)", ms(t), q.simulated_ns as f64 / t.max(1) as f64)
            );
        }
        println!();
    }
}
