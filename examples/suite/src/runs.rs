//! One pass of the suite: the three workloads, in order (pointer chasing, string search,
//! wordcount), on one device, each run the ways `mode` asks. The main job, the calibration
//! and the compute comparison all make their runs through [`all`].

use std::path::PathBuf;

use app_support::cli::Mode;
use app_support::progress::Progress;
use app_support::setup::{self, Env};
use app_support::size::human;
use app_support::{program, Outcome, SuiteError};
use grep::cli::GrepOpts;
use pointer_chase::cli::Walks;
use wordcount::cli::WordcountOpts;

/// The median of `v` (the middle value, or the mean of the two middle ones) with its smallest
/// and largest; `v` must not be empty. Every figure of several runs is shown this way.
pub fn median_min_max(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (median, v[0], v[n - 1])
}

/// What one pass runs.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Runs to make.
    pub mode: Mode,
    /// Seed of the generated data and the start nodes.
    pub seed: u64,
    /// A text file to use instead of generated text.
    pub input: Option<PathBuf>,
    /// Bytes of generated text.
    pub text_bytes: u64,
    /// Bytes of the generated graph.
    pub graph_bytes: u64,
    /// Pointer-chasing walks.
    pub walks: Walks,
    /// Wordcount options.
    pub wordcount: WordcountOpts,
    /// String-search options.
    pub grep: GrepOpts,
}

/// Runs the three workloads of `plan` on `env` (pointer chasing, string search, wordcount).
pub fn all(env: &Env, plan: &Plan, progress: &mut Progress) -> Result<Vec<Outcome>, SuiteError> {
    let mut outcomes = Vec::new();
    progress.step(format!("generating a {} graph", human(plan.graph_bytes)));
    let (graph, info) = setup::graph(None, plan.graph_bytes, plan.seed)?;
    program::put(env, "graph.bin", &graph, progress)?;
    let starts = setup::starts(info.bytes, plan.walks.starts, plan.seed);
    drop(graph);
    outcomes.push(pointer_chase::workload::run(
        env,
        plan.mode,
        "graph.bin",
        info,
        &starts,
        plan.walks.hops,
        None,
        progress,
    )?);

    progress.step("preparing the text");
    let plant = Some((plan.grep.pattern.as_str(), plan.grep.plant));
    let (text, info) = setup::text(plan.input.as_deref(), plan.text_bytes, plan.seed, plant)?;
    program::put(env, "text.txt", &text, progress)?;
    drop(text);
    outcomes.push(grep::workload::run(
        env,
        plan.mode,
        "text.txt",
        info.clone(),
        &plan.grep.pattern,
        None,
        progress,
    )?);
    outcomes.push(wordcount::workload::run(
        env,
        plan.mode,
        "text.txt",
        info,
        &plan.wordcount,
        None,
        progress,
    )?);
    Ok(outcomes)
}
