//! Internal file I/O behind the `file_read` and `matcher_scan` services.
//!
//! A file handle is a capability: it resolves (through [`World::files`]) to the extents of its
//! namespace entry, and an SSDlet may use only the handles it was given as arguments (checked by
//! the services). Reads are `Ssd::internal_read`s of whole blocks timed by `sim-nvme`:
//!
//! - a read is split into chunks of `read_chunk` bytes (one internal read command each), all
//!   issued at the SSDlet's current instant, so the channels and dies work in parallel;
//! - read-ahead follows sequential access, per file: once
//!   [`ReadState::SEQUENTIAL_AFTER`] reads in a row of a file each started where the previous
//!   ended, a small read (shorter than `readahead`) fills a read-ahead window of `readahead`
//!   bytes, issued at once in chunks; later reads inside the window cost only the wait for the
//!   chunks they touch. The window is refilled when a sequential read leaves it (no double
//!   buffering: the reader waits for the first chunk of each new window). A jump resets the
//!   file's streak, so random reads (pointer chasing, page lookups) read exactly what they ask
//!   for; a read that happens to fall inside the current window is still served from it.
//!
//! The caller suspends the SSDlet until the returned completion instant; its core is free
//! meanwhile. Files in host memory (the test driver's) are copied without device time.
//!
//! An SSDlet of an Application at the host site (a conventional run) reads the same way, as a
//! host program would: each chunk is an NVMe read through the host I/O stack and over PCIe
//! ([`Ssd::host_read`]), chunks of [`HOST_READ_CHUNK`] with a read-ahead window of
//! [`HOST_READAHEAD`] (a window refills when the reader leaves it: one read's latency per
//! 8 MiB, estimated, not measured, at about 0.1 ms per 2.5 ms window of a PCIe-bound scan,
//! 4%); its matcher scans read the pages so and match them in host software, with the device
//! matcher's semantics (exact matching within each 4 KiB block). Every block it reads stays in the Application's host page cache
//! (`AppAccount::host_cache`): a read of blocks all held there costs no I/O.

use std::cell::RefCell;
use std::collections::HashSet;

use ndp_protocol::Site;
use sim_nvme::{IoError, Lba, MatchMode, MatchRequest, SimDuration, SimTime, Ssd, LBA_BYTES};
use ssdlet_abi::Status;

use crate::compute::software_match_ps;
use crate::instance::{InstanceState, ReadState, Readahead};
use crate::namespace::FileEntry;
use crate::world::FileBacking;

fn io_status(_: IoError) -> Status {
    Status::OUT_OF_RANGE
}

/// Bytes one NVMe read of a conventional run moves: 128 KiB. Source: the request size of the
/// host SDK's conventional scan (`host_sdk::ReadAhead`'s default, a common `max_sectors_kb`).
pub(crate) const HOST_READ_CHUNK: u64 = 128 << 10;

/// Read-ahead window of a conventional run's sequential reader: 64 reads of
/// [`HOST_READ_CHUNK`], 8 MiB. Source: the depth of the host SDK's conventional scan
/// (`host_sdk::ReadAhead`'s default), which saturates the PCIe link.
pub(crate) const HOST_READAHEAD: u64 = 64 * HOST_READ_CHUNK;

/// How a site's file reads reach the media: internal reads on the device; on the host, NVMe
/// reads issued through the host I/O stack, their data crossing PCIe, unless every block is
/// already in the host's page cache.
#[derive(Clone, Copy)]
struct Route<'a> {
    site: Site,
    io_stack: SimDuration,
    cache: &'a RefCell<HashSet<u64>>,
}

impl<'a> Route<'a> {
    fn of(st: &'a InstanceState, ssd: &Ssd) -> Route<'a> {
        Route {
            site: st.site,
            io_stack: SimDuration(ssd.profile().host.io_stack_ns),
            cache: &st.account.host_cache,
        }
    }

    fn read(self, ssd: &mut Ssd, at: SimTime, lba: Lba, buf: &mut [u8]) -> Result<SimTime, IoError> {
        if self.site == Site::Device {
            return ssd.internal_read(at, lba, buf);
        }
        // Runs of blocks alike (all cached, or none): a cached run is copied from host
        // memory, an uncached one is one NVMe read, all issued at `at`.
        let mut cache = self.cache.borrow_mut();
        let mut done = at;
        let mut rest = buf;
        let mut next = lba.0;
        while !rest.is_empty() {
            let cached = cache.contains(&next);
            let blocks = rest.len() as u64 / LBA_BYTES;
            let run = (1..blocks)
                .find(|&i| cache.contains(&(next + i)) != cached)
                .unwrap_or(blocks);
            let (now, later) = rest.split_at_mut((run * LBA_BYTES) as usize);
            if cached {
                ssd.read_cached(Lba(next), now)?;
            } else {
                done = done.max(ssd.host_read(at + self.io_stack, Lba(next), now)?);
                cache.extend(next..next + run);
            }
            rest = later;
            next += run;
        }
        Ok(done)
    }

    /// The read chunk and read-ahead window of this site, given the device's settings.
    fn sizes(self, ssd: &Ssd, chunk: u64, readahead: u64) -> (u64, u64) {
        match self.site {
            Site::Device => (chunk.max(LBA_BYTES), readahead),
            Site::Host => host_sizes(ssd),
        }
    }
}

/// The read chunk (at most the device's transfer limit) and read-ahead window of the host.
fn host_sizes(ssd: &Ssd) -> (u64, u64) {
    let limit = u64::from(ssd.profile().controller.max_transfer_bytes);
    (HOST_READ_CHUNK.min(limit).max(LBA_BYTES), HOST_READAHEAD)
}

/// Reads whole blocks `[off, off + buf.len())` (block-aligned, `buf` whole blocks) of `entry`
/// in chunks issued at `at`; returns `(end offset, completion)` per chunk.
fn read_blocks(
    ssd: &mut Ssd,
    route: Route<'_>,
    entry: &FileEntry,
    off: u64,
    buf: &mut [u8],
    at: SimTime,
    chunk: u64,
) -> Result<Vec<(u64, SimTime)>, Status> {
    let mut out = Vec::new();
    let mut pos = 0u64;
    let total = buf.len() as u64;
    while pos < total {
        let len = chunk.min(total - pos);
        let file_off = off + pos;
        // `runs` covers bytes inside the file; the last block may be partly used.
        let in_file = len.min(entry.size.saturating_sub(file_off));
        let mut done = at;
        let mut cursor = pos as usize;
        for run in entry.runs(file_off, in_file).map_err(|_| Status::OUT_OF_RANGE)? {
            let bytes = (run.blocks * LBA_BYTES) as usize;
            let t = route
                .read(ssd, at, run.start, &mut buf[cursor..cursor + bytes])
                .map_err(io_status)?;
            done = done.max(t);
            cursor += bytes;
        }
        pos += len;
        out.push((off + pos, done));
    }
    Ok(out)
}

fn align_down(x: u64) -> u64 {
    x / LBA_BYTES * LBA_BYTES
}

/// Reads up to `out.len()` bytes of file `handle` at `offset`. Returns the bytes read and the
/// instant they are in the reader's memory (device DRAM, or host memory at the host site).
pub(crate) fn read(
    st: &InstanceState,
    handle: u64,
    offset: u64,
    out: &mut [u8],
) -> Result<(usize, SimTime), Status> {
    let now = st.clock.get();
    let files = st.world.files.borrow();
    let entry = match files.get(handle as usize) {
        None => return Err(Status::NO_SUCH_FILE),
        #[cfg(feature = "testing")]
        Some(FileBacking::Memory(data)) => {
            let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
            let n = out.len().min(data.len() - start);
            out[..n].copy_from_slice(&data[start..start + n]);
            return Ok((n, now));
        }
        Some(FileBacking::Device(e)) => e,
    };
    if offset >= entry.size {
        return Ok((0, now));
    }
    let n = (out.len() as u64).min(entry.size - offset) as usize;
    let cfg = &st.world.config;
    let mut ssd = st.world.ssd();
    // INVARIANT(counters-per-app): snapshot around the reads, charged to the reader's Application
    let before = ssd.stats();
    let route = Route::of(st, &ssd);
    let (chunk, readahead) = route.sizes(&ssd, cfg.read_chunk, cfg.readahead);
    let end = offset + n as u64;
    let done;
    let mut reads = st.reads.borrow_mut();
    let sequential = reads.record(handle, offset, end);
    let ReadState { window: ra, .. } = &mut *reads;
    let hit = ra
        .as_ref()
        .is_some_and(|r| r.file == handle && offset >= r.start && end <= r.start + r.data.len() as u64);
    if readahead > 0 && (n as u64) < readahead && (hit || sequential) {
        if !hit {
            let start = align_down(offset);
            let wend = (start + readahead).max(end).min(entry.size).div_ceil(LBA_BYTES) * LBA_BYTES;
            let mut data = ra.take().map(|r| r.data).unwrap_or_default();
            data.clear();
            data.resize((wend - start) as usize, 0);
            let chunks = read_blocks(&mut ssd, route, entry, start, &mut data, now, chunk)?;
            *ra = Some(Readahead {
                file: handle,
                start,
                data,
                chunks,
            });
        }
        let Some(r) = ra.as_ref() else {
            return Err(Status::INVALID_ARGUMENT);
        };
        let from = (offset - r.start) as usize;
        out[..n].copy_from_slice(&r.data[from..from + n]);
        let mut t = now;
        let mut chunk_start = r.start;
        for &(chunk_end, ready) in &r.chunks {
            if chunk_start < end && chunk_end > offset {
                t = t.max(ready);
            }
            chunk_start = chunk_end;
        }
        done = t;
    } else if offset % LBA_BYTES == 0 && n as u64 % LBA_BYTES == 0 {
        let chunks = read_blocks(&mut ssd, route, entry, offset, &mut out[..n], now, chunk)?;
        done = chunks.iter().map(|c| c.1).max().unwrap_or(now);
    } else {
        let start = align_down(offset);
        let aend = end.div_ceil(LBA_BYTES) * LBA_BYTES;
        let mut scratch = st.world.scratch.borrow_mut();
        scratch.clear();
        scratch.resize((aend - start) as usize, 0);
        let chunks = read_blocks(&mut ssd, route, entry, start, &mut scratch, now, chunk)?;
        let from = (offset - start) as usize;
        out[..n].copy_from_slice(&scratch[from..from + n]);
        done = chunks.iter().map(|c| c.1).max().unwrap_or(now);
    }
    st.account.add_io(&before, &ssd.stats());
    Ok((n, done))
}

/// Runs the channel matchers over pages `first .. first + flags.len()` (4 KiB blocks) of file
/// `handle`, one request per extent run, all issued at the SSDlet's instant. Returns the
/// completion instant and the host compute, in picoseconds, still to spend matching (zero but
/// on the host site, where the pages are read and matched in software). Memory files are scanned in
/// software (a match counts for the page it starts in, looking a key length past the page
/// end).
pub(crate) fn scan(
    st: &InstanceState,
    handle: u64,
    keys: &[&[u8]],
    first: u64,
    flags: &mut [u8],
) -> Result<(SimTime, u128), Status> {
    let now = st.clock.get();
    let files = st.world.files.borrow();
    let lim = st.world.matcher;
    let count = flags.len() as u64;
    let page = u64::from(lim.page_size.max(1));
    let len = files.get(handle as usize).ok_or(Status::NO_SUCH_FILE)?.len();
    if first.checked_add(count).is_none_or(|e| e > len.div_ceil(page)) {
        return Err(Status::OUT_OF_RANGE);
    }
    // Without the `testing` feature a device file is the only kind there is.
    #[cfg_attr(not(feature = "testing"), allow(clippy::infallible_destructuring_match))]
    let entry = match &files[handle as usize] {
        #[cfg(feature = "testing")]
        FileBacking::Memory(data) => {
            for (i, flag) in flags.iter_mut().enumerate() {
                let start = ((first + i as u64) * page) as usize;
                let end = (start + page as usize).min(data.len());
                let tail = (end + lim.max_key_len as usize).min(data.len());
                let hit = keys
                    .iter()
                    .any(|k| memchr::memmem::find_iter(&data[start..tail], k).any(|pos| start + pos < end));
                *flag = u8::from(hit);
            }
            return Ok((now, 0));
        }
        FileBacking::Device(e) => e,
    };
    if count == 0 {
        return Ok((now, 0));
    }
    let mut ssd = st.world.ssd();
    let before = ssd.stats();
    let off = first * LBA_BYTES;
    if st.site == Site::Host {
        let done = match_on_host(&mut ssd, st, entry, keys, off, flags)?;
        st.account.add_io(&before, &ssd.stats());
        return Ok((done, software_match_ps(keys.len(), count * LBA_BYTES)));
    }
    let in_file = (count * LBA_BYTES).min(entry.size - off);
    let mut done = now;
    let mut i = 0usize;
    for run in entry.runs(off, in_file).map_err(|_| Status::OUT_OF_RANGE)? {
        let req = MatchRequest {
            keys: keys.iter().map(|k| k.to_vec()).collect(),
            mode: MatchMode::Any,
            start: run.start,
            count: run.blocks,
        };
        let (hints, t) = ssd.match_scan(now, &req).map_err(|_| Status::OUT_OF_RANGE)?;
        for h in hints.hints {
            if let Some(f) = flags.get_mut(i) {
                *f = u8::from(h);
            }
            i += 1;
        }
        done = done.max(t);
    }
    st.account.add_io(&before, &ssd.stats());
    Ok((done, 0))
}

/// A host-site matcher scan: reads the blocks from byte `off` of `entry` as the conventional
/// reader does (all issued at the SSDlet's instant, a window at a time through the world's
/// scratch buffer) and sets each block's flag as the device matcher would: some key occurs
/// inside the block. Returns when the last block is in host memory.
fn match_on_host(
    ssd: &mut Ssd,
    st: &InstanceState,
    entry: &FileEntry,
    keys: &[&[u8]],
    off: u64,
    flags: &mut [u8],
) -> Result<SimTime, Status> {
    let now = st.clock.get();
    let route = Route::of(st, ssd);
    let (chunk, window) = host_sizes(ssd);
    let per_window = (window / LBA_BYTES).max(1) as usize;
    let mut scratch = st.world.scratch.borrow_mut();
    let mut done = now;
    for (w, window_flags) in flags.chunks_mut(per_window).enumerate() {
        scratch.clear();
        scratch.resize(window_flags.len() * LBA_BYTES as usize, 0);
        let from = off + (w * per_window) as u64 * LBA_BYTES;
        let chunks = read_blocks(ssd, route, entry, from, &mut scratch, now, chunk)?;
        done = chunks.iter().map(|c| c.1).fold(done, SimTime::max);
        for (flag, block) in window_flags.iter_mut().zip(scratch.chunks(LBA_BYTES as usize)) {
            *flag = u8::from(keys.iter().any(|k| memchr::memmem::find(block, k).is_some()));
        }
    }
    Ok(done)
}
