//! The module loader: static checks with `goblin` before `dlopen`, then `libloading`.
//!
//! Loading a module ([`Loader::load`]):
//! 1. read the file and run [`inspect::inspect_bytes`]: ELF magic, truncation, class,
//!    machine, `ET_DYN`, the `.ssdlet_meta` section (present, ABI version, checksum,
//!    grammar) and the import lint ([`imports`]);
//! 2. write the checked bytes to a fresh, uniquely named file in the staging directory, so
//!    each loaded version comes from its own path (glibc returns the already-loaded image
//!    when a path, or a device/inode pair, is opened again, and `dlclose` often unloads
//!    nothing), and what is loaded is exactly what was checked;
//! 3. `dlopen` it with `RTLD_NOW | RTLD_LOCAL` (unresolved symbols fail here, not later);
//! 4. resolve the entry points, compare the metadata the module reports with the section,
//!    and call `ssdlet_module_init` with the runtime's vtable.
//!
//! [`Module::unload`] (or dropping the last handle) closes the library and deletes the staged
//! file once no SSDlet instance still uses it.

pub mod error;
pub mod imports;
pub mod inspect;
pub mod meta;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use ssdlet_abi::entry::{MetadataFn, ModuleInitFn, RunFn, SYM_METADATA, SYM_MODULE_INIT, SYM_RUN};
use ssdlet_abi::Status;

pub use error::LoadError;
pub use inspect::{inspect, inspect_bytes, Inspected};
pub use meta::{ModuleMeta, Slot, SsdletMeta};

/// Loads modules, staging each under its own unique path.
#[derive(Debug)]
pub struct Loader {
    staging: PathBuf,
}

static NEXT_STAGED: AtomicU64 = AtomicU64::new(0);

impl Loader {
    /// A loader staging modules in `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<Loader, LoadError> {
        let staging = dir.into();
        std::fs::create_dir_all(&staging).map_err(|source| LoadError::Staging {
            path: staging.clone(),
            staged: staging.clone(),
            source,
        })?;
        Ok(Loader { staging })
    }

    /// A loader staging modules in `$TMPDIR/ssdlet-runtime-<pid>`.
    pub fn with_temp_staging() -> Result<Loader, LoadError> {
        Loader::new(std::env::temp_dir().join(format!("ssdlet-runtime-{}", std::process::id())))
    }

    /// The staging directory.
    pub fn staging_dir(&self) -> &Path {
        &self.staging
    }

    /// Checks and loads the module at `path`.
    pub fn load(&self, path: &Path) -> Result<Module, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.load_bytes(path, &bytes)
    }

    /// Checks and loads a module from its bytes (e.g. sent by a host that does not share this
    /// filesystem); `name` stands for its path in errors and names the staged copy.
    pub fn load_bytes(&self, name: &Path, bytes: &[u8]) -> Result<Module, LoadError> {
        let path = name;
        let inspected = inspect_bytes(path, bytes)?;
        let seq = NEXT_STAGED.fetch_add(1, Ordering::Relaxed);
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("module");
        let staged = self
            .staging
            .join(format!("{stem}-{}-{seq}.so", std::process::id()));
        std::fs::write(&staged, bytes).map_err(|source| LoadError::Staging {
            path: path.to_path_buf(),
            staged: staged.clone(),
            source,
        })?;
        let result = open_staged(path, &staged, inspected);
        if result.is_err() {
            let _ = std::fs::remove_file(&staged);
        }
        result
    }
}

fn open_staged(path: &Path, staged: &Path, inspected: Inspected) -> Result<Module, LoadError> {
    let p = || path.to_path_buf();
    let flags = libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_LOCAL;
    // SAFETY: loading a library runs its initialisers. The file passed the static checks
    // (it is a well-formed ET_DYN for this machine carrying SSDlet metadata and no denied
    // imports); running its constructors is the trust we extend to any module we load.
    let lib = unsafe { libloading::os::unix::Library::open(Some(staged), flags) }.map_err(|e| {
        LoadError::Dlopen {
            path: p(),
            reason: error_chain(&e),
        }
    })?;
    let missing = |symbol: &'static str| {
        move |e: libloading::Error| LoadError::MissingEntryPoint {
            path: p(),
            symbol,
            reason: error_chain(&e),
        }
    };
    // SAFETY: the symbols are declared by the ABI with exactly these C signatures, and the
    // module's metadata (checked above) says it was built against this ABI version.
    let (init, run, metadata) = unsafe {
        (
            *lib.get::<ModuleInitFn>(SYM_MODULE_INIT)
                .map_err(missing("ssdlet_module_init"))?,
            *lib.get::<RunFn>(SYM_RUN).map_err(missing("ssdlet_run"))?,
            *lib.get::<MetadataFn>(SYM_METADATA)
                .map_err(missing("ssdlet_metadata"))?,
        )
    };
    let mut len = 0usize;
    // SAFETY: MetadataFn contract: returns a pointer to `len` static bytes of the module,
    // valid while it is loaded (`lib` is alive here).
    let reported = unsafe {
        let ptr = metadata(&mut len);
        if ptr.is_null() {
            &[][..]
        } else {
            std::slice::from_raw_parts(ptr, len)
        }
    };
    if reported != inspected.meta_bytes.as_slice() {
        return Err(LoadError::MetadataMismatch { path: p() });
    }
    // SAFETY: ModuleInitFn contract: the vtable is a static valid for the process lifetime.
    let status = unsafe { init(&crate::services::VTABLE) };
    if status != Status::OK {
        return Err(LoadError::InitFailed {
            path: p(),
            status: status.name(),
        });
    }
    Ok(Module {
        inner: Arc::new(ModuleInner {
            meta: inspected.meta,
            source: p(),
            staged: staged.to_path_buf(),
            run,
            poisoned: AtomicBool::new(false),
            lib: Some(lib),
        }),
    })
}

/// An error and its sources, joined (libloading keeps `dlerror`'s text in the source).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

/// A loaded module. Cheap to clone; the library stays loaded while any clone or SSDlet
/// instance holds it.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

pub(crate) struct ModuleInner {
    pub(crate) meta: ModuleMeta,
    source: PathBuf,
    staged: PathBuf,
    pub(crate) run: RunFn,
    /// Set after a trap (stack overflow, memory fault) in one of its SSDlets: the module's
    /// own state (locks, statics) may be mid-update, so no new instances are started.
    pub(crate) poisoned: AtomicBool,
    lib: Option<libloading::os::unix::Library>,
}

impl Drop for ModuleInner {
    fn drop(&mut self) {
        // Close the library before deleting its staged file.
        drop(self.lib.take());
        let _ = std::fs::remove_file(&self.staged);
    }
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.inner.meta.name)
            .field("source", &self.inner.source)
            .field("staged", &self.inner.staged)
            .finish()
    }
}

/// An SSDlet of a loaded module, found by id.
#[derive(Clone, Debug)]
pub struct SsdletRef {
    pub(crate) module: Module,
    pub(crate) index: usize,
}

impl SsdletRef {
    /// Its metadata.
    pub fn meta(&self) -> &SsdletMeta {
        &self.module.inner.meta.ssdlets[self.index]
    }

    /// The module it belongs to.
    pub fn module(&self) -> &Module {
        &self.module
    }
}

impl Module {
    /// The module's metadata.
    pub fn meta(&self) -> &ModuleMeta {
        &self.inner.meta
    }

    /// The path it was loaded from.
    pub fn source(&self) -> &Path {
        &self.inner.source
    }

    /// The staged copy that was `dlopen`ed.
    pub fn staged_path(&self) -> &Path {
        &self.inner.staged
    }

    /// Whether a trap in one of its SSDlets poisoned it (see [`Module::ssdlet`]).
    pub fn is_poisoned(&self) -> bool {
        self.inner.poisoned.load(Ordering::Relaxed)
    }

    /// The SSDlet registered under `id`.
    pub fn ssdlet(&self, id: &str) -> Result<SsdletRef, LoadError> {
        match self.inner.meta.ssdlet(id) {
            Some((index, _)) => Ok(SsdletRef {
                module: self.clone(),
                index,
            }),
            None => Err(LoadError::UnknownSsdlet {
                module: self.inner.meta.name.clone(),
                id: id.to_owned(),
                known: self.inner.meta.ids(),
            }),
        }
    }

    /// Drops this handle. The library is closed and its staged file deleted when the last
    /// handle and the last instance using it are gone.
    pub fn unload(self) {}
}
