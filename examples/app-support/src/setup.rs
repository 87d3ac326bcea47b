//! Setting a run up: the device ([`Env`]: an embedded device of the chosen profile, with the
//! built SSDlet modules each application loads with [`Env::load`]) and the data (read from a
//! file or generated, seeded).

use std::path::{Path, PathBuf};

use device_runtime::compute::ComputeModel;
use host_sdk::{Device, DeviceProfile, ImageSpec, Module, RuntimeConfig};
use ndp_data::gen::graph::{start_nodes, Graph, GraphSpec, PAGE};
use ndp_data::gen::text::{generate_vec, plant, TextSpec};
use ssdlet_module_build::{build, Modules, Profile};

use crate::cli::{Common, Compute, ModuleBuild};
use crate::error::SuiteError;

/// The device of a run and the built SSDlet modules.
pub struct Env {
    /// The device (embedded, in memory).
    pub device: Device,
    /// Its profile.
    pub profile: DeviceProfile,
    /// The built module libraries (`ssdlet-wordcount`, `ssdlet-grep`, ...).
    modules: Modules,
}

impl Env {
    /// Builds the modules (`common.modules`; cargo, once per process) and starts an in-memory
    /// device of `common.profile`.
    pub fn open(common: &Common) -> Result<Env, SuiteError> {
        let profile = DeviceProfile::load(&common.profile).map_err(|source| SuiteError::Profile {
            name: common.profile.clone(),
            source,
        })?;
        let modules = build(match common.modules {
            ModuleBuild::Release => Profile::Release,
            ModuleBuild::Debug => Profile::Debug,
        })?;
        let compute = match common.compute {
            Compute::Measured => ComputeModel::Measured {
                slowdown: profile.arm.arm_slowdown,
            },
            Compute::Modeled => ComputeModel::default(),
        };
        let config = RuntimeConfig {
            compute,
            ..RuntimeConfig::default()
        };
        Env::with_modules(profile, config, modules)
    }

    /// A device of `profile` that loads its modules from `modules`.
    pub fn with_modules(
        profile: DeviceProfile,
        config: RuntimeConfig,
        modules: &Modules,
    ) -> Result<Env, SuiteError> {
        let device = Device::embedded_with(profile.clone(), ImageSpec::Memory, config)?;
        Ok(Env {
            device,
            profile,
            modules: modules.clone(),
        })
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
