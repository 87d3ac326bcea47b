//! Shared test support: builds the test modules once and hands out a loader.

#![allow(dead_code)]

use std::path::PathBuf;

use device_runtime::loader::Loader;
use ssdlet_module_build::{build, Modules, Profile};

/// The test modules, built (once per process) by a nested `cargo build`.
pub fn modules() -> &'static Modules {
    match build(Profile::Debug) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

/// A loader with a fresh staging directory.
pub fn loader(tag: &str) -> Loader {
    let dir = scratch(tag).join("staging");
    Loader::new(dir).expect("staging dir")
}

/// A fresh scratch directory for one test.
pub fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssdlet-test-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}
