//! Device benchmarks behind `ndp bench`: latency at queue depth 1, sequential bandwidth and
//! random-read IOPS at deep queues, on the host path (NVMe + PCIe) and the internal path.
//!
//! All figures are **simulated** time from the device model, so they are the same on every
//! machine and every run. Host commands go through the NVMe [`Controller`] (host I/O stack
//! included); internal reads go to the device directly, as device firmware issues them.

use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::{Command, Controller, DeviceProfile, IoError, Lba, QueueId, SimTime, Ssd, Status, LBA_BYTES};

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The profile is unusable.
    #[error(transparent)]
    Profile(#[from] crate::ProfileError),
    /// A device operation failed.
    #[error("benchmark I/O failed: {0}")]
    Io(#[from] IoError),
    /// A command completed with an error status.
    #[error("benchmark command failed with NVMe status {0}")]
    Status(Status),
    /// The device is too small for the benchmark's working set.
    #[error("device profile `{profile}` exports {have} bytes; the benchmark needs {need}")]
    TooSmall {
        /// Profile name.
        profile: String,
        /// Bytes the benchmark writes.
        need: u64,
        /// Bytes the device exports.
        have: u64,
    },
    /// A benchmark parameter outside what it accepts.
    #[error("{what} {value} is out of range: expected {expected}")]
    Parameter {
        /// The parameter.
        what: &'static str,
        /// Its value.
        value: u64,
        /// What it may be.
        expected: String,
    },
}

/// Queue-depth-1 read latencies (medians over `samples` reads of written 4 KiB blocks).
#[derive(Debug, Clone, Serialize)]
pub struct LatencyReport {
    /// Profile name.
    pub profile: String,
    /// Host `pread`-like 4 KiB read: host stack + firmware + tR + channel + PCIe, microseconds.
    pub host_read_4k_us: f64,
    /// Internal 4 KiB read: firmware + tR + channel, microseconds.
    pub internal_read_4k_us: f64,
    /// Reads measured per path.
    pub samples: u64,
}

/// Deep-queue throughput.
#[derive(Debug, Clone, Serialize)]
pub struct BandwidthReport {
    /// Profile name.
    pub profile: String,
    /// Host sequential read, 128 KiB requests at `queue_depth`, GB/s (10^9 bytes/s).
    pub host_seq_read_gbps: f64,
    /// Internal sequential read, same requests, GB/s.
    pub internal_seq_read_gbps: f64,
    /// Host random 4 KiB reads over the working set at `queue_depth`, thousands per second.
    pub host_rand_read_kiops: f64,
    /// Internal random 4 KiB reads, thousands per second.
    pub internal_rand_read_kiops: f64,
    /// Bytes of the working set (written first, then read).
    pub working_set_bytes: u64,
    /// Outstanding requests.
    pub queue_depth: usize,
}

/// Runs `n` requests keeping `depth` outstanding: request `i` is issued at the instant a slot
/// frees up and `issue(i, t)` returns its completion. Returns `(first issue, last completion)`.
pub fn run_queued(
    start: SimTime,
    depth: usize,
    n: u64,
    mut issue: impl FnMut(u64, SimTime) -> Result<SimTime, BenchError>,
) -> Result<SimTime, BenchError> {
    let mut inflight = BinaryHeap::with_capacity(depth);
    let mut end = start;
    for i in 0..n {
        let t = if inflight.len() == depth {
            let Reverse(t) = inflight.pop().expect("queue is full");
            t
        } else {
            start
        };
        let done = issue(i, t)?;
        end = end.max(done);
        inflight.push(Reverse(done));
    }
    Ok(end)
}

struct Bench {
    ctrl: Controller,
    q: QueueId,
    now: SimTime,
}

impl Bench {
    fn new(profile: DeviceProfile, depth: u16) -> Result<Self, BenchError> {
        let ssd = Ssd::in_memory(profile)?;
        let mut ctrl = Controller::new(ssd);
        let q = ctrl.create_io_queue(depth).map_err(BenchError::Status)?;
        Ok(Bench {
            ctrl,
            q,
            now: SimTime::ZERO,
        })
    }

    /// Writes `bytes` from LBA 0 with 1 MiB (or MDTS) writes, flushes, and moves `now` past
    /// every NAND program so that reads start on an idle device.
    fn fill(&mut self, bytes: u64) -> Result<(), BenchError> {
        let have = self.ctrl.ssd().capacity_lbas() * LBA_BYTES;
        if bytes > have {
            return Err(BenchError::TooSmall {
                profile: self.ctrl.ssd().profile().name.clone(),
                need: bytes,
                have,
            });
        }
        let chunk = u64::from(self.ctrl.ssd().profile().controller.max_transfer_bytes).min(1 << 20);
        let mut lba = 0;
        let mut buf = vec![0u8; chunk as usize];
        while lba * LBA_BYTES < bytes {
            let n = chunk.min(bytes - lba * LBA_BYTES);
            // Distinct contents per block, so reads return something checkable.
            for (i, b) in buf[..n as usize].chunks_exact_mut(LBA_BYTES as usize).enumerate() {
                b[..8].copy_from_slice(&(lba + i as u64).to_le_bytes());
            }
            let data = buf[..n as usize].to_vec();
            self.submit(Command::Write {
                nsid: 1,
                lba: Lba(lba),
                data,
            })?;
            lba += n / LBA_BYTES;
        }
        self.submit(Command::Flush { nsid: 1 })?;
        self.now = self.now.max(self.ctrl.ssd().hardware().horizon());
        Ok(())
    }

    fn submit(&mut self, cmd: Command) -> Result<SimTime, BenchError> {
        let at = self.now;
        let done = self.submit_at(cmd, at)?;
        self.now = done;
        Ok(done)
    }

    fn submit_at(&mut self, cmd: Command, at: SimTime) -> Result<SimTime, BenchError> {
        let c = self
            .ctrl
            .submit_and_wait(self.q, cmd, at)
            .map_err(|e| BenchError::Status(e.status().unwrap_or(Status::INTERNAL_ERROR)))?;
        if !c.status.is_success() {
            return Err(BenchError::Status(c.status));
        }
        Ok(c.done_at)
    }

    fn read_at(&mut self, lba: u64, blocks: u32, at: SimTime) -> Result<SimTime, BenchError> {
        self.submit_at(
            Command::Read {
                nsid: 1,
                lba: Lba(lba),
                blocks,
            },
            at,
        )
    }

    fn internal_read_at(&mut self, lba: u64, buf: &mut [u8], at: SimTime) -> Result<SimTime, BenchError> {
        Ok(self.ctrl.ssd_mut().internal_read(at, Lba(lba), buf)?)
    }

    /// Moves `now` past every resource's work so the next phase starts on an idle device.
    fn settle(&mut self, t: SimTime) {
        self.now = t.max(self.ctrl.ssd().hardware().horizon());
    }
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Queue-depth-1 latency of 4 KiB reads on both paths.
pub fn latency(profile: DeviceProfile) -> Result<LatencyReport, BenchError> {
    const SAMPLES: u64 = 256;
    let name = profile.name.clone();
    let mut b = Bench::new(profile, 2)?;
    // Up to 64 MiB of written blocks (half the device on small profiles).
    let span = (SAMPLES * 64).min(b.ctrl.ssd().capacity_lbas() / 2);
    b.fill(span * LBA_BYTES)?;
    let mut host = Vec::new();
    let mut internal = Vec::new();
    let mut buf = vec![0u8; LBA_BYTES as usize];
    for i in 0..SAMPLES {
        // Spread the samples over dies and channels: every 64th block, different pages.
        let lba = (i * 64 + (i % 4)) % span;
        let t = b.now;
        let done = b.read_at(lba, 1, t)?;
        host.push((done - t).as_nanos());
        b.settle(done);
        let t = b.now;
        let done = b.internal_read_at(lba, &mut buf, t)?;
        internal.push((done - t).as_nanos());
        b.settle(done);
    }
    Ok(LatencyReport {
        profile: name,
        host_read_4k_us: median(host) as f64 / 1e3,
        internal_read_4k_us: median(internal) as f64 / 1e3,
        samples: SAMPLES,
    })
}

/// Sequential bandwidth (128 KiB requests) and random 4 KiB IOPS at a deep queue, on both paths,
/// over a working set of `working_set_bytes` written first (`ndp bench` default: 1 GiB).
pub fn bandwidth(
    profile: DeviceProfile,
    working_set_bytes: u64,
    queue_depth: usize,
) -> Result<BandwidthReport, BenchError> {
    const REQ: u64 = 128 << 10;
    let name = profile.name.clone();
    if working_set_bytes < REQ {
        return Err(BenchError::Parameter {
            what: "the working set",
            value: working_set_bytes,
            expected: format!("at least {REQ} bytes (one 128 KiB request)"),
        });
    }
    let max_depth = profile.controller.max_queue_depth;
    let depth = match u16::try_from(queue_depth) {
        Ok(d) if (1..=max_depth).contains(&d) => d,
        _ => {
            return Err(BenchError::Parameter {
                what: "the queue depth",
                value: queue_depth as u64,
                expected: format!("1 to {max_depth} (profile `{name}`'s controller.max_queue_depth)"),
            })
        }
    };
    let mut b = Bench::new(profile, depth)?;
    let queue_depth = usize::from(depth);
    b.fill(working_set_bytes)?;
    let blocks = working_set_bytes / LBA_BYTES;
    let reqs = working_set_bytes / REQ;
    let per_req = (REQ / LBA_BYTES) as u32;

    let start = b.now;
    let end = run_queued(start, queue_depth, reqs, |i, t| {
        b.read_at(i * u64::from(per_req), per_req, t)
    })?;
    let host_seq = (reqs * REQ) as f64 / (end - start).as_nanos() as f64;
    b.settle(end);

    let start = b.now;
    let mut buf = vec![0u8; REQ as usize];
    let end = run_queued(start, queue_depth, reqs, |i, t| {
        b.internal_read_at(i * u64::from(per_req), &mut buf, t)
    })?;
    let internal_seq = (reqs * REQ) as f64 / (end - start).as_nanos() as f64;
    b.settle(end);

    // Random reads: a fixed-seed generator, so every run reads the same blocks.
    let n_rand = blocks.min(200_000);
    let mut rng = SplitMix(0x5eed_0001);
    let start = b.now;
    let end = run_queued(start, queue_depth, n_rand, |_, t| {
        b.read_at(rng.below(blocks), 1, t)
    })?;
    let host_rand = n_rand as f64 / (end - start).as_secs_f64() / 1e3;
    b.settle(end);

    let start = b.now;
    let mut buf = vec![0u8; LBA_BYTES as usize];
    let end = run_queued(start, queue_depth, n_rand, |_, t| {
        b.internal_read_at(rng.below(blocks), &mut buf, t)
    })?;
    let internal_rand = n_rand as f64 / (end - start).as_secs_f64() / 1e3;

    Ok(BandwidthReport {
        profile: name,
        host_seq_read_gbps: host_seq,
        internal_seq_read_gbps: internal_seq,
        host_rand_read_kiops: host_rand,
        internal_rand_read_kiops: internal_rand,
        working_set_bytes,
        queue_depth,
    })
}

/// A tiny deterministic generator for benchmark addresses (SplitMix64).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
