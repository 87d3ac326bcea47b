//! `suite calibrate`: measures what each SSDlet and each conventional host path costs on this
//! machine (the reference host core) and writes the per-unit costs the default, modeled
//! compute charges (`examples/app-support/calibration.toml`).
//!
//! Every workload runs both ways with measured compute, at each size, several times. The
//! runtime reports each SSDlet instance's counted work (`WorkCounts`) and the thread CPU time
//! its own code used; the host paths report their counted units (bytes scanned, hops) and CPU
//! time; so does the filter query's conventional scan (rows examined) at TPC-H SF 0.1.
//!
//! The fit, per SSDlet (module build + id): an SSDlet's units grow together with its input,
//! so separate coefficients for all five units cannot be told apart from such runs. Instead
//! each candidate explanation is fitted alone (the median of CPU time over units, robust to
//! a run a busy machine slowed down) — the cost per call, per message, per byte moved, per byte read, per allocation, or a factor on the
//! generic mix ([`UnitCosts::GENERIC`]) — and the one with the smallest largest relative
//! residual is kept, unless an earlier candidate in that order is within 10% of it (e.g. a
//! mapper's CPU time is proportional to the bytes it reads). Its code
//! decides the numbers: a debug build or a slower algorithm gets larger ones. Per host path:
//! picoseconds per unit, the same median. Each entry records its samples, sizes, runs, the unit
//! chosen and the largest residual. The file keeps one entry per SSDlet: measuring a build
//! replaces the entry of any other build of that SSDlet (a table made by hand may hold several
//! builds; the runtime picks the exact one). Host paths and SSDlets not measured are kept.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use app_support::calibration::{Calibration, HostCost};
use app_support::cli::{Compute, Mode};
use app_support::progress::Progress;
use app_support::setup::Env;
use app_support::size::human;
use app_support::{Path, SuiteError};
use device_runtime::compute::{CalibratedSsdlet, UnitCosts, WorkCounts};

use crate::runs::{self, Plan};

/// One measured instance or host run: counted work and CPU time.
#[derive(Clone, Copy, Debug)]
struct Sample {
    /// Generic-weighted work (device) or units (host).
    x: f64,
    /// Measured CPU time in picoseconds.
    y: f64,
}

/// The median of `y / x` over the samples (robust to the odd run a busy machine slowed
/// down), and the largest relative residual `|k x - y| / y`.
fn fit(samples: &[Sample]) -> (f64, f64) {
    let ratios: Vec<f64> = samples.iter().filter(|s| s.x > 0.0).map(|s| s.y / s.x).collect();
    if ratios.len() < samples.len() || ratios.is_empty() {
        return (0.0, f64::INFINITY); // a unit the SSDlet did not do cannot explain its time
    }
    let (k, _, _) = crate::runs::median_min_max(ratios);
    let worst = samples
        .iter()
        .filter(|s| s.y > 0.0)
        .map(|s| ((k * s.x - s.y) / s.y).abs())
        .fold(0.0, f64::max);
    (k, worst)
}

/// One candidate explanation of an SSDlet's CPU time: a unit's name, its count in some work,
/// and the costs that charge `k` picoseconds per that unit.
type Candidate = (&'static str, fn(&WorkCounts) -> f64, fn(f64) -> UnitCosts);

/// The candidates, likeliest first.
const CANDIDATES: [Candidate; 6] = [
    (
        "byte read",
        |w| w.bytes_read as f64,
        |k| only(|c| c.byte_read_ps = ps(k)),
    ),
    (
        "byte moved",
        |w| w.bytes_moved as f64,
        |k| only(|c| c.byte_moved_ps = ps(k)),
    ),
    (
        "message",
        |w| w.messages as f64,
        |k| only(|c| c.message_ps = ps(k)),
    ),
    (
        "allocation",
        |w| w.allocations as f64,
        |k| only(|c| c.allocation_ps = ps(k)),
    ),
    ("call", |w| w.calls as f64, |k| only(|c| c.call_ps = ps(k))),
    (
        "generic unit mix",
        |w| UnitCosts::GENERIC.of(w) as f64,
        |k| UnitCosts::GENERIC.scaled(k / 1000.0),
    ),
];

fn ps(k: f64) -> u64 {
    k.round().max(0.0) as u64
}

/// Costs that are zero except what `set` sets.
fn only(set: impl FnOnce(&mut UnitCosts)) -> UnitCosts {
    let mut c = UnitCosts {
        call_ps: 0,
        message_ps: 0,
        byte_moved_ps: 0,
        byte_read_ps: 0,
        allocation_ps: 0,
    };
    set(&mut c);
    c
}

/// The candidate that explains `works` (counted work, CPU picoseconds) best: its costs, unit
/// name, picoseconds per unit and largest relative residual.
fn best_fit(works: &[(WorkCounts, f64)]) -> (UnitCosts, &'static str, f64, f64) {
    let mut best: Option<(UnitCosts, &'static str, f64, f64)> = None;
    for (unit, x, costs) in CANDIDATES {
        let samples: Vec<Sample> = works.iter().map(|(w, y)| Sample { x: x(w), y: *y }).collect();
        let (k, worst) = fit(&samples);
        if k <= 0.0 {
            continue;
        }
        // The generic mix's factor is per 1000 ps of generic cost, to print like the others.
        let k = if unit == "generic unit mix" { k * 1000.0 } else { k };
        // Earlier candidates are the likelier explanations: a later one must fit clearly
        // better (all of them see the same run-to-run noise).
        if best.as_ref().is_none_or(|b| worst < b.3 * 0.9) {
            best = Some((costs(k), unit, k, worst));
        }
    }
    best.unwrap_or((
        UnitCosts::GENERIC,
        "generic unit mix (nothing measured)",
        1000.0,
        0.0,
    ))
}

/// Picoseconds as text with a sensible unit.
fn ps_text(k: f64) -> String {
    if k >= 1e6 {
        format!("{:.2} us", k / 1e6)
    } else if k >= 1e3 {
        format!("{:.2} ns", k / 1e3)
    } else {
        format!("{k:.0} ps")
    }
}

/// What the calibration measured and fitted.
pub struct Fitted {
    /// The new calibration (merged with the old file's other builds).
    pub calibration: Calibration,
    /// One line per fitted entry, for people.
    pub lines: Vec<String>,
}

/// What a calibration measures.
pub struct Parts {
    /// Sizes of the text and graph to run the three workloads at (none: skip them).
    pub sizes: Vec<u64>,
    /// Whether to measure the filter query's conventional scan.
    pub filter_scan: bool,
    /// Runs of each.
    pub runs: usize,
}

/// Runs the workloads of `plan` at each of `sizes` (text and graph; none: skip them) and, with
/// `filter_scan`, the filter query's scan, `runs` times, measured, and fits the costs; `old`
/// keeps its entries of other module builds and of what was not measured.
pub fn run(
    profile: &host_sdk::DeviceProfile,
    modules: &ssdlet_module_build::Modules,
    plan: &Plan,
    parts: &Parts,
    old: Calibration,
    progress: &mut Progress,
) -> Result<Fitted, SuiteError> {
    let (sizes, filter_scan, runs) = (&parts.sizes, parts.filter_scan, parts.runs);
    type Key = (String, String, String);
    let mut device: BTreeMap<Key, Vec<(WorkCounts, f64)>> = BTreeMap::new();
    let mut host: BTreeMap<&'static str, Vec<Sample>> = BTreeMap::new();
    let runs = runs.max(1);
    for &size in sizes {
        for r in 0..runs {
            progress.step(format!(
                "calibrating at {} (run {} of {runs})",
                human(size),
                r + 1
            ));
            progress.done();
            let env = Env::with_modules(profile.clone(), Compute::Measured, Arc::new(old.clone()), modules)?;
            let plan = Plan {
                mode: Mode::Both,
                text_bytes: size,
                graph_bytes: size,
                ..plan.clone()
            };
            for o in runs::all(&env, &plan, progress)? {
                if let Some(c) = o.run(Path::Conv) {
                    host.entry(o.workload).or_default().push(Sample {
                        x: c.host_work as f64,
                        y: c.host_compute_ns as f64 * 1000.0,
                    });
                }
                if let Some(n) = o.run(Path::Ndp) {
                    for s in &n.ssdlets {
                        device
                            .entry((s.module.clone(), s.ssdlet.clone(), s.digest.clone()))
                            .or_default()
                            .push((s.work, s.host_cpu_ns as f64 * 1000.0));
                    }
                }
            }
        }
    }
    if filter_scan {
        progress.step(format!(
            "calibrating the filter scan (TPC-H lineitem at SF {FILTER_SF}, {runs} runs)"
        ));
        host.insert("filter-scan", filter_scan_samples(profile, runs)?);
        progress.done();
    }
    let sizes_text = sizes.iter().map(|s| human(*s)).collect::<Vec<_>>().join(", ");
    let how = |n: usize, worst: f64| {
        format!(
            "suite calibrate: {n} samples (sizes {sizes_text}; {runs} runs each; seed {}), \
             median of CPU time per unit, largest residual {:.1}%",
            plan.seed,
            worst * 100.0
        )
    };
    let mut lines = Vec::new();
    let mut cal = old;
    cal.reference_core = reference_core();
    for ((module, ssdlet, digest), works) in device {
        let (costs, unit, k, worst) = best_fit(&works);
        lines.push(format!(
            "{module}.{ssdlet} ({digest}): {} per {unit}, residual {:.1}%",
            ps_text(k),
            worst * 100.0
        ));
        // One entry per SSDlet: the build measured now replaces any other (the test of the
        // shipped file requires every entry to be the current release build).
        cal.ssdlets
            .retain(|e| !(e.module == module && e.ssdlet == ssdlet));
        cal.ssdlets.push(CalibratedSsdlet {
            module,
            ssdlet,
            digest,
            costs,
            derivation: format!("{}; unit: {unit}", how(works.len(), worst)),
        });
    }
    cal.ssdlets
        .sort_by(|a, b| (&a.module, &a.ssdlet, &a.digest).cmp(&(&b.module, &b.ssdlet, &b.digest)));
    for (workload, samples) in host {
        let (k, worst) = fit(&samples);
        let unit = match workload {
            "pointer-chase" => "hop",
            "filter-scan" => "row examined",
            _ => "byte",
        };
        let ps = k.round().max(0.0) as u64;
        lines.push(format!(
            "host {workload}: {} per {unit}, residual {:.1}%",
            ps_text(k),
            worst * 100.0
        ));
        let derivation = if workload == "filter-scan" {
            format!(
                "suite calibrate --parts filter-scan: the filter query's conventional scan of TPC-H \
                 lineitem at SF {FILTER_SF}, {} runs, median of CPU time per row examined, largest \
                 residual {:.1}%",
                samples.len(),
                worst * 100.0
            )
        } else {
            how(samples.len(), worst)
        };
        cal.host.insert(
            workload.to_owned(),
            HostCost {
                unit: unit.to_owned(),
                ps_per_unit: ps,
                derivation,
            },
        );
    }
    Ok(Fitted {
        calibration: cal,
        lines,
    })
}

/// Scale factor of the filter scan the calibration measures.
pub const FILTER_SF: f64 = 0.1;

/// The conventional filter scan's host cost (`yoursql_core` with measured host cost): rows
/// examined and CPU picoseconds of the filter query over `lineitem` at [`FILTER_SF`].
fn filter_scan_samples(profile: &host_sdk::DeviceProfile, runs: usize) -> Result<Vec<Sample>, SuiteError> {
    let fq = crate::paper::FilterQuery::load(profile, FILTER_SF)?;
    let mut out = Vec::new();
    for _ in 0..runs {
        let s = fq.scan(yoursql_core::ScanMode::Conv, host_sdk::cpu::HostCharge::Measured)?;
        out.push(Sample {
            x: s.stats.rows_scanned as f64,
            y: s.stats.host_compute_ns as f64 * 1000.0,
        });
    }
    Ok(out)
}

/// The machine measured: `/proc/cpuinfo`'s model name and clock, or `unknown`.
fn reference_core() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
    };
    match (field("model name"), field("cpu MHz")) {
        (Some(m), Some(mhz)) => format!("{m} at {mhz} MHz (one thread)"),
        (Some(m), None) => m,
        _ => "unknown".to_owned(),
    }
}

/// Where the shipped calibration lives in the source tree.
pub fn shipped_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../app-support/calibration.toml")
}
