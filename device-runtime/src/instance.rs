//! Per-instance runtime state: what the `ctx` pointer handed to an SSDlet points to.
//!
//! Invariant (cited by SAFETY comments in [`crate::services`]): an [`InstanceState`] is boxed
//! and owned by the driver, and [`CURRENT`] points to it exactly while that instance's fiber is
//! being resumed on this thread. A service only dereferences `ctx` after checking it equals
//! [`CURRENT`], so a stale or foreign `ctx` is rejected, never dereferenced.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use corosensei::Yielder;

use crate::world::{ChannelId, World};

/// Why the runtime aborted an SSDlet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AbortReason {
    /// It allocated more device DRAM than its budget.
    DramBudget {
        /// Bytes it held when it crossed the budget.
        used: u64,
        /// The budget in bytes.
        budget: u64,
    },
    /// It was resumed more often than the watchdog allows.
    Watchdog {
        /// The limit on resumes.
        limit: u64,
    },
    /// Every unfinished SSDlet was blocked on a port.
    Deadlock,
    /// The driver was dropped while it ran.
    Teardown,
}

impl std::fmt::Display for AbortReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AbortReason::DramBudget { used, budget } => {
                write!(
                    f,
                    "it holds {used} bytes of device DRAM, over its budget of {budget} bytes"
                )
            }
            AbortReason::Watchdog { limit } => {
                write!(f, "the watchdog stopped it after {limit} scheduling rounds")
            }
            AbortReason::Deadlock => write!(f, "every SSDlet was blocked on a port (deadlock)"),
            AbortReason::Teardown => write!(f, "its application was torn down"),
        }
    }
}

/// What a blocked instance waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Runnable.
    Ready,
    /// A message (or end of stream) on this channel.
    Get(ChannelId),
    /// Room (or the receiver gone) on this channel.
    Put(ChannelId),
}

/// The state behind one instance's `ctx`.
pub(crate) struct InstanceState {
    pub(crate) ssdlet: String,
    pub(crate) world: Rc<World>,
    pub(crate) inputs: Vec<Option<ChannelId>>,
    pub(crate) outputs: Vec<Option<ChannelId>>,
    /// File handles handed to it as arguments (its capabilities).
    pub(crate) files: Vec<u64>,
    /// The message last returned by `port_get`, per input (kept alive until the next get).
    pub(crate) current: RefCell<Vec<Vec<u8>>>,
    pub(crate) yielder: Cell<*const Yielder<(), ()>>,
    pub(crate) wait: Cell<Wait>,
    pub(crate) abort: RefCell<Option<AbortReason>>,
    pub(crate) error: RefCell<Option<String>>,
    pub(crate) dram: Cell<u64>,
    pub(crate) dram_peak: Cell<u64>,
    pub(crate) dram_budget: u64,
    pub(crate) stack_limit: Cell<usize>,
}

thread_local! {
    /// The instance whose fiber this thread is running, or null.
    pub(crate) static CURRENT: Cell<*const InstanceState> = const { Cell::new(std::ptr::null()) };
}

impl InstanceState {
    pub(crate) fn is_aborted(&self) -> bool {
        self.abort.borrow().is_some()
    }

    pub(crate) fn abort_with(&self, reason: AbortReason) {
        let mut a = self.abort.borrow_mut();
        if a.is_none() {
            *a = Some(reason);
        }
    }

    /// Suspends the instance's fiber. Only called from services running on that fiber.
    pub(crate) fn suspend(&self, wait: Wait) {
        self.wait.set(wait);
        let y = self.yielder.get();
        if !y.is_null() {
            // SAFETY: `yielder` is set by the fiber's start closure to the coroutine's own
            // yielder, which lives as long as the coroutine; services run on that fiber.
            unsafe { (*y).suspend(()) };
        }
        self.wait.set(Wait::Ready);
    }

    /// Charges `size` bytes of module allocation; over budget aborts at the next service.
    pub(crate) fn charge(&self, size: usize) {
        let used = self.dram.get().saturating_add(size as u64);
        self.dram.set(used);
        if used > self.dram_peak.get() {
            self.dram_peak.set(used);
        }
        if used > self.dram_budget {
            // `try_borrow_mut`: never panic inside the allocator.
            if let Ok(mut a) = self.abort.try_borrow_mut() {
                if a.is_none() {
                    *a = Some(AbortReason::DramBudget {
                        used,
                        budget: self.dram_budget,
                    });
                }
            }
        }
    }

    pub(crate) fn credit(&self, size: usize) {
        self.dram.set(self.dram.get().saturating_sub(size as u64));
    }
}
