//! The module's global allocator: forwards every allocation to the runtime so it can account
//! device DRAM per application.
//!
//! `register_module!` installs [`RuntimeAllocator`] as the module's `#[global_allocator]`.
//! Until `ssdlet_module_init` has run (e.g. while the dynamic loader runs constructors) it
//! falls back to the C library allocator; the runtime's `alloc` is itself backed by the C
//! library allocator, so a block may be freed by either path. The hook is a module static:
//! it is shared by every instance loaded from one path, which is fine because it only holds
//! the (process-wide) vtable; per-instance accounting happens in the runtime.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicPtr, Ordering};

use ssdlet_abi::RuntimeVtable;

static HOOK: AtomicPtr<RuntimeVtable> = AtomicPtr::new(std::ptr::null_mut());

/// Points the allocator at the runtime's memory services.
pub(crate) fn install(vt: *const RuntimeVtable) {
    HOOK.store(vt.cast_mut(), Ordering::Release);
}

/// A global allocator that forwards to the runtime's `alloc`/`dealloc`/`realloc` services.
pub struct RuntimeAllocator;

// SAFETY: every method either defers to `System` (a valid GlobalAlloc) or to the runtime's
// services, whose ABI contract is the GlobalAlloc contract (size/align in, a block of at
// least `size` bytes aligned to `align` or null out; dealloc/realloc with the same layout).
unsafe impl GlobalAlloc for RuntimeAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let vt = HOOK.load(Ordering::Acquire);
        if vt.is_null() {
            // SAFETY: caller upholds GlobalAlloc::alloc's contract, which we pass on.
            unsafe { System.alloc(layout) }
        } else {
            // SAFETY: `vt` was installed from the runtime's vtable, valid while loaded.
            unsafe { ((*vt).alloc)(layout.size(), layout.align()) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let vt = HOOK.load(Ordering::Acquire);
        if vt.is_null() {
            // SAFETY: caller upholds GlobalAlloc::dealloc's contract.
            unsafe { System.dealloc(ptr, layout) }
        } else {
            // SAFETY: as in `alloc`; the runtime frees blocks from either path (module doc).
            unsafe { ((*vt).dealloc)(ptr, layout.size(), layout.align()) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let vt = HOOK.load(Ordering::Acquire);
        if vt.is_null() {
            // SAFETY: caller upholds GlobalAlloc::realloc's contract.
            unsafe { System.realloc(ptr, layout, new_size) }
        } else {
            // SAFETY: as in `alloc`.
            unsafe { ((*vt).realloc)(ptr, layout.size(), layout.align(), new_size) }
        }
    }
}
