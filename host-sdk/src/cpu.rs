//! The calling thread's CPU time: what measured host compute is charged in, so a preempted or
//! descheduled host thread (a busy machine) adds nothing to a simulated time.

use std::time::Duration;

/// CPU time the calling thread has used so far (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // INVARIANT(unsafe-listed-modules): a single, listed libc call
    // SAFETY: `ts` is a valid out-pointer; CLOCK_THREAD_CPUTIME_ID needs no other setup.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec.max(0) as u64, ts.tv_nsec.clamp(0, 999_999_999) as u32)
}

/// CPU time the whole process has used so far, every thread (`CLOCK_PROCESS_CPUTIME_ID`): the
/// measure for work spread over a thread pool (a query engine), where one thread's time would
/// miss most of it.
pub fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // INVARIANT(unsafe-listed-modules): a single, listed libc call
    // SAFETY: `ts` is a valid out-pointer; CLOCK_PROCESS_CPUTIME_ID needs no other setup.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec.max(0) as u64, ts.tv_nsec.clamp(0, 999_999_999) as u32)
}

/// What reading the clock adds to an interval measured with it: the smallest of many
/// back-to-back differences (a system call of several hundred ns on a virtual machine, which
/// would otherwise be charged as host compute per measurement). Measured once per process.
pub fn clock_overhead() -> Duration {
    static OVERHEAD: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *OVERHEAD.get_or_init(|| {
        (0..256)
            .map(|_| {
                let a = thread_cpu_time();
                thread_cpu_time().saturating_sub(a)
            })
            .min()
            .unwrap_or_default()
    })
}

/// Runs `f` and returns its result with the CPU time the calling thread spent in it (less
/// [`clock_overhead`]).
pub fn on_cpu<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let overhead = clock_overhead();
    let start = thread_cpu_time();
    let r = f();
    (
        r,
        thread_cpu_time().saturating_sub(start).saturating_sub(overhead),
    )
}

/// How host work is charged to the simulated host clock: the thread CPU time it took, or the
/// units of work it counted times a calibrated cost (deterministic: the same figure on any
/// machine under any load).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostCharge {
    /// The thread CPU time of the work, at factor 1 (varies with the machine and its load).
    Measured,
    /// Counted units times this cost.
    PerUnit {
        /// Picoseconds per unit.
        ps: u64,
    },
}

impl HostCharge {
    /// Runs `f`, which returns its result and the units of work it did, and returns them with
    /// the compute to charge.
    pub fn run<R>(self, f: impl FnOnce() -> (R, u64)) -> (R, u64, Duration) {
        match self {
            HostCharge::Measured => {
                let ((r, units), spent) = on_cpu(f);
                (r, units, spent)
            }
            HostCharge::PerUnit { ps } => {
                let (r, units) = f();
                let ns = units as u128 * ps as u128 / 1000;
                (r, units, Duration::from_nanos(ns as u64))
            }
        }
    }

    /// Runs work that is not counted (a path's last step, a consumer's handling): measured, its
    /// CPU time; per unit, nothing (the calibrated cost per unit covers it).
    pub fn uncounted<R>(self, f: impl FnOnce() -> R) -> (R, Duration) {
        match self {
            HostCharge::Measured => on_cpu(f),
            HostCharge::PerUnit { .. } => (f(), Duration::ZERO),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_counts_and_sleeping_does_not() {
        let (sum, busy) = on_cpu(|| (0..20_000_000u64).fold(0u64, |a, x| a.wrapping_add(x * x)));
        assert_ne!(sum, 0);
        assert!(busy > Duration::ZERO);
        let ((), slept) = on_cpu(|| std::thread::sleep(Duration::from_millis(200)));
        assert!(
            slept < Duration::from_millis(200),
            "sleeping used {slept:?} of CPU"
        );
    }
}
