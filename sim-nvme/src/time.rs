//! Simulated time: integer nanoseconds, never read from the wall clock.
//!
//! [`SimTime`] is an instant on the simulated timeline (nanoseconds since the device was
//! powered on in this run); [`SimDuration`] is a span. Every hardware resource of the model
//! keeps a `busy_until: SimTime`; an operation issued at `t` starts at
//! `max(t, busy_until)` and its completion instant is returned to the caller. Nothing sleeps.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

// INVARIANT(sim-deterministic): integer nanoseconds from the model, never the wall clock
/// An instant of simulated time, in nanoseconds since the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of the simulated timeline.
    pub const ZERO: SimTime = SimTime(0);
    /// The latest instant a command may be issued at: 2^62 ns, about 146 years of simulated
    /// time. Commands issued later are refused ([`crate::nvme::SubmitError::BeyondHorizon`]),
    /// so no completion time can overflow (sums saturate at `u64::MAX` besides).
    pub const HORIZON: SimTime = SimTime(1 << 62);

    /// Nanoseconds since the start of the run.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Microseconds since the start of the run, as a float (for reports).
    pub fn as_micros_f64(self) -> f64 {
        self.0 as f64 / 1e3
    }

    /// Seconds since the start of the run, as a float (for reports).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// The span from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span of `ns` nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }

    /// A span of `us` microseconds.
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us * 1_000)
    }

    /// The time to move `bytes` over a link of `mb_per_s` megabytes (10^6 bytes) per second,
    /// rounded up to the next nanosecond. A zero rate is treated as infinitely fast.
    pub const fn for_bytes(bytes: u64, mb_per_s: u64) -> Self {
        if mb_per_s == 0 {
            return SimDuration(0);
        }
        // bytes / (mb_per_s * 1e6) seconds = bytes * 1000 / mb_per_s nanoseconds.
        SimDuration(bytes.saturating_mul(1_000).div_ceil(mb_per_s))
    }

    /// Nanoseconds in this span.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Microseconds in this span, as a float (for reports).
    pub fn as_micros_f64(self) -> f64 {
        self.0 as f64 / 1e3
    }

    /// Seconds in this span, as a float (for reports).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// This span multiplied by `n`.
    pub const fn times(self, n: u64) -> Self {
        SimDuration(self.0 * n)
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    /// The span between two instants; saturates at zero.
    fn sub(self, rhs: SimTime) -> SimDuration {
        self.saturating_since(rhs)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, rhs: SimDuration) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", SimDuration(self.0))
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns >= 1_000_000_000 {
            write!(f, "{:.3} s", ns as f64 / 1e9)
        } else if ns >= 1_000_000 {
            write!(f, "{:.3} ms", ns as f64 / 1e6)
        } else if ns >= 1_000 {
            write!(f, "{:.3} us", ns as f64 / 1e3)
        } else {
            write!(f, "{ns} ns")
        }
    }
}

// INVARIANT(sim-deterministic): busy-until arithmetic only; same issue instants, same completions
/// A hardware resource that serves one operation at a time, in issue order.
///
/// An operation that becomes ready at `ready` starts at `max(ready, busy_until)`, occupies the
/// resource for its duration, and the resource is then busy until its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resource {
    /// The instant the resource finishes the last operation given to it.
    pub busy_until: SimTime,
    /// Total time the resource spent busy (for utilisation reports).
    pub busy_total: SimDuration,
}

impl Resource {
    /// Occupies the resource for `dur` from the first instant at or after `ready` when it is
    /// free; returns the completion instant.
    #[inline]
    pub fn occupy(&mut self, ready: SimTime, dur: SimDuration) -> SimTime {
        let start = ready.max(self.busy_until);
        let end = start + dur;
        self.busy_until = end;
        self.busy_total += dur;
        end
    }
}

/// A resource that serves transfers in the earliest free gap at or after they are ready.
///
/// Buses (NAND channels, the PCIe link) are arbitrated by readiness, not by issue order: a
/// transfer whose data is ready early does not queue behind one whose data comes later. The
/// resource keeps its reservations as sorted, merged intervals and forgets those that end
/// before [`GapResource::forget_before`], which the device advances as commands are issued
/// (a command issued earlier than that instant is served no earlier than it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GapResource {
    /// Reserved intervals `[start, end)`, sorted, disjoint, not touching.
    busy: std::collections::VecDeque<(SimTime, SimTime)>,
    floor: SimTime,
    /// Total time the resource spent busy.
    pub busy_total: SimDuration,
}

impl GapResource {
    /// Like [`GapResource::occupy`], after first forgetting reservations that end before
    /// `floor` (the latest instant a command was issued).
    #[inline]
    pub fn occupy_after(&mut self, floor: SimTime, ready: SimTime, dur: SimDuration) -> SimTime {
        self.forget_before(floor);
        self.occupy(ready, dur)
    }

    /// Reserves `dur` in the first gap at or after `ready`; returns the end of the reservation.
    pub fn occupy(&mut self, ready: SimTime, dur: SimDuration) -> SimTime {
        self.busy_total += dur;
        let mut start = ready.max(self.floor);
        if dur == SimDuration::ZERO {
            return start;
        }
        // First interval that ends after `start`.
        let mut i = self.busy.partition_point(|&(_, e)| e <= start);
        while let Some(&(s, e)) = self.busy.get(i) {
            if start + dur <= s {
                break;
            }
            start = start.max(e);
            i += 1;
        }
        let end = start + dur;
        // Insert at `i`, merging with touching neighbours.
        let touches_prev = i > 0 && self.busy[i - 1].1 == start;
        let touches_next = self.busy.get(i).is_some_and(|&(s, _)| s == end);
        match (touches_prev, touches_next) {
            (true, true) => {
                let (_, e) = self.busy.remove(i).expect("checked");
                self.busy[i - 1].1 = e;
            }
            (true, false) => self.busy[i - 1].1 = end,
            (false, true) => self.busy[i].0 = start,
            (false, false) => self.busy.insert(i, (start, end)),
        }
        end
    }

    /// Forgets reservations that end at or before `t`; later requests never start before `t`.
    pub fn forget_before(&mut self, t: SimTime) {
        if t <= self.floor {
            return;
        }
        self.floor = t;
        while self.busy.front().is_some_and(|&(_, e)| e <= t) {
            self.busy.pop_front();
        }
    }

    /// The end of the last reservation.
    pub fn busy_until(&self) -> SimTime {
        self.busy.back().map_or(self.floor, |&(_, e)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_saturate_instead_of_wrapping() {
        assert_eq!(SimTime(u64::MAX - 1) + SimDuration(5), SimTime(u64::MAX));
        let mut t = SimTime(u64::MAX);
        t += SimDuration(1);
        assert_eq!(t, SimTime(u64::MAX));
        assert_eq!(SimDuration(u64::MAX) + SimDuration(1), SimDuration(u64::MAX));
        assert_eq!(SimDuration::for_bytes(u64::MAX, 1).0, u64::MAX);
    }

    #[test]
    fn transfer_time_rounds_up() {
        assert_eq!(SimDuration::for_bytes(4096, 800).as_nanos(), 5120);
        assert_eq!(SimDuration::for_bytes(4096, 3200).as_nanos(), 1280);
        assert_eq!(SimDuration::for_bytes(1, 3).as_nanos(), 334);
        assert_eq!(SimDuration::for_bytes(4096, 0).as_nanos(), 0);
    }

    #[test]
    fn resource_serialises_in_issue_order() {
        let mut r = Resource::default();
        assert_eq!(r.occupy(SimTime(10), SimDuration(5)), SimTime(15));
        // Ready earlier than the resource is free: waits.
        assert_eq!(r.occupy(SimTime(12), SimDuration(5)), SimTime(20));
        // Ready after it is free: starts at once.
        assert_eq!(r.occupy(SimTime(100), SimDuration(1)), SimTime(101));
        assert_eq!(r.busy_total, SimDuration(11));
    }

    #[test]
    fn gap_resource_fills_gaps() {
        let mut r = GapResource::default();
        assert_eq!(r.occupy(SimTime(100), SimDuration(10)), SimTime(110));
        // Ready earlier and fits before: served in the gap.
        assert_eq!(r.occupy(SimTime(0), SimDuration(50)), SimTime(50));
        // Does not fit in the remaining gap [50, 100): goes after 110.
        assert_eq!(r.occupy(SimTime(60), SimDuration(45)), SimTime(155));
        // Exactly fills [50, 100): merges everything into [0, 155).
        assert_eq!(r.occupy(SimTime(50), SimDuration(50)), SimTime(100));
        assert_eq!(r.busy.len(), 1);
        assert_eq!(r.busy_until(), SimTime(155));
        r.forget_before(SimTime(200));
        assert!(r.busy.is_empty());
        assert_eq!(r.occupy(SimTime(0), SimDuration(5)), SimTime(205));
        assert_eq!(r.busy_total, SimDuration(160));
    }

    #[test]
    fn display_picks_a_unit() {
        assert_eq!(SimDuration(90_000).to_string(), "90.000 us");
        assert_eq!(SimDuration(12).to_string(), "12 ns");
        assert_eq!(SimDuration(1_500_000_000).to_string(), "1.500 s");
    }
}
