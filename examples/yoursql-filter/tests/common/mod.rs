//! What the TPC-H tests share: the scale factor, a runtime, the filter module built once.

use std::path::PathBuf;
use std::sync::OnceLock;

/// The scale factor the TPC-H tests load.
pub const SF: f64 = 0.01;

/// A tokio runtime as the program builds one.
pub fn rt() -> tokio::runtime::Runtime {
    yoursql_filter::session::runtime().unwrap()
}

/// The filter module, built once per test binary.
pub fn module() -> PathBuf {
    static M: OnceLock<PathBuf> = OnceLock::new();
    M.get_or_init(|| yoursql_core::build_filter_module(false).expect("build the filter module"))
        .clone()
}
