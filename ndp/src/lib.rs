//! The `ndp` command and the `ndp serve` daemon: a thin layer over `host-sdk` (files, status),
//! `device-runtime` (`ndp inspect`, the served firmware) and `sim-nvme` (`ndp bench`).
//!
//! The library holds the daemon ([`daemon`]) so that programs and tests can serve a device in
//! process; the binary (`src/bin/ndp`) holds the command line.

pub mod daemon;
