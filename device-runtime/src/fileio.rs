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

use sim_nvme::{IoError, MatchMode, MatchRequest, SimTime, Ssd, LBA_BYTES};
use ssdlet_abi::Status;

use crate::instance::{InstanceState, ReadState, Readahead};
use crate::namespace::FileEntry;
use crate::world::FileBacking;

fn io_status(_: IoError) -> Status {
    Status::OUT_OF_RANGE
}

/// Reads whole blocks `[off, off + buf.len())` (block-aligned, `buf` whole blocks) of `entry`
/// in chunks issued at `at`; returns `(end offset, completion)` per chunk.
fn read_blocks(
    ssd: &mut Ssd,
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
            let t = ssd
                .internal_read(at, run.start, &mut buf[cursor..cursor + bytes])
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
/// instant they are in device DRAM.
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
    let chunk = cfg.read_chunk.max(LBA_BYTES);
    let end = offset + n as u64;
    let done;
    let mut reads = st.reads.borrow_mut();
    let sequential = reads.record(handle, offset, end);
    let ReadState { window: ra, .. } = &mut *reads;
    let hit = ra
        .as_ref()
        .is_some_and(|r| r.file == handle && offset >= r.start && end <= r.start + r.data.len() as u64);
    if cfg.readahead > 0 && (n as u64) < cfg.readahead && (hit || sequential) {
        if !hit {
            let start = align_down(offset);
            let wend = (start + cfg.readahead)
                .max(end)
                .min(entry.size)
                .div_ceil(LBA_BYTES)
                * LBA_BYTES;
            let mut data = ra.take().map(|r| r.data).unwrap_or_default();
            data.clear();
            data.resize((wend - start) as usize, 0);
            let chunks = read_blocks(&mut ssd, entry, start, &mut data, now, chunk)?;
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
        let chunks = read_blocks(&mut ssd, entry, offset, &mut out[..n], now, chunk)?;
        done = chunks.iter().map(|c| c.1).max().unwrap_or(now);
    } else {
        let start = align_down(offset);
        let aend = end.div_ceil(LBA_BYTES) * LBA_BYTES;
        let mut scratch = st.world.scratch.borrow_mut();
        scratch.clear();
        scratch.resize((aend - start) as usize, 0);
        let chunks = read_blocks(&mut ssd, entry, start, &mut scratch, now, chunk)?;
        let from = (offset - start) as usize;
        out[..n].copy_from_slice(&scratch[from..from + n]);
        done = chunks.iter().map(|c| c.1).max().unwrap_or(now);
    }
    st.account.add_io(&before, &ssd.stats());
    Ok((n, done))
}

/// Runs the channel matchers over pages `first .. first + flags.len()` (4 KiB blocks) of file
/// `handle`, one request per extent run, all issued at the SSDlet's instant. Returns the
/// completion instant. Memory files are scanned in software (a match counts for the page it
/// starts in, looking a key length past the page end).
pub(crate) fn scan(
    st: &InstanceState,
    handle: u64,
    keys: &[&[u8]],
    first: u64,
    flags: &mut [u8],
) -> Result<SimTime, Status> {
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
            return Ok(now);
        }
        FileBacking::Device(e) => e,
    };
    if count == 0 {
        return Ok(now);
    }
    let mut ssd = st.world.ssd();
    let before = ssd.stats();
    let off = first * LBA_BYTES;
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
    Ok(done)
}
