//! The symbols every module exports, and their C signatures.
//!
//! The `ssdlet_sdk::register_module!` macro generates all three; the loader resolves them
//! after `dlopen`. All three catch panics: nothing unwinds across them.

use crate::{InstanceCtx, RuntimeVtable, Status};

/// Symbol of [`ModuleInitFn`], NUL-terminated for `dlsym`.
pub const SYM_MODULE_INIT: &[u8] = b"ssdlet_module_init\0";
/// Symbol of [`RunFn`], NUL-terminated for `dlsym`.
pub const SYM_RUN: &[u8] = b"ssdlet_run\0";
/// Symbol of [`MetadataFn`], NUL-terminated for `dlsym`.
pub const SYM_METADATA: &[u8] = b"ssdlet_metadata\0";

/// Called once after the module is loaded, before any `ssdlet_run`. The module keeps `vt`
/// (for its global allocator) and returns `OK`, or `ABI_MISMATCH` if `vt.abi_version` is not
/// its own.
pub type ModuleInitFn = unsafe extern "C" fn(vt: *const RuntimeVtable) -> Status;

// INVARIANT(abi-c-types-only): entry points take and return C types only
/// Runs SSDlet number `index` (its position in the metadata) to completion on the calling
/// fiber. `args`/`args_len` are the postcard-encoded argument tuple (a `File` is its handle as
/// a `u64`). Returns `OK`, `PANICKED`, `FAILED`, `ABORTED`, `BAD_ARGS` or `NO_SUCH_SSDLET`;
/// for the failures the message was reported with `set_error` first.
pub type RunFn = unsafe extern "C" fn(
    vt: *const RuntimeVtable,
    ctx: *mut InstanceCtx,
    index: u32,
    args: *const u8,
    args_len: usize,
) -> Status;

/// Returns the module's metadata bytes (the same bytes as its metadata section) and writes
/// their length to `*out_len`. Lets the loader check that what it validated is what it loaded.
pub type MetadataFn = unsafe extern "C" fn(out_len: *mut usize) -> *const u8;
