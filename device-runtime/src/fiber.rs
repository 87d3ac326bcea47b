//! Fibers: stackful coroutines (corosensei) on which SSDlets run, so that a blocking `get`
//! or `put` suspends the SSDlet, not the core.
//!
//! Each fiber has an `mmap`ed stack with a guard page; a fault on it is turned into
//! [`FiberExit::Trapped`] by [`crate::trap`]. Never drop a fiber suspended inside module code
//! if it can be avoided: corosensei would unwind it through `extern "C"` frames, which aborts
//! the process. [`Fiber`]'s `Drop` therefore uses `force_reset` (skipping destructors and
//! leaking what the stack owned) as a last resort; the driver aborts SSDlets through their
//! ports first so their entry points return normally.

use corosensei::stack::{DefaultStack, Stack};
use corosensei::{Coroutine, CoroutineResult, Yielder};
use ssdlet_abi::Status;

use crate::trap::{self, ActiveFiber, TrapKind, FIBERS};

/// How a fiber ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FiberExit {
    /// The function returned this status.
    Returned(Status),
    /// A fault on the fiber's stack ended it.
    Trapped(TrapKind),
}

/// Result of [`Fiber::resume`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resumed {
    /// The fiber suspended itself and can be resumed again.
    Suspended,
    /// The fiber is done.
    Finished(FiberExit),
}

/// Handle a fiber uses to suspend itself.
pub struct Suspender<'a>(&'a Yielder<(), ()>);

impl Suspender<'_> {
    /// Suspends the fiber until the next [`Fiber::resume`].
    #[inline]
    pub fn suspend(&self) {
        self.0.suspend(())
    }

    /// The raw yielder, for runtime services that must suspend from inside module calls.
    pub(crate) fn raw(&self) -> *const Yielder<(), ()> {
        self.0
    }
}

/// A stackful coroutine with a guard page.
pub struct Fiber {
    /// `None` only once [`Fiber::into_stack`] took the stack back.
    coro: Option<Coroutine<(), (), FiberExit, DefaultStack>>,
    active: ActiveFiber,
    limit: usize,
}

impl Fiber {
    /// Creates a fiber with at least `stack_size` bytes of stack running `f`.
    pub fn new<F>(stack_size: usize, f: F) -> std::io::Result<Fiber>
    where
        F: FnOnce(&Suspender<'_>) -> FiberExit + 'static,
    {
        Ok(Fiber::with_stack(DefaultStack::new(stack_size)?, f))
    }

    /// Creates a fiber running `f` on `stack` (a new one, or one a [`crate::stacks::StackPool`]
    /// kept).
    pub fn with_stack<F>(stack: DefaultStack, f: F) -> Fiber
    where
        F: FnOnce(&Suspender<'_>) -> FiberExit + 'static,
    {
        // corosensei's `limit()` is the start of the mapping, whose lowest page is the guard.
        let guard_lo = stack.limit().get();
        let page = page_size();
        let limit = guard_lo + page;
        let coro = Coroutine::with_stack(stack, move |y: &Yielder<(), ()>, ()| f(&Suspender(y)));
        let active = ActiveFiber {
            handler: coro.trap_handler(),
            guard_lo,
            guard_hi: limit,
        };
        Fiber {
            coro: Some(coro),
            active,
            limit,
        }
    }

    /// The stack of a fiber that finished, for reuse; `None` (the stack is unmapped) if it has
    /// not finished.
    pub fn into_stack(mut self) -> Option<DefaultStack> {
        let coro = self.coro.take_if(|c| c.done())?;
        Some(coro.into_stack())
    }

    /// Lowest usable address of the stack (the guard page is just below).
    pub fn stack_limit(&self) -> usize {
        self.limit
    }

    /// Whether the fiber has been resumed at least once.
    pub fn is_started(&self) -> bool {
        self.coro.as_ref().is_some_and(|c| c.started())
    }

    /// Whether the fiber has finished.
    pub fn is_done(&self) -> bool {
        self.coro.as_ref().is_none_or(|c| c.done())
    }

    /// Runs the fiber until it suspends or finishes. Resuming a finished fiber returns
    /// [`Resumed::Finished`] with [`Status::INVALID_ARGUMENT`].
    #[inline]
    pub fn resume(&mut self) -> Resumed {
        let Some(coro) = self.coro.as_mut().filter(|c| !c.done()) else {
            return Resumed::Finished(FiberExit::Returned(Status::INVALID_ARGUMENT));
        };
        let active: *const ActiveFiber = &self.active;
        let outer = FIBERS.with(|f| {
            if !f.prepared.get() {
                trap::prepare_thread(f);
            }
            f.active.replace(active)
        });
        // Restores the outer fiber even if `resume` unwinds, so the pointer never outlives
        // this call (`ThreadFibers::active`).
        let _restore = Restore(outer);
        let r = coro.resume(());
        match r {
            CoroutineResult::Yield(()) => Resumed::Suspended,
            CoroutineResult::Return(exit) => Resumed::Finished(exit),
        }
    }
}

/// Puts the fiber that was active before a resume back when the resume ends.
struct Restore(*const ActiveFiber);

impl Drop for Restore {
    #[inline]
    fn drop(&mut self) {
        FIBERS.with(|f| f.active.set(self.0));
    }
}

// INVARIANT(fiber-unwinds-not-dropped): last resort, force_reset never unwinds module frames
impl Drop for Fiber {
    fn drop(&mut self) {
        let Some(coro) = self.coro.as_mut() else {
            return;
        };
        if coro.started() && !coro.done() {
            // SAFETY: last resort (module doc): the stack is discarded without running
            // destructors, which leaks what it owned but never unwinds through the module's
            // `extern "C"` frames. The driver only gets here for an SSDlet that ignored abort.
            unsafe { coro.force_reset() };
        }
    }
}

pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).unwrap_or(4096)
}
