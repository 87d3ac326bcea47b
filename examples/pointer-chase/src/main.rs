//! `pointer-chase`: walks over a power-law graph stored as 4 KiB adjacency pages, each hop a
//! data-dependent read: on the device (an SSDlet chases and sends the paths back) and on the
//! host (one queue-depth-1 read round trip per hop).
//!
//! `cargo run --release -p pointer-chase -- [--input FILE | --generate
//! SIZE] [--starts N] [--hops K] [--mode ndp|conv|both] [--json] [--output FILE]`

use std::path::PathBuf;

use app_support::cli::Common;
use app_support::progress::Progress;
use app_support::size::parse_size;
use app_support::{program, setup};
use clap::Parser;
use pointer_chase::cli::Walks;
use pointer_chase::workload;

/// Pointer chasing near the data vs from the host, on a simulated SSD.
#[derive(Parser)]
#[command(name = "pointer-chase")]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// A graph file of 4 KiB adjacency pages (node i = page i: degree u32 LE, 4 reserved
    /// bytes, neighbour ids u32 LE).
    #[arg(long, value_name = "FILE", conflicts_with = "generate")]
    input: Option<PathBuf>,
    /// Generate a seeded power-law graph of this size (e.g. 64MiB, 1GiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64MiB")]
    generate: u64,
    #[command(flatten)]
    walks: Walks,
    /// Write every path here, one per line, nodes separated by spaces.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    app_support::program::main(run)
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    app_support::trace::traced(&cli.common.trace, "pointer-chase", cli.common.json, || {
        run_with(&cli)
    })
}

fn run_with(cli: &Cli) -> anyhow::Result<()> {
    let c = &cli.common;
    let mut progress = Progress::new(!c.json);
    progress.step("preparing the graph");
    let (graph, info) = setup::graph(cli.input.as_deref(), cli.generate, c.seed)?;
    let env = program::open(c, &mut progress)?;
    program::put(&env, "graph.bin", &graph, &mut progress)?;
    drop(graph);
    let starts = setup::starts(info.bytes, cli.walks.starts, c.seed);
    let o = workload::run(
        &env,
        c.mode,
        "graph.bin",
        info,
        &starts,
        cli.walks.hops,
        cli.output.as_deref(),
        &mut progress,
    )?;
    progress.finish();
    program::print_one(c, &o)?;
    Ok(())
}
