//! Per-instance runtime state: what the `ctx` pointer handed to an SSDlet points to.
//!
//! Invariant (cited by SAFETY comments in [`crate::services`]): an [`InstanceState`] is boxed
//! and owned by the driver, and [`CURRENT`] points to it exactly while that instance's fiber is
//! being resumed on this thread. A service only dereferences `ctx` after checking it equals
//! [`CURRENT`], so a stale or foreign `ctx` is rejected, never dereferenced.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use corosensei::Yielder;
use ndp_protocol::Site;
use sim_nvme::trace::Track;
use sim_nvme::{SimDuration, SimTime, SsdStats};

use crate::compute::{clock_overhead_ns, thread_cpu_ns, ComputeModel, CostSource, UnitCosts, WorkCounts};
use crate::world::{ChannelId, Slot, World};

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
    /// It ran longer than the time slice without suspending (port wait, I/O, yield).
    TimeSlice {
        /// Simulated time it had run when the watchdog saw it.
        ran: SimDuration,
        /// The time slice.
        slice: SimDuration,
    },
    /// Another SSDlet of its application failed, so the application was aborted.
    ApplicationFailed {
        /// The SSDlet that failed first.
        ssdlet: String,
    },
    /// The host aborted its application.
    HostAbort,
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
                    "its application holds {used} bytes of device DRAM, over its budget of {budget} bytes"
                )
            }
            AbortReason::Watchdog { limit } => {
                write!(f, "the watchdog stopped it after {limit} scheduling rounds")
            }
            AbortReason::TimeSlice { ran, slice } => write!(
                f,
                "the watchdog stopped it after it ran {} ns of simulated time without yielding \
                 (time slice {} ns)",
                ran.0, slice.0
            ),
            AbortReason::ApplicationFailed { ssdlet } => {
                write!(f, "SSDlet `{ssdlet}` of its application failed first")
            }
            AbortReason::HostAbort => write!(f, "the host aborted its application"),
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
    /// An I/O completion at this instant (the core is free meanwhile).
    Until(SimTime),
}

/// What one Application holds and has done, shared by its instances.
#[derive(Debug, Default)]
pub(crate) struct AppAccount {
    pub(crate) dram: Cell<u64>,
    pub(crate) dram_peak: Cell<u64>,
    /// Device DRAM budget in bytes.
    pub(crate) budget: u64,
    /// Device counters attributed to this application's operations.
    pub(crate) io: Cell<IoCounters>,
    /// What its SSDlets logged.
    pub(crate) logs: RefCell<crate::logbook::LogBook>,
    /// At the host site: the blocks its SSDlets have read into host memory (the host's page
    /// cache), which later reads take from memory. No eviction, assumed: Biscuit's host has
    /// 64 GiB of DRAM, far more than a run here reads.
    pub(crate) host_cache: RefCell<std::collections::HashSet<u64>>,
}

/// Device work attributed to one application.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct IoCounters {
    pub(crate) nand_pages_read: u64,
    pub(crate) pcie_bytes_to_host: u64,
    pub(crate) pcie_bytes_to_device: u64,
    pub(crate) matcher_pages_scanned: u64,
    pub(crate) matcher_pages_hinted: u64,
}

impl AppAccount {
    /// Adds `n` bytes of device DRAM held outside any instance (an adopted message).
    pub(crate) fn hold(&self, n: u64) {
        let d = self.dram.get().saturating_add(n);
        self.dram.set(d);
        self.dram_peak.set(self.dram_peak.get().max(d));
    }

    /// Releases `n` bytes added by [`AppAccount::hold`].
    pub(crate) fn release(&self, n: u64) {
        self.dram.set(self.dram.get().saturating_sub(n));
    }

    /// Adds bytes the host sent this application over PCIe (charged by the controller).
    pub(crate) fn add_pcie_to_device(&self, bytes: u64) {
        let mut c = self.io.get();
        c.pcie_bytes_to_device += bytes;
        self.io.set(c);
    }

    // INVARIANT(counters-per-app): the device work between two snapshots goes to this Application
    /// Adds what the device did between two stats snapshots.
    pub(crate) fn add_io(&self, before: &SsdStats, after: &SsdStats) {
        let mut c = self.io.get();
        c.nand_pages_read += after.nand_pages_read - before.nand_pages_read;
        c.pcie_bytes_to_host += after.pcie_bytes_to_host - before.pcie_bytes_to_host;
        c.pcie_bytes_to_device += after.pcie_bytes_to_device - before.pcie_bytes_to_device;
        c.matcher_pages_scanned += after.matcher_pages_scanned - before.matcher_pages_scanned;
        c.matcher_pages_hinted += after.matcher_pages_hinted - before.matcher_pages_hinted;
        self.io.set(c);
    }
}

/// How an instance has been reading one file: where its last read ended, and how many reads
/// in a row continued exactly there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadStream {
    pub(crate) file: u64,
    pub(crate) next: u64,
    pub(crate) streak: u32,
}

/// Read state of one instance: its per-file access pattern and its read-ahead window.
#[derive(Default)]
pub(crate) struct ReadState {
    /// Files read so far (at most [`ReadState::STREAMS`], least recently read dropped first).
    pub(crate) streams: Vec<ReadStream>,
    pub(crate) window: Option<Readahead>,
}

impl ReadState {
    /// Files whose access pattern is tracked at once.
    pub(crate) const STREAMS: usize = 16;
    /// Reads in a row continuing where the previous ended that turn read-ahead on.
    pub(crate) const SEQUENTIAL_AFTER: u32 = 2;

    /// Records a read of `[offset, end)` of `file`; returns whether the file is being read
    /// sequentially (the last [`Self::SEQUENTIAL_AFTER`] reads each continued the previous).
    pub(crate) fn record(&mut self, file: u64, offset: u64, end: u64) -> bool {
        let pos = self.streams.iter().position(|s| s.file == file);
        let mut s = match pos {
            Some(i) => self.streams.remove(i),
            None => ReadStream {
                file,
                next: u64::MAX,
                streak: 0,
            },
        };
        s.streak = if offset == s.next {
            s.streak.saturating_add(1)
        } else {
            0
        };
        s.next = end;
        if self.streams.len() >= Self::STREAMS {
            self.streams.remove(0);
        }
        self.streams.push(s);
        s.streak >= Self::SEQUENTIAL_AFTER
    }
}

/// Read-ahead state of a sequential reader: a window of a file read at once.
pub(crate) struct Readahead {
    pub(crate) file: u64,
    /// File offset of `data[0]`.
    pub(crate) start: u64,
    pub(crate) data: Vec<u8>,
    /// `(end offset, completion instant)` of each chunk of the window, in order.
    pub(crate) chunks: Vec<(u64, SimTime)>,
}

/// The state behind one instance's `ctx`.
pub(crate) struct InstanceState {
    pub(crate) ssdlet: String,
    /// Its slot in the runtime.
    pub(crate) slot: Slot,
    /// Where it runs: the device's ARM cores, or the host's (a conventional run).
    pub(crate) site: Site,
    /// The core of its site it runs on (an index below `arm.cores` or `host.cores`).
    pub(crate) core: u32,
    /// Its name on the trace's timeline: the SSDlet and the instance (`mapper #3`).
    pub(crate) label: String,
    /// Its application's account.
    pub(crate) account: Rc<AppAccount>,
    /// Its virtual clock.
    pub(crate) clock: Cell<SimTime>,
    /// When it was last resumed (the watchdog's time slice starts here).
    pub(crate) slice_start: Cell<SimTime>,
    /// Thread CPU time at its last charge (Measured mode).
    pub(crate) cpu_mark: Cell<u64>,
    /// Its device-core costs per unit of work, in picoseconds (Modeled mode).
    pub(crate) costs: UnitCosts,
    /// Where `costs` came from.
    pub(crate) cost_source: CostSource,
    /// The work it has done so far.
    pub(crate) work: Cell<WorkCounts>,
    /// Modeled compute charged but not yet on the clock, in picoseconds, below 1000 (the
    /// clock advances by whole ns).
    pub(crate) carry_ps: Cell<u64>,
    /// Compute charged to its clock so far (both models).
    pub(crate) compute: Cell<SimDuration>,
    /// Thread CPU time it used, in ns (Measured mode).
    pub(crate) cpu_ns: Cell<u64>,
    pub(crate) reads: RefCell<ReadState>,
    pub(crate) world: Rc<World>,
    pub(crate) inputs: Vec<Option<ChannelId>>,
    pub(crate) outputs: Vec<Option<ChannelId>>,
    /// File handles handed to it as arguments (its capabilities).
    pub(crate) files: Vec<u64>,
    /// The message last returned by `port_get`, per input (kept alive until the next get).
    pub(crate) current: RefCell<Vec<crate::adopted::Payload>>,
    pub(crate) yielder: Cell<*const Yielder<(), ()>>,
    pub(crate) wait: Cell<Wait>,
    pub(crate) abort: RefCell<Option<AbortReason>>,
    pub(crate) error: RefCell<Option<String>>,
    pub(crate) dram: Cell<u64>,
    pub(crate) dram_peak: Cell<u64>,
    pub(crate) stack_limit: Cell<usize>,
}

thread_local! {
    // INVARIANT(ctx-is-current): set exactly while this instance's fiber is resumed
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

    /// Advances the clock by `d`.
    pub(crate) fn advance(&self, d: SimDuration) {
        self.clock.set(self.clock.get() + d);
    }

    /// Counts one runtime call and charges compute since the last one (module
    /// [`crate::compute`]), then applies the time-slice watchdog.
    // Always: on every call's path, and LLVM stopped inlining it as the services grew.
    #[inline(always)]
    pub(crate) fn charge_call(&self) {
        let mut w = self.work.get();
        w.calls += 1;
        self.work.set(w);
        match self.world.config.compute {
            ComputeModel::Modeled(_) => self.charge_ps(u128::from(self.costs.call_ps)),
            ComputeModel::Measured { slowdown } => self.charge_measured(slowdown),
        }
        self.check_slice();
    }

    /// Charges the thread CPU time used since the last charge, times `slowdown` on a device
    /// core (on a host core, as it is).
    pub(crate) fn charge_measured(&self, slowdown: f64) {
        let slowdown = crate::compute::site_scale(self.site, slowdown);
        let now = thread_cpu_ns();
        let used = now
            .saturating_sub(self.cpu_mark.get())
            .saturating_sub(clock_overhead_ns());
        self.cpu_mark.set(now);
        self.cpu_ns.set(self.cpu_ns.get().saturating_add(used));
        self.spend(SimDuration((used as f64 * slowdown) as u64));
    }

    /// Measured compute: the SSDlet's CPU time starts again from now (a service's own work
    /// is the simulator's, not the SSDlet's).
    pub(crate) fn restart_measure(&self) {
        if let ComputeModel::Measured { .. } = self.world.config.compute {
            self.cpu_mark.set(thread_cpu_ns());
        }
    }

    /// Counts `w` and, under the modeled compute, charges its cost (Measured mode measures
    /// it as CPU time instead).
    #[inline]
    pub(crate) fn charge_work(&self, w: WorkCounts) {
        self.count(w);
        if let ComputeModel::Modeled(_) = self.world.config.compute {
            self.charge_ps(self.costs.of(&w));
        }
    }

    /// [`InstanceState::charge_work`] of one message moving `bytes` payload bytes.
    #[inline]
    pub(crate) fn charge_message(&self, bytes: u64) {
        self.charge_messages(1, bytes);
    }

    /// [`InstanceState::charge_work`] of `n` messages moving `bytes` payload bytes in all.
    #[inline]
    pub(crate) fn charge_messages(&self, n: u64, bytes: u64) {
        let mut w = self.work.get();
        w.messages += n;
        w.bytes_moved += bytes;
        self.work.set(w);
        if let ComputeModel::Modeled(_) = self.world.config.compute {
            let c = &self.costs;
            self.charge_ps(
                u128::from(n) * u128::from(c.message_ps) + u128::from(bytes) * u128::from(c.byte_moved_ps),
            );
        }
    }

    /// Charges `ps` picoseconds of compute (modeled, or a service's on the SSDlet's behalf).
    /// Whole nanoseconds, the rest carried: the sum of the charges is the cost of the sum.
    #[inline]
    pub(crate) fn charge_ps(&self, ps: u128) {
        let total = u128::from(self.carry_ps.get()) + ps;
        // Charges fit 64 bits but for absurd counts; 64-bit division is several times faster.
        let (ns, rest) = match u64::try_from(total) {
            Ok(t) => (t / 1000, t % 1000),
            Err(_) => ((total / 1000) as u64, (total % 1000) as u64),
        };
        self.carry_ps.set(rest);
        self.spend(SimDuration(ns));
    }

    #[inline]
    fn count(&self, w: WorkCounts) {
        self.work.set(self.work.get().plus(w));
    }

    /// Compute a service does on the SSDlet's behalf: on its core, and in its compute.
    pub(crate) fn spend(&self, d: SimDuration) {
        self.compute.set(self.compute.get() + d);
        self.advance(d);
    }

    fn check_slice(&self) {
        let slice = self.world.config.time_slice;
        let ran = self.clock.get().saturating_since(self.slice_start.get());
        if ran > slice {
            self.abort_with(AbortReason::TimeSlice { ran, slice });
        }
    }

    // INVARIANT(no-borrow-across-suspend): callers drop every RefCell borrow before this
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

    /// The timeline track of its core.
    pub(crate) fn track(&self) -> Track {
        match self.site {
            Site::Device => Track::ArmCore(self.core),
            Site::Host => Track::HostCore(self.core),
        }
    }

    /// Suspends until the simulated instant `t` (an I/O completion); the core is free meanwhile.
    pub(crate) fn wait_until(&self, t: SimTime) {
        if t > self.clock.get() {
            self.suspend(Wait::Until(t));
        }
    }

    /// Charges `size` bytes of module allocation; over budget aborts at the next service.
    pub(crate) fn charge(&self, size: usize) {
        let used = self.dram.get().saturating_add(size as u64);
        self.dram.set(used);
        if used > self.dram_peak.get() {
            self.dram_peak.set(used);
        }
        let acc = &self.account;
        let app = acc.dram.get().saturating_add(size as u64);
        acc.dram.set(app);
        if app > acc.dram_peak.get() {
            acc.dram_peak.set(app);
        }
        if app > acc.budget {
            // `try_borrow_mut`: never panic inside the allocator.
            if let Ok(mut a) = self.abort.try_borrow_mut() {
                if a.is_none() {
                    *a = Some(AbortReason::DramBudget {
                        used: app,
                        budget: acc.budget,
                    });
                }
            }
        }
    }

    pub(crate) fn credit(&self, size: usize) {
        self.dram.set(self.dram.get().saturating_sub(size as u64));
        let acc = &self.account;
        acc.dram.set(acc.dram.get().saturating_sub(size as u64));
    }
}

#[cfg(test)]
mod tests {
    use super::ReadState;

    #[test]
    fn read_ahead_follows_sequential_access_per_file() {
        let mut r = ReadState::default();
        // Two reads in a row continuing the previous turn it on.
        assert!(!r.record(1, 0, 4096));
        assert!(!r.record(1, 4096, 8192));
        assert!(r.record(1, 8192, 12288));
        // Another file read in between does not break file 1's stream.
        assert!(!r.record(2, 0, 4096));
        assert!(r.record(1, 12288, 16384));
        // A jump resets it; random reads never turn it on.
        assert!(!r.record(1, 1 << 20, (1 << 20) + 4096));
        for off in [7u64, 3, 11, 5, 2] {
            assert!(!r.record(1, off * 4096 * 9, off * 4096 * 9 + 4096));
        }
        // Tracking is bounded.
        for f in 10..100 {
            r.record(f, 0, 1);
        }
        assert!(r.streams.len() <= ReadState::STREAMS);
    }
}
