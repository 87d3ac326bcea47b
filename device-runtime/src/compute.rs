//! How SSDlet compute is charged to its simulated core.
//!
//! Compute is charged at every runtime call an SSDlet makes (and when its entry point
//! returns), to the SSDlet's virtual clock:
//!
//! - [`ComputeModel::Modeled`] (deterministic, used by the tests): each call costs
//!   [`ModeledCosts::call`], each message sent or received [`ModeledCosts::message`], and each
//!   byte that passes through a port or is read from a file [`ModeledCosts::byte_ps`]
//!   picoseconds. The same run gives the same simulated times, bit for bit.
//! - [`ComputeModel::Measured`]: the thread CPU time (`CLOCK_THREAD_CPUTIME_ID`) the SSDlet
//!   used since its last runtime call, times the profile's `arm_slowdown`. Not reproducible:
//!   it depends on the host machine and its load.

use sim_nvme::SimDuration;

/// Per-operation costs of [`ComputeModel::Modeled`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeledCosts {
    /// Cost of one runtime call (the glue around it on the device core). Default 100 ns.
    pub call: SimDuration,
    /// Cost of encoding or decoding one message. Default 200 ns.
    pub message: SimDuration,
    /// Cost per payload byte an SSDlet sends, receives or reads from a file, in picoseconds.
    /// Default 1000 ps (1 ns per byte: a 750 MHz Cortex-R7 touching each byte about once).
    pub byte_ps: u64,
}

impl Default for ModeledCosts {
    fn default() -> Self {
        ModeledCosts {
            call: SimDuration(100),
            message: SimDuration(200),
            byte_ps: 1000,
        }
    }
}

impl ModeledCosts {
    /// Cost of handling `bytes` payload bytes.
    pub fn bytes(&self, bytes: u64) -> SimDuration {
        SimDuration(bytes.saturating_mul(self.byte_ps) / 1000)
    }
}

/// How SSDlet compute time is obtained (module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ComputeModel {
    /// Documented per-call, per-message and per-byte costs; deterministic.
    Modeled(ModeledCosts),
    /// Measured thread CPU time times this slowdown factor (the profile's `arm_slowdown`).
    Measured {
        /// Host CPU time is multiplied by this.
        slowdown: f64,
    },
}

impl Default for ComputeModel {
    fn default() -> Self {
        ComputeModel::Modeled(ModeledCosts::default())
    }
}

// INVARIANT(device-deterministic): the only host clock the runtime reads (Measured only)
/// CPU time of the calling thread in nanoseconds.
pub(crate) fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; CLOCK_THREAD_CPUTIME_ID needs no other setup.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64
}
