//! The calibration the programs charge compute with: per-unit costs of the shipped SSDlets
//! (a [`CostTable`] for the device's modeled compute) and of each conventional host path,
//! measured on the reference host core and written to `examples/app-support/calibration.toml`
//! by `cargo run --release -p suite -- calibrate` (which also records how each number was
//! obtained).
//!
//! A conventional path charges its host work with [`host_sdk::cpu::HostCharge`]: counted units times the
//! calibrated cost (deterministic, the default) or the thread's measured CPU time.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use device_runtime::compute::{CalibratedSsdlet, CostTable};
use serde::{Deserialize, Serialize};

use crate::error::SuiteError;

/// The calibration shipped with the examples.
pub const SHIPPED: &str = include_str!("../calibration.toml");

/// The cost of one unit of a conventional host path's work on the reference host core.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostCost {
    /// What one unit is (e.g. `byte` scanned, `hop` decoded).
    pub unit: String,
    /// Picoseconds per unit.
    pub ps_per_unit: u64,
    /// How it was obtained.
    pub derivation: String,
}

/// Per-unit costs of SSDlets and host paths (module docs).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// The machine the costs were measured on.
    #[serde(default)]
    pub reference_core: String,
    /// Host paths by workload name (`wordcount`, `grep`, `pointer-chase`).
    #[serde(default)]
    pub host: BTreeMap<String, HostCost>,
    /// The host query engine's operators (DataFusion, `yoursql-filter calibrate-engine`), by
    /// operator name (`HashJoinExec`, ...; `other` for the rest); the unit is a row consumed times
    /// one plus the nodes of the expressions the operator evaluates.
    #[serde(default)]
    pub engine: BTreeMap<String, HostCost>,
    /// Calibrated SSDlets.
    #[serde(default)]
    pub ssdlets: Vec<CalibratedSsdlet>,
}

impl Calibration {
    /// The calibration shipped with the examples.
    pub fn shipped() -> Calibration {
        Self::parse(SHIPPED, "the shipped calibration").unwrap_or_default()
    }

    /// Parses a calibration file's text; `what` names it in errors.
    pub fn parse(text: &str, what: &str) -> Result<Calibration, SuiteError> {
        toml::from_str(text).map_err(|e| SuiteError::Calibration {
            file: what.to_owned(),
            reason: e.to_string(),
        })
    }

    /// The calibration file `path` names, else the shipped one (the programs' `--calibration`).
    pub fn load_or_shipped(path: Option<&Path>) -> Result<Calibration, SuiteError> {
        match path {
            Some(p) => Self::load(p),
            None => Ok(Self::shipped()),
        }
    }

    /// Reads a calibration file.
    pub fn load(path: &Path) -> Result<Calibration, SuiteError> {
        let text = std::fs::read_to_string(path).map_err(|e| SuiteError::Calibration {
            file: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The device's cost table.
    pub fn cost_table(&self) -> Arc<CostTable> {
        Arc::new(CostTable {
            reference_core: self.reference_core.clone(),
            ssdlets: self.ssdlets.clone(),
        })
    }

    /// The text of this calibration as a TOML file.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}
