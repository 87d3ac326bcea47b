//! The conventional runs, on the host API's conventional path ([`Device::host_file`]): the
//! host reads a device file with plain NVMe reads (host I/O stack, PCIe and NAND timing
//! included) and computes natively, all on the [`Device`] host clock.
//!
//! - pointer chasing: every hop is a queue-depth-1 4 KiB [`host_sdk::HostFile::pread`] (each depends on
//!   the last), then the hop's measured host compute ([`Device::compute`]);
//! - grep and wordcount: a deep sequential [`host_sdk::HostFile::scan`] (128 KiB requests, 64 deep,
//!   the [`ReadAhead`] default); the host processes chunks in order as they arrive and its
//!   measured compute is charged as a streaming pipeline, the most favourable case for the
//!   conventional side.
//!
//! Host compute is the measured CPU time of one thread at factor 1 (not wall time: a busy
//! machine does not slow the simulated host), so conventional times still vary a little from
//! run to run when the host computes much (wordcount).
//!
//! NAND pages are counted on the host (the host API has no device counters): a scan reads
//! each NAND page of the file once (`ceil(bytes / page_bytes)`), a 4 KiB `pread` reads one.

use std::collections::HashMap;
use std::time::Instant;

use host_sdk::{Device, ReadAhead};
use ndp_data::gen::graph::{next_hop, GraphError, PAGE};

use crate::measure::{since, Measured, Path};
use crate::text::{LineScanner, WordCounter};
use crate::LineHit;

/// Why a conventional run failed.
#[derive(Debug, thiserror::Error)]
pub enum ConvError {
    /// The host API failed (file missing, NVMe error, ...).
    #[error(transparent)]
    Host(#[from] host_sdk::Error),
    /// A graph page is malformed.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// Scans device file `file` feeding `feed` with every chunk, then runs `finish` on the host
/// (both charged to the host clock).
fn scanned<S, T>(
    device: &Device,
    file: &str,
    page_bytes: u64,
    mut state: S,
    feed: impl Fn(&mut S, &[u8]),
    finish: impl FnOnce(S) -> T,
) -> Result<Measured<T>, ConvError> {
    let f = device.host_file(file)?;
    let t0 = device.now();
    let wall = Instant::now();
    let scan = f.scan(ReadAhead::default(), |chunk| feed(&mut state, chunk))?;
    let (result, finish_cpu) = host_sdk::cpu::on_cpu(|| device.compute(|| finish(state)));
    Ok(Measured {
        path: Path::Conv,
        result,
        simulated: since(device, t0),
        pcie_bytes: scan.bytes_read,
        pcie_bytes_to_device: 0,
        nand_pages: scan.bytes_read.div_ceil(page_bytes.max(1)),
        host_compute: scan.host_compute + finish_cpu,
        wall: wall.elapsed(),
        report: None,
    })
}

/// Conventional wordcount of device file `file`: a streaming count as the chunks arrive.
/// `page_bytes`: the device's NAND page size (for the page count).
pub fn word_count(
    device: &Device,
    file: &str,
    page_bytes: u64,
) -> Result<Measured<HashMap<String, u64>>, ConvError> {
    scanned(
        device,
        file,
        page_bytes,
        WordCounter::default(),
        WordCounter::feed,
        WordCounter::finish,
    )
}

/// Conventional string search of device file `file`: lines containing `pattern`.
pub fn grep(
    device: &Device,
    file: &str,
    pattern: &[u8],
    page_bytes: u64,
) -> Result<Measured<Vec<LineHit>>, ConvError> {
    scanned(
        device,
        file,
        page_bytes,
        LineScanner::new(pattern),
        LineScanner::feed,
        LineScanner::finish,
    )
}

/// Conventional pointer chasing over the adjacency-page file `file`: `hops` queue-depth-1
/// reads per start node, walks one after another; paths in start order.
pub fn pointer_chase(
    device: &Device,
    file: &str,
    starts: &[u64],
    hops: u32,
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
            let (next, spent) =
                host_sdk::cpu::on_cpu(|| device.compute(|| next_hop(&page, node, start, hop)));
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
        pcie_bytes: reads * PAGE as u64,
        pcie_bytes_to_device: 0,
        nand_pages: reads,
        host_compute,
        wall: wall.elapsed(),
        report: None,
    })
}
