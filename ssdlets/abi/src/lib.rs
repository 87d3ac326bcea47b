//! The C ABI shared by the device runtime and SSDlet modules.
//!
//! Not built yet: the vtable, entry points and metadata format arrive with the SDK/ABI issue.
//! This crate depends on `core` only; it is the one thing both sides of a module share.
#![no_std]

/// Version of the module ABI. A module built against another version is refused by the loader.
pub const ABI_VERSION: u32 = 1;
