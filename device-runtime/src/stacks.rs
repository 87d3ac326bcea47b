//! [`StackPool`]: fiber stacks kept for reuse, so spawning an SSDlet does not map a new stack
//! (`mmap`, `mprotect` of the guard page) and finishing one does not unmap it.
//!
//! A stack goes back to the pool only from a fiber that returned: a fiber that trapped (a
//! stack overflow or another fault) or was forced off its stack is unmapped. Before a stack is
//! pooled its usable pages are discarded with `madvise(MADV_DONTNEED)`: on a private anonymous
//! mapping the next touch of each page maps a fresh zero page, so the next SSDlet on the stack
//! never reads what the previous one left there (INVARIANT(pooled-stack-zeroed)), and a pooled
//! stack holds no resident memory. That is one system call instead of the three of an unmap and
//! a new map.

use corosensei::stack::{DefaultStack, Stack};

use crate::fiber::page_size;

/// Fiber stacks of one size, ready to reuse.
pub struct StackPool {
    /// The size every stack of the pool was made with (bytes, the guard page not counted).
    size: usize,
    free: Vec<DefaultStack>,
    /// The most stacks kept; a stack given back beyond it is unmapped.
    max: usize,
}

/// The most stacks a [`StackPool`] keeps by default: 256 (assumed: more than the SSDlets of
/// any shipped Application; a pooled stack costs address space, not memory).
pub const DEFAULT_POOLED_STACKS: usize = 256;

impl StackPool {
    /// An empty pool of stacks of `size` bytes, keeping at most `max`.
    pub fn new(size: usize, max: usize) -> StackPool {
        StackPool {
            size,
            free: Vec::new(),
            max,
        }
    }

    /// The stack size of this pool (bytes).
    pub fn stack_size(&self) -> usize {
        self.size
    }

    /// How many stacks wait for reuse.
    pub fn len(&self) -> usize {
        self.free.len()
    }

    /// Whether no stack waits for reuse.
    pub fn is_empty(&self) -> bool {
        self.free.is_empty()
    }

    /// A stack of the pool's size: a pooled one (zeroed) or a newly mapped one.
    pub fn take(&mut self) -> std::io::Result<DefaultStack> {
        match self.free.pop() {
            Some(stack) => Ok(stack),
            None => DefaultStack::new(self.size),
        }
    }

    /// Takes `stack` back: discards its pages and keeps it, or unmaps it when the pool is full
    /// or discarding failed.
    pub fn give(&mut self, stack: DefaultStack) {
        if self.free.len() >= self.max {
            return;
        }
        let page = page_size();
        // The guard page is the mapping's lowest (`Stack::limit`); the usable pages follow it
        // up to `base`.
        let lo = stack.limit().get() + page;
        let len = stack.base().get() - lo;
        if len < self.size {
            // Smaller than the pool promises: unmapped.
            return;
        }
        // SAFETY: `[lo, lo + len)` is the stack's own read-write mapping, which nothing uses:
        // the fiber that ran on it has returned and gave it up. MADV_DONTNEED on a private
        // anonymous mapping only drops its pages, which read as zeros when next touched.
        let r = unsafe { libc::madvise(lo as *mut libc::c_void, len, libc::MADV_DONTNEED) };
        if r == 0 {
            self.free.push(stack);
        }
    }
}

#[cfg(test)]
mod tests {
    use ssdlet_abi::Status;

    use super::*;
    use crate::fiber::{Fiber, FiberExit, Resumed};

    const SIZE: usize = 64 * 1024;
    const SECRET: u8 = 0xA5;

    /// How many of the usable bytes of `stack` (above its guard page) are `byte`, read from
    /// outside the fiber.
    fn count_byte(stack: &DefaultStack, byte: u8) -> usize {
        let lo = stack.limit().get() + page_size();
        let len = stack.base().get() - lo;
        // SAFETY: `[lo, lo + len)` is the stack's read-write mapping, which no fiber runs on
        // while the test holds the stack.
        let bytes = unsafe { std::slice::from_raw_parts(lo as *const u8, len) };
        bytes.iter().filter(|&&b| b == byte).count()
    }

    fn run_to_end(mut fiber: Fiber) -> DefaultStack {
        assert_eq!(fiber.resume(), Resumed::Finished(FiberExit::Returned(Status::OK)));
        fiber.into_stack().expect("a finished fiber gives its stack back")
    }

    #[test]
    fn a_pooled_stack_never_shows_the_previous_fibers_data() {
        let mut pool = StackPool::new(SIZE, 4);
        let first = pool.take().unwrap();
        let base = first.base().get();
        // The first fiber fills 32 KiB of its stack with a secret and returns.
        let stack = run_to_end(Fiber::with_stack(first, |_| {
            let mut secret = [0u8; 32 * 1024];
            for b in &mut secret {
                // SAFETY: `b` is a valid, aligned reference into the local array.
                unsafe { std::ptr::write_volatile(b, SECRET) };
            }
            std::hint::black_box(&secret);
            FiberExit::Returned(Status::OK)
        }));
        // Frames after the loop overwrite a few of its bytes.
        let before = count_byte(&stack, SECRET);
        assert!(
            before >= 30 * 1024,
            "the secret is on the stack before it goes back to the pool ({before} bytes)"
        );
        pool.give(stack);
        assert_eq!(pool.len(), 1);

        // The next fiber gets the same stack, and all of it reads as zeros before it runs.
        // (Not checked after it ran: its own frames, and any signal frame the kernel puts on
        // it, may hold any byte, the secret's value included.)
        let again = pool.take().unwrap();
        assert_eq!(again.base().get(), base, "the pooled stack is reused");
        assert!(pool.is_empty());
        let usable = again.base().get() - (again.limit().get() + page_size());
        assert_eq!(count_byte(&again, 0), usable, "the reused stack is all zeros");
        run_to_end(Fiber::with_stack(again, |_| FiberExit::Returned(Status::OK)));
    }

    #[test]
    fn only_finished_fibers_and_stacks_of_the_pools_size_are_kept_up_to_its_bound() {
        let mut pool = StackPool::new(SIZE, 1);
        let mut suspended = Fiber::with_stack(pool.take().unwrap(), |s| {
            s.suspend();
            FiberExit::Returned(Status::OK)
        });
        assert_eq!(suspended.resume(), Resumed::Suspended);
        assert_eq!(
            suspended.resume(),
            Resumed::Finished(FiberExit::Returned(Status::OK))
        );
        let unstarted = Fiber::with_stack(pool.take().unwrap(), |_| FiberExit::Returned(Status::OK));
        assert!(
            unstarted.into_stack().is_none(),
            "a fiber that never ran keeps its stack"
        );
        pool.give(suspended.into_stack().unwrap());
        let done = run_to_end(Fiber::with_stack(DefaultStack::new(SIZE).unwrap(), |_| {
            FiberExit::Returned(Status::OK)
        }));
        pool.give(done);
        assert_eq!(pool.len(), 1, "a pool of one keeps one stack");
        assert_eq!(pool.stack_size(), SIZE);
        let mut other = StackPool::new(SIZE, 4);
        other.give(DefaultStack::new(SIZE / 2).unwrap());
        assert!(other.is_empty(), "a smaller stack is not kept");
    }
}
