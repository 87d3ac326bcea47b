//! [`Measured`]: one run's result with what it cost, the same fields for both paths, so the
//! conventional and NDP runs read side by side.

use std::time::Duration;

use host_sdk::{Device, RunReport, SimDuration, SimTime};

/// Which path a run took.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Path {
    /// The host reads the data over NVMe and computes (host compute measured, factor 1).
    Conv,
    /// SSDlets compute near the data; the host gets the result.
    Ndp,
}

impl Path {
    /// `conv` or `ndp`.
    pub fn name(self) -> &'static str {
        match self {
            Path::Conv => "conv",
            Path::Ndp => "ndp",
        }
    }
}

/// One run: its result and its costs.
#[derive(Clone, Debug)]
pub struct Measured<T> {
    /// The path it took.
    pub path: Path,
    /// What the host got.
    pub result: T,
    /// Simulated time on the host clock, from the first command of the run to the moment the
    /// host holds the whole result (setup such as loading modules and wiring is excluded).
    pub simulated: SimDuration,
    /// Bytes moved over PCIe, device to host.
    pub pcie_bytes: u64,
    /// Bytes moved over PCIe, host to device (commands' data: NDP start nodes, ...).
    pub pcie_bytes_to_device: u64,
    /// NAND pages read. NDP: the device's count (`RunReport::nand_pages_read`). Conventional:
    /// counted on the host as the NAND pages its reads cover (module `conv`).
    pub nand_pages: u64,
    /// Measured host compute, thread CPU time (conventional runs; zero for NDP).
    pub host_compute: Duration,
    /// Wall time of the run on this machine.
    pub wall: Duration,
    /// The device's report of the Application (NDP runs).
    pub report: Option<RunReport>,
}

/// The host clock span `from .. device.now()`.
pub fn since(device: &Device, from: SimTime) -> SimDuration {
    device.now().saturating_since(from)
}
