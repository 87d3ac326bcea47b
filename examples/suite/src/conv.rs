//! The conventional path on the same simulated device: the host reads the data over NVMe
//! (sim-nvme's [`Controller`], host I/O stack and PCIe included) and computes natively.
//!
//! Simulated time of a conventional run:
//! - pointer chasing: every hop is a queue-depth-1 4 KiB `Read` (each depends on the last),
//!   then the measured host compute of that hop (factor 1) before the next is issued;
//! - grep and wordcount: the file is read with [`SEQ_REQUEST_BYTES`] requests kept
//!   [`SEQ_QUEUE_DEPTH`] deep, and the host computes over it. A streaming program overlaps
//!   the two, so the run takes `max(I/O time, host compute)`: the most favourable case for the
//!   conventional side, which makes the NDP gains reported against it conservative.
//!
//! Host compute is measured wall time on this machine (one thread, factor 1). Each run uses a
//! fresh in-memory device of the given profile; the file is written from LBA 0 and flushed,
//! and the run starts once the device is idle.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use sim_nvme::{
    Command, Controller, DeviceProfile, Lba, Payload, QueueId, SimDuration, SimTime, Ssd, LBA_BYTES,
};

use crate::baseline;
use crate::gen::graph::{next_hop, GraphError, PAGE};

/// A line found by grep: (byte offset of its start, its bytes without the `\n`).
pub type LineHit = (u64, Vec<u8>);

/// Bytes per request of the sequential reads: 128 KiB.
pub const SEQ_REQUEST_BYTES: u64 = 128 << 10;
/// Outstanding requests of the sequential reads.
pub const SEQ_QUEUE_DEPTH: usize = 64;

/// Why a conventional run failed.
#[derive(Debug, thiserror::Error)]
pub enum ConvError {
    /// The profile does not make a device.
    #[error("profile `{name}` does not make a device: {reason}")]
    Profile {
        /// Profile name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The data does not fit on the device.
    #[error("{need} bytes do not fit on `{profile}` ({have} bytes)")]
    TooLarge {
        /// Profile name.
        profile: String,
        /// Bytes to write.
        need: u64,
        /// Capacity.
        have: u64,
    },
    /// An NVMe command failed.
    #[error("NVMe {what} failed: {status}")]
    Nvme {
        /// The command.
        what: &'static str,
        /// Status name or submission error.
        status: String,
    },
    /// The graph is malformed.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// The outcome of one conventional run.
#[derive(Debug, Clone)]
pub struct ConvRun<T> {
    /// What the host computed.
    pub result: T,
    /// Simulated time of the whole run (module docs).
    pub simulated: SimDuration,
    /// Simulated time of the reads alone.
    pub io: SimDuration,
    /// Measured host compute (wall time of one thread, factor 1).
    pub host_compute: Duration,
    /// Bytes moved device-to-host over PCIe.
    pub pcie_bytes_to_host: u64,
    /// NAND pages read.
    pub nand_pages_read: u64,
}

/// A fresh device with one file at LBA 0, driven through NVMe.
pub struct ConvDevice {
    ctrl: Controller,
    q: QueueId,
    now: SimTime,
    len: u64,
}

fn nvme(what: &'static str, status: impl ToString) -> ConvError {
    ConvError::Nvme {
        what,
        status: status.to_string(),
    }
}

impl ConvDevice {
    /// A device of `profile` holding `data` at LBA 0 (written with large writes and flushed).
    pub fn with_file(profile: DeviceProfile, data: &[u8]) -> Result<Self, ConvError> {
        let name = profile.name.clone();
        let ssd = Ssd::in_memory(profile).map_err(|e| ConvError::Profile {
            name: name.clone(),
            reason: e.to_string(),
        })?;
        let have = ssd.capacity_lbas() * LBA_BYTES;
        if data.len() as u64 > have {
            return Err(ConvError::TooLarge {
                profile: name,
                need: data.len() as u64,
                have,
            });
        }
        let max = u64::from(ssd.profile().controller.max_transfer_bytes).clamp(LBA_BYTES, 1 << 20) as usize;
        let mut ctrl = Controller::new(ssd);
        let q = ctrl
            .create_io_queue(2)
            .map_err(|s| nvme("CreateIoQueue", s.name()))?;
        let mut dev = ConvDevice {
            ctrl,
            q,
            now: SimTime::ZERO,
            len: data.len() as u64,
        };
        for (i, chunk) in data.chunks(max).enumerate() {
            let mut block = chunk.to_vec();
            block.resize(chunk.len().div_ceil(LBA_BYTES as usize) * LBA_BYTES as usize, 0);
            let lba = Lba((i * max) as u64 / LBA_BYTES);
            dev.now = dev
                .submit(
                    "Write",
                    Command::Write {
                        nsid: 1,
                        lba,
                        data: block,
                    },
                    dev.now,
                )?
                .1;
        }
        dev.now = dev.submit("Flush", Command::Flush { nsid: 1 }, dev.now)?.1;
        dev.now = dev.now.max(dev.ctrl.ssd().hardware().horizon());
        Ok(dev)
    }

    fn submit(
        &mut self,
        what: &'static str,
        cmd: Command,
        at: SimTime,
    ) -> Result<(Payload, SimTime), ConvError> {
        let c = self
            .ctrl
            .submit_and_wait(self.q, cmd, at)
            .map_err(|e| nvme(what, e))?;
        if !c.status.is_success() {
            return Err(nvme(what, c.status.name()));
        }
        Ok((c.payload, c.done_at))
    }

    /// Reads `blocks` blocks at `lba`, issued at `at`; returns the data and the completion.
    pub fn read(&mut self, lba: u64, blocks: u32, at: SimTime) -> Result<(Vec<u8>, SimTime), ConvError> {
        let (payload, done) = self.submit(
            "Read",
            Command::Read {
                nsid: 1,
                lba: Lba(lba),
                blocks,
            },
            at,
        )?;
        match payload {
            Payload::Data(d) => Ok((d, done)),
            _ => Err(nvme("Read", "no data in the completion")),
        }
    }

    /// Reads the whole file with [`SEQ_REQUEST_BYTES`] requests kept [`SEQ_QUEUE_DEPTH`]
    /// deep, starting now; returns the bytes and the instant the last request completed.
    pub fn read_all(&mut self) -> Result<(Vec<u8>, SimTime), ConvError> {
        let start = self.now;
        let mut out = Vec::with_capacity(self.len as usize);
        let mut inflight = BinaryHeap::with_capacity(SEQ_QUEUE_DEPTH);
        let mut end = start;
        let mut off = 0u64;
        while off < self.len {
            let t = if inflight.len() == SEQ_QUEUE_DEPTH {
                inflight.pop().map_or(start, |Reverse(t)| t)
            } else {
                start
            };
            let n = SEQ_REQUEST_BYTES.min(self.len - off);
            let (data, done) = self.read(off / LBA_BYTES, n.div_ceil(LBA_BYTES) as u32, t)?;
            out.extend_from_slice(&data[..n as usize]);
            end = end.max(done);
            inflight.push(Reverse(done));
            off += n;
        }
        self.now = end;
        Ok((out, end))
    }

    /// The host's clock.
    pub fn now(&self) -> SimTime {
        self.now
    }

    fn counters(&self) -> (u64, u64) {
        let s = self.ctrl.ssd().stats();
        (s.pcie_bytes_to_host, s.nand_pages_read)
    }
}

/// Runs `compute` over the whole file read sequentially (module docs for the time model).
fn sequential<T>(
    profile: DeviceProfile,
    data: &[u8],
    compute: impl FnOnce(&[u8]) -> T,
) -> Result<ConvRun<T>, ConvError> {
    let mut dev = ConvDevice::with_file(profile, data)?;
    let (pcie0, nand0) = dev.counters();
    let start = dev.now();
    let (bytes, end) = dev.read_all()?;
    let t = Instant::now();
    let result = compute(&bytes);
    let host_compute = t.elapsed();
    let io = end - start;
    let cpu = SimDuration(host_compute.as_nanos() as u64);
    let (pcie1, nand1) = dev.counters();
    Ok(ConvRun {
        result,
        simulated: SimDuration(io.as_nanos().max(cpu.as_nanos())),
        io,
        host_compute,
        pcie_bytes_to_host: pcie1 - pcie0,
        nand_pages_read: nand1 - nand0,
    })
}

/// Conventional wordcount: read everything, count with [`baseline::word_count`].
pub fn word_count(profile: DeviceProfile, text: &[u8]) -> Result<ConvRun<HashMap<String, u64>>, ConvError> {
    sequential(profile, text, baseline::word_count)
}

/// Lines containing `pattern` as (byte offset of the line's start, line), found with `memmem`.
pub fn grep_offsets_fast(text: &[u8], pattern: &[u8]) -> Vec<LineHit> {
    let mut out = Vec::new();
    if pattern.is_empty() {
        return out;
    }
    let finder = memchr::memmem::Finder::new(pattern);
    let mut pos = 0usize;
    while let Some(i) = finder.find(&text[pos..]) {
        let at = pos + i;
        let start = memchr::memrchr(b'\n', &text[..at]).map_or(0, |j| j + 1);
        let end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |j| at + j);
        out.push((start as u64, text[start..end].to_vec()));
        pos = (end + 1).min(text.len());
        if end >= text.len() {
            break;
        }
    }
    out
}

/// Conventional string search: read everything, search with [`grep_offsets_fast`].
pub fn grep(profile: DeviceProfile, text: &[u8], pattern: &[u8]) -> Result<ConvRun<Vec<LineHit>>, ConvError> {
    sequential(profile, text, |t| grep_offsets_fast(t, pattern))
}

/// Conventional pointer chasing: one queue-depth-1 read per hop, walks one after another.
pub fn pointer_chase(
    profile: DeviceProfile,
    graph: &[u8],
    starts: &[u64],
    hops: u32,
) -> Result<ConvRun<Vec<Vec<u64>>>, ConvError> {
    let mut dev = ConvDevice::with_file(profile, graph)?;
    let (pcie0, nand0) = dev.counters();
    let start_at = dev.now();
    let mut now = start_at;
    let mut io = SimDuration::ZERO;
    let mut host_compute = Duration::ZERO;
    let mut paths = Vec::with_capacity(starts.len());
    for &start in starts {
        let mut path = Vec::with_capacity(hops as usize + 1);
        let mut node = start;
        path.push(node);
        for hop in 0..hops {
            let (page, done) = dev.read(
                node * (PAGE as u64 / LBA_BYTES),
                (PAGE as u64 / LBA_BYTES) as u32,
                now,
            )?;
            io += done - now;
            let t = Instant::now();
            node = next_hop(&page, node, start, hop)?;
            let spent = t.elapsed();
            host_compute += spent;
            now = done + SimDuration(spent.as_nanos() as u64);
            path.push(node);
        }
        paths.push(path);
    }
    let (pcie1, nand1) = dev.counters();
    Ok(ConvRun {
        result: paths,
        simulated: now - start_at,
        io,
        host_compute,
        pcie_bytes_to_host: pcie1 - pcie0,
        nand_pages_read: nand1 - nand0,
    })
}
