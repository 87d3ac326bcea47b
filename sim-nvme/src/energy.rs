//! The energy model: what a run cost in joules, per component, from what it did ([`Activity`])
//! and the profile's component powers ([`PowerModel`]). A pure function; nothing is measured.
//!
//! With `T` the elapsed simulated time in seconds and `P` the profile's `[power]` section:
//!
//! ```text
//! host CPU    = sockets x P.host_package_idle_w x T
//!             + (P.host_package_active_w - P.host_package_idle_w) / P.host_cores_per_socket
//!               x min(host_busy_s, host_cores x T)
//! host DRAM   = P.host_dram_w x T
//! SSD / ARM   = P.ssd_idle_w x T + P.arm_core_busy_w x min(arm_busy_s, arm_cores x T)
//! NAND        = (pages_read x P.nand_read_page_uj + pages_programmed x P.nand_program_page_uj
//!               + blocks_erased x P.nand_erase_block_uj) x 1e-6
//! PCIe        = (bytes_to_host + bytes_to_device) x 8 x P.pcie_pj_per_bit x 1e-12
//! matchers    = matcher_pages_scanned x P.matcher_nj_per_page x 1e-9
//! total       = the sum of the six
//! ```
//!
//! Host CPU power is linear in the number of busy cores between the packages' idle power
//! (always paid, for every socket: the run is charged the whole machine) and their active power
//! (every core busy). `host_cores` is how many host cores the run could keep busy (at most
//! `sockets x cores_per_socket`): busy time beyond `host_cores x T` is not charged twice, and
//! likewise for the device's SSDlet cores. The drive's idle power covers its controller,
//! DRAM and NAND standby; the NAND, PCIe and matcher terms are the energy of the operations on
//! top of it. DRAM is charged as a constant power: its traffic-dependent part is not modelled.

use serde::{Deserialize, Serialize};

use crate::metrics::SsdStats;
use crate::profile::PowerModel;

/// What a run did, as the energy model needs it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Simulated time the run lasted. Unit: ns.
    pub elapsed_ns: u64,
    /// Host-core compute, summed over cores. Unit: ns.
    pub host_busy_ns: u64,
    /// Host cores the run could use (caps `host_busy_ns` at `host_cores x elapsed_ns`).
    pub host_cores: u32,
    /// SSDlet-core compute on the device, summed over cores. Unit: ns.
    pub arm_busy_ns: u64,
    /// SSDlet cores on the device (caps `arm_busy_ns` likewise).
    pub arm_cores: u32,
    /// NAND page reads (tR).
    pub nand_pages_read: u64,
    /// NAND page programs.
    pub nand_pages_programmed: u64,
    /// NAND block erases.
    pub nand_blocks_erased: u64,
    /// Bytes moved device-to-host over PCIe.
    pub pcie_bytes_to_host: u64,
    /// Bytes moved host-to-device over PCIe.
    pub pcie_bytes_to_device: u64,
    /// 4 KiB pages the channel matchers scanned (as [`SsdStats::matcher_pages_scanned`]).
    pub matcher_pages_scanned: u64,
}

impl Activity {
    /// This activity with the device-side counts (NAND, PCIe, matchers) taken from a device's
    /// counters, e.g. the difference of two [`SsdStats`] around a run.
    pub fn with_ssd_stats(self, stats: &SsdStats) -> Self {
        Activity {
            nand_pages_read: stats.nand_pages_read,
            nand_pages_programmed: stats.ftl.pages_programmed,
            nand_blocks_erased: stats.ftl.blocks_erased,
            pcie_bytes_to_host: stats.pcie_bytes_to_host,
            pcie_bytes_to_device: stats.pcie_bytes_to_device,
            matcher_pages_scanned: stats.matcher_pages_scanned,
            ..self
        }
    }
}

/// Energy of a run per component. Unit: joules. `total_j` is the sum of the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Energy {
    /// Host CPU packages: idle power of every socket plus the busy cores' share.
    pub host_cpu_j: f64,
    /// Host DRAM.
    pub host_dram_j: f64,
    /// The drive at idle (controller, DRAM, NAND standby) plus its busy SSDlet cores.
    pub ssd_controller_j: f64,
    /// NAND array operations: reads, programs, erases.
    pub nand_j: f64,
    /// The PCIe link, both directions.
    pub pcie_j: f64,
    /// The channel pattern matchers.
    pub matchers_j: f64,
    /// The sum of the six components.
    pub total_j: f64,
}

impl Energy {
    /// The components in a fixed order with their names (for reports and tests).
    pub fn components(&self) -> [(&'static str, f64); 6] {
        [
            ("host_cpu", self.host_cpu_j),
            ("host_dram", self.host_dram_j),
            ("ssd_controller", self.ssd_controller_j),
            ("nand", self.nand_j),
            ("pcie", self.pcie_j),
            ("matchers", self.matchers_j),
        ]
    }
}

/// Busy seconds, capped at what `cores` can do in `elapsed_s`.
fn busy_s(busy_ns: u64, cores: u32, elapsed_s: f64) -> f64 {
    (busy_ns as f64 * 1e-9).min(f64::from(cores) * elapsed_s)
}

/// The energy of `activity` under `power` (see the module docs for every formula).
pub fn energy(activity: &Activity, power: &PowerModel) -> Energy {
    let a = activity;
    let p = power;
    let t = a.elapsed_ns as f64 * 1e-9;
    let host_cores = a
        .host_cores
        .min(p.host_sockets.saturating_mul(p.host_cores_per_socket));
    let per_core_w = (p.host_package_active_w - p.host_package_idle_w) / f64::from(p.host_cores_per_socket);
    let host_cpu_j = f64::from(p.host_sockets) * p.host_package_idle_w * t
        + per_core_w * busy_s(a.host_busy_ns, host_cores, t);
    let host_dram_j = p.host_dram_w * t;
    let ssd_controller_j = p.ssd_idle_w * t + p.arm_core_busy_w * busy_s(a.arm_busy_ns, a.arm_cores, t);
    let nand_j = (a.nand_pages_read as f64 * p.nand_read_page_uj
        + a.nand_pages_programmed as f64 * p.nand_program_page_uj
        + a.nand_blocks_erased as f64 * p.nand_erase_block_uj)
        * 1e-6;
    let pcie_j =
        (a.pcie_bytes_to_host as f64 + a.pcie_bytes_to_device as f64) * 8.0 * p.pcie_pj_per_bit * 1e-12;
    let matchers_j = a.matcher_pages_scanned as f64 * p.matcher_nj_per_page * 1e-9;
    let mut e = Energy {
        host_cpu_j,
        host_dram_j,
        ssd_controller_j,
        nand_j,
        pcie_j,
        matchers_j,
        total_j: 0.0,
    };
    e.total_j = e.components().iter().map(|(_, j)| j).sum();
    e
}
