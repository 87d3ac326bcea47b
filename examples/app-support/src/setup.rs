//! Setting a run up: the device ([`Env`]: an embedded device of the chosen profile, with the
//! built SSDlet modules each application loads with [`Env::load`]) and the data (read from a
//! file or generated, seeded).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use device_runtime::compute::ComputeModel;
use host_sdk::{Device, DeviceProfile, ImageSpec, Module, RuntimeConfig};
use ndp_data::gen::graph::{start_nodes, Graph, GraphSpec, PAGE};
use ndp_data::gen::text::{generate_vec, plant, TextSpec};
use ssdlet_module_build::{build, Modules, Profile};

use crate::calibration::Calibration;
use crate::cli::{Common, Compute, ModuleBuild};
use crate::error::SuiteError;
use host_sdk::cpu::HostCharge;

/// The device of a run, the built SSDlet modules and how compute is charged.
pub struct Env {
    /// The device (embedded, in memory).
    pub device: Device,
    /// Its profile.
    pub profile: DeviceProfile,
    /// How compute is charged (device and host).
    pub compute: Compute,
    /// The per-unit costs of modeled compute.
    pub calibration: Arc<Calibration>,
    /// The built module libraries (`ssdlet-wordcount`, `ssdlet-grep`, ...).
    modules: Modules,
}

impl Env {
    /// Builds the modules (`common.modules`; cargo, once per process) and starts an in-memory
    /// device of `common.profile` (with `common.set` applied).
    pub fn open(common: &Common) -> Result<Env, SuiteError> {
        let profile = profile_of(common)?;
        let modules = modules(common.modules)?;
        let calibration = Arc::new(Calibration::load_or_shipped(common.calibration.as_deref())?);
        Env::with_modules(profile, common.compute, calibration, &modules)
    }

    /// A device of `profile` that loads its modules from `modules` and charges compute as
    /// `compute` says, with `calibration`'s costs.
    pub fn with_modules(
        profile: DeviceProfile,
        compute: Compute,
        calibration: Arc<Calibration>,
        modules: &Modules,
    ) -> Result<Env, SuiteError> {
        let config = RuntimeConfig {
            compute: match compute {
                Compute::Measured => ComputeModel::measured(&profile),
                Compute::Modeled => ComputeModel::modeled(&profile, calibration.cost_table()),
            },
            ..RuntimeConfig::default()
        };
        let device = Device::embedded_with(profile.clone(), ImageSpec::Memory, config)?;
        Ok(Env {
            device,
            profile,
            compute,
            calibration,
            modules: modules.clone(),
        })
    }

    /// How the conventional path of `workload` (`wordcount`, `grep`, `pointer-chase`)
    /// charges its host compute.
    pub fn host(&self, workload: &str) -> Result<HostCharge, SuiteError> {
        match self.compute {
            Compute::Measured => Ok(HostCharge::Measured),
            Compute::Modeled => match self.calibration.host.get(workload) {
                Some(c) => Ok(HostCharge::PerUnit { ps: c.ps_per_unit }),
                None => Err(SuiteError::NoHostCost {
                    workload: workload.to_owned(),
                    known: self
                        .calibration
                        .host
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            },
        }
    }

    /// Loads the module of crate `krate` (e.g. `ssdlet-wordcount`) onto the device.
    pub fn load(&self, krate: &str) -> Result<Module, SuiteError> {
        Ok(self.device.load_module(self.modules.path(krate))?)
    }

    /// The NAND page size of the device, in bytes.
    pub fn page_bytes(&self) -> u64 {
        u64::from(self.profile.geometry.page_bytes)
    }
}

/// The SSDlet modules of build `which` (built with cargo on first use in a process).
pub fn modules(which: ModuleBuild) -> Result<Modules, SuiteError> {
    Ok(build(match which {
        ModuleBuild::Release => Profile::Release,
        ModuleBuild::Debug => Profile::Debug,
    })?
    .clone())
}

/// `common.profile` with every `common.set` (`section.key=value`) applied.
pub fn profile_of(common: &Common) -> Result<DeviceProfile, SuiteError> {
    DeviceProfile::load_with(&common.profile, &common.set).map_err(|source| SuiteError::Profile {
        name: common.profile.clone(),
        source,
    })
}

/// Where a run's data came from.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DataInfo {
    /// `file` or `generated`.
    pub source: &'static str,
    /// The file (for `file`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// The seed (for `generated`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Bytes.
    pub bytes: u64,
}

fn read(path: &Path) -> Result<Vec<u8>, SuiteError> {
    std::fs::read(path).map_err(|source| SuiteError::Input {
        path: path.to_path_buf(),
        source,
    })
}

/// The text of a run: `input` if given, else `bytes` of seeded Zipf text with `pattern`
/// planted in `plant` lines (when `pattern` is given).
pub fn text(
    input: Option<&Path>,
    bytes: u64,
    seed: u64,
    pattern: Option<(&str, usize)>,
) -> Result<(Vec<u8>, DataInfo), SuiteError> {
    if let Some(path) = input {
        let data = read(path)?;
        let info = DataInfo {
            source: "file",
            path: Some(path.to_path_buf()),
            seed: None,
            bytes: data.len() as u64,
        };
        return Ok((data, info));
    }
    let mut data = generate_vec(&TextSpec::new(bytes, seed));
    if let Some((p, n)) = pattern {
        plant(&mut data, p.as_bytes(), n);
    }
    let info = DataInfo {
        source: "generated",
        path: None,
        seed: Some(seed),
        bytes,
    };
    Ok((data, info))
}

/// The adjacency-page graph of a run: `input` if given (checked to be whole pages), else a
/// seeded power-law graph of `bytes / 4096` nodes.
pub fn graph(input: Option<&Path>, bytes: u64, seed: u64) -> Result<(Vec<u8>, DataInfo), SuiteError> {
    if let Some(path) = input {
        let data = read(path)?;
        let size = data.len() as u64;
        if size % PAGE as u64 != 0 || size < 2 * PAGE as u64 {
            return Err(SuiteError::GraphFile {
                path: path.to_path_buf(),
                size,
            });
        }
        let info = DataInfo {
            source: "file",
            path: Some(path.to_path_buf()),
            seed: None,
            bytes: size,
        };
        return Ok((data, info));
    }
    let g = Graph::new(GraphSpec::with_bytes(bytes, seed))
        .map_err(|source| SuiteError::GraphSize { size: bytes, source })?;
    let mut data = Vec::with_capacity(g.nodes() as usize * PAGE);
    for node in 0..g.nodes() {
        data.extend_from_slice(&g.page(node));
    }
    let info = DataInfo {
        source: "generated",
        path: None,
        seed: Some(seed),
        bytes: data.len() as u64,
    };
    Ok((data, info))
}

/// The start nodes of a run over a graph of `graph_bytes` bytes.
pub fn starts(graph_bytes: u64, n: usize, seed: u64) -> Vec<u64> {
    start_nodes(graph_bytes / PAGE as u64, n, seed)
}
