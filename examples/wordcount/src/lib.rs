//! Biscuit's wordcount on the host API: near the data (the SSDlets of `ssdlet-wordcount`, in
//! `ssdlet-wordcount/`: mappers -> shuffler -> reducers, the host reading `(word, count)`
//! pairs) and conventionally (the host reads the file over NVMe and counts), on one simulated
//! device and one host clock.
//!
//! - [`conv`], [`ndp`]: the two runs, returning [`Measured`](app_support::Measured) results;
//! - [`text`]: the conventional side's streaming [`WordCounter`](text::WordCounter);
//! - [`workload`]: the chosen runs compared, as an [`Outcome`](app_support::Outcome);
//! - [`cli`]: the program's own options (the rest is `app_support::cli`).
//!
//! `cargo run --release -p wordcount` runs the `wordcount` program; `suite` runs it beside
//! grep and pointer chasing.

pub mod cli;
pub mod conv;
pub mod ndp;
pub mod text;
pub mod workload;

/// The module crate whose SSDlets the NDP run uses.
pub const MODULE: &str = "ssdlet-wordcount";
