//! [`Module`]: an SSDlet module loaded on a device (Biscuit's `module_id_t`), and
//! [`Device::load_module`] / [`Device::unload_module`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndp_protocol::{ErrorKind, IscRequest, IscResponse, ModuleId, ModuleMeta, ModuleSource};

use ndp_protocol::meta::{built_with_overflow_checks, debug_build_warning};

use crate::device::{unexpected, Device};
use crate::error::{Error, Result};

/// A module loaded on a device: its id there and its metadata (SSDlets, arguments, ports).
#[derive(Clone, Debug)]
pub struct Module {
    pub(crate) id: ModuleId,
    pub(crate) path: PathBuf,
    pub(crate) meta: Arc<ModuleMeta>,
    pub(crate) warnings: Arc<[String]>,
}

impl Module {
    /// Its metadata, as the device read it.
    pub fn meta(&self) -> &ModuleMeta {
        &self.meta
    }

    /// The host path it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its name (from its metadata).
    pub fn name(&self) -> &str {
        &self.meta.name
    }

    /// What its author should know, found by the host as it read the file (each also logged
    /// as a `tracing` warning): e.g. that it is a debug build, whose SSDlets run several times
    /// slower under measured compute.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

impl Device {
    /// Reads the module at host path `path` and loads it on the device (the bytes travel
    /// with the command: the device need not share the host's filesystem).
    pub fn load_module(&self, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref().to_path_buf();
        let bytes = std::fs::read(&path).map_err(|source| Error::ModulePath {
            path: path.clone(),
            source,
        })?;
        let req = IscRequest::LoadModule {
            source: ModuleSource::Bytes {
                name: path.display().to_string(),
                bytes,
            },
        };
        let debug = built_with_overflow_checks(match &req {
            IscRequest::LoadModule {
                source: ModuleSource::Bytes { bytes, .. },
            } => bytes,
            _ => &[],
        });
        match self.call(&req) {
            Ok(IscResponse::Module(info)) => {
                let mut warnings = Vec::new();
                if debug {
                    warnings.push(debug_build_warning(&info.meta.name, &path));
                }
                for w in &warnings {
                    tracing::warn!("{w}");
                }
                Ok(Module {
                    id: info.id,
                    path,
                    meta: Arc::new(info.meta),
                    warnings: warnings.into(),
                })
            }
            Ok(r) => Err(unexpected(&req, &r)),
            Err(Error::Refused {
                kind: ErrorKind::Load,
                message,
                ..
            }) => Err(Error::Load { path, message }),
            Err(e) => Err(e),
        }
    }

    /// Drops the device's handle on `module`; running instances keep their library until they
    /// finish.
    pub fn unload_module(&self, module: Module) -> Result<()> {
        self.call_done(&IscRequest::UnloadModule { module: module.id })
    }
}
