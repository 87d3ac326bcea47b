//! The SSDlet SDK: what module authors depend on.
//!
//! Not built yet: ports, `File`, `FileStream` and the registration macro arrive with the
//! SDK/ABI issue. This crate never depends on `device-runtime` or `host-sdk`.

pub use ssdlet_abi::ABI_VERSION;
