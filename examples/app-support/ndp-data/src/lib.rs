//! The applications' data and the answers they are checked against:
//!
//! - [`gen`]: seeded data generators (Zipf text, power-law adjacency-page graph);
//! - [`baseline`]: the plain native computations (word counts, line scans, in-memory pointer
//!   walks) that the conventional and NDP runs must equal.
//!
//! A crate of its own (inside `examples/app-support`, which re-exports it), with no device
//! dependency, so that `host-sdk`'s tests can use it while `app-support` and the applications
//! (`wordcount`, `grep`, `pointer-chase`, `suite`) are built on `host-sdk`.

pub mod baseline;
pub mod fx;
pub mod gen;
