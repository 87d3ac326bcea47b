//! How SSDlet compute is charged to its simulated core.
//!
//! The runtime counts the work each instance does ([`WorkCounts`]: runtime calls, messages,
//! payload bytes moved, file bytes read, DRAM allocations) in every model. Compute is charged
//! to the instance's virtual clock at every runtime call that may wait and every allocation
//! (measured compute also when the entry point returns):
//!
//! - [`ComputeModel::Modeled`] (the default; deterministic): the counted work times per-unit
//!   costs. The costs of an SSDlet come from a [`CostTable`] entry for its exact module build
//!   (matched by [`ModuleDigest`]), else for another build of a module with the same name,
//!   else [`UnitCosts::GENERIC`]. Table costs are in picoseconds of the *reference host core*
//!   (the machine they were calibrated on) and are multiplied by the profile's `arm_slowdown`
//!   to get device-core time, the same factor [`ComputeModel::Measured`] uses, so a
//!   calibrated SSDlet costs about what it measures. The same run gives the same simulated
//!   times, bit for bit, on any machine under any load.
//! - [`ComputeModel::Measured`]: the thread CPU time (`CLOCK_THREAD_CPUTIME_ID`) the SSDlet's
//!   own code used since its last runtime call returned (the runtime's work inside a call is
//!   the simulator's, not the SSDlet's), less the cost of reading that clock, times the
//!   profile's `arm_slowdown`. Not reproducible:
//!   it depends on the host machine and its load. It also records each instance's CPU time,
//!   which is what a calibration fits the table's costs to.
//!
//! An SSDlet of an Application at the host site (a conventional run) runs on a host core, the
//! reference core itself: both models charge it without `arm_slowdown`.
//!
//! A table entry says which build it was measured on, so a debug and a release build of one
//! module, or two different modules, cost differently once each is calibrated.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use ndp_protocol::Site;
pub use ndp_protocol::{CostSource, WorkCounts};

/// Cost of each unit of [`WorkCounts`] on the reference host core, in picoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitCosts {
    /// Per runtime call (entering the runtime, its checks, returning; a batch of messages is
    /// one call: `port_put_batch`, `port_get_batch`).
    pub call_ps: u64,
    /// Per message received or sent (encoding or decoding it).
    pub message_ps: u64,
    /// Per payload byte moved through a port.
    pub byte_moved_ps: u64,
    /// Per file byte read (what the SSDlet does with its input).
    pub byte_read_ps: u64,
    /// Per DRAM allocation.
    pub allocation_ps: u64,
}

impl UnitCosts {
    /// Costs of an SSDlet without a calibration, on the reference host core: 10 ns per call,
    /// 20 ns per message, 0.1 ns per byte moved or read, 20 ns per allocation. Source:
    /// assumed, the order of a few dozen instructions per call or message and about one
    /// instruction per byte touched once (at `arm_slowdown` 10 they are the runtime's former
    /// fixed device costs: 100 ns per call, 200 ns per message, 1 ns per byte).
    pub const GENERIC: UnitCosts = UnitCosts {
        call_ps: 10_000,
        message_ps: 20_000,
        byte_moved_ps: 100,
        byte_read_ps: 100,
        allocation_ps: 20_000,
    };

    /// The cost of `w` in picoseconds of the reference host core.
    pub fn of(&self, w: &WorkCounts) -> u128 {
        let m = |n: u64, ps: u64| n as u128 * ps as u128;
        m(w.calls, self.call_ps)
            + m(w.messages, self.message_ps)
            + m(w.bytes_moved, self.byte_moved_ps)
            + m(w.bytes_read, self.byte_read_ps)
            + m(w.allocations, self.allocation_ps)
    }

    /// Every cost multiplied by `k` (rounded to the nearest picosecond).
    pub fn scaled(&self, k: f64) -> UnitCosts {
        let s = |ps: u64| (ps as f64 * k).round().max(0.0) as u64;
        UnitCosts {
            call_ps: s(self.call_ps),
            message_ps: s(self.message_ps),
            byte_moved_ps: s(self.byte_moved_ps),
            byte_read_ps: s(self.byte_read_ps),
            allocation_ps: s(self.allocation_ps),
        }
    }
}

/// Names one build of a module: FNV-1a (64 bit) of the module file's bytes. Module builds
/// are reproducible (same sources, toolchain and lock file give the same bytes wherever the
/// workspace is checked out), so a digest calibrated on one machine matches on another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModuleDigest(pub u64);

impl ModuleDigest {
    /// The digest of a module file's bytes.
    pub fn of(bytes: &[u8]) -> ModuleDigest {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        ModuleDigest(
            bytes
                .iter()
                .fold(OFFSET, |h, &b| (h ^ b as u64).wrapping_mul(PRIME)),
        )
    }
}

impl std::fmt::Display for ModuleDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// One calibrated SSDlet: its module build and its per-unit costs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibratedSsdlet {
    /// Module name (from its metadata).
    pub module: String,
    /// SSDlet id.
    pub ssdlet: String,
    /// [`ModuleDigest`] of the build measured, as 16 hex digits.
    pub digest: String,
    /// Its costs on the reference host core.
    pub costs: UnitCosts,
    /// How they were obtained (command, sizes, runs, fit residual): the entry's derivation.
    pub derivation: String,
}

/// Calibrated costs of SSDlets, looked up by module build (module docs).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostTable {
    /// What the reference host core is (the machine the costs were measured on).
    #[serde(default)]
    pub reference_core: String,
    /// The calibrated SSDlets.
    #[serde(default)]
    pub ssdlets: Vec<CalibratedSsdlet>,
}

impl CostTable {
    /// The costs of SSDlet `ssdlet` of module `module` built as `digest`, and their source.
    pub fn lookup(&self, module: &str, ssdlet: &str, digest: ModuleDigest) -> (UnitCosts, CostSource) {
        let hex = digest.to_string();
        let same = |e: &&CalibratedSsdlet| e.module == module && e.ssdlet == ssdlet;
        if let Some(e) = self.ssdlets.iter().filter(same).find(|e| e.digest == hex) {
            return (e.costs, CostSource::Calibrated);
        }
        match self.ssdlets.iter().find(same) {
            Some(e) => (e.costs, CostSource::OtherBuild),
            None => (UnitCosts::GENERIC, CostSource::Generic),
        }
    }
}

/// [`ComputeModel::Modeled`]'s parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct CostModel {
    /// Calibrated SSDlets.
    pub table: Arc<CostTable>,
    /// Device-core time per reference-host-core time; `None` (the default): the device
    /// profile's `arm_slowdown`, taken when the runtime starts.
    pub slowdown: Option<f64>,
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel {
            table: Arc::new(CostTable::default()),
            slowdown: None,
        }
    }
}

/// How SSDlet compute time is obtained (module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum ComputeModel {
    /// Counted work times calibrated per-unit costs; deterministic.
    Modeled(CostModel),
    /// Measured thread CPU time times this slowdown factor (the profile's `arm_slowdown`).
    Measured {
        /// Host CPU time is multiplied by this.
        slowdown: f64,
    },
}

impl ComputeModel {
    /// The modeled compute for `profile`'s slowdown with calibrated costs from `table`.
    pub fn modeled(profile: &sim_nvme::DeviceProfile, table: Arc<CostTable>) -> ComputeModel {
        ComputeModel::Modeled(CostModel {
            table,
            slowdown: Some(profile.arm.arm_slowdown),
        })
    }

    /// Measured compute with `profile`'s slowdown.
    pub fn measured(profile: &sim_nvme::DeviceProfile) -> ComputeModel {
        ComputeModel::Measured {
            slowdown: profile.arm.arm_slowdown,
        }
    }

    /// The costs (picoseconds per unit) of an SSDlet on a core of `site`, and their source.
    /// A device core's are the table's times the slowdown; a host core is the reference host
    /// core the table was calibrated on, so its are the table's own.
    pub(crate) fn costs(
        &self,
        site: Site,
        module: &str,
        ssdlet: &str,
        digest: ModuleDigest,
    ) -> (UnitCosts, CostSource) {
        match self {
            ComputeModel::Modeled(m) => {
                let (c, src) = m.table.lookup(module, ssdlet, digest);
                (c.scaled(site_scale(site, m.slowdown.unwrap_or(1.0))), src)
            }
            ComputeModel::Measured { .. } => (UnitCosts::GENERIC, CostSource::Measured),
        }
    }
}

/// The factor from reference-host-core time to time on a core of `site`: the device's
/// `slowdown`, or 1 on the host.
pub(crate) fn site_scale(site: Site, slowdown: f64) -> f64 {
    match site {
        Site::Device => slowdown,
        Site::Host => 1.0,
    }
}

/// Host compute to match the first key against one byte in software, in picoseconds on the
/// reference host core: what a conventional run pays for each page a device matcher would
/// have scanned. Source: measured, `memchr::memmem` over 64 MiB from DRAM for one key runs
/// 10.67 GiB/s on the reference host (sim-nvme's `matcher` bench, in turns), about 0.1 ns per
/// byte.
pub(crate) const SOFTWARE_MATCH_PS_PER_BYTE: u64 = 100;

/// Host compute per byte for each key after the first, in picoseconds: its `memmem` pass runs
/// over bytes already in cache. Source: measured, the same bench's scan with three keys takes
/// 1.6 times its scan with one (5.65 vs 9.07 GiB/s), so each further key adds 0.3 of the
/// first's 100 ps.
pub(crate) const SOFTWARE_MATCH_MORE_KEYS_PS_PER_BYTE: u64 = 30;

/// The host compute, in picoseconds, to match `keys` keys against `bytes` bytes in software.
pub(crate) fn software_match_ps(keys: usize, bytes: u64) -> u128 {
    let per_byte =
        SOFTWARE_MATCH_PS_PER_BYTE + SOFTWARE_MATCH_MORE_KEYS_PS_PER_BYTE * keys.saturating_sub(1) as u64;
    u128::from(bytes) * u128::from(per_byte)
}

impl ComputeModel {
    /// This model with an unset slowdown taken from `profile` (what the runtime runs with).
    pub(crate) fn for_profile(mut self, profile: &sim_nvme::DeviceProfile) -> ComputeModel {
        if let ComputeModel::Modeled(m) = &mut self {
            m.slowdown.get_or_insert(profile.arm.arm_slowdown);
        }
        self
    }
}

impl Default for ComputeModel {
    fn default() -> Self {
        ComputeModel::Modeled(CostModel::default())
    }
}

/// What one reading of the thread CPU clock adds to an interval measured with it, in ns: the
/// smallest of many back-to-back differences (on a virtual machine the clock is a system
/// call of a few hundred ns, which would otherwise be charged to every SSDlet per runtime
/// call). Measured once per process.
pub(crate) fn clock_overhead_ns() -> u64 {
    static OVERHEAD: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *OVERHEAD.get_or_init(|| {
        (0..256)
            .map(|_| {
                let a = thread_cpu_ns();
                thread_cpu_ns().saturating_sub(a)
            })
            .min()
            .unwrap_or(0)
    })
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
