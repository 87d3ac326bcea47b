//! `ndp`: the command-line front end of the framework.
//!
//! Subcommands each live in their own file beside this one.

mod bench;
mod crash;
mod files;
mod graph;
mod inspect;
mod new;
mod run;
mod serve;
mod sigjson;
mod status;

use clap::{Parser, Subcommand};

/// Near-data processing on a simulated NVMe SSD.
#[derive(Parser)]
#[command(name = "ndp", version, about)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
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
    /// Create a new SSDlet module crate, ready to build and test.
    New(new::NewArgs),
    /// Run one SSDlet with no host program: print its outputs, logs and run report.
    Run(run::RunArgs),
    /// Copy a host file onto the device.
    Put(files::PutArgs),
    /// Copy a device file to the host.
    Get(files::GetArgs),
    /// List the device's files.
    Ls(files::LsArgs),
    /// Remove a device file.
    Rm(files::RmArgs),
    /// Let other tenants of an `ndp serve` daemon read one of your files (--off: stop).
    Share(files::ShareArgs),
    /// Serve a device image to many host processes over a Unix socket.
    Serve(serve::ServeArgs),
    /// Show an `ndp serve` daemon's sessions and clean-ups.
    Status(status::StatusArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The daemon logs its sessions by default; other subcommands only warnings.
    let base = usize::from(matches!(cli.command, Command::Serve(_)));
    init_logs(base + usize::from(cli.verbose));
    let result = match cli.command {
        Command::Bench(args) => bench::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Init(args) => files::init(args),
        Command::New(args) => new::run(args),
        Command::Run(args) => run::run(args),
        Command::Put(args) => files::put(args),
        Command::Get(args) => files::get(args),
        Command::Ls(args) => files::ls(args),
        Command::Rm(args) => files::rm(args),
        Command::Share(args) => files::share(args),
        Command::Serve(args) => serve::run(args),
        Command::Status(args) => status::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The error and its causes on one line, each said once (a cause its error already
            // quotes is not repeated); never a backtrace (a user error is not a crash, whatever
            // RUST_BACKTRACE says).
            eprintln!("Error: {}", error_text(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs on stderr: `RUST_LOG` if set (tracing-subscriber's env-filter syntax), else the
/// level `verbosity` picks (0 warn, 1 info, 2 debug, 3+ trace).
fn init_logs(verbosity: usize) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let level = ["warn", "info", "debug", "trace"][verbosity.min(3)];
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// `e` and the causes it does not already quote, joined by `: `.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}
