//! The conventional path, for baselines: the host reads device files with plain NVMe `Read`
//! commands (host I/O stack, PCIe and NAND timing included) and computes on the host.
//!
//! [`Device::host_file`] finds a file's extents the way a host filesystem would: it reads the
//! device's file table (LBAs `0..128`, two copies, format in `ndp_protocol::filetable`) over
//! NVMe (the copy with the highest generation that decodes wins; the header's CRC is not
//! checked on the host). Then:
//! - [`HostFile::pread`]: queue depth 1, each command issued when the last completed;
//! - [`HostFile::scan`]: a sequential reader keeping [`ReadAhead::depth`] requests of
//!   [`ReadAhead::request_bytes`] outstanding; the host processes chunks in order as they
//!   arrive, and the measured compute of each chunk is charged after its data arrived and
//!   after the previous chunk's compute (a streaming pipeline).
//!
//! [`HostFile::scan_through`] is the same reader over a host buffer pool ([`ScanCache`]): a
//! chunk the pool holds is handed to the consumer without a device read (no I/O time, only the
//! host's compute), and every chunk read from the device is offered to the pool.
//!
//! Both move the [`Device`] host clock, so conventional and NDP times read side by side.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use ndp_protocol::filetable::{FileEntry, FileTable, TABLE_BLOCKS};
use sim_nvme::nvme::{Command, Completion, Payload};
use sim_nvme::trace;
use sim_nvme::{Lba, SimDuration, SimTime, LBA_BYTES};

use crate::device::{sim, Device};
use crate::error::{Error, Result};

/// The deep sequential reader's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadAhead {
    /// Bytes per read command (rounded up to whole 4 KiB blocks). Default 128 KiB.
    pub request_bytes: u64,
    /// Read commands kept outstanding. Default 64.
    pub depth: usize,
}

impl Default for ReadAhead {
    fn default() -> Self {
        ReadAhead {
            request_bytes: 128 << 10,
            depth: 64,
        }
    }
}

/// What a [`HostFile::scan`] took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanReport {
    /// Host clock at the start.
    pub started_at: SimTime,
    /// Host clock at the end (last chunk computed).
    pub finished_at: SimTime,
    /// Simulated time until the last chunk arrived.
    pub io: SimDuration,
    /// Measured host compute over all chunks (wall time of this thread).
    pub host_compute: Duration,
    /// Bytes moved device-to-host (whole blocks).
    pub bytes_read: u64,
    /// Read commands.
    pub commands: u64,
    /// File bytes served from the host buffer pool instead of the device
    /// ([`HostFile::scan_through`]; 0 otherwise).
    pub bytes_cached: u64,
}

/// A host buffer pool a sequential scan reads through ([`HostFile::scan_through`]). The unit is
/// one read command of the scan's [`ReadAhead`] (`request_bytes` of the file, the last one
/// shorter), named by its byte offset in the file.
pub trait ScanCache {
    /// The chunk at file byte `offset` (`len` file bytes), if the pool holds it.
    fn get(&mut self, offset: u64, len: u64) -> Option<std::sync::Arc<[u8]>>;
    /// A chunk just read from the device at file byte `offset` (file bytes only), offered to
    /// the pool.
    fn put(&mut self, offset: u64, data: &[u8]);
}

impl ScanReport {
    /// `finished_at - started_at`.
    pub fn elapsed(&self) -> SimDuration {
        self.finished_at.saturating_since(self.started_at)
    }
}

/// A device file as the host's I/O stack sees it: a name, a size and extents of blocks.
#[derive(Clone, Debug)]
pub struct HostFile {
    device: Device,
    entry: FileEntry,
}

impl Device {
    /// Opens device file `name` for conventional reads (reads the file table over NVMe).
    pub fn host_file(&self, name: &str) -> Result<HostFile> {
        let copies = [
            self.read_blocks(Lba(0), TABLE_BLOCKS)?,
            self.read_blocks(Lba(TABLE_BLOCKS), TABLE_BLOCKS)?,
        ];
        // The same decoder (magic, checksums, newest generation) the device firmware uses: a
        // host file system driver reading its superblock.
        let (_, table) = FileTable::from_copies([&copies[0], &copies[1]])
            .map_err(|e| Error::FileTable(format!("the device file table is corrupt: {e}")))?;
        let held: Vec<&str> = table.files.keys().map(String::as_str).collect();
        let message = format!("the device's file table holds: {}", held.join(", "));
        match table.files.get(name) {
            Some(entry) => Ok(HostFile {
                device: self.clone(),
                entry: entry.clone(),
            }),
            None => Err(Error::UnknownFile {
                name: name.to_owned(),
                message,
            }),
        }
    }

    /// Reads `blocks` blocks from `lba` at queue depth 1, in commands of at most 128 KiB.
    fn read_blocks(&self, lba: Lba, blocks: u64) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity((blocks * LBA_BYTES) as usize);
        let mut done = 0;
        while done < blocks {
            let n = (blocks - done).min(MAX_BLOCKS);
            let c = self.submit(read_cmd(Lba(lba.0 + done), n))?;
            out.extend_from_slice(data_of(&c)?);
            done += n;
        }
        Ok(out)
    }
}

/// Most blocks per read command: 128 KiB (within every built-in profile's transfer limit).
const MAX_BLOCKS: u64 = (128 << 10) / LBA_BYTES;

fn read_cmd(lba: Lba, blocks: u64) -> Command {
    Command::Read {
        nsid: 1,
        lba,
        blocks: blocks as u32,
    }
}

fn data_of(c: &Completion) -> Result<&[u8]> {
    if !c.status.is_success() {
        return Err(Error::Nvme {
            command: "Read",
            status: c.status.to_string(),
        });
    }
    match &c.payload {
        Payload::Data(d) => Ok(d),
        other => Err(Error::Nvme {
            command: "Read",
            status: format!("no data in the completion ({other:?})"),
        }),
    }
}

impl HostFile {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.entry.name
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.entry.size
    }

    /// The device commands covering `offset..offset + len`: (first block, blocks), each at
    /// most `max_blocks`, in file order; and the byte offset of `offset` in the first block.
    fn commands(&self, offset: u64, len: u64, max_blocks: u64) -> Result<Vec<(Lba, u64)>> {
        let runs = self.entry.runs(offset, len).map_err(|_| Error::OutOfRange {
            name: self.entry.name.clone(),
            offset,
            end: offset.saturating_add(len),
            size: self.entry.size,
        })?;
        let mut out = Vec::new();
        for r in runs {
            let mut done = 0;
            while done < r.blocks {
                let n = (r.blocks - done).min(max_blocks.max(1));
                out.push((Lba(r.start.0 + done), n));
                done += n;
            }
        }
        Ok(out)
    }

    /// `len` bytes at `offset`, read at queue depth 1 (like `pread`); moves the host clock.
    pub fn pread(&self, offset: u64, len: u64) -> Result<Vec<u8>> {
        let mut blocks = Vec::new();
        for (lba, n) in self.commands(offset, len, MAX_BLOCKS)? {
            let c = self.device.submit(read_cmd(lba, n))?;
            blocks.extend_from_slice(data_of(&c)?);
        }
        let skip = (offset % LBA_BYTES) as usize;
        Ok(blocks.get(skip..skip + len as usize).unwrap_or_default().to_vec())
    }

    /// Reads the whole file with the deep sequential reader, handing each chunk (in file
    /// order, file bytes only) to `f`, whose CPU time is measured and charged to the host
    /// clock as a streaming pipeline (module docs).
    pub fn scan(&self, shape: ReadAhead, mut f: impl FnMut(&[u8])) -> Result<ScanReport> {
        self.scan_charged(shape, |chunk| crate::cpu::on_cpu(|| f(chunk)).1)
    }

    /// [`HostFile::scan`] with the host compute of each chunk given by `f` itself: it
    /// processes the chunk and returns the compute to charge for it (measured CPU time, or
    /// counted work times a calibrated cost, which is deterministic).
    pub fn scan_charged(&self, shape: ReadAhead, f: impl FnMut(&[u8]) -> Duration) -> Result<ScanReport> {
        self.scan_through(shape, None, f)
    }

    /// [`HostFile::scan_charged`] through a host buffer pool: a chunk `cache` holds is handed
    /// to `f` without a device read (charged its compute only, after the previous chunk's);
    /// every chunk read from the device is offered to `cache` (module docs).
    pub fn scan_through(
        &self,
        shape: ReadAhead,
        mut cache: Option<&mut dyn ScanCache>,
        mut f: impl FnMut(&[u8]) -> Duration,
    ) -> Result<ScanReport> {
        let per = shape.request_bytes.div_ceil(LBA_BYTES).clamp(1, MAX_BLOCKS);
        let started_at = self.device.now();
        let track = self.device.track();
        let mut outstanding: BinaryHeap<Reverse<SimTime>> = BinaryHeap::new();
        let (mut issue, mut host, mut last_data) = (started_at, started_at, started_at);
        let mut report = ScanReport {
            started_at,
            finished_at: started_at,
            io: SimDuration(0),
            host_compute: Duration::ZERO,
            bytes_read: 0,
            commands: 0,
            bytes_cached: 0,
        };
        let mut offset = 0u64;
        for (lba, n) in self.commands(0, self.entry.size, per)? {
            let len = (n * LBA_BYTES).min(self.entry.size - offset);
            if let Some(chunk) = cache.as_mut().and_then(|c| c.get(offset, len)) {
                let spent = f(&chunk);
                report.host_compute += spent;
                let from = host;
                host += sim(spent);
                if host > from {
                    trace::slice(track, "compute", from, host);
                }
                report.bytes_cached += len;
                offset += len;
                continue;
            }
            if outstanding.len() >= shape.depth.max(1) {
                if let Some(Reverse(t)) = outstanding.pop() {
                    issue = issue.max(t);
                }
            }
            let c = self.device.submit_at(read_cmd(lba, n), issue)?;
            outstanding.push(Reverse(c.done_at));
            last_data = last_data.max(c.done_at);
            let data = data_of(&c)?;
            let useful = &data[..(data.len() as u64).min(len) as usize];
            if let Some(c) = cache.as_mut() {
                c.put(offset, useful);
            }
            offset += useful.len() as u64;
            let spent = f(useful);
            report.host_compute += spent;
            if c.done_at > host {
                trace::slice(track, "I/O wait", host, c.done_at);
            }
            let from = host.max(c.done_at);
            host = from + sim(spent);
            if host > from {
                trace::slice(track, "compute", from, host);
            }
            report.bytes_read += data.len() as u64;
            report.commands += 1;
        }
        report.finished_at = host.max(last_data);
        report.io = last_data.saturating_since(started_at);
        if last_data > host {
            trace::slice(track, "I/O wait", host, last_data);
        }
        // INVARIANT(host-clock-forward): the scan's end, never earlier than the clock
        self.device.advance_untraced(report.finished_at);
        Ok(report)
    }

    /// The whole file, read with the deep sequential reader; moves the host clock.
    pub fn read_all(&self, shape: ReadAhead) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.entry.size as usize);
        self.scan(shape, |c| out.extend_from_slice(c))?;
        Ok(out)
    }
}
