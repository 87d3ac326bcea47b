//! The module loader: static checks with `goblin` before `dlopen`, then `libloading`.
//!
//! Loading a module ([`Loader::load`]):
//! 1. read the file and run [`inspect::inspect_bytes`]: ELF magic, truncation, class,
//!    machine, `ET_DYN`, the structure the dynamic loader relies on (every segment and section
//!    inside the file, the dynamic section, symbols, relocations, versions, init and fini
//!    code: `structure.rs`), the `.ssdlet_meta` section (present, loaded where the module
//!    reads it, ABI version, checksum, grammar), the entry points (exported functions in
//!    code, agreeing with `.symtab`) and the import lint ([`imports`]);
//! 2. write the checked bytes to a fresh, uniquely named file (`O_EXCL`, mode 0600) in a
//!    private directory made for this load (mode 0700, never an existing one), so each loaded
//!    version comes from its own path (glibc returns the already-loaded image when a path, or
//!    a device/inode pair, is opened again, and `dlclose` often unloads nothing), and what is
//!    loaded is exactly what was checked;
//! 3. `dlopen` it with `RTLD_NOW | RTLD_LOCAL` (unresolved symbols fail here, not later),
//!    then remove the file and its directory: nothing stays behind in the staging directory,
//!    even if the process is killed later;
//! 4. resolve the entry points, compare the metadata the module reports with the section,
//!    and call `ssdlet_module_init` with the runtime's vtable.
//!
//! [`LoadedModule::unload`] (or dropping the last handle) closes the library once no SSDlet
//! instance still uses it.

pub mod error;
pub mod imports;
pub mod inspect;
pub mod meta;
mod structure;
mod unwind;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use ssdlet_abi::entry::{MetadataFn, ModuleInitFn, RunFn, SYM_METADATA, SYM_MODULE_INIT, SYM_RUN};
use ssdlet_abi::Status;

use crate::compute::ModuleDigest;

pub use error::LoadError;
pub use inspect::{inspect, inspect_bytes, Inspected};
pub use meta::{ModuleMeta, Slot, SsdletMeta};

/// Loads modules, staging each under its own unique path.
#[derive(Debug)]
pub struct Loader {
    /// Where each load makes its private staging directory.
    base: PathBuf,
}

static NEXT_STAGED: AtomicU64 = AtomicU64::new(0);

/// How many fresh names a load tries for its staging directory before it gives up.
const STAGING_ATTEMPTS: u32 = 16;

impl Loader {
    /// A loader staging modules under `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<Loader, LoadError> {
        let base = dir.into();
        std::fs::create_dir_all(&base).map_err(|source| LoadError::Staging {
            path: base.clone(),
            staged: base.clone(),
            source,
        })?;
        Ok(Loader { base })
    }

    /// A loader staging modules under `$TMPDIR`.
    pub fn with_temp_staging() -> Result<Loader, LoadError> {
        Loader::new(std::env::temp_dir())
    }

    /// The directory under which each load makes its private staging directory.
    pub fn staging_dir(&self) -> &Path {
        &self.base
    }

    // INVARIANT(staged-unique-path): a fresh 0700 directory per load, never an existing one
    /// A new private directory for one staged copy: `ssdlet-staging-<pid>-<random>` under the
    /// base, mode 0700, created by this call (an existing path, e.g. one planted by another
    /// user, is never reused).
    fn private_dir(&self, module: &Path) -> Result<PathBuf, LoadError> {
        use std::os::unix::fs::DirBuilderExt;
        let mut last = None;
        for _ in 0..STAGING_ATTEMPTS {
            let dir = self.base.join(format!(
                "ssdlet-staging-{}-{:016x}",
                std::process::id(),
                random_u64()
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some((dir, e)),
                Err(source) => {
                    return Err(LoadError::Staging {
                        path: module.to_path_buf(),
                        staged: dir,
                        source,
                    })
                }
            }
        }
        let (staged, source) = last.expect("at least one attempt was made");
        Err(LoadError::Staging {
            path: module.to_path_buf(),
            staged,
            source,
        })
    }

    /// Checks and loads the module at `path`.
    pub fn load(&self, path: &Path) -> Result<LoadedModule, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.load_bytes(path, &bytes)
    }

    /// Checks and loads a module from its bytes (e.g. sent by a host that does not share this
    /// filesystem); `name` stands for its path in errors and names the staged copy.
    pub fn load_bytes(&self, name: &Path, bytes: &[u8]) -> Result<LoadedModule, LoadError> {
        let path = name;
        // INVARIANT(checks-before-dlopen): all static checks pass before anything is staged
        let inspected = inspect_bytes(path, bytes)?;
        let seq = NEXT_STAGED.fetch_add(1, Ordering::Relaxed);
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("module");
        let dir = self.private_dir(path)?;
        let staged = dir.join(format!("{stem}-{}-{seq}.so", std::process::id()));
        let result = write_new(&staged, bytes)
            .map_err(|source| LoadError::Staging {
                path: path.to_path_buf(),
                staged: staged.clone(),
                source,
            })
            .and_then(|()| open_staged(path, &staged, inspected, ModuleDigest::of(bytes)));
        // INVARIANT(staged-unique-path): the O_EXCL file and its directory go as soon as it is mapped
        // Once mapped, the staged copy is not needed: the mapping keeps its inode (so no later
        // copy can share it while this one is loaded), and its name is never used again.
        let _ = std::fs::remove_file(&staged);
        let _ = std::fs::remove_dir(&dir);
        result
    }
}

/// Writes `bytes` to a file that this call creates (`O_EXCL`: an existing file or a planted
/// symlink at `path` is an error, never followed), readable by its owner only.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

/// 64 bits that differ between calls and processes (names only; not a secret).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(NEXT_STAGED.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

fn open_staged(
    path: &Path,
    staged: &Path,
    inspected: Inspected,
    digest: ModuleDigest,
) -> Result<LoadedModule, LoadError> {
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
    Ok(LoadedModule {
        inner: Arc::new(ModuleInner {
            meta: inspected.meta,
            digest,
            source: p(),
            staged: staged.to_path_buf(),
            run,
            poisoned: AtomicBool::new(false),
            _lib: lib,
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
pub struct LoadedModule {
    pub(crate) inner: Arc<ModuleInner>,
}

pub(crate) struct ModuleInner {
    pub(crate) meta: ModuleMeta,
    /// Names this build (the cost table's key).
    pub(crate) digest: ModuleDigest,
    source: PathBuf,
    staged: PathBuf,
    pub(crate) run: RunFn,
    /// Set after a trap (stack overflow, memory fault) in one of its SSDlets: the module's
    /// own state (locks, statics) may be mid-update, so no new instances are started.
    pub(crate) poisoned: AtomicBool,
    /// The open library: dropping the last handle closes it.
    _lib: libloading::os::unix::Library,
}

impl fmt::Debug for LoadedModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedModule")
            .field("name", &self.inner.meta.name)
            .field("source", &self.inner.source)
            .field("staged", &self.inner.staged)
            .finish()
    }
}

/// An SSDlet of a loaded module, found by id.
#[derive(Clone, Debug)]
pub struct SsdletRef {
    pub(crate) module: LoadedModule,
    pub(crate) index: usize,
}

impl SsdletRef {
    /// Its metadata.
    pub fn meta(&self) -> &SsdletMeta {
        &self.module.inner.meta.ssdlets[self.index]
    }

    /// The module it belongs to.
    pub fn module(&self) -> &LoadedModule {
        &self.module
    }
}

impl LoadedModule {
    /// The module's metadata.
    pub fn meta(&self) -> &ModuleMeta {
        &self.inner.meta
    }

    /// The digest of the module file: names this build (the cost table's key).
    pub fn digest(&self) -> ModuleDigest {
        self.inner.digest
    }

    /// The path it was loaded from.
    pub fn source(&self) -> &Path {
        &self.inner.source
    }

    /// The path of the staged copy that was `dlopen`ed (unique in this process; the file
    /// itself is removed as soon as it is mapped).
    pub fn staged_path(&self) -> &Path {
        &self.inner.staged
    }

    /// Whether a trap in one of its SSDlets poisoned it (see [`LoadedModule::ssdlet`]).
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

    /// Drops this handle. The library is closed when the last handle and the last instance
    /// using it are gone (its staged file was removed as soon as it was mapped).
    pub fn unload(self) {}
}
