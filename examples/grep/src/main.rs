//! `grep`: string search near the data (the matchers hint pages, an SSDlet confirms) beside
//! the host reading and scanning the whole file.
//!
//! `cargo run --release -p grep -- [--input FILE | --generate SIZE]
//! [--pattern P] [--mode ndp|conv|both] [--json] [--output FILE]`

use std::path::PathBuf;

use app_support::cli::{Common, TextSource};
use app_support::progress::Progress;
use app_support::{program, setup};
use clap::Parser;
use grep::cli::GrepOpts;
use grep::workload;

/// String search near the data vs on the host, on a simulated SSD.
#[derive(Parser)]
#[command(name = "grep")]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    text: TextSource,
    #[command(flatten)]
    grep: GrepOpts,
    /// Write every matching line here as `offset\tline`.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    app_support::program::main(run)
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    app_support::trace::traced(&cli.common.trace, "grep", cli.common.json, || run_with(&cli))
}

fn run_with(cli: &Cli) -> anyhow::Result<()> {
    let c = &cli.common;
    let mut progress = Progress::new(!c.json);
    progress.step("preparing the text");
    let plant = Some((cli.grep.pattern.as_str(), cli.grep.plant));
    let (text, info) = setup::text(cli.text.input.as_deref(), cli.text.generate, c.seed, plant)?;
    let env = program::open(c, &mut progress)?;
    program::put(&env, "text.txt", &text, &mut progress)?;
    drop(text);
    let o = workload::run(
        &env,
        c.mode,
        "text.txt",
        info,
        &cli.grep.pattern,
        cli.output.as_deref(),
        &mut progress,
    )?;
    progress.finish();
    program::print_one(c, &o)?;
    Ok(())
}
