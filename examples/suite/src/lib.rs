//! Biscuit's application suite: wordcount, pointer chasing and string search.
//!
//! - [`gen`], [`baseline`]: re-exported from `ndp-data` (seeded generators, native baselines);
//! - [`conv`]: the conventional runs on a simulated device (host reads over NVMe + host
//!   compute), with their simulated time;
//! - [`ndp`]: the near-data runs of the suite's SSDlet modules (`ssdlets/wordcount`,
//!   `ssdlets/grep`, `ssdlets/pointer-chase`) through the device runtime.
//!
//! `cargo run --release -p ndp-examples --example figures` prints the comparison on `pm1725`.

pub mod conv;
pub mod ndp;

pub use ndp_data::{baseline, gen};
