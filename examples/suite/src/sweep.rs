//! `suite sweep KEY=V1,V2,...`: what-if over one device profile field. The whole suite runs
//! once per value (compute modeled, so each row is deterministic) and every figure is shown
//! per value: simulated times both ways, the speed-up and the energy.

use std::sync::Arc;

use app_support::calibration::Calibration;
use app_support::cli::{Common, Compute};
use app_support::progress::Progress;
use app_support::setup::{profile_of, Env};
use app_support::{Path, SuiteError};
use serde::Serialize;

use crate::runs::{self, Plan};

/// One workload's figures at one value.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The value of the swept key.
    pub value: String,
    /// The workload.
    pub workload: &'static str,
    /// Conventional simulated time, ns.
    pub conv_ns: u64,
    /// NDP simulated time, ns.
    pub ndp_ns: u64,
    /// `conv / NDP`.
    pub speedup: f64,
    /// Conventional energy, J.
    pub conv_j: f64,
    /// NDP energy, J.
    pub ndp_j: f64,
}

/// Splits `key=v1,v2,...`.
pub fn parse(spec: &str) -> Result<(String, Vec<String>), SuiteError> {
    let bad = || SuiteError::Sweep {
        given: spec.to_owned(),
    };
    let (key, values) = spec.split_once('=').ok_or_else(bad)?;
    let values: Vec<String> = values
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    if key.trim().is_empty() || values.is_empty() {
        return Err(bad());
    }
    Ok((key.trim().to_owned(), values))
}

/// Runs `plan` once per value of `key` on `common`'s profile (with its `--set`s first).
pub fn run(
    common: &Common,
    key: &str,
    values: &[String],
    plan: &Plan,
    progress: &mut Progress,
) -> Result<Vec<Row>, SuiteError> {
    let modules = app_support::setup::modules(common.modules)?;
    let calibration = Arc::new(Calibration::load_or_shipped(common.calibration.as_deref())?);
    let mut rows = Vec::new();
    for value in values {
        let mut c = common.clone();
        c.set.push(format!("{key}={value}"));
        let profile = profile_of(&c)?;
        progress.step(format!("{key} = {value}"));
        progress.done();
        let env = Env::with_modules(profile, Compute::Modeled, calibration.clone(), &modules)?;
        for o in runs::all(&env, plan, progress)? {
            let (Some(cv), Some(nd)) = (o.run(Path::Conv), o.run(Path::Ndp)) else {
                continue;
            };
            rows.push(Row {
                value: value.clone(),
                workload: o.workload,
                conv_ns: cv.simulated_ns,
                ndp_ns: nd.simulated_ns,
                speedup: cv.simulated_ns as f64 / nd.simulated_ns.max(1) as f64,
                conv_j: cv.energy.total_j,
                ndp_j: nd.energy.total_j,
            });
        }
    }
    Ok(rows)
}

/// The rows as a table for people.
pub fn table(key: &str, rows: &[Row]) -> String {
    let mut out = format!(
        "{:<14} {:<14} {:>11} {:>11} {:>9} {:>10} {:>10}\n",
        key, "workload", "conv s", "NDP s", "speed-up", "conv J", "NDP J"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<14} {:<14} {:>11.4} {:>11.4} {:>8.2}x {:>10.2} {:>10.2}\n",
            r.value,
            r.workload,
            r.conv_ns as f64 / 1e9,
            r.ndp_ns as f64 / 1e9,
            r.speedup,
            r.conv_j,
            r.ndp_j
        ));
    }
    out
}
