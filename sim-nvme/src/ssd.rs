//! [`Ssd`]: the simulated drive. It ties the FTL (where data lives), the media (the bytes) and
//! the hardware resources (when things finish) together, and offers the two read paths:
//!
//! - **host read**: firmware + tR + channel + PCIe to host (the NVMe controller adds the host
//!   I/O stack in front, see [`crate::nvme`]);
//! - **internal read**: firmware + tR + channel; the data lands in device DRAM, no PCIe.
//!
//! Writes complete once their data is in the controller's DRAM (write-back), but no earlier than
//! the NAND programs of the pages they fill have started, so a stream of writes is throttled to
//! what the dies can program. A flush waits for every program and commits an FTL checkpoint.

use std::path::Path;

use crate::addr::{Layout, Lba, PhysPage, PhysSector};
use crate::error::IoError;
use crate::ftl::{Ftl, FtlState, NandOp};
use crate::hardware::Hardware;
use crate::image::{ImageError, ImageFile};
use crate::matcher::{CompiledKeys, MatchHints, MatchRequest};
use crate::media::{Media, MemMedia};
use crate::metrics::SsdStats;
use crate::profile::{DeviceProfile, LBA_BYTES};
use crate::time::SimTime;

const SECTOR: usize = LBA_BYTES as usize;

/// The simulated SSD. Single-threaded: wrap it in a lock or an actor to share it.
pub struct Ssd {
    profile: DeviceProfile,
    layout: Layout,
    hw: Hardware,
    ftl: Ftl,
    media: Box<dyn Media>,
    stats: SsdStats,
    ops: Vec<NandOp>,
    programs_done: SimTime,
}

/// Where read data is copied: into a caller's buffer, or appended to a vector.
enum Dest<'a> {
    Slice(&'a mut [u8]),
    Append(&'a mut Vec<u8>),
}

impl Dest<'_> {
    /// Places a sector's data at byte offset `off` (appends are always at the end, in order).
    fn put(&mut self, off: usize, data: &[u8]) {
        match self {
            Dest::Slice(buf) => buf[off..off + data.len()].copy_from_slice(data),
            Dest::Append(v) => v.extend_from_slice(data),
        }
    }

    fn zeros(&mut self, off: usize, len: usize) {
        match self {
            Dest::Slice(buf) => buf[off..off + len].fill(0),
            Dest::Append(v) => v.resize(v.len() + len, 0),
        }
    }
}

/// Which way read data goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Host,
    Internal,
}

impl Ssd {
    /// A device whose NAND lives in memory (nothing persists). The profile is validated.
    pub fn in_memory(profile: DeviceProfile) -> Result<Self, crate::profile::ProfileError> {
        profile.validate()?;
        let layout = Layout::new(&profile);
        Ok(Self::assemble(
            profile,
            Box::new(MemMedia::new(&layout)),
            Ftl::new(layout, false),
        ))
    }

    /// Creates a new image file for the profile and opens it.
    pub fn create_image(profile: DeviceProfile, path: &Path) -> Result<Self, OpenError> {
        profile.validate()?;
        let layout = Layout::new(&profile);
        let img = ImageFile::create(path, &profile.name, layout)?;
        Ok(Self::assemble(profile, Box::new(img), Ftl::new(layout, true)))
    }

    /// Opens an existing image file; everything flushed before it was closed (or before the
    /// process died) is there.
    pub fn open_image(profile: DeviceProfile, path: &Path) -> Result<Self, OpenError> {
        profile.validate()?;
        let layout = Layout::new(&profile);
        let (img, state) = ImageFile::open(path, layout)?;
        let ftl = if state.is_empty() {
            Ftl::new(layout, true)
        } else {
            let corrupt = |what: &str| ImageError::Corrupt {
                path: path.to_path_buf(),
                what: what.to_string(),
            };
            let st: FtlState =
                postcard::from_bytes(&state).map_err(|_| corrupt("the FTL checkpoint does not decode"))?;
            Ftl::from_state(layout, st, true)
                .ok_or_else(|| corrupt("the FTL checkpoint is inconsistent with the geometry"))?
        };
        let mut ssd = Self::assemble(profile, Box::new(img), ftl);
        ssd.stats.ftl = ssd.ftl.counters();
        Ok(ssd)
    }

    fn assemble(profile: DeviceProfile, media: Box<dyn Media>, ftl: Ftl) -> Self {
        Ssd {
            layout: *ftl.layout(),
            hw: Hardware::new(&profile),
            profile,
            ftl,
            media,
            stats: SsdStats::default(),
            ops: Vec::new(),
            programs_done: SimTime::ZERO,
        }
    }

    /// The profile the device was built from.
    pub fn profile(&self) -> &DeviceProfile {
        &self.profile
    }

    /// Derived geometry.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// One command's processing on the first free firmware core, from `at`; returns when it
    /// is done. For firmware-side components (the vendor commands of the device runtime).
    pub fn firmware(&mut self, at: SimTime) -> SimTime {
        self.hw.firmware(at)
    }

    /// LBAs in the namespace.
    pub fn capacity_lbas(&self) -> u64 {
        self.layout.user_lbas
    }

    /// Counters so far.
    pub fn stats(&self) -> SsdStats {
        let mut s = self.stats;
        s.ftl = self.ftl.counters();
        s
    }

    /// Timing state of every resource (for reports and tests).
    pub fn hardware(&self) -> &Hardware {
        &self.hw
    }

    /// Moves `bytes` of command data host-to-device over PCIe from `at` (vendor commands).
    pub fn pcie_to_device(&mut self, at: SimTime, bytes: u64) -> SimTime {
        self.stats.pcie_bytes_to_device += bytes;
        self.hw.pcie_to_device(at, bytes)
    }

    /// Moves `bytes` of reply data device-to-host over PCIe from `at` (vendor commands).
    pub fn pcie_to_host(&mut self, at: SimTime, bytes: u64) -> SimTime {
        self.stats.pcie_bytes_to_host += bytes;
        self.hw.pcie_to_host(at, bytes)
    }

    /// Checks a block range against the namespace and the transfer limit.
    pub fn check_range(&self, lba: Lba, count: u64, limit_transfer: bool) -> Result<(), IoError> {
        if count == 0 {
            return Err(IoError::Empty);
        }
        let cap = self.layout.user_lbas;
        if lba.0 >= cap || count > cap - lba.0 {
            return Err(IoError::LbaOutOfRange {
                lba: lba.0,
                count,
                capacity: cap,
            });
        }
        let max = u64::from(self.profile.controller.max_transfer_bytes);
        if limit_transfer && count * LBA_BYTES > max {
            return Err(IoError::TooLarge {
                bytes: count * LBA_BYTES,
                max,
            });
        }
        Ok(())
    }

    fn check_buf(count: u64, len: usize) -> Result<(), IoError> {
        if len as u64 != count * LBA_BYTES {
            return Err(IoError::BufferSize {
                expected: count * LBA_BYTES,
                got: len as u64,
            });
        }
        Ok(())
    }

    /// The device side of a host read issued at `at` (the NVMe controller adds the host I/O
    /// stack): data into `buf`, which must hold `buf.len() / 4096` blocks. Returns the instant
    /// the last byte has crossed PCIe.
    pub fn host_read(&mut self, at: SimTime, lba: Lba, buf: &mut [u8]) -> Result<SimTime, IoError> {
        self.stats.host_reads += 1;
        self.read(at, lba, buf, Route::Host)
    }

    /// An internal read issued at `at` by device firmware or an SSDlet: data into device DRAM
    /// (`buf`), no PCIe. Returns the instant the data is in DRAM.
    pub fn internal_read(&mut self, at: SimTime, lba: Lba, buf: &mut [u8]) -> Result<SimTime, IoError> {
        self.stats.internal_reads += 1;
        self.read(at, lba, buf, Route::Internal)
    }

    /// The bytes of blocks `lba..` as the media holds them, with no time and no counters: for a
    /// host that already holds them in its page cache (a conventional run reading again what
    /// it read before). Never-written blocks read as zeros.
    pub fn read_cached(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), IoError> {
        let count = (buf.len() / SECTOR) as u64;
        Self::check_buf(count, buf.len())?;
        self.check_range(lba, count, false)?;
        for (i, block) in buf.chunks_mut(SECTOR).enumerate() {
            match self.ftl.lookup(lba.offset(i as u64)) {
                None => block.fill(0),
                Some(s) => self.media.scan(s, &mut |data| block.copy_from_slice(data))?,
            }
        }
        Ok(())
    }

    /// The device side of a host read into a new buffer: like [`Ssd::host_read`], but the data
    /// is appended to a vector as it is copied out of the media (no zeroing pass first).
    pub fn host_read_vec(
        &mut self,
        at: SimTime,
        lba: Lba,
        count: u64,
    ) -> Result<(Vec<u8>, SimTime), IoError> {
        self.check_range(lba, count, true)?;
        self.stats.host_reads += 1;
        let mut out = Vec::with_capacity(count as usize * SECTOR);
        let done = self.read_to(at, lba, count, &mut Dest::Append(&mut out), Route::Host)?;
        Ok((out, done))
    }

    fn read(&mut self, at: SimTime, lba: Lba, buf: &mut [u8], path: Route) -> Result<SimTime, IoError> {
        let count = (buf.len() / SECTOR) as u64;
        Self::check_buf(count, buf.len())?;
        self.read_to(at, lba, count, &mut Dest::Slice(buf), path)
    }

    fn read_to(
        &mut self,
        at: SimTime,
        lba: Lba,
        count: u64,
        dest: &mut Dest<'_>,
        path: Route,
    ) -> Result<SimTime, IoError> {
        self.check_range(lba, count, path == Route::Host)?;
        let fw = self.hw.firmware(at);
        let mut done = fw;
        let mut i = 0u64;
        while i < count {
            let (ready, run) = match self.ftl.lookup(lba.offset(i)) {
                None => {
                    // Never written: zeros, no NAND access. Group the whole unmapped run.
                    let mut run = 1;
                    while i + run < count && self.ftl.lookup(lba.offset(i + run)).is_none() {
                        run += 1;
                    }
                    dest.zeros(i as usize * SECTOR, run as usize * SECTOR);
                    (fw, run)
                }
                Some(first) => {
                    // Consecutive blocks stored consecutively in one page share one tR.
                    let page = self.layout.page_of(first);
                    let mut run = 1u64;
                    while i + run < count {
                        match self.ftl.lookup(lba.offset(i + run)) {
                            Some(s) if s.0 == first.0 + run as u32 && self.layout.page_of(s) == page => {
                                run += 1
                            }
                            _ => break,
                        }
                    }
                    for k in 0..run {
                        let off = (i + k) as usize * SECTOR;
                        let s = crate::addr::PhysSector(first.0 + k as u32);
                        self.media.scan(s, &mut |data| dest.put(off, data))?;
                    }
                    self.stats.nand_pages_read += 1;
                    (self.hw.nand_read(fw, page, run as u32, false), run)
                }
            };
            let arrived = match path {
                Route::Host => {
                    self.stats.pcie_bytes_to_host += run * LBA_BYTES;
                    self.hw.pcie_to_host(ready, run * LBA_BYTES)
                }
                Route::Internal => ready,
            };
            done = done.max(arrived);
            i += run;
        }
        Ok(done)
    }

    /// A host write issued at `at`: firmware, data over PCIe into controller DRAM, then FTL
    /// placement and NAND programs. Returns the completion instant (see the module docs).
    pub fn host_write(&mut self, at: SimTime, lba: Lba, data: &[u8]) -> Result<SimTime, IoError> {
        let count = (data.len() / SECTOR) as u64;
        Self::check_buf(count, data.len())?;
        self.check_range(lba, count, true)?;
        self.stats.writes += 1;
        let fw = self.hw.firmware(at);
        let arrived = self.hw.pcie_to_device(fw, count * LBA_BYTES);
        self.stats.pcie_bytes_to_device += count * LBA_BYTES;
        self.place(arrived, lba, data)
    }

    /// A write by device firmware (e.g. the runtime storing a file an SSDlet produced): like a
    /// host write without the PCIe transfer.
    pub fn internal_write(&mut self, at: SimTime, lba: Lba, data: &[u8]) -> Result<SimTime, IoError> {
        let count = (data.len() / SECTOR) as u64;
        Self::check_buf(count, data.len())?;
        self.check_range(lba, count, false)?;
        self.stats.writes += 1;
        let fw = self.hw.firmware(at);
        self.place(fw, lba, data)
    }

    fn place(&mut self, ready: SimTime, lba: Lba, data: &[u8]) -> Result<SimTime, IoError> {
        let mut done = ready;
        for (i, sector) in data.chunks_exact(SECTOR).enumerate() {
            // INVARIANT(flush-survives-kill): checkpoint before reusing a block GC erased
            if self.ftl.wants_checkpoint() {
                self.checkpoint(ready)?;
            }
            let s = self.ftl.write(lba.offset(i as u64), &mut self.ops)?;
            done = done.max(self.apply_ops(ready)?);
            self.media.write(s, sector)?;
        }
        Ok(done)
    }

    /// Executes the NAND operations the FTL queued, from `ready`; returns the latest instant a
    /// program started (what a write waits for).
    fn apply_ops(&mut self, ready: SimTime) -> Result<SimTime, IoError> {
        let mut started = ready;
        let mut gc_ready = ready;
        for op in std::mem::take(&mut self.ops) {
            match op {
                NandOp::Program { page, sectors } => {
                    let (start, end) = self.hw.nand_program(gc_ready, page, sectors);
                    started = started.max(start);
                    self.programs_done = self.programs_done.max(end);
                }
                NandOp::Read { page, sectors } => {
                    self.stats.nand_pages_read += 1;
                    gc_ready = gc_ready.max(self.hw.nand_read(ready, page, sectors, false));
                }
                NandOp::Copy { from, to } => self.media.copy(from, to)?,
                NandOp::Erase { block } => {
                    let die = self.layout.die_of_block(block);
                    self.programs_done = self.programs_done.max(self.hw.nand_erase(ready, die));
                    self.media.erase(block)?;
                }
            }
        }
        Ok(started)
    }

    /// Deallocates blocks (Dataset Management / TRIM) at `at`; returns the completion instant.
    pub fn trim(&mut self, at: SimTime, lba: Lba, count: u64) -> Result<SimTime, IoError> {
        self.check_range(lba, count, false)?;
        for i in 0..count {
            self.ftl.trim(lba.offset(i));
        }
        Ok(self.hw.firmware(at))
    }

    /// Flush at `at`: closes the open page, waits for every NAND program, and commits the FTL
    /// checkpoint to the media. Everything written before the flush survives a killed process
    /// (INVARIANT(flush-survives-kill)).
    pub fn flush(&mut self, at: SimTime) -> Result<SimTime, IoError> {
        self.stats.flushes += 1;
        let fw = self.hw.firmware(at);
        self.checkpoint(fw)?;
        Ok(fw.max(self.programs_done))
    }

    fn checkpoint(&mut self, at: SimTime) -> Result<(), IoError> {
        self.ftl.close_open_page(&mut self.ops);
        self.apply_ops(at)?;
        if self.media.is_persistent() {
            let state = postcard::to_stdvec(&self.ftl.state()).map_err(std::io::Error::other)?;
            self.media.commit(&state)?;
            self.stats.checkpoints += 1;
        }
        self.ftl.release_pending();
        Ok(())
    }

    /// Runs the channel matchers over `req.count` blocks from `req.start`, issued at `at`.
    /// Pages stream off NAND on every channel in parallel; no data crosses PCIe. Returns the
    /// hints and the instant the last hint is known.
    pub fn match_scan(&mut self, at: SimTime, req: &MatchRequest) -> Result<(MatchHints, SimTime), IoError> {
        let keys = CompiledKeys::new(&req.keys, req.mode, &self.profile.matcher)?;
        self.check_range(req.start, req.count, false)?;
        let fw = self.hw.firmware(at);
        let mut done = fw;
        let zeros = [0u8; SECTOR];
        let located: Vec<Option<PhysSector>> = (0..req.count)
            .map(|i| self.ftl.lookup(req.start.offset(i)))
            .collect();
        // Blocks all held in memory: their timing first, block by block in order, then their
        // hints all at once (which can neither fail nor time anything). Otherwise each block is
        // timed, then read and matched, in turn, so a failed read stops the timing there.
        let in_memory: Option<Vec<&[u8]>> = located
            .iter()
            .map(|s| match s {
                None => Some(&zeros[..]),
                Some(s) => self.media.sector_bytes(*s),
            })
            .collect();
        let mut last_page: Option<PhysPage> = None;
        let mut time_block = |s: PhysSector| {
            let page = self.layout.page_of(s);
            // Blocks of one page stream together: one tR per page.
            if last_page != Some(page) {
                self.stats.nand_pages_read += 1;
                let per_page = self.layout.sectors_per_page;
                done = done.max(self.hw.nand_read(fw, page, per_page, true));
                last_page = Some(page);
            }
        };
        let hints = match in_memory {
            Some(blocks) => {
                located.iter().flatten().for_each(|&s| time_block(s));
                keys.matches_all(&blocks)
            }
            None => {
                let mut hints = Vec::with_capacity(located.len());
                for s in located {
                    let hit = match s {
                        None => keys.matches(&zeros),
                        Some(s) => {
                            time_block(s);
                            let mut hit = false;
                            self.media.scan(s, &mut |data| hit = keys.matches(data))?;
                            hit
                        }
                    };
                    hints.push(hit);
                }
                hints
            }
        };
        let hints = MatchHints { hints };
        self.stats.matcher_pages_scanned += req.count;
        self.stats.matcher_pages_hinted += hints.count();
        Ok((hints, done))
    }
}

/// Why a device could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The profile is unusable.
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
    /// The image is unusable.
    #[error(transparent)]
    Image(#[from] ImageError),
}
