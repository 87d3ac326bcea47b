//! `suite bench-trace`: what `--trace` costs. The suite's pass (the three workloads, both
//! ways, on a fresh device each time) is timed with the trace off and on (recording and
//! writing the file), in interleaved rounds; the medians and their ratio are printed side by
//! side. The cost of the trace when off is bounded from the same run: the event sites a
//! traced pass passes through times the measured cost of one site with the trace off.

use std::time::{Duration, Instant};

use app_support::cli::{Common, TraceArgs};
use app_support::progress::Progress;
use app_support::setup::{self, Env};
use app_support::trace::Tracing;
use app_support::SuiteError;
use sim_nvme::trace::{self, Track};
use sim_nvme::SimTime;

use crate::runs::{self, Plan};

/// The figures `bench-trace` prints.
#[derive(Debug, serde::Serialize)]
pub struct TraceBench {
    /// Rounds (one pass off and one on each).
    pub runs: usize,
    /// Median wall time of a pass with the trace off, ns.
    pub off_median_ns: u64,
    /// Median wall time of a pass with the trace on (recording and writing the file), ns.
    pub on_median_ns: u64,
    /// `on / off` (target <= 1.30).
    pub on_ratio: f64,
    /// Events one traced pass recorded (slices, counter samples, flow ends).
    pub events: u64,
    /// Events dropped at the cap.
    pub dropped: u64,
    /// Bytes of the trace file.
    pub file_bytes: u64,
    /// Event sites one traced pass went through (a flag check each with the trace off).
    pub sites: u64,
    /// Wall time of one event site with the trace off, ns.
    pub off_site_ns: f64,
    /// `sites x off_site_ns / off_median_ns`: the share of the pass the trace costs when off
    /// (target <= 0.02).
    pub off_share: f64,
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// One pass of the suite on a fresh device.
fn pass(common: &Common, plan: &Plan) -> Result<(), SuiteError> {
    let env = Env::open(common)?;
    runs::all(&env, plan, &mut Progress::new(false))?;
    Ok(())
}

/// Times `runs` rounds of the suite's pass off and on.
pub fn run(
    common: &Common,
    plan: &Plan,
    runs: usize,
    progress: &mut Progress,
) -> Result<TraceBench, SuiteError> {
    let runs = runs.max(1);
    progress.step("building the SSDlet modules");
    setup::modules(common.modules)?;
    let path = std::env::temp_dir().join(format!("suite-bench-trace-{}.json", std::process::id()));
    let args = TraceArgs {
        trace: Some(path.clone()),
        ..TraceArgs::default()
    };
    let (mut off, mut on) = (Vec::new(), Vec::new());
    let mut last = None;
    for i in 0..runs {
        progress.step(format!("round {} of {runs}: trace off", i + 1));
        let t = Instant::now();
        pass(common, plan)?;
        off.push(t.elapsed());
        progress.step(format!("round {} of {runs}: trace on", i + 1));
        let t = Instant::now();
        let tracing = Tracing::start(&args)?;
        pass(common, plan)?;
        let recorded = match tracing {
            Some(tr) => Some(tr.finish("suite bench-trace", Default::default())?),
            None => None,
        };
        on.push(t.elapsed());
        last = recorded;
    }
    progress.step("one event site with the trace off");
    let sites = 50_000_000u64;
    let t = Instant::now();
    for i in 0..sites {
        trace::slice(
            Track::Die(std::hint::black_box(0)),
            "read",
            SimTime(i),
            SimTime(i + 1),
        );
    }
    let off_site_ns = t.elapsed().as_nanos() as f64 / sites as f64;
    progress.done();
    let file_bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    let _ = std::fs::remove_file(&path);
    let (off_m, on_m) = (median(&mut off), median(&mut on));
    let (events, dropped, calls) = last.map_or((0, 0, 0), |t| (t.recorded, t.dropped, t.sites));
    let ns = |d: Duration| d.as_nanos() as u64;
    Ok(TraceBench {
        runs,
        off_median_ns: ns(off_m),
        on_median_ns: ns(on_m),
        on_ratio: on_m.as_secs_f64() / off_m.as_secs_f64(),
        events,
        dropped,
        file_bytes,
        off_site_ns,
        sites: calls,
        off_share: calls as f64 * off_site_ns / off_m.as_nanos() as f64,
    })
}
