//! [`SuiteError`]: why an application program failed, naming the thing and what was expected.
//! A failed conventional or NDP run carries its application's own error as a [`RunError`].

use std::path::PathBuf;

/// Why one conventional or NDP run failed: the application's own error type (`host_sdk::Error`,
/// or an application's enum such as `pointer_chase::conv::ConvError`).
pub type RunError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a run of a program failed.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The input file could not be read.
    #[error("cannot read input file `{}`: {source}; expected a readable file", path.display())]
    Input {
        /// The path given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An output file could not be written.
    #[error("cannot write output file `{}`: {source}", path.display())]
    Output {
        /// The path given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The report directory or one of its files could not be written.
    #[error("cannot write the report in `{}`: {source}; expected a writable directory", path.display())]
    Report {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A chart of the report could not be drawn.
    #[error("report chart {chart:?}: {reason}")]
    Chart {
        /// Which chart.
        chart: String,
        /// Why.
        reason: String,
    },
    /// The trace file could not be created or written.
    #[error(transparent)]
    Trace(#[from] sim_nvme::trace::TraceError),
    /// `--trace-max-events 0`.
    #[error("--trace-max-events 0: expected at least 1 event")]
    TraceCap,
    /// The device profile does not load.
    #[error("device profile `{name}`: {source}")]
    Profile {
        /// The name or path given.
        name: String,
        /// Why.
        source: sim_nvme::ProfileError,
    },
    /// A device benchmark or a paper figure could not be computed.
    #[error("{0}")]
    Bench(String),
    /// A sweep is not `section.key=v1,v2,...`.
    #[error("sweep {given:?}: expected section.key=v1,v2,..., e.g. arm.arm_slowdown=5,10,20")]
    Sweep {
        /// What was given.
        given: String,
    },
    /// A calibration file does not load.
    #[error("calibration {file}: {reason}; expected a TOML file as written by `suite calibrate`")]
    Calibration {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The calibration has no cost for a conventional host path.
    #[error(
        "the calibration has no host cost for `{workload}` (it has: {known}); run `cargo run \
         --release -p suite -- calibrate` or use `--compute measured`"
    )]
    NoHostCost {
        /// The workload.
        workload: String,
        /// The workloads it has.
        known: String,
    },
    /// The SSDlet modules could not be built.
    #[error("building the SSDlet modules failed: {0}")]
    Modules(#[from] ssdlet_module_build::BuildError),
    /// A graph file is not a whole number of adjacency pages.
    #[error("graph file `{}` is {size} bytes; expected a multiple of 4096 bytes, at least 2 pages", path.display())]
    GraphFile {
        /// The path given.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// The generated graph's size is unusable.
    #[error("graph of {size} bytes: {source}")]
    GraphSize {
        /// The size asked for.
        size: u64,
        /// Why.
        source: ndp_data::gen::graph::GraphError,
    },
    /// The pattern cannot be searched for.
    #[error("pattern {pattern:?}: {reason}")]
    Pattern {
        /// The pattern given.
        pattern: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A walk count that cannot run.
    #[error("{what} = {value}: expected at least 1")]
    Walks {
        /// `--starts` or `--hops`.
        what: &'static str,
        /// What was given.
        value: u64,
    },
    /// The host API failed outside a run (opening the device, putting data, loading a module).
    #[error(transparent)]
    Host(#[from] host_sdk::Error),
    /// A conventional run failed.
    #[error("{workload}, conventional run: {source}")]
    Conv {
        /// The workload.
        workload: &'static str,
        /// Why.
        source: RunError,
    },
    /// An NDP run failed.
    #[error("{workload}, NDP run: {source}")]
    Ndp {
        /// The workload.
        workload: &'static str,
        /// Why.
        source: RunError,
    },
    /// The two runs disagree.
    #[error("{workload}: the conventional and NDP results differ ({detail})")]
    Mismatch {
        /// The workload.
        workload: &'static str,
        /// How they differ.
        detail: String,
    },
}

impl SuiteError {
    /// The conventional run of `workload` failed with `source`.
    pub fn conv(workload: &'static str, source: impl Into<RunError>) -> SuiteError {
        SuiteError::Conv {
            workload,
            source: source.into(),
        }
    }

    /// The NDP run of `workload` failed with `source`.
    pub fn ndp(workload: &'static str, source: impl Into<RunError>) -> SuiteError {
        SuiteError::Ndp {
            workload,
            source: source.into(),
        }
    }
}
