//! Command-line options shared by the `suite`, `wordcount`, `grep` and `pointer-chase`
//! programs (clap derive structs the binaries flatten). Each application's own options are in
//! its crate (`wordcount::cli`, `grep::cli`, `pointer_chase::cli`).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::size::parse_size;

/// Which runs to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Near-data only.
    Ndp,
    /// Conventional only.
    Conv,
    /// Both, compared (default).
    Both,
}

impl Mode {
    /// Whether the conventional run is made.
    pub fn conv(self) -> bool {
        self != Mode::Ndp
    }

    /// Whether the NDP run is made.
    pub fn ndp(self) -> bool {
        self != Mode::Conv
    }
}

/// How SSDlet compute is charged on the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compute {
    /// Counted work times calibrated per-unit costs (deterministic, the default).
    Modeled,
    /// Measured thread CPU time (device: times the profile's `arm_slowdown`; host: at factor
    /// 1). Varies with the machine and its load.
    Measured,
}

/// Which build of the SSDlet modules to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModuleBuild {
    /// Optimized (the default: SSDlet compute is measured, so figures need it).
    Release,
    /// Unoptimized (what the tests build anyway).
    Debug,
}

/// Options every program takes.
#[derive(Args, Clone, Debug)]
pub struct Common {
    /// Runs to make: ndp, conv or both (compared).
    #[arg(long, value_enum, default_value_t = Mode::Both)]
    pub mode: Mode,
    /// Device profile: a built-in name (pm1725, tiny) or a TOML file.
    #[arg(long, default_value = "pm1725")]
    pub profile: String,
    /// Seed of the generated data and of the start nodes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// How compute is charged, device and host: modeled (counted work x calibrated costs,
    /// deterministic) or measured (thread CPU time; device: x the profile's ARM slowdown).
    #[arg(long, value_enum, default_value_t = Compute::Modeled)]
    pub compute: Compute,
    /// Calibration file (per-unit costs, as written by `suite calibrate`); default: the one
    /// shipped in `examples/app-support/calibration.toml`.
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// Sets one device profile field, e.g. `--set arm.arm_slowdown=5` (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub set: Vec<String>,
    /// Which build of the SSDlet modules to use (built with cargo on first use).
    #[arg(long, value_enum, default_value_t = ModuleBuild::Release)]
    pub modules: ModuleBuild,
    /// Print one JSON object instead of the report (no progress).
    #[arg(long)]
    pub json: bool,
    /// `--trace FILE.json` and its cap.
    #[command(flatten)]
    pub trace: TraceArgs,
}

/// `--trace FILE.json` (every program).
#[derive(Args, Clone, Debug)]
pub struct TraceArgs {
    /// Write the simulated timeline here as Chrome trace-event JSON (open it in
    /// https://ui.perfetto.dev or chrome://tracing).
    #[arg(long, value_name = "FILE.json")]
    pub trace: Option<PathBuf>,
    /// Events the trace records at most; later ones are dropped and the file's metadata
    /// says how many.
    #[arg(long, value_name = "N", default_value_t = sim_nvme::trace::DEFAULT_MAX_EVENTS)]
    pub trace_max_events: u64,
}

impl Default for TraceArgs {
    fn default() -> Self {
        TraceArgs {
            trace: None,
            trace_max_events: sim_nvme::trace::DEFAULT_MAX_EVENTS,
        }
    }
}

/// Where the text comes from (wordcount, grep, suite).
#[derive(Args, Clone, Debug)]
pub struct TextSource {
    /// A text file to put on the device.
    #[arg(long, value_name = "FILE", conflicts_with = "generate")]
    pub input: Option<PathBuf>,
    /// Generate this much seeded Zipf text (e.g. 64MiB, 1GiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64MiB")]
    pub generate: u64,
}
