//! The C ABI shared by the device runtime and SSDlet modules.
//!
//! This crate depends on `core` only; it is the one thing both sides of a module share
//! (INVARIANT(abi-core-only)). Everything that crosses the module boundary is defined here:
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
//! pointers, `#[repr(C)]` structs (and `#[repr(transparent)]` integer newtypes) and `extern "C"`
//! function pointers (INVARIANT(abi-c-types-only)).
// INVARIANT(abi-core-only): no std and no dependencies (Cargo.toml lists none)
#![no_std]

pub mod crc;
pub mod entry;
pub mod meta;
pub mod sig;
pub mod status;
pub mod vtable;

pub use status::Status;
pub use vtable::{
    ByteSlice, FileHandle, InstanceCtx, LogLevel, MatcherLimits, MsgRef, OwnedBytes, PortDir, RuntimeVtable,
};

// INVARIANT(vtable-append-only): bump on incompatible changes; services are only appended
/// Version of the module ABI. A module built against another version is refused by the loader.
///
/// Bump it on any incompatible change: a field of [`vtable::RuntimeVtable`] changed, removed
/// or moved, an [`entry`] signature changed, a [`status`] code's meaning changed, or the
/// metadata payload grammar in [`meta`] changed.
///
/// Appending a service at the end of [`vtable::RuntimeVtable`] is compatible and keeps the
/// version: the table's `size` says which services a runtime has. A module checks `size`
/// before it calls a service appended after the version's first table
/// ([`vtable::RuntimeVtable::BASE_SIZE`]), as [`vtable::RuntimeVtable::has_port_put_owned`]
/// does, so a module runs on a runtime older or newer than its SDK as long as the version
/// agrees. Appended so far in version 1: `port_put_owned`, the byte and the batch ports.
pub const ABI_VERSION: u32 = 1;
