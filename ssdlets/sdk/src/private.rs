//! Glue called by the code `register_module!` generates. Not a public API.
//!
//! Every entry point catches panics: nothing unwinds across the C ABI (an unwind out of an
//! `extern "C"` function aborts the process, and the host's std could not catch the module's
//! panic anyway).

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

use ssdlet_abi::meta::SsdletDesc;
use ssdlet_abi::{InstanceCtx, RuntimeVtable, Status, ABI_VERSION};

use crate::args::ArgList;
use crate::context::Context;
use crate::ports::{InputList, OutputList};
use crate::rt::{Aborted, Failed, Rt};
use crate::{sig_list_string, Ssdlet};

/// One registered SSDlet: its id and its typed entry.
pub struct Entry {
    /// Registered id.
    pub id: &'static str,
    /// Runs the SSDlet with the encoded arguments.
    pub run: fn(Rt, &'static str, &[u8]) -> Status,
}

/// The metadata description of `T` under `id` (evaluated at compile time).
pub const fn describe<T: Ssdlet>(id: &'static str) -> SsdletDesc {
    SsdletDesc {
        id,
        arg_names: T::ARG_NAMES,
        arg_types: <T::Args as ArgList>::SIGS,
        input_names: T::INPUT_NAMES,
        input_types: <T::Inputs as InputList>::SIGS,
        output_names: T::OUTPUT_NAMES,
        output_types: <T::Outputs as OutputList>::SIGS,
    }
}

/// Body of the generated `ssdlet_metadata`.
///
/// # Safety
/// `out_len` must be null or valid for a write of one `usize`.
pub unsafe fn metadata(bytes: &'static [u8], out_len: *mut usize) -> *const u8 {
    if !out_len.is_null() {
        // SAFETY: caller contract: `out_len` is null (checked) or a valid out-pointer.
        unsafe { out_len.write(bytes.len()) };
    }
    bytes.as_ptr()
}

thread_local! {
    /// Message and location of the last panic on this thread, recorded by the panic hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}

/// Body of the generated `ssdlet_module_init`.
///
/// # Safety
/// `vt` must be null or point to a runtime vtable valid while the module is loaded.
pub unsafe fn module_init(vt: *const RuntimeVtable) -> Status {
    if vt.is_null() {
        return Status::INVALID_ARGUMENT;
    }
    // SAFETY: caller contract; the first two fields (version, size) are readable in every
    // ABI version.
    let (version, size) = unsafe { ((*vt).abi_version, (*vt).size) };
    // The version must agree; the table may be longer than this SDK knows (a newer runtime
    // appended services) or shorter (an older one), but never shorter than the first table.
    // INVARIANT(vtable-append-only): refuse another version or a table shorter than the first
    if version != ABI_VERSION || (size as usize) < RuntimeVtable::BASE_SIZE {
        return Status::ABI_MISMATCH;
    }
    let r = panic::catch_unwind(|| {
        crate::alloc::install(vt);
        // Record panics instead of printing them: the entry point reports them through the
        // runtime. The hook belongs to this module's own std, not the host's.
        panic::set_hook(Box::new(|info| {
            let msg = payload_text(info.payload());
            let text = match info.location() {
                Some(l) => format!("{msg} (at {}:{}:{})", l.file(), l.line(), l.column()),
                None => msg,
            };
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
        }));
    });
    match r {
        Ok(()) => Status::OK,
        Err(_) => Status::PANICKED,
    }
}

/// Body of the generated `ssdlet_run`.
///
/// # Safety
/// `vt`/`ctx` must be what the runtime passed to `ssdlet_run`, and `args` must point to
/// `args_len` readable bytes (or be null with `args_len == 0`).
pub unsafe fn run_entry(
    vt: *const RuntimeVtable,
    ctx: *mut InstanceCtx,
    index: u32,
    args: *const u8,
    args_len: usize,
    entries: &[Entry],
) -> Status {
    if vt.is_null() || (args.is_null() && args_len != 0) {
        return Status::INVALID_ARGUMENT;
    }
    let Some(entry) = entries.get(index as usize) else {
        return Status::NO_SUCH_SSDLET;
    };
    let args: &[u8] = if args_len == 0 {
        &[]
    } else {
        // SAFETY: caller contract: `args` points to `args_len` readable bytes.
        unsafe { std::slice::from_raw_parts(args, args_len) }
    };
    let rt = Rt::new(vt, ctx);
    // INVARIANT(no-panic-across-abi): the glue itself is guarded too
    let result = panic::catch_unwind(AssertUnwindSafe(|| (entry.run)(rt, entry.id, args)));
    match result {
        Ok(status) => status,
        // `run_ssdlet` catches the SSDlet's panics; this only guards the glue itself.
        Err(payload) => {
            forget_payload(payload);
            Status::PANICKED
        }
    }
}

/// Drops a panic payload without letting a panicking `Drop` escape.
fn forget_payload(payload: Box<dyn std::any::Any + Send>) {
    let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(payload)));
}

/// Decodes the arguments of `T`, binds its ports and runs it, catching panics.
pub fn run_ssdlet<T: Ssdlet>(rt: Rt, id: &'static str, args: &[u8]) -> Status {
    let raw = match postcard::take_from_bytes::<<T::Args as ArgList>::Raw>(args) {
        Ok((raw, [])) => raw,
        Ok((_, rest)) => {
            rt.set_error(&format!(
                "arguments of SSDlet `{id}` have {} trailing bytes (expected {})",
                rest.len(),
                sig_list_string(<T::Args as ArgList>::SIGS)
            ));
            return Status::BAD_ARGS;
        }
        Err(e) => {
            rt.set_error(&format!(
                "arguments of SSDlet `{id}` do not decode as {}: {e}",
                sig_list_string(<T::Args as ArgList>::SIGS)
            ));
            return Status::BAD_ARGS;
        }
    };
    LAST_PANIC.with(|p| p.borrow_mut().take());
    // INVARIANT(no-panic-across-abi): the SSDlet's panics end here, as a status
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let args = <T::Args as ArgList>::bind(raw, rt);
        let inputs = <T::Inputs as InputList>::bind(rt, T::INPUT_NAMES);
        let outputs = <T::Outputs as OutputList>::bind(rt, T::OUTPUT_NAMES);
        let ctx = Context::new(rt, id);
        T::run(&ctx, args, inputs, outputs)
    }));
    match result {
        Ok(Ok(())) => Status::OK,
        Ok(Err(e)) => {
            rt.set_error(e.message());
            Status::FAILED
        }
        Err(payload) => {
            let status = if payload.is::<Aborted>() {
                Status::ABORTED
            } else if payload.is::<Failed>() {
                Status::FAILED
            } else {
                let msg = LAST_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_else(|| payload_text(payload.as_ref()));
                rt.set_error(&msg);
                Status::PANICKED
            };
            forget_payload(payload);
            status
        }
    }
}
