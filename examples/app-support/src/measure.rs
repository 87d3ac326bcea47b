//! [`Measured`]: one run's result with what it cost, the same fields for both paths, so the
//! conventional and NDP runs read side by side; and the frames the applications measure their
//! runs in:
//!
//! - [`scanned`]: a conventional deep sequential scan ([`host_sdk::HostFile::scan`], 128 KiB
//!   requests, 64 deep, the [`ReadAhead`] default); the host processes chunks in order as they
//!   arrive and its compute ([`HostCharge`]) is charged as a streaming pipeline, the most favourable
//!   case for the conventional side. NAND pages are counted on the host (the host API has no
//!   device counters): a scan reads each NAND page of the file once (`ceil(bytes / page_bytes)`).
//! - [`ndp_measured`], [`drain`]: an NDP run's figures from the device's [`RunReport`] and the
//!   host clock from `Start` to the result, and its host receivers read to the end.

use std::time::{Duration, Instant};

use host_sdk::{Device, HostReceiver, ReadAhead, RunReport, SimDuration, SimTime};

use host_sdk::cpu::HostCharge;

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
    /// The host clock instant the run started at (where it sits on the trace's timeline).
    pub start: SimTime,
    /// Bytes moved over PCIe, device to host.
    pub pcie_bytes: u64,
    /// Bytes moved over PCIe, host to device (commands' data: NDP start nodes, ...).
    pub pcie_bytes_to_device: u64,
    /// NAND pages read. NDP: the device's count (`RunReport::nand_pages_read`). Conventional:
    /// counted on the host as the NAND pages its reads cover ([`scanned`], each
    /// application's `conv`).
    pub nand_pages: u64,
    /// Host compute charged (conventional runs; zero for NDP): modeled from counted work or
    /// measured thread CPU time ([`HostCharge`]).
    pub host_compute: Duration,
    /// Units of host work counted (bytes scanned, hops decoded; zero for NDP): what a
    /// calibration fits the host's cost per unit to.
    pub host_work: u64,
    /// Wall time of the run on this machine.
    pub wall: Duration,
    /// The device's report of the Application (NDP runs).
    pub report: Option<RunReport>,
}

/// The host clock span `from .. device.now()`.
pub fn since(device: &Device, from: SimTime) -> SimDuration {
    device.now().saturating_since(from)
}

/// Scans device file `file` feeding `feed` with every chunk, then runs `finish` on the host.
/// `host` says how the host compute is charged: modeled, each chunk costs its bytes times the
/// calibrated cost per byte (which covers `finish` too: the calibration fits the whole path's
/// CPU time to the bytes scanned); measured, the CPU time of `feed` and `finish`.
/// `page_bytes`: the device's NAND page size (for the page count).
#[allow(clippy::too_many_arguments)]
pub fn scanned<S, T>(
    device: &Device,
    file: &str,
    page_bytes: u64,
    host: HostCharge,
    mut state: S,
    feed: impl Fn(&mut S, &[u8]),
    finish: impl FnOnce(S) -> T,
) -> Result<Measured<T>, host_sdk::Error> {
    let f = device.host_file(file)?;
    let t0 = device.now();
    let wall = Instant::now();
    let scan = f.scan_charged(ReadAhead::default(), |chunk| {
        host.run(|| {
            feed(&mut state, chunk);
            ((), chunk.len() as u64)
        })
        .2
    })?;
    let (result, finish_cpu) = host.uncounted(|| finish(state));
    device.charge(finish_cpu);
    let scan_size = f.size();
    Ok(Measured {
        path: Path::Conv,
        result,
        simulated: since(device, t0),
        start: t0,
        pcie_bytes: scan.bytes_read,
        pcie_bytes_to_device: 0,
        nand_pages: scan.bytes_read.div_ceil(page_bytes.max(1)),
        host_compute: scan.host_compute + finish_cpu,
        host_work: scan_size,
        wall: wall.elapsed(),
        report: None,
    })
}

/// Every message of `ports`, port after port, each read to its end.
pub fn drain<T: serde::de::DeserializeOwned>(
    ports: &mut [HostReceiver<T>],
) -> Result<Vec<T>, host_sdk::Error> {
    let mut out = Vec::new();
    for p in ports {
        out.extend(p.collect_all()?);
    }
    Ok(out)
}

/// An NDP run's [`Measured`]: `result`, the host clock since `t0` (the `Start` command), wall
/// time since `wall`, PCIe bytes and NAND pages from the device's `report`.
pub fn ndp_measured<T>(
    device: &Device,
    t0: SimTime,
    wall: Instant,
    result: T,
    report: RunReport,
) -> Measured<T> {
    Measured {
        path: Path::Ndp,
        result,
        simulated: since(device, t0),
        start: t0,
        pcie_bytes: report.pcie_bytes_to_host,
        pcie_bytes_to_device: report.pcie_bytes_to_device,
        nand_pages: report.nand_pages_read,
        host_compute: Duration::ZERO,
        host_work: 0,
        wall: wall.elapsed(),
        report: Some(report),
    }
}
