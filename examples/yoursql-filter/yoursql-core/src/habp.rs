//! The offloaded scan with host-aware bulk prefetch (YourSQL's HABP), as three activities on
//! one simulated timeline:
//!
//! 1. **Early filtering** on the device: the `filter` SSDlet scans the table with the
//!    matchers, one request of [`ScanConfig::hint_chunk_pages`] pages at a time, and sends the
//!    hinted pages of each request to the host as soon as the request completes.
//! 2. **Prefetcher** (a host thread with its own clock): receives each hint message at its
//!    arrival instant (one message per `Recv`), merges consecutive hinted pages into reads of
//!    up to [`ScanConfig::prefetch_request_bytes`], and issues them with up to
//!    [`ScanConfig::prefetch_depth`] outstanding: each read is issued at the later of the
//!    hint's arrival and a free queue slot (plain NVMe reads over PCIe, on the device's own
//!    file extents, which it reads from the file table as the host file system would).
//! 3. **Row processing** (the host CPU): decodes each read's pages, filters and projects the
//!    rows, in page order; a read is processed at the later of its arrival and the end of the
//!    previous processing, and its measured wall time is added. So reading later pages
//!    overlaps processing earlier ones, and both overlap the device's filtering.
//!
//! The scan ends when the CPU has processed the last page and the filter has finished; the
//! host clock moves there.
//!
//! [`ScanConfig::hint_chunk_pages`]: crate::scan::ScanConfig::hint_chunk_pages
//! [`ScanConfig::prefetch_request_bytes`]: crate::scan::ScanConfig::prefetch_request_bytes
//! [`ScanConfig::prefetch_depth`]: crate::scan::ScanConfig::prefetch_depth

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use device_runtime::namespace::{FileEntry, Namespace, TABLE_BLOCKS};
use host_sdk::{Application, Arg, Device, SimTime};
use sim_nvme::nvme::{Command, Payload};
use sim_nvme::{Lba, LBA_BYTES};

use crate::error::ScanError;
use crate::keys::MatchPlan;
use crate::page::PAGE_BYTES;
use crate::scan::{nanos, Batcher, RowFilter, ScanStats, Scanner};
use crate::store::DeviceTable;
use crate::wire::{self, HintMessage};

/// Most blocks one command reads while reading the file table.
const TABLE_READ_BLOCKS: u64 = 32;

fn read(dev: &Device, lba: Lba, blocks: u64) -> Result<(Vec<u8>, SimTime), ScanError> {
    let c = dev.submit(Command::Read {
        nsid: 1,
        lba,
        blocks: blocks as u32,
    })?;
    if !c.status.is_success() {
        return Err(ScanError::FileTable(format!(
            "read of LBA {} failed: {}",
            lba.0, c.status
        )));
    }
    match c.payload {
        Payload::Data(d) => Ok((d, c.done_at)),
        other => Err(ScanError::FileTable(format!(
            "read of LBA {} returned {other:?}",
            lba.0
        ))),
    }
}

/// The extents of device file `name`, from the file table read over NVMe at queue depth 1
/// (what [`Device::host_file`] does for the conventional path).
fn file_entry(dev: &Device, name: &str) -> Result<FileEntry, ScanError> {
    let mut copies = [Vec::new(), Vec::new()];
    for (i, copy) in copies.iter_mut().enumerate() {
        let base = i as u64 * TABLE_BLOCKS;
        let mut done = 0;
        while done < TABLE_BLOCKS {
            let n = (TABLE_BLOCKS - done).min(TABLE_READ_BLOCKS);
            copy.extend_from_slice(&read(dev, Lba(base + done), n)?.0);
            done += n;
        }
    }
    let table = Namespace::from_copies([&copies[0], &copies[1]], u64::MAX)
        .map_err(|e| ScanError::FileTable(e.to_string()))?;
    table
        .get(name)
        .cloned()
        .map_err(|e| ScanError::FileTable(e.to_string()))
}

/// Runs of consecutive hinted pages, each within one extent and at most `max` pages:
/// (first page, pages, first block).
fn reads(entry: &FileEntry, hinted: &[u64], max: u64) -> Result<Vec<(u64, u64, Lba)>, ScanError> {
    let mut out: Vec<(u64, u64, Lba)> = Vec::new();
    for &p in hinted {
        let lba = entry
            .block(p)
            .ok_or_else(|| ScanError::FileTable(format!("page {p} is past the end of `{}`", entry.name)))?;
        if let Some(last) = out.last_mut() {
            if last.0 + last.1 == p && last.2 .0 + last.1 == lba.0 && last.1 < max {
                last.1 += 1;
                continue;
            }
        }
        out.push((p, 1, lba));
    }
    Ok(out)
}

/// The offloaded scan (module docs).
pub(crate) fn offload(
    s: &Scanner,
    table: &DeviceTable,
    rf: &RowFilter,
    plan: &MatchPlan,
    out: &mut Batcher<'_>,
    stats: &mut ScanStats,
) -> Result<(), ScanError> {
    let module = s.module.as_ref().ok_or_else(|| ScanError::CannotOffload {
        table: table.name().to_string(),
        reason: "the filter module is not loaded".into(),
    })?;
    let dev = &s.device;
    let entry = file_entry(dev, &table.file)?;
    let max_bytes = s
        .limits
        .as_ref()
        .map_or(u64::MAX, |l| l.max_transfer_bytes)
        .min(s.config.prefetch_request_bytes);
    let max_pages = (max_bytes / LBA_BYTES).max(1);

    // The prefetcher: its own clock, which follows the hint arrivals.
    let pf = dev.with_own_clock();
    let app = Application::new(&pf);
    let (keys, all) = wire::encode_plan(plan);
    let args: Vec<Arg> = vec![
        pf.file(&table.file),
        keys.into(),
        all.into(),
        s.config.hint_chunk_pages.max(1).into(),
    ];
    let filter = app.ssdlet(module, "filter", args)?;
    let mut rx = app.connect_to::<HintMessage>(filter.out(0))?;
    rx.set_batch(1);
    app.start()?;

    let depth = s.config.prefetch_depth.max(1);
    let mut slots: BinaryHeap<Reverse<SimTime>> = (0..depth).map(|_| Reverse(pf.now())).collect();
    let mut cpu = pf.now();
    let mut last_data = pf.now();
    while let Some((first, _count, offsets)) = rx.try_get()? {
        let arrival = pf.now();
        let pages: Vec<u64> = offsets.iter().map(|&o| first + u64::from(o)).collect();
        stats.pages_hinted += pages.len() as u64;
        for (page, n, lba) in reads(&entry, &pages, max_pages)? {
            let Reverse(free) = slots.pop().unwrap_or(Reverse(arrival));
            let slot = dev.with_own_clock();
            slot.advance_to(free.max(arrival));
            let (data, done) = read(&slot, lba, n)?;
            slots.push(Reverse(done));
            last_data = last_data.max(done);
            stats.pages_transferred += n;
            stats.pcie_bytes += data.len() as u64;

            cpu = cpu.max(done);
            let mut failed = None;
            let mut examined = 0;
            // INVARIANT(scan-modes-agree): filtering and the consumer's batches are charged (offload)
            let ((), _, spent) = s.config.host_cost.run(|| {
                let mut rows = 0;
                for (i, bytes) in data.chunks(PAGE_BYTES).enumerate() {
                    match rf.page(&table.schema, page + i as u64, bytes, out.buf()) {
                        Ok(n) => rows += n,
                        Err(e) => {
                            failed = Some(e);
                            return ((), rows);
                        }
                    }
                }
                if let Err(e) = out.drain_full() {
                    failed = Some(e);
                }
                examined = rows;
                ((), rows)
            });
            if let Some(e) = failed {
                return Err(e);
            }
            stats.rows_scanned += examined;
            stats.host_compute_ns += nanos(spent);
            cpu += host_sdk::SimDuration(nanos(spent));
        }
    }
    let report = app.wait()?;
    stats.pages_scanned_on_device += report.matcher_pages_scanned;
    stats.filter_ns = report.elapsed.0;
    stats.io_ns = last_data.saturating_since(stats.started_at).0;
    stats.pcie_bytes += report.pcie_bytes_to_host;
    dev.advance_to(cpu.max(last_data).max(pf.now()).max(report.finished_at));
    Ok(())
}
