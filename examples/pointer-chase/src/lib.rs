//! Biscuit's pointer chasing on the host API: walks over a power-law graph stored as 4 KiB
//! adjacency pages (`ndp_data::gen::graph`), each hop a data-dependent read, near the data (the
//! `chase` SSDlet of `ssdlet-pointer-chase`, in `ssdlet-pointer-chase/`) and conventionally
//! (one queue-depth-1 host read per hop), on one simulated device and one host clock.
//!
//! - [`conv`], [`ndp`]: the two runs, returning [`Measured`](app_support::Measured) results;
//! - [`workload`]: the chosen runs compared, as an [`Outcome`](app_support::Outcome);
//! - [`cli`]: the program's own options (the rest is `app_support::cli`).
//!
//! `cargo run --release -p pointer-chase` runs the `pointer-chase` program; `suite` runs it
//! beside grep and wordcount.

pub mod cli;
pub mod conv;
pub mod ndp;
pub mod workload;

/// The module crate whose SSDlet the NDP run uses.
pub const MODULE: &str = "ssdlet-pointer-chase";
