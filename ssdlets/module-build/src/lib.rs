//! Test support: builds the test SSDlet modules (`cdylib` crates) once per process and
//! returns their paths.
//!
//! Tests that load modules cannot rely on the outer `cargo test` having built them: a
//! `cdylib` that nothing depends on is not built for a test run. So the first caller runs
//! `cargo build -p <module crates>` itself, with its own `--target-dir` (`$CARGO_TARGET_DIR/modules`
//! if that variable is set, else `<workspace>/target/modules`) so it never waits on the build
//! lock the outer cargo holds. Later callers in the same process reuse the result
//! ([`std::sync::OnceLock`]); cargo's own freshness check makes repeat runs cheap.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The module crates this helper builds.
pub const MODULE_CRATES: &[&str] = &[
    "ssdlet-testkit",
    "ssdlet-testkit-peer",
    "ssdlet-testkit-net",
    "ssdlet-testkit-abi-first",
    "ssdlet-wordcount",
    "ssdlet-grep",
    "ssdlet-pointer-chase",
    "ssdlet-yoursql",
];

/// Which cargo profile to build the modules with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// `dev` (tests).
    Debug,
    /// `release` (benches: module code is measured, so it must be optimized).
    Release,
}

/// Why the modules could not be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BuildError {
    /// `cargo` could not be started.
    #[error("cannot run `{cargo}` to build the test modules: {reason}")]
    Spawn {
        /// The cargo binary used.
        cargo: String,
        /// The OS error.
        reason: String,
    },
    /// `cargo build` failed.
    #[error("building the test modules failed ({status}):\n{stderr}")]
    Cargo {
        /// Exit status.
        status: String,
        /// Cargo's standard error.
        stderr: String,
    },
    /// The build succeeded but a module file is missing.
    #[error("module `{krate}` was built but {} does not exist", path.display())]
    Missing {
        /// The crate.
        krate: String,
        /// Where its library should be.
        path: PathBuf,
    },
}

/// Paths of the built test modules.
#[derive(Debug, Clone)]
pub struct Modules {
    dir: PathBuf,
}

impl Modules {
    /// Directory holding the built libraries.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the library of module crate `krate` (e.g. `"ssdlet-testkit"`).
    pub fn path(&self, krate: &str) -> PathBuf {
        self.dir.join(format!("lib{}.so", krate.replace('-', "_")))
    }

    /// `ssdlet-testkit`.
    pub fn testkit(&self) -> PathBuf {
        self.path("ssdlet-testkit")
    }

    /// `ssdlet-testkit-peer`.
    pub fn peer(&self) -> PathBuf {
        self.path("ssdlet-testkit-peer")
    }

    /// `ssdlet-testkit-net`.
    pub fn net(&self) -> PathBuf {
        self.path("ssdlet-testkit-net")
    }
}

/// The workspace root (this crate lives at `<root>/ssdlets/module-build`).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().and_then(Path::parent).unwrap_or(here).to_path_buf()
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("modules"),
        _ => workspace_root().join("target").join("modules"),
    }
}

fn build_now(profile: Profile) -> Result<Modules, BuildError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let target = target_dir();
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace_root())
        .arg("build")
        .arg("--quiet")
        // The outer cargo has already resolved the workspace: never rewrite its Cargo.lock.
        .arg("--locked")
        .arg("--target-dir")
        .arg(&target);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    for krate in MODULE_CRATES {
        cmd.arg("-p").arg(krate);
    }
    // The outer cargo's jobserver and target settings must not leak into the nested build.
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().map_err(|e| BuildError::Spawn {
        cargo: cargo.clone(),
        reason: e.to_string(),
    })?;
    if !out.status.success() {
        return Err(BuildError::Cargo {
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    let dir = target.join(match profile {
        Profile::Debug => "debug",
        Profile::Release => "release",
    });
    let modules = Modules { dir };
    for krate in MODULE_CRATES {
        let path = modules.path(krate);
        if !path.is_file() {
            return Err(BuildError::Missing {
                krate: (*krate).to_owned(),
                path,
            });
        }
    }
    Ok(modules)
}

/// Builds the test modules with `profile` (once per process) and returns their paths.
pub fn build(profile: Profile) -> Result<&'static Modules, BuildError> {
    static DEBUG: OnceLock<Result<Modules, BuildError>> = OnceLock::new();
    static RELEASE: OnceLock<Result<Modules, BuildError>> = OnceLock::new();
    let cell = match profile {
        Profile::Debug => &DEBUG,
        Profile::Release => &RELEASE,
    };
    cell.get_or_init(|| build_now(profile))
        .as_ref()
        .map_err(Clone::clone)
}
