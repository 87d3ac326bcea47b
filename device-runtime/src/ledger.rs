//! A run of calls charged in locals: while a batch service puts or takes messages one after
//! another with nothing else in between, the instance's clock, compute and counts stay in a
//! [`Ledger`] instead of its cells, and go back when the run ends.
//!
//! The arithmetic is that of `InstanceState::charge_call` and `charge_message` under the
//! modeled compute (the same [`whole_ns`] and [`overrun`]), so a batch costs exactly what its
//! single calls would (INVARIANT `batch-is-calls-in-a-row`). The measured compute has no
//! ledger: its charges read the thread's CPU clock, call by call.

use sim_nvme::{SimDuration, SimTime};

use crate::compute::{ComputeModel, UnitCosts, WorkCounts};
use crate::instance::{overrun, whole_ns, AbortReason, InstanceState};

/// An instance's charging state, held while a run of calls lasts (module docs).
pub(crate) struct Ledger {
    clock: SimTime,
    slice_start: SimTime,
    slice: SimDuration,
    compute: SimDuration,
    carry_ps: u64,
    work: WorkCounts,
    costs: UnitCosts,
}

impl Ledger {
    /// `st`'s charging state, under the modeled compute; `None` under the measured one.
    #[inline]
    pub(crate) fn open(st: &InstanceState) -> Option<Ledger> {
        if !matches!(st.world.config.compute, ComputeModel::Modeled(_)) {
            return None;
        }
        Some(Ledger {
            clock: st.clock.get(),
            slice_start: st.slice_start.get(),
            slice: st.world.config.time_slice,
            compute: st.compute.get(),
            carry_ps: st.carry_ps.get(),
            work: st.work.get(),
            costs: st.costs,
        })
    }

    /// The instance's clock.
    #[inline(always)]
    pub(crate) fn clock(&self) -> SimTime {
        self.clock
    }

    /// Moves the clock to `t` if it is later (a message taken that arrived at `t`).
    #[inline(always)]
    pub(crate) fn catch_up(&mut self, t: SimTime) {
        if t > self.clock {
            self.clock = t;
        }
    }

    /// One call, counted and charged, then the watchdog: why the instance must stop, if it
    /// has overrun its time slice.
    #[inline(always)]
    pub(crate) fn call(&mut self) -> Option<AbortReason> {
        self.work.calls += 1;
        self.charge(u128::from(self.costs.call_ps));
        overrun(self.clock, self.slice_start, self.slice)
    }

    /// One message of `bytes` payload bytes moved, counted and charged.
    #[inline(always)]
    pub(crate) fn message(&mut self, bytes: u64) {
        self.work.messages += 1;
        self.work.bytes_moved += bytes;
        let c = &self.costs;
        self.charge(u128::from(c.message_ps) + u128::from(bytes) * u128::from(c.byte_moved_ps));
    }

    #[inline(always)]
    fn charge(&mut self, ps: u128) {
        let (ns, rest) = whole_ns(self.carry_ps, ps);
        self.carry_ps = rest;
        self.compute += ns;
        self.clock += ns;
    }

    /// Puts the state back into `st`.
    #[inline]
    pub(crate) fn close(self, st: &InstanceState) {
        st.clock.set(self.clock);
        st.compute.set(self.compute);
        st.carry_ps.set(self.carry_ps);
        st.work.set(self.work);
    }
}
