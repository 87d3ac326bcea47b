//! The wordcount simulation-speed bench (`suite bench-wall`): wall time of the NDP wordcount
//! of a generated file against a plain single-threaded native count of the same bytes
//! (`ndp_data::baseline::word_count`), medians of a few runs. Wall time, so the figures
//! depend on the machine; the bench prints them and asserts nothing about them.

use std::time::{Duration, Instant};

use app_support::progress::Progress;
use app_support::setup::{self, Env};
use app_support::size::human;
use app_support::{program, SuiteError};
use wordcount::ndp::{self, WordcountPlan};

/// The bench's figures.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WallBench {
    /// Bytes of text.
    pub bytes: u64,
    /// Seed of the text.
    pub seed: u64,
    /// Runs of each side.
    pub runs: usize,
    /// Wall time of each NDP run (start to result on the host), nanoseconds.
    pub ndp_wall_ns: Vec<u64>,
    /// Wall time of each native count, nanoseconds.
    pub native_wall_ns: Vec<u64>,
    /// Median NDP wall time, nanoseconds.
    pub ndp_median_ns: u64,
    /// Median native wall time, nanoseconds.
    pub native_median_ns: u64,
    /// `ndp_median_ns / native_median_ns` (target: at most 2).
    pub ratio: f64,
    /// Simulated time of the last NDP run, nanoseconds.
    pub ndp_simulated_ns: u64,
    /// Distinct words (the runs agree with the native count).
    pub distinct: usize,
}

fn median(v: &[Duration]) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s.get(s.len() / 2).copied().unwrap_or_default()
}

/// Runs the bench on `env`: `bytes` of seeded text, `runs` runs of each side, NDP first.
pub fn wall(
    env: &Env,
    bytes: u64,
    seed: u64,
    runs: usize,
    plan: WordcountPlan,
    progress: &mut Progress,
) -> Result<WallBench, SuiteError> {
    progress.step(format!("generating {}", human(bytes)));
    let (text, _) = setup::text(None, bytes, seed, None)?;
    program::put(env, "bench.txt", &text, progress)?;
    let module = env.load(wordcount::MODULE)?;
    let runs = runs.max(1);
    let mut ndp_wall = Vec::new();
    let mut last = None;
    for i in 0..runs {
        progress.step(format!("NDP wordcount, run {} of {runs}", i + 1));
        let t = Instant::now();
        let m = ndp::word_count(&env.device, &module, "bench.txt", plan)
            .map_err(|e| SuiteError::ndp("wordcount", e))?;
        ndp_wall.push(t.elapsed());
        last = Some(m);
    }
    let mut native_wall = Vec::new();
    let mut native = None;
    for i in 0..runs {
        progress.step(format!("native wordcount, run {} of {runs}", i + 1));
        let t = Instant::now();
        let counts = app_support::baseline::word_count(&text);
        native_wall.push(t.elapsed());
        native = Some(counts);
    }
    progress.done();
    let (Some(last), Some(native)) = (last, native) else {
        unreachable!("at least one run of each")
    };
    if last.result != native {
        return Err(SuiteError::Mismatch {
            workload: "wordcount",
            detail: format!(
                "NDP {} distinct words, native {}",
                last.result.len(),
                native.len()
            ),
        });
    }
    let (n, h) = (median(&ndp_wall), median(&native_wall));
    let ns = |d: &Duration| d.as_nanos() as u64;
    Ok(WallBench {
        bytes,
        seed,
        runs,
        ndp_wall_ns: ndp_wall.iter().map(ns).collect(),
        native_wall_ns: native_wall.iter().map(ns).collect(),
        ndp_median_ns: ns(&n),
        native_median_ns: ns(&h),
        ratio: n.as_secs_f64() / h.as_secs_f64().max(1e-9),
        ndp_simulated_ns: last.simulated.0,
        distinct: native.len(),
    })
}
