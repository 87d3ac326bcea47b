//! Conventional pointer chasing, on the host API's conventional path
//! ([`Device::host_file`](host_sdk::Device::host_file)): every hop is a queue-depth-1 4 KiB
//! [`host_sdk::HostFile::pread`] (each depends on the last), then the hop's host compute
//! (decoding the page and picking the next node), all on the [`Device`] host clock.
//!
//! Host compute is modeled (hops times the calibrated cost per hop: deterministic) or
//! measured (the CPU time of one thread at factor 1, not wall time). NAND pages are counted on the host (the host
//! API has no device counters): a 4 KiB `pread` reads one.

use std::time::Instant;

use app_support::gen::graph::{next_hop, GraphError, PAGE};
use app_support::measure::{since, Measured, Path};
use host_sdk::cpu::HostCharge;
use host_sdk::Device;

/// Why a conventional pointer chase failed.
#[derive(Debug, thiserror::Error)]
pub enum ConvError {
    /// The host API failed (file missing, NVMe error, ...).
    #[error(transparent)]
    Host(#[from] host_sdk::Error),
    /// A graph page is malformed.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// Conventional pointer chasing over the adjacency-page file `file`: `hops` queue-depth-1
/// reads per start node, walks one after another; paths in start order.
pub fn pointer_chase(
    device: &Device,
    file: &str,
    starts: &[u64],
    hops: u32,
    host: HostCharge,
) -> Result<Measured<Vec<Vec<u64>>>, ConvError> {
    let f = device.host_file(file)?;
    let t0 = device.now();
    let wall = Instant::now();
    let mut host_compute = std::time::Duration::ZERO;
    let mut paths = Vec::with_capacity(starts.len());
    let mut reads = 0u64;
    for &start in starts {
        let mut path = Vec::with_capacity(hops as usize + 1);
        let mut node = start;
        path.push(node);
        for hop in 0..hops {
            let page = f.pread(node * PAGE as u64, PAGE as u64)?;
            reads += 1;
            // One measurement: charged to the host clock and reported.
            let (next, _, spent) = host.run(|| (next_hop(&page, node, start, hop), 1));
            device.charge(spent);
            node = next?;
            host_compute += spent;
            path.push(node);
        }
        paths.push(path);
    }
    Ok(Measured {
        path: Path::Conv,
        result: paths,
        simulated: since(device, t0),
        start: t0,
        pcie_bytes: reads * PAGE as u64,
        pcie_bytes_to_device: 0,
        nand_pages: reads,
        host_compute,
        host_work: reads,
        wall: wall.elapsed(),
        report: None,
    })
}
