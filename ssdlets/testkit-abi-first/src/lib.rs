//! A module built against the *first* runtime table of ABI version 1: its view of the table
//! ([`FirstTable`]) ends at `set_error`, as every module's did before `port_put_owned` was
//! appended. It uses the raw ABI (no SDK), so nothing in it knows the newer services; the
//! runtime hands it today's longer table, and it must work (INVARIANT(vtable-append-only)).
//!
//! One SSDlet, `double`: every `u64` on input `in` comes out doubled on output `out`.

use core::ffi::c_void;

use ssdlet_abi::meta::{encode, encoded_len, ModuleDesc, SsdletDesc};
use ssdlet_abi::sig::TypeSig;
use ssdlet_abi::{InstanceCtx, MsgRef, PortDir, Status, ABI_VERSION};

/// The runtime table as ABI version 1 first defined it: the services through `set_error`.
/// Field order and types are those of `ssdlet_abi::RuntimeVtable`'s first fields.
#[repr(C)]
pub struct FirstTable {
    abi_version: u32,
    size: u32,
    port_get: unsafe extern "C" fn(*mut InstanceCtx, u32, *mut MsgRef) -> Status,
    port_put: unsafe extern "C" fn(*mut InstanceCtx, u32, *const u8, usize) -> Status,
    port_close: unsafe extern "C" fn(*mut InstanceCtx, PortDir, u32) -> Status,
    file_len: *const c_void,
    file_read: *const c_void,
    matcher_limits: *const c_void,
    matcher_scan: *const c_void,
    alloc: *const c_void,
    dealloc: *const c_void,
    realloc: *const c_void,
    log: *const c_void,
    yield_now: *const c_void,
    set_error: *const c_void,
}

const MODULE: ModuleDesc = ModuleDesc {
    name: "testkit_abi_first",
    version: env!("CARGO_PKG_VERSION"),
    ssdlets: &[SsdletDesc {
        id: "double",
        arg_names: &[],
        arg_types: &[],
        input_names: &["in"],
        input_types: &[TypeSig::U64],
        output_names: &["out"],
        output_types: &[TypeSig::U64],
    }],
};
const META_LEN: usize = encoded_len(&MODULE);

/// The metadata section the loader reads before `dlopen`.
#[unsafe(link_section = ".ssdlet_meta")]
#[used]
static META: [u8; META_LEN] = encode::<META_LEN>(&MODULE, ABI_VERSION);

/// Entry point: the metadata bytes.
///
/// # Safety
/// `out_len` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ssdlet_metadata(out_len: *mut usize) -> *const u8 {
    if !out_len.is_null() {
        // SAFETY: the caller passes a valid out-pointer (MetadataFn contract).
        unsafe { out_len.write(META_LEN) };
    }
    META.as_ptr()
}

/// Entry point: accepts a table of this ABI version at least as long as the first one.
///
/// # Safety
/// `vt` is null or points to a runtime table valid while the module is loaded.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ssdlet_module_init(vt: *const FirstTable) -> Status {
    if vt.is_null() {
        return Status::INVALID_ARGUMENT;
    }
    // SAFETY: the version and size fields start every table of every version.
    let (version, size) = unsafe { ((*vt).abi_version, (*vt).size) };
    if version != ABI_VERSION || (size as usize) < core::mem::size_of::<FirstTable>() {
        return Status::ABI_MISMATCH;
    }
    Status::OK
}

/// Entry point: runs `double` until its input ends.
///
/// # Safety
/// The runtime's RunFn contract: `vt` and `ctx` are valid for this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ssdlet_run(
    vt: *const FirstTable,
    ctx: *mut InstanceCtx,
    index: u32,
    _args: *const u8,
    _args_len: usize,
) -> Status {
    if index != 0 || vt.is_null() {
        return Status::NO_SUCH_SSDLET;
    }
    // SAFETY: the runtime's table outlives the call and is at least a FirstTable (checked
    // at module init).
    let vt = unsafe { &*vt };
    loop {
        let mut msg = MsgRef {
            ptr: core::ptr::null(),
            len: 0,
        };
        // SAFETY: `ctx` is this instance's; `msg` is a valid out-pointer.
        let s = unsafe { (vt.port_get)(ctx, 0, &mut msg) };
        if s == Status::CLOSED {
            break;
        }
        if s != Status::OK {
            return s;
        }
        let bytes = if msg.ptr.is_null() {
            &[][..]
        } else {
            // SAFETY: port_get's contract: `len` bytes at `ptr`, valid until the next get.
            unsafe { core::slice::from_raw_parts(msg.ptr, msg.len) }
        };
        let Ok(v) = postcard::from_bytes::<u64>(bytes) else {
            return Status::FAILED;
        };
        let mut buf = [0u8; 10];
        let Ok(out) = postcard::to_slice(&v.wrapping_mul(2), &mut buf) else {
            return Status::FAILED;
        };
        // SAFETY: `out` is valid for its length; the runtime copies it before returning.
        let s = unsafe { (vt.port_put)(ctx, 0, out.as_ptr(), out.len()) };
        if s != Status::OK {
            return s;
        }
    }
    // SAFETY: `ctx` is this instance's.
    unsafe { (vt.port_close)(ctx, PortDir::OUTPUT, 0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_table_is_a_prefix_of_todays() {
        // Same size as the runtime table up to (and including) set_error.
        assert_eq!(
            core::mem::size_of::<FirstTable>(),
            ssdlet_abi::RuntimeVtable::BASE_SIZE
        );
    }
}
