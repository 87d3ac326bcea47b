//! [`RunReport`]: what one Application did, in simulated time and device work, as the device
//! reports it to the host.

use serde::{Deserialize, Serialize};
use sim_nvme::{SimDuration, SimTime};

/// Messages and bytes through one port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortReport {
    /// `sender.port -> receiver.port` (`host` for a host end).
    pub name: String,
    /// Messages accepted.
    pub messages: u64,
    /// Payload bytes accepted.
    pub bytes: u64,
}

/// The report of one Application run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// The Application's name.
    pub app: String,
    /// `None` if every SSDlet succeeded, else the first failure.
    pub error: Option<String>,
    /// SSDlet instances.
    pub instances: usize,
    /// When it was started (host clock).
    pub started_at: SimTime,
    /// When its last SSDlet finished or its last message reached the host.
    pub finished_at: SimTime,
    /// `finished_at - started_at`.
    pub elapsed: SimDuration,
    /// Where its SSDlets ran: what `core_busy` and each `SsdletReport::core` index.
    pub site: crate::Site,
    /// Time each core of its site spent running its SSDlets, indexed by core: the device's
    /// ARM cores, or for a [`crate::Site::Host`] Application the host's cores.
    pub core_busy: Vec<SimDuration>,
    /// Every port with an end in this Application.
    pub ports: Vec<PortReport>,
    /// NAND page reads its file reads and matcher scans caused.
    pub nand_pages_read: u64,
    /// Bytes it sent device-to-host over PCIe.
    pub pcie_bytes_to_host: u64,
    /// Bytes the host sent it over PCIe.
    pub pcie_bytes_to_device: u64,
    /// Pages its matcher scans covered.
    pub matcher_pages_scanned: u64,
    /// Pages the matchers hinted.
    pub matcher_pages_hinted: u64,
    /// Most device DRAM its SSDlets held at once, in bytes.
    pub dram_peak: u64,
    /// Device DRAM still charged to it when the report was made (what it leaked, once done).
    pub dram_held: u64,
    /// Whether every SSDlet has finished.
    pub done: bool,
    /// Each SSDlet instance's counted work and charged compute, in spawn order.
    pub ssdlets: Vec<SsdletReport>,
}

/// The work one SSDlet instance did, as the runtime counts it (the same in every compute
/// model: it is what the modeled compute charges for).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkCounts {
    /// Runtime calls that may wait (port get and put, file length and read, matcher scan,
    /// yield); bookkeeping calls (port close, log, error text, matcher limits) are not counted.
    pub calls: u64,
    /// Messages received or sent.
    pub messages: u64,
    /// Payload bytes received or sent and copied (a handed-over buffer moves no bytes).
    pub bytes_moved: u64,
    /// File bytes read.
    pub bytes_read: u64,
    /// Device DRAM allocations (alloc and realloc).
    pub allocations: u64,
}

impl WorkCounts {
    /// The sum of two counts.
    pub fn plus(self, o: WorkCounts) -> WorkCounts {
        WorkCounts {
            calls: self.calls + o.calls,
            messages: self.messages + o.messages,
            bytes_moved: self.bytes_moved + o.bytes_moved,
            bytes_read: self.bytes_read + o.bytes_read,
            allocations: self.allocations + o.allocations,
        }
    }
}

/// Where an instance's compute costs came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CostSource {
    /// A calibration of this exact module build (same digest).
    Calibrated,
    /// A calibration of another build of a module with the same name (the code differs).
    OtherBuild,
    /// No calibration: the runtime's generic per-unit costs.
    Generic,
    /// Measured thread CPU time times the profile's slowdown (not reproducible).
    Measured,
}

/// One SSDlet instance of a [`RunReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsdletReport {
    /// Its module's name.
    pub module: String,
    /// Its module's digest (FNV-1a 64 of the module file, hex): names one build.
    pub digest: String,
    /// Its SSDlet id.
    pub ssdlet: String,
    /// The core it ran on.
    pub core: u32,
    /// What it did.
    pub work: WorkCounts,
    /// Compute charged to its core's clock (waits for I/O and ports excluded).
    pub compute: SimDuration,
    /// Thread CPU time it used on the simulating machine, in ns (measured compute only,
    /// else 0): the calibration's input.
    pub host_cpu_ns: u64,
    /// Where the costs came from.
    pub costs: CostSource,
}
