//! Large blocks that SSDlets free, kept on the runtime's thread for the next allocation of the
//! same size and alignment.
//!
//! The C allocator gives blocks of 128 KiB and more back to the kernel when they are freed (an
//! unmap, or a trim of the heap's top), so a module that allocates, fills and frees a 1 MiB
//! buffer per message pays a page fault for every 4 KiB page of every buffer: about 290 faults
//! and 0.3-0.6 ms per 1 MiB message on the machines this project runs on, more than the
//! copying.
//! Keeping a few freed blocks resident and handing them out again removes those faults. The
//! simulation does not see the cache: DRAM accounting and counted allocations are the same
//! either way (INVARIANT(device-deterministic)).
//!
//! A block handed out again holds what its last owner left in it, as any block from the C
//! allocator does.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ptr::NonNull;

/// Blocks smaller than this (bytes) are freed at once: the C allocator reuses them from its
/// own bins without a fault. 64 KiB (assumed: half the C allocator's default 128 KiB
/// threshold for mapping a block on its own).
pub(crate) const MIN_CACHED: usize = 64 * 1024;
/// The most bytes kept: 256 MiB (assumed: four ports' queues of 64 messages of 1 MiB). A
/// block freed beyond it is freed at once.
pub(crate) const MAX_CACHED_BYTES: usize = 256 << 20;

/// Kept blocks by layout.
#[derive(Default)]
struct Cache {
    blocks: HashMap<Layout, Vec<NonNull<u8>>>,
    bytes: usize,
}

impl Drop for Cache {
    fn drop(&mut self) {
        for (layout, blocks) in self.blocks.drain() {
            for p in blocks {
                // SAFETY: a kept block is a live System block of its layout that nobody uses.
                unsafe { System.dealloc(p.as_ptr(), layout) };
            }
        }
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// A System block of `layout`: a kept one if there is one, else a new one (null if the
/// allocator has none).
///
/// # Safety
/// As `GlobalAlloc::alloc`: `layout` has a non-zero size.
pub(crate) unsafe fn alloc(layout: Layout) -> *mut u8 {
    if layout.size() >= MIN_CACHED {
        let kept = CACHE
            .try_with(|c| {
                let mut c = c.borrow_mut();
                let p = c.blocks.get_mut(&layout)?.pop()?;
                c.bytes -= layout.size();
                Some(p)
            })
            .ok()
            .flatten();
        if let Some(p) = kept {
            return p.as_ptr();
        }
    }
    // SAFETY: the caller's contract.
    unsafe { System.alloc(layout) }
}

/// Frees a System block of `layout`, or, while an SSDlet runs on this thread, keeps it for a
/// later [`alloc`] of the same layout (a block freed by host-side work, such as a host
/// receiver draining a port after the run, is freed at once).
///
/// # Safety
/// As `GlobalAlloc::dealloc`: `ptr` is a live block from the System allocator (or the C
/// allocator) of `layout`, which nobody uses afterwards.
pub(crate) unsafe fn dealloc(ptr: *mut u8, layout: Layout) {
    let running = || {
        crate::instance::CURRENT
            .try_with(|c| !c.get().is_null())
            .unwrap_or(false)
    };
    // The size first: most frees are small, and never look at the thread-locals.
    if layout.size() >= MIN_CACHED && running() {
        if let Some(p) = NonNull::new(ptr) {
            let kept = CACHE.try_with(|c| {
                let mut c = c.borrow_mut();
                if c.bytes + layout.size() > MAX_CACHED_BYTES {
                    return false;
                }
                c.bytes += layout.size();
                c.blocks.entry(layout).or_default().push(p);
                true
            });
            if kept == Ok(true) {
                return;
            }
        }
    }
    // SAFETY: the caller's contract.
    unsafe { System.dealloc(ptr, layout) }
}

/// Frees every kept block: the runtime does when it runs out of runnable work, so blocks are
/// kept only while SSDlets run.
pub(crate) fn clear() {
    let _ = CACHE.try_with(|c| std::mem::take(&mut *c.borrow_mut()));
}

/// Frees every kept block when dropped: the last field of a `Runtime`, so a runtime going
/// away leaves none behind, including those its queued messages held.
pub(crate) struct FreeKeptBlocks;

impl Drop for FreeKeptBlocks {
    fn drop(&mut self) {
        clear();
    }
}

/// How many bytes are kept on this thread.
#[cfg(test)]
fn kept_bytes() -> usize {
    CACHE.with(|c| c.borrow().bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marks an SSDlet as running on this thread until dropped: blocks are kept only then.
    /// The pointer is never dereferenced here.
    struct AsIfRunning;

    impl AsIfRunning {
        fn new() -> AsIfRunning {
            crate::instance::CURRENT.with(|c| {
                c.set(
                    NonNull::<crate::instance::InstanceState>::dangling()
                        .as_ptr()
                        .cast_const(),
                )
            });
            AsIfRunning
        }
    }

    impl Drop for AsIfRunning {
        fn drop(&mut self) {
            crate::instance::CURRENT.with(|c| c.set(std::ptr::null()));
        }
    }

    #[test]
    fn blocks_freed_outside_a_running_ssdlet_are_not_kept() {
        clear();
        let big = Layout::from_size_align(1 << 20, 1).unwrap();
        // SAFETY: a non-zero layout; the block is freed once, with its layout.
        unsafe { dealloc(alloc(big), big) };
        assert_eq!(kept_bytes(), 0);
    }

    #[test]
    fn a_freed_large_block_is_handed_out_again_for_the_same_layout_only() {
        clear();
        let _running = AsIfRunning::new();
        let big = Layout::from_size_align(1 << 20, 1).unwrap();
        let other = Layout::from_size_align((1 << 20) + 3, 1).unwrap();
        let small = Layout::from_size_align(4096, 1).unwrap();
        // SAFETY: non-zero layouts; every block is freed with its own layout.
        unsafe {
            let a = alloc(big);
            assert!(!a.is_null());
            dealloc(a, big);
            assert_eq!(kept_bytes(), 1 << 20);
            let b = alloc(other);
            assert_ne!(a, b, "another size is not served from the kept block");
            let c = alloc(big);
            assert_eq!(a, c, "the same layout gets the kept block");
            assert_eq!(kept_bytes(), 0);
            let s = alloc(small);
            dealloc(s, small);
            assert_eq!(kept_bytes(), 0, "small blocks are not kept");
            dealloc(b, other);
            dealloc(c, big);
        }
        assert_eq!(kept_bytes(), (2 << 20) + 3);
        clear();
        assert_eq!(kept_bytes(), 0);
    }

    #[test]
    fn the_cache_stays_within_its_bound() {
        clear();
        let _running = AsIfRunning::new();
        let layout = Layout::from_size_align(MAX_CACHED_BYTES / 4, 8).unwrap();
        // SAFETY: non-zero layouts; each block freed once, with its layout.
        unsafe {
            let blocks: Vec<_> = (0..5).map(|_| alloc(layout)).collect();
            for &b in &blocks {
                assert!(!b.is_null());
                dealloc(b, layout);
            }
        }
        assert_eq!(
            kept_bytes(),
            MAX_CACHED_BYTES,
            "the fifth block was freed at once"
        );
        clear();
        assert_eq!(kept_bytes(), 0);
    }
}
