//! Biscuit's application suite: wordcount, pointer chasing and string search.
//!
//! So far this crate holds what every example needs besides the device: seeded data
//! generators ([`gen`]) and the plain native computations the examples are checked against
//! ([`baseline`]). The SSDlets and the host programs that run each example the conventional
//! way and the near-data way arrive with the application-suite issue.

pub mod baseline;
pub mod gen;
