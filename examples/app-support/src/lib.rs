//! What the application programs share: `suite` (all three, `examples/suite`), `wordcount`,
//! `grep` and `pointer-chase` (`examples/wordcount`, `examples/grep`,
//! `examples/pointer-chase`), each run near the data and conventionally on one simulated
//! device and one host clock.
//!
//! - [`gen`], [`baseline`]: re-exported from `ndp-data` (seeded generators, native baselines;
//!   a crate of its own in `ndp-data/` so `host-sdk`'s tests can use it);
//! - [`calibration`]: the per-unit costs compute is charged with, device and host;
//! - [`measure`]: [`Measured`] runs, and the measuring frames of a conventional scan and of an
//!   NDP Application;
//! - [`workload`]: the chosen runs of a workload compared ([`workload::both`]), output files;
//! - [`outcome`], [`report`]: a workload's [`Outcome`] and its reports (side by side, table,
//!   JSON);
//! - [`setup`], [`cli`], [`size`], [`progress`], [`program`], [`error`]: the device and its
//!   modules, the data, the options every program takes, and the programs' common frame;
//! - [`trace`]: `--trace FILE.json`, the simulated timeline as Chrome trace-event JSON;
//! - [`testing`]: what the applications' tests share (a device with the debug modules, running
//!   a program with `--json`).

pub mod calibration;
pub mod cli;
pub mod error;
pub mod measure;
pub mod outcome;
pub mod program;
pub mod progress;
pub mod report;
pub mod setup;
pub mod size;
pub mod testing;
pub mod trace;
pub mod workload;

pub use error::{RunError, SuiteError};
pub use measure::{Measured, Path};
pub use ndp_data::{baseline, fx, gen};
pub use outcome::Outcome;
