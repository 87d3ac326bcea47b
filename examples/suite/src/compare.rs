//! `suite compare-compute`: every workload's simulated time under the modeled compute (counted
//! work x calibrated costs; one run, deterministic) beside the measured compute (thread CPU
//! time; several runs: median, min and max), per path, with their ratio and whether they agree
//! within the tolerance.
//!
//! The measured side is this machine now; the shipped calibration is the reference core when it
//! was measured. A machine whose speed has drifted since (memory-bound code such as wordcount's
//! hash map moves with the neighbours' load on a shared host) makes them differ although the
//! model is sound, so `--fit-now` first calibrates on this machine in the same run, on held-out
//! data (the next seed), and compares with that; the shipped calibration's ratio is shown beside
//! it, telling how far the machine has drifted.

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
    /// With a reference calibration (the shipped one under `--fit-now`): simulated time modeled
    /// with it, ns.
    pub reference_modeled_ns: Option<u64>,
    /// `reference_modeled / measured median`.
    pub reference_ratio: Option<f64>,
}

/// Runs `plan` once modeled with `calibration` (and once with `reference`, if any) and `runs`
/// times measured; rows in workload order, conv first.
#[allow(clippy::too_many_arguments)]
pub fn run(
    profile: &host_sdk::DeviceProfile,
    modules: &ssdlet_module_build::Modules,
    calibration: Arc<Calibration>,
    reference: Option<Arc<Calibration>>,
    plan: &Plan,
    runs: usize,
    tolerance: f64,
    progress: &mut Progress,
) -> Result<Vec<Row>, SuiteError> {
    let env = Env::with_modules(profile.clone(), Compute::Modeled, calibration.clone(), modules)?;
    let modeled = runs::all(&env, plan, progress)?;
    drop(env);
    let reference = match reference {
        Some(c) => {
            let env = Env::with_modules(profile.clone(), Compute::Modeled, c, modules)?;
            Some(runs::all(&env, plan, progress)?)
        }
        None => None,
    };
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
            let reference_modeled_ns = reference
                .as_ref()
                .and_then(|r| r[i].run(f.path))
                .map(|r| r.simulated_ns);
            rows.push(Row {
                workload: o.workload,
                path: f.path,
                modeled_ns: f.simulated_ns,
                measured_median_ns: median as u64,
                measured_min_ns: min as u64,
                measured_max_ns: max as u64,
                ratio,
                agrees: (ratio - 1.0).abs() <= tolerance,
                reference_modeled_ns,
                reference_ratio: reference_modeled_ns.map(|ns| ns as f64 / median.max(1.0)),
            });
        }
    }
    Ok(rows)
}

/// The rows as a table for people.
pub fn table(rows: &[Row], tolerance: f64) -> String {
    let s = |ns: u64| ns as f64 / 1e9;
    let mut out = format!(
        "{:<14} {:<5} {:>12} {:>12} {:>23} {:>7}  within {:.0}%{}\n",
        "workload",
        "path",
        "modeled s",
        "measured s",
        "(min - max)",
        "ratio",
        tolerance * 100.0,
        if rows.iter().any(|r| r.reference_ratio.is_some()) {
            "   shipped calibration: ratio"
        } else {
            ""
        }
    );
    for r in rows {
        out.push_str(&format!(
            "{:<14} {:<5} {:>12.4} {:>12.4} {:>23} {:>7.3}  {:<10}{}\n",
            r.workload,
            r.path.name(),
            s(r.modeled_ns),
            s(r.measured_median_ns),
            format!("({:.4} - {:.4})", s(r.measured_min_ns), s(r.measured_max_ns)),
            r.ratio,
            if r.agrees { "yes" } else { "NO" },
            r.reference_ratio
                .map(|x| format!("   {x:>26.3}"))
                .unwrap_or_default()
        ));
    }
    out
}
