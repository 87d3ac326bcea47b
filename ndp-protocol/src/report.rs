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
    /// Time each core spent running its SSDlets, indexed by core.
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
}
