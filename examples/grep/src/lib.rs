//! Biscuit's string search on the host API: near the data (the `grep` SSDlet of `ssdlet-grep`,
//! in `ssdlet-grep/`: the per-channel matchers hint pages, the SSDlet confirms the lines) and
//! conventionally (the host reads the whole file over NVMe and scans it), on one simulated
//! device and one host clock.
//!
//! - [`conv`], [`ndp`]: the two runs, returning [`Measured`](app_support::Measured) results;
//! - [`text`]: the conventional side's streaming [`LineScanner`](text::LineScanner) and
//!   [`LineHit`];
//! - [`workload`]: the chosen runs compared, as an [`Outcome`](app_support::Outcome);
//! - [`cli`]: the program's own options (the rest is `app_support::cli`).
//!
//! `cargo run --release -p grep` runs the `grep` program; `suite` runs it beside wordcount and
//! pointer chasing.

pub mod cli;
pub mod conv;
pub mod ndp;
pub mod text;
pub mod workload;

pub use text::LineHit;

/// The module crate whose SSDlet the NDP run uses.
pub const MODULE: &str = "ssdlet-grep";
