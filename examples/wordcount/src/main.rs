//! `wordcount`: Biscuit's wordcount (mappers -> shuffler -> reducers on the device, the host
//! reading `(word, count)` pairs) beside the conventional count on the host.
//!
//! `cargo run --release -p wordcount -- [--input FILE | --generate SIZE]
//! [--mode ndp|conv|both] [--top N] [--json] [--output FILE]`

use std::path::PathBuf;

use app_support::cli::{Common, TextSource};
use app_support::progress::Progress;
use app_support::{program, setup};
use clap::Parser;
use wordcount::cli::WordcountOpts;
use wordcount::workload;

/// Wordcount near the data vs on the host, on a simulated SSD.
#[derive(Parser)]
#[command(name = "wordcount")]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    text: TextSource,
    #[command(flatten)]
    wordcount: WordcountOpts,
    /// Write every `word\tcount` here, most frequent first.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    app_support::program::main(run)
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    app_support::trace::traced(&cli.common.trace, "wordcount", cli.common.json, || run_with(&cli))
}

fn run_with(cli: &Cli) -> anyhow::Result<()> {
    let c = &cli.common;
    let mut progress = Progress::new(!c.json);
    progress.step("preparing the text");
    let (text, info) = setup::text(cli.text.input.as_deref(), cli.text.generate, c.seed, None)?;
    let env = program::open(c, &mut progress)?;
    program::put(&env, "text.txt", &text, &mut progress)?;
    drop(text);
    let o = workload::run(
        &env,
        c.mode,
        "text.txt",
        info,
        &cli.wordcount,
        cli.output.as_deref(),
        &mut progress,
    )?;
    progress.finish();
    program::print_one(c, &o)?;
    Ok(())
}
