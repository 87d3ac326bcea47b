//! Shared test support: builds the test modules once and hands out a loader.

#![allow(dead_code)]

pub mod host;

use device_runtime::loader::Loader;
use ssdlet_module_build::{build, Modules, Profile};

/// The test modules, built (once per process) by a nested `cargo build`.
pub fn modules() -> &'static Modules {
    match build(Profile::Debug) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

/// A loader with a private staging directory of its own (removed when it and its modules are
/// gone), so tests running in parallel never share one.
pub fn loader() -> Loader {
    Loader::with_temp_staging().expect("staging dir")
}

/// A fresh scratch directory for one test, removed when the returned value is dropped.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ssdlet-test-")
        .tempdir()
        .expect("scratch dir")
}
