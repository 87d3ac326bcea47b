//! `ndp`: the command-line front end of the framework.
//!
//! Subcommands each live in their own file beside this one.

mod bench;
mod inspect;

use clap::{Parser, Subcommand};

/// Near-data processing on a simulated NVMe SSD.
#[derive(Parser)]
#[command(name = "ndp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure the simulated device: `latency` or `bandwidth`.
    Bench(bench::BenchArgs),
    /// Print an SSDlet module's metadata without running it; refuse a bad module.
    Inspect(inspect::InspectArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(args) => bench::run(args),
        Command::Inspect(args) => inspect::run(args),
    }
}
