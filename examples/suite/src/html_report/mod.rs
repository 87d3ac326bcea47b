//! `suite --report DIR`: a self-contained HTML report of the suite's pass, `DIR/index.html`,
//! with SVG charts drawn by `plotters`. The main job writes it by default to
//! `target/ndp-report/index.html` under the current directory ([`DEFAULT_DIR`]).
//!
//! - [`utilization`]: busy fraction per time bucket of the ARM cores, NAND channels and the
//!   PCIe link, from the in-process trace of the same run;
//! - [`charts`]: the `plotters` charts (grouped bars, utilization lines);
//! - [`page`]: the HTML page (inline CSS and SVG, the comparison table).
//!
//! Every figure comes from the run's [`Outcome`]s and its [`Trace`]: nothing is measured
//! again, so the report of a modeled run is the same run after run.

pub mod charts;
pub mod page;
pub mod paper_page;
pub mod utilization;

use std::path::{Path, PathBuf};

use app_support::{Outcome, Path as RunPath, SuiteError};
use sim_nvme::trace::Trace;
use sim_nvme::DeviceProfile;

use charts::{Pair, Window};
use utilization::Utilization;

/// Where the main job writes its report unless told otherwise (relative to the current
/// directory: the workspace's `target/` when run with `cargo run` from the workspace root).
pub const DEFAULT_DIR: &str = "target/ndp-report";

/// Buckets of the utilization charts.
const BUCKETS: usize = 200;

/// What a report shows.
pub struct Inputs<'a> {
    /// The workloads' runs.
    pub outcomes: &'a [Outcome],
    /// The run's trace.
    pub trace: &'a Trace,
    /// The device (its core and channel counts).
    pub profile: &'a DeviceProfile,
    /// One line saying what ran (profile, seed, compute).
    pub meta: String,
}

/// The SVG with its namespace attribute dropped: an `<svg>` inline in HTML needs none, and
/// the page then names no network address at all.
fn inline(svg: String) -> String {
    svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
}

fn pairs(outcomes: &[Outcome], g: fn(&app_support::outcome::Figures) -> f64) -> Vec<Pair> {
    outcomes
        .iter()
        .map(|o| Pair {
            label: o.workload.to_owned(),
            conv: o.run(RunPath::Conv).map(g),
            ndp: o.run(RunPath::Ndp).map(g),
        })
        .collect()
}

/// The page of `r`.
pub fn render(r: &Inputs) -> Result<String, SuiteError> {
    let o = r.outcomes;
    let per_workload = vec![
        charts::bars(
            "Simulated time",
            "seconds",
            &pairs(o, |f| f.simulated_ns as f64 / 1e9),
        )?,
        charts::bars(
            "PCIe bytes to the host",
            "bytes",
            &pairs(o, |f| f.pcie_bytes as f64),
        )?,
        charts::bars("NAND pages read", "pages", &pairs(o, |f| f.nand_pages as f64))?,
        charts::bars("Energy (model)", "joules", &pairs(o, |f| f.energy.total_j))?,
    ];
    let u = Utilization::of(r.trace, r.profile.arm.cores, r.profile.geometry.channels, BUCKETS);
    let windows: Vec<Window> = o
        .iter()
        .flat_map(|w| {
            w.runs.iter().map(|f| Window {
                label: format!(
                    "{} {}",
                    w.workload,
                    match f.path {
                        RunPath::Conv => "conv",
                        RunPath::Ndp => "NDP",
                    }
                ),
                start_s: f.start_ns as f64 / 1e9,
                end_s: (f.start_ns + f.simulated_ns) as f64 / 1e9,
            })
        })
        .collect();
    let over_time = vec![
        charts::utilization("Utilization: device resources", &u.timeline, &u.groups, &windows)?,
        charts::utilization("Utilization: each ARM core", &u.timeline, &u.cores, &windows)?,
    ];
    let mut note = format!(
        "Fraction of each {:.3} ms bucket the resource was busy, over the whole pass in simulated \
         time (data loading included); shaded: each run's window. From the run's own trace \
         ({} events).",
        u.timeline.bucket_ns as f64 / 1e6,
        r.trace.recorded
    );
    if r.trace.dropped > 0 {
        note.push_str(&format!(
            " The trace reached its cap of {} events ({} dropped): the charts cover the pass's \
             beginning only (raise --trace-max-events).",
            r.trace.max_events, r.trace.dropped
        ));
    }
    let sections = [
        page::Section {
            title: "Per workload: conventional vs NDP".to_owned(),
            note: "Simulated figures of each workload's runs (lower is better).".to_owned(),
            charts: per_workload.into_iter().map(inline).collect(),
        },
        page::Section {
            title: "Utilization over time".to_owned(),
            note,
            charts: over_time.into_iter().map(inline).collect(),
        },
    ];
    Ok(page::html(
        "Biscuit NDP suite: conventional vs near-data",
        &r.meta,
        &page::table(o),
        &sections,
    ))
}

/// Creates `dir` now, so that an unwritable directory fails before anything runs
/// ([`SuiteError::Report`] naming it).
pub fn prepare(dir: &Path) -> Result<(), SuiteError> {
    std::fs::create_dir_all(dir).map_err(|source| SuiteError::Report {
        path: dir.to_owned(),
        source,
    })
}

/// Writes the report of `r` to `dir/index.html` (creating `dir`); returns that path. An
/// unwritable directory is [`SuiteError::Report`] naming it.
pub fn write(dir: &Path, r: &Inputs) -> Result<PathBuf, SuiteError> {
    let html = render(r)?;
    prepare(dir)?;
    let file = dir.join("index.html");
    std::fs::write(&file, html).map_err(|source| SuiteError::Report {
        path: file.clone(),
        source,
    })?;
    Ok(file)
}
