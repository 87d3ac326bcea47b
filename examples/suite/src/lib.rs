//! Biscuit's application suite on the host API: wordcount, pointer chasing and string search,
//! each run near the data (SSDlets of `ssdlets/wordcount`, `ssdlets/grep`,
//! `ssdlets/pointer-chase`) and conventionally (the host reads over NVMe and computes), on
//! one simulated device and one host clock.
//!
//! - [`conv`], [`ndp`]: the two paths of each workload, returning [`Measured`] results;
//! - [`text`]: the conventional side's streaming word counter and line scanner;
//! - [`workload`]: a workload's chosen runs compared, as an [`Outcome`];
//! - [`setup`], [`cli`], [`size`], [`progress`], [`report`], [`program`]: what the
//!   `suite`, `wordcount`, `grep` and `pointer-chase` programs share;
//! - [`mod@bench`]: the wordcount simulation-speed bench (`suite bench-wall`).
//!
//! `gen` and `baseline` are re-exported from `ndp-data` (seeded generators, native baselines).
//!
//! `cargo run --release -p ndp-examples --bin suite` runs all three on `pm1725` with
//! generated data and prints the comparison.

pub mod bench;
pub mod cli;
pub mod conv;
pub mod error;
pub mod measure;
pub mod ndp;
pub mod outcome;
pub mod program;
pub mod progress;
pub mod report;
pub mod setup;
pub mod size;
pub mod text;
pub mod workload;

pub use error::SuiteError;
pub use measure::{Measured, Path};
pub use ndp_data::{baseline, gen};
pub use outcome::Outcome;
pub use text::LineHit;
