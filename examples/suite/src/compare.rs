//! `suite compare-compute`: every workload's simulated time under the modeled compute (counted
//! work x calibrated costs; one run, deterministic) beside the measured compute (thread CPU
//! time; several runs: median, min and max), per path, with their ratio and whether they agree
//! within the tolerance.

use std::sync::Arc;

use app_support::calibration::Calibration;
use app_support::cli::Compute;
use app_support::progress::Progress;
use app_support::setup::Env;
use app_support::{Path, SuiteError};
use serde::Serialize;

use crate::runs::{self, Plan};

/// One workload and path, both ways.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The workload.
    pub workload: &'static str,
    /// `conv` or `ndp`.
    pub path: Path,
    /// Simulated time with modeled compute, ns.
    pub modeled_ns: u64,
    /// Median simulated time with measured compute, ns.
    pub measured_median_ns: u64,
    /// Smallest measured, ns.
    pub measured_min_ns: u64,
    /// Largest measured, ns.
    pub measured_max_ns: u64,
    /// `modeled / measured median`.
    pub ratio: f64,
    /// `|ratio - 1| <= tolerance`.
    pub agrees: bool,
}

/// Runs `plan` once modeled and `runs` times measured; rows in workload order, conv first.
pub fn run(
    profile: &host_sdk::DeviceProfile,
    modules: &ssdlet_module_build::Modules,
    calibration: Arc<Calibration>,
    plan: &Plan,
    runs: usize,
    tolerance: f64,
    progress: &mut Progress,
) -> Result<Vec<Row>, SuiteError> {
    let env = Env::with_modules(profile.clone(), Compute::Modeled, calibration.clone(), modules)?;
    let modeled = runs::all(&env, plan, progress)?;
    drop(env);
    let mut measured = Vec::new();
    for _ in 0..runs.max(1) {
        let env = Env::with_modules(profile.clone(), Compute::Measured, calibration.clone(), modules)?;
        measured.push(runs::all(&env, plan, progress)?);
    }
    let mut rows = Vec::new();
    for (i, o) in modeled.iter().enumerate() {
        for f in &o.runs {
            let m: Vec<f64> = measured
                .iter()
                .filter_map(|pass| pass[i].run(f.path).map(|r| r.simulated_ns as f64))
                .collect();
            if m.is_empty() {
                return Err(SuiteError::Bench(format!(
                    "{}: no measured {} run to compare with",
                    o.workload,
                    f.path.name()
                )));
            }
            let (median, min, max) = crate::runs::median_min_max(m);
            let ratio = f.simulated_ns as f64 / median.max(1.0);
            rows.push(Row {
                workload: o.workload,
                path: f.path,
                modeled_ns: f.simulated_ns,
                measured_median_ns: median as u64,
                measured_min_ns: min as u64,
                measured_max_ns: max as u64,
                ratio,
                agrees: (ratio - 1.0).abs() <= tolerance,
            });
        }
    }
    Ok(rows)
}

/// The rows as a table for people.
pub fn table(rows: &[Row], tolerance: f64) -> String {
    let s = |ns: u64| ns as f64 / 1e9;
    let mut out = format!(
        "{:<14} {:<5} {:>12} {:>12} {:>23} {:>7}  within {:.0}%\n",
        "workload",
        "path",
        "modeled s",
        "measured s",
        "(min - max)",
        "ratio",
        tolerance * 100.0
    );
    for r in rows {
        out.push_str(&format!(
            "{:<14} {:<5} {:>12.4} {:>12.4} {:>23} {:>7.3}  {}\n",
            r.workload,
            r.path.name(),
            s(r.modeled_ns),
            s(r.measured_median_ns),
            format!("({:.4} - {:.4})", s(r.measured_min_ns), s(r.measured_max_ns)),
            r.ratio,
            if r.agrees { "yes" } else { "NO" }
        ));
    }
    out
}
