//! `ndp`: the command-line front end of the framework.
//!
//! Subcommands each live in their own file beside this one.

mod bench;
mod files;
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
    /// Create a device image for a profile.
    Init(files::InitArgs),
    /// Copy a host file onto the device.
    Put(files::PutArgs),
    /// Copy a device file to the host.
    Get(files::GetArgs),
    /// List the device's files.
    Ls(files::LsArgs),
    /// Remove a device file.
    Rm(files::RmArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(args) => bench::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Init(args) => files::init(args),
        Command::Put(args) => files::put(args),
        Command::Get(args) => files::get(args),
        Command::Ls(args) => files::ls(args),
        Command::Rm(args) => files::rm(args),
    }
}
