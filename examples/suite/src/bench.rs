//! Two benches that print a figure beside the machine's own limit measured in the same run:
//!
//! - `suite bench-wall`: wall time of the NDP wordcount of a generated file (the simulator's
//!   speed) against a plain single-threaded native count of the same bytes
//!   (`ndp_data::baseline::word_count`), medians of a few runs;
//! - `suite bench-host`: the conventional host paths' CPU time against plain computations over
//!   the same bytes (the native count; `memchr::memmem`), so the baselines are shown to be as
//!   strong as a competent engineer's.
//!
//! Both depend on the machine; they print their figures and assert nothing about them.

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

/// The conventional host paths against the machine's own plain computations over the same
/// bytes (`suite bench-host`): thread CPU time, medians of `runs`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HostBench {
    /// Bytes of text.
    pub bytes: u64,
    /// Runs of each.
    pub runs: usize,
    /// The conventional wordcount's streaming count (128 KiB chunks), ns.
    pub wordcount_conv_ns: u64,
    /// A plain single-threaded native count of the whole text (`baseline::word_count`), ns.
    pub wordcount_native_ns: u64,
    /// `conv / native` (at most 1: the conventional path is at least as fast).
    pub wordcount_ratio: f64,
    /// The conventional grep's line scanner (128 KiB chunks), ns.
    pub grep_conv_ns: u64,
    /// `memchr::memmem` over the whole text, counting the matches, ns.
    pub grep_memmem_ns: u64,
    /// `conv / memmem`.
    pub grep_ratio: f64,
    /// `memchr::memmem` over the same 128 KiB chunks the scan delivers (a streaming consumer's
    /// limit), counting the matches, ns.
    pub grep_memmem_chunks_ns: u64,
    /// `conv / chunked memmem`.
    pub grep_chunks_ratio: f64,
}

fn cpu_median<R>(runs: usize, mut f: impl FnMut() -> R) -> (u64, R) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        let (r, t) = host_sdk::cpu::on_cpu(&mut f);
        times.push(t);
        last = Some(r);
    }
    let r = last.expect("at least one run");
    (median(&times).as_nanos() as u64, r)
}

/// Runs `suite bench-host` over `bytes` of seeded text with a pattern planted in 10 lines.
pub fn host(bytes: u64, seed: u64, runs: usize, progress: &mut Progress) -> Result<HostBench, SuiteError> {
    progress.step(format!("generating {}", human(bytes)));
    let pattern = grep::cli::DEFAULT_PATTERN.as_bytes();
    let (text, _) = setup::text(None, bytes, seed, Some((grep::cli::DEFAULT_PATTERN, 10)))?;
    progress.step("wordcount: conventional vs native");
    const CHUNK: usize = 128 << 10;
    let (wc_conv, counts) = cpu_median(runs, || {
        let mut w = wordcount::text::WordCounter::default();
        text.chunks(CHUNK).for_each(|c| w.feed(c));
        w.finish()
    });
    let (wc_native, native) = cpu_median(runs, || app_support::baseline::word_count(&text));
    if counts != native {
        return Err(SuiteError::Mismatch {
            workload: "wordcount",
            detail: "the conventional count differs from the native one".into(),
        });
    }
    progress.step("grep: conventional vs memmem");
    let (g_conv, hits) = cpu_median(runs, || {
        let mut s = grep::text::LineScanner::new(pattern);
        text.chunks(CHUNK).for_each(|c| s.feed(c));
        s.finish().len()
    });
    let finder = memchr::memmem::Finder::new(pattern);
    let (g_memmem, found) = cpu_median(runs, || finder.find_iter(&text).count());
    let (g_chunks, _) = cpu_median(runs, || {
        text.chunks(CHUNK)
            .map(|c| finder.find_iter(c).count())
            .sum::<usize>()
    });
    progress.done();
    if hits != found {
        return Err(SuiteError::Mismatch {
            workload: "grep",
            detail: format!("{hits} lines vs {found} matches"),
        });
    }
    Ok(HostBench {
        bytes,
        runs,
        wordcount_conv_ns: wc_conv,
        wordcount_native_ns: wc_native,
        wordcount_ratio: wc_conv as f64 / wc_native.max(1) as f64,
        grep_conv_ns: g_conv,
        grep_memmem_ns: g_memmem,
        grep_ratio: g_conv as f64 / g_memmem.max(1) as f64,
        grep_memmem_chunks_ns: g_chunks,
        grep_chunks_ratio: g_conv as f64 / g_chunks.max(1) as f64,
    })
}
