//! The C ABI shared by the device runtime and SSDlet modules.
//!
//! This crate depends on `core` only; it is the one thing both sides of a module share
//! (Architecture Invariant). Everything that crosses the module boundary is defined here:
//!
//! - [`ABI_VERSION`]: a module built against another version is refused by the loader.
//! - [`vtable::RuntimeVtable`]: the `#[repr(C)]` table of runtime services a module calls
//!   (ports, file reads, the pattern matcher, memory, logging, yield).
//! - [`entry`]: the symbols a module exports and their C signatures.
//! - [`meta`]: the metadata format kept in the [`meta::SECTION_NAME`] ELF section, readable
//!   without running the module, and [`sig::TypeSig`], the stable message-type signatures.
//! - [`status::Status`]: the result code of every call across the boundary.
//!
//! No Rust-ABI types, trait objects or `std` types cross the boundary: only integers, raw
//! pointers, `#[repr(C)]` structs and `extern "C"` function pointers.
#![no_std]

pub mod crc;
pub mod entry;
pub mod meta;
pub mod sig;
pub mod status;
pub mod vtable;

pub use status::Status;
pub use vtable::{
    ByteSlice, FileHandle, InstanceCtx, LogLevel, MatcherLimits, MsgRef, PortDir, RuntimeVtable,
};

/// Version of the module ABI. A module built against another version is refused by the loader.
///
/// Bump it on any change to [`vtable::RuntimeVtable`], [`entry`] signatures, [`status`] codes
/// or the metadata payload grammar in [`meta`].
pub const ABI_VERSION: u32 = 1;
