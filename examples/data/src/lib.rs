//! The application suite's data and the answers it is checked against:
//!
//! - [`gen`]: seeded data generators (Zipf text, power-law adjacency-page graph);
//! - [`baseline`]: the plain native computations (word counts, line scans, in-memory pointer
//!   walks) that the conventional and NDP runs must equal.
//!
//! A crate of its own, with no device dependency, so that `host-sdk`'s tests can use it while
//! the examples (`ndp-examples`) are built on `host-sdk`.

pub mod baseline;
pub mod gen;
