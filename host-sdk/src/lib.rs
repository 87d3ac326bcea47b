//! The host side of the framework.
//!
//! So far this holds the device benchmarks behind `ndp bench` ([`bench`]). The host API
//! (`Device`, `Module`, `Application`, ports) arrives with the host-SDK issue.

pub mod bench;
