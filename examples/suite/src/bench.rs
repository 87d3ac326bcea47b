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

/// Thread CPU time of one computation over a bench's runs, nanoseconds.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct CpuSpread {
    /// Median.
    pub median_ns: u64,
    /// Fastest run (the least disturbed by the rest of the machine).
    pub min_ns: u64,
    /// Slowest run.
    pub max_ns: u64,
}

impl CpuSpread {
    /// The spread of `times` (at least one), by the suite's one median rule.
    fn of(times: &[u64]) -> Self {
        let (median, min, max) = crate::runs::median_min_max(times.iter().map(|&t| t as f64).collect());
        CpuSpread {
            median_ns: median as u64,
            min_ns: min as u64,
            max_ns: max as u64,
        }
    }
}

/// A path against its limit: both spreads and the ratios of their medians and of their fastest
/// runs.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Versus {
    /// The path under test.
    pub ours: CpuSpread,
    /// The plain computation it is compared with.
    pub limit: CpuSpread,
    /// `ours.median / limit.median`.
    pub median_ratio: f64,
    /// `ours.min / limit.min`.
    pub min_ratio: f64,
}

impl Versus {
    fn new(ours: CpuSpread, limit: CpuSpread) -> Self {
        let r = |a: u64, b: u64| a as f64 / b.max(1) as f64;
        Versus {
            ours,
            limit,
            median_ratio: r(ours.median_ns, limit.median_ns),
            min_ratio: r(ours.min_ns, limit.min_ns),
        }
    }
}

/// The conventional host paths against the machine's own plain computations over the same
/// bytes (`suite bench-host`): thread CPU time of `runs` rounds, each round running every
/// computation in turn (interleaved, so a disturbance of the machine falls on all of them alike
/// rather than on whichever ran during it); the searches run six times a round, in rotating
/// order.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HostBench {
    /// Bytes of text.
    pub bytes: u64,
    /// Rounds (the searches run six times a round).
    pub runs: usize,
    /// The conventional wordcount's streaming count (128 KiB chunks) against a plain
    /// single-threaded native count of the whole text (`baseline::word_count`); target: ratio at
    /// most 1.
    pub wordcount: Versus,
    /// The conventional grep's line scanner (128 KiB chunks) against `memchr::memmem` over the
    /// whole text, counting the matches; target: ratio at most 1.
    pub grep: Versus,
    /// The same scanner against `memchr::memmem` over the same 128 KiB chunks the scan delivers.
    pub grep_chunks: Versus,
}

/// Runs `suite bench-host` over `bytes` of seeded text with a pattern planted in 10 lines.
pub fn host(bytes: u64, seed: u64, runs: usize, progress: &mut Progress) -> Result<HostBench, SuiteError> {
    progress.step(format!("generating {}", human(bytes)));
    let pattern = grep::cli::DEFAULT_PATTERN.as_bytes();
    let (text, _) = setup::text(None, bytes, seed, Some((grep::cli::DEFAULT_PATTERN, 10)))?;
    const CHUNK: usize = 128 << 10;
    const GREP_TURNS: usize = 6;
    let finder = memchr::memmem::Finder::new(pattern);
    let runs = runs.max(1);
    // One column of times per computation, in the order below.
    let mut times: [Vec<u64>; 5] = Default::default();
    let time = |column: &mut Vec<u64>, f: &mut dyn FnMut()| {
        column.push(host_sdk::cpu::on_cpu(f).1.as_nanos() as u64)
    };
    let (mut counts, mut native, mut hits, mut found) = (None, None, 0, 0);
    for round in 1..=runs {
        progress.step(format!(
            "round {round} of {runs}: wordcount and grep, ours and the limits"
        ));
        time(&mut times[0], &mut || {
            let mut w = wordcount::text::WordCounter::default();
            text.chunks(CHUNK).for_each(|c| w.feed(c));
            counts = Some(w.finish());
        });
        time(&mut times[1], &mut || {
            native = Some(app_support::baseline::word_count(&text))
        });
        // The searches take milliseconds, not seconds: each round runs them several times,
        // rotating their order so that none always follows the heavy word counts.
        for turn in 0..GREP_TURNS {
            for k in 0..3 {
                match (turn + k) % 3 {
                    0 => time(&mut times[2], &mut || {
                        let mut s = grep::text::LineScanner::new(pattern);
                        text.chunks(CHUNK).for_each(|c| s.feed(c));
                        hits = s.finish().len();
                    }),
                    1 => time(&mut times[3], &mut || found = finder.find_iter(&text).count()),
                    _ => time(&mut times[4], &mut || {
                        std::hint::black_box(
                            text.chunks(CHUNK)
                                .map(|c| finder.find_iter(c).count())
                                .sum::<usize>(),
                        );
                    }),
                }
            }
        }
    }
    progress.done();
    if counts != native {
        return Err(SuiteError::Mismatch {
            workload: "wordcount",
            detail: "the conventional count differs from the native one".into(),
        });
    }
    if hits != found {
        return Err(SuiteError::Mismatch {
            workload: "grep",
            detail: format!("{hits} lines vs {found} matches"),
        });
    }
    let spread = times.each_ref().map(|t| CpuSpread::of(t));
    Ok(HostBench {
        bytes,
        runs,
        wordcount: Versus::new(spread[0], spread[1]),
        grep: Versus::new(spread[2], spread[3]),
        grep_chunks: Versus::new(spread[2], spread[4]),
    })
}
