//! `suite`: Biscuit's three applications (pointer chasing, string search, wordcount) on one
//! embedded device, each run conventionally and near the data, ending with the comparison
//! table; `suite bench-wall` times the NDP wordcount against a native count.
//!
//! `cargo run --release -p suite` (defaults: pm1725, 64 MiB of generated text, 64 MiB graph,
//! 100 walks of 100 hops, seed 42).
//!
//! A thin runner: each application's runs are its own crate's (`pointer_chase`, `grep`,
//! `wordcount`); what the programs share is `app_support`.

mod bench;

use app_support::cli::{Common, Compute, Mode, ModuleBuild, TextSource};
use app_support::progress::Progress;
use app_support::size::{human, parse_size};
use app_support::{program, report, setup};
use clap::{Args, Parser, Subcommand};
use grep::cli::GrepOpts;
use pointer_chase::cli::Walks;
use wordcount::cli::WordcountOpts;
use wordcount::ndp::WordcountPlan;

/// Biscuit's application suite, conventional vs near-data, on a simulated SSD.
#[derive(Parser)]
#[command(name = "suite", args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    text: TextSource,
    /// Size of the generated pointer-chasing graph (4 KiB adjacency pages).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64MiB")]
    graph_size: u64,
    #[command(flatten)]
    walks: Walks,
    #[command(flatten)]
    wordcount: WordcountOpts,
    #[command(flatten)]
    grep: GrepOpts,
}

#[derive(Subcommand)]
enum Cmd {
    /// Wall time of the NDP wordcount of a generated file vs a plain single-threaded native
    /// count of the same file, and their ratio (medians).
    BenchWall(BenchArgs),
}

#[derive(Args)]
struct BenchArgs {
    /// Bytes of generated text.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "1GiB")]
    size: u64,
    /// Runs of each side (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Device profile: a built-in name or a TOML file.
    #[arg(long, default_value = "pm1725")]
    profile: String,
    /// Seed of the text.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// How SSDlet compute is charged.
    #[arg(long, value_enum, default_value_t = Compute::Measured)]
    compute: Compute,
    /// Which build of the SSDlet modules to use.
    #[arg(long, value_enum, default_value_t = ModuleBuild::Release)]
    modules: ModuleBuild,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn bench(a: BenchArgs) -> anyhow::Result<()> {
    let common = Common {
        mode: Mode::Ndp,
        profile: a.profile,
        seed: a.seed,
        compute: a.compute,
        modules: a.modules,
        json: a.json,
    };
    let mut progress = Progress::new(!a.json);
    let env = program::open(&common, &mut progress)?;
    let b = bench::wall(
        &env,
        a.size,
        a.seed,
        a.runs,
        WordcountPlan::default(),
        &mut progress,
    )?;
    progress.finish();
    if a.json {
        program::print_json(&serde_json::to_value(&b)?)?;
    } else {
        let s = |ns: u64| ns as f64 / 1e9;
        println!(
            "wordcount of {} generated text (seed {}) on {}, {} runs each, medians:",
            human(b.bytes),
            b.seed,
            common.profile,
            b.runs
        );
        println!(
            "  NDP run (wall)                {:>8.3} s   (simulated {:.3} s)",
            s(b.ndp_median_ns),
            s(b.ndp_simulated_ns)
        );
        println!("  native single-threaded (wall) {:>8.3} s", s(b.native_median_ns));
        println!(
            "  ratio NDP / native            {:>8.2}x  (target <= 2x)",
            b.ratio
        );
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Cmd::BenchWall(a)) = cli.cmd {
        return bench(a);
    }
    let c = &cli.common;
    let mut progress = Progress::new(!c.json);
    let env = program::open(c, &mut progress)?;
    let mut outcomes = Vec::new();

    progress.step(format!("generating a {} graph", human(cli.graph_size)));
    let (graph, info) = setup::graph(None, cli.graph_size, c.seed)?;
    program::put(&env, "graph.bin", &graph, &mut progress)?;
    let starts = setup::starts(info.bytes, cli.walks.starts, c.seed);
    drop(graph);
    outcomes.push(pointer_chase::workload::run(
        &env,
        c.mode,
        "graph.bin",
        info,
        &starts,
        cli.walks.hops,
        None,
        &mut progress,
    )?);

    progress.step("preparing the text");
    let plant = Some((cli.grep.pattern.as_str(), cli.grep.plant));
    let (text, info) = setup::text(cli.text.input.as_deref(), cli.text.generate, c.seed, plant)?;
    program::put(&env, "text.txt", &text, &mut progress)?;
    drop(text);
    outcomes.push(grep::workload::run(
        &env,
        c.mode,
        "text.txt",
        info.clone(),
        &cli.grep.pattern,
        None,
        &mut progress,
    )?);
    outcomes.push(wordcount::workload::run(
        &env,
        c.mode,
        "text.txt",
        info,
        &cli.wordcount,
        None,
        &mut progress,
    )?);
    progress.finish();

    if c.json {
        let all: Vec<_> = outcomes
            .iter()
            .map(|o| report::json(o, c.mode, &c.profile))
            .collect();
        program::print_json(&serde_json::json!({
            "mode": c.mode,
            "profile": c.profile,
            "seed": c.seed,
            "workloads": all,
        }))?;
    } else {
        for o in &outcomes {
            println!("{}", report::human(o, &c.profile));
        }
        println!(
            "profile {}, seed {}; simulated seconds on the host clock; PCIe bytes device-to-host",
            c.profile, c.seed
        );
        print!("{}", report::table(&outcomes));
    }
    Ok(())
}
