//! [`Outcome`]: what one workload's runs produced, in the shape the report and the JSON
//! output print.

use serde::Serialize;

use crate::measure::{Measured, Path};
use crate::setup::DataInfo;

/// The costs of one run, in plain numbers.
#[derive(Clone, Debug, Serialize)]
pub struct Figures {
    /// `conv` or `ndp`.
    pub path: Path,
    /// Simulated time on the host clock, nanoseconds.
    pub simulated_ns: u64,
    /// The host clock instant the run started at, nanoseconds (for the report's timeline;
    /// not printed: it depends on what ran before).
    #[serde(skip)]
    pub start_ns: u64,
    /// Bytes device-to-host over PCIe.
    pub pcie_bytes: u64,
    /// Bytes host-to-device over PCIe (NDP: the data of commands such as start nodes).
    pub pcie_bytes_to_device: u64,
    /// NAND pages read.
    pub nand_pages: u64,
    /// Wall time of the run on this machine, nanoseconds.
    pub wall_ns: u64,
    /// Host compute charged, nanoseconds (conventional runs): modeled or measured.
    pub host_compute_ns: u64,
    /// Units of host work counted (conventional runs: bytes scanned, hops).
    pub host_work: u64,
    /// Energy of the run per component and in total (`[power]` of the profile; see
    /// `sim_nvme::energy`): the host CPU busy for its compute, the device's SSDlet cores for
    /// theirs, NAND reads, PCIe bytes and matcher pages as counted, every idle power over the
    /// simulated time.
    pub energy: sim_nvme::Energy,
    /// Each SSDlet's counted work and compute (NDP runs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssdlets: Vec<host_sdk::SsdletReport>,
    /// The device's own elapsed time of the Application, nanoseconds (NDP runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_elapsed_ns: Option<u64>,
}

impl Figures {
    /// The figures of run `m` on a device of `profile`.
    pub fn of<T>(m: &Measured<T>, profile: &sim_nvme::DeviceProfile) -> Figures {
        // A device run's report: its busy cores are ARM cores (the applications run no
        // host-site Application; their conventional paths are host code).
        let report = m.report.as_ref().filter(|r| r.site == host_sdk::Site::Device);
        let activity = sim_nvme::Activity {
            elapsed_ns: m.simulated.0,
            host_busy_ns: m.host_compute.as_nanos() as u64,
            host_cores: 1,
            arm_busy_ns: report.map_or(0, |r| r.core_busy.iter().map(|d| d.0).sum()),
            arm_cores: profile.arm.cores,
            nand_pages_read: m.nand_pages,
            nand_pages_programmed: 0,
            nand_blocks_erased: 0,
            pcie_bytes_to_host: m.pcie_bytes,
            pcie_bytes_to_device: m.pcie_bytes_to_device,
            matcher_pages_scanned: report.map_or(0, |r| r.matcher_pages_scanned),
        };
        Figures {
            path: m.path,
            simulated_ns: m.simulated.0,
            start_ns: m.start.0,
            pcie_bytes: m.pcie_bytes,
            pcie_bytes_to_device: m.pcie_bytes_to_device,
            nand_pages: m.nand_pages,
            wall_ns: m.wall.as_nanos() as u64,
            host_compute_ns: m.host_compute.as_nanos() as u64,
            host_work: m.host_work,
            energy: sim_nvme::energy(&activity, &profile.power),
            ssdlets: report.map(|r| r.ssdlets.clone()).unwrap_or_default(),
            device_elapsed_ns: m.report.as_ref().map(|r| r.elapsed.0),
        }
    }
}

/// One workload's runs and result.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// `wordcount`, `grep` or `pointer-chase`.
    pub workload: &'static str,
    /// A one-line description (`wordcount of 64.0 MiB, 2 mappers, 2 reducers`).
    pub title: String,
    /// The data.
    pub data: DataInfo,
    /// The runs made, conventional first.
    pub runs: Vec<Figures>,
    /// With both runs: their results were compared and are identical (a difference is an
    /// error, so this is `Some(true)` or `None`).
    pub identical: Option<bool>,
    /// The result, as JSON.
    pub result: serde_json::Value,
    /// The result for people, a few lines.
    pub summary: Vec<String>,
    /// Where the full result was written (`--output`).
    pub output: Option<std::path::PathBuf>,
}

impl Outcome {
    /// The run of `path`, if made.
    pub fn run(&self, path: Path) -> Option<&Figures> {
        self.runs.iter().find(|r| r.path == path)
    }

    /// Conventional over NDP simulated time, with both runs.
    pub fn speedup(&self) -> Option<f64> {
        let (c, n) = (self.run(Path::Conv)?, self.run(Path::Ndp)?);
        Some(c.simulated_ns as f64 / n.simulated_ns.max(1) as f64)
    }
}
