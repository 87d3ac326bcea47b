//! The flash translation layer: page-level mapping, striping, out-of-place writes, greedy
//! garbage collection with valid-page copies, TRIM, and the counters behind write
//! amplification.
//!
//! The FTL is pure bookkeeping. It decides *where* data goes and returns the NAND operations
//! that this implies ([`NandOp`]); the [`Ssd`](crate::Ssd) executes them against the media
//! (data) and the timing resources (time).
//!
//! Placement: the FTL fills one NAND page at a time with consecutive writes; each new page goes
//! to the next die in round-robin order (die `d` is on channel `d % channels`), so consecutive
//! LBAs land `sectors_per_page` to a page, page after page across the channels, then the ways.
//!
//! Garbage collection is greedy: when free blocks fall below `dies + 2`, full blocks with the
//! fewest valid sectors are chosen, their valid sectors read and rewritten through the normal
//! placement path, and they are erased, until `2 * dies + 2` blocks are free (or waiting for
//! a checkpoint). It never starts a victim whose valid data does not fit, with a page to
//! spare, in the pages still writable (the rest of the open blocks and the free blocks), so a
//! relocation cannot run out of space half way.
//!
//! Crash safety: with a persistent image, a block erased by GC is not reused until the next
//! checkpoint ([`Ftl::release_pending`]), because the last checkpoint may still map sectors in
//! it. [`Ftl::wants_checkpoint`] says when the device must checkpoint to get those blocks back.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::addr::{BlockId, DieId, Layout, Lba, PhysPage, PhysSector};

const NONE: u32 = u32::MAX;
const MAP_CHUNK: usize = 4096;

/// A NAND operation the FTL's decisions imply, in the order it must happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NandOp {
    /// Program `sectors` sectors of data into a page (channel transfer in, then tPROG).
    Program {
        /// The page.
        page: PhysPage,
        /// How many sectors carry data (a page closed by a flush may be partly filled).
        sectors: u32,
    },
    /// Read a page for garbage collection (tR, then transfer of `sectors` sectors out).
    Read {
        /// The page.
        page: PhysPage,
        /// How many sectors are moved.
        sectors: u32,
    },
    /// Move one sector's data (garbage collection); timing is in the surrounding Read/Program.
    Copy {
        /// Where the data is.
        from: PhysSector,
        /// Where it goes.
        to: PhysSector,
    },
    /// Erase a block (tBERS).
    Erase {
        /// The block.
        block: BlockId,
    },
}

/// Why the FTL could not place a write.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FtlError {
    /// Every die is out of free blocks and garbage collection found nothing to reclaim.
    #[error("no free NAND space: every block holds valid data (the device is full)")]
    NoSpace,
}

/// Counters the FTL keeps (persisted with its state).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FtlCounters {
    /// Sectors written by the host (or by the runtime on the host's behalf).
    pub host_sectors_written: u64,
    /// Sectors programmed into NAND: host data plus garbage-collection copies.
    pub nand_sectors_written: u64,
    /// Pages programmed (a flushed partial page counts as one).
    pub pages_programmed: u64,
    /// Garbage-collection victims reclaimed.
    pub gc_runs: u64,
    /// Valid sectors copied by garbage collection.
    pub gc_sectors_copied: u64,
    /// Blocks erased.
    pub blocks_erased: u64,
    /// Sectors deallocated by TRIM that were mapped.
    pub sectors_trimmed: u64,
}

impl FtlCounters {
    /// Write amplification: NAND sectors written per host sector written (1.0 when nothing
    /// has been written).
    pub fn write_amplification(&self) -> f64 {
        if self.host_sectors_written == 0 {
            1.0
        } else {
            self.nand_sectors_written as f64 / self.host_sectors_written as f64
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum BlockState {
    Free,
    Open,
    Full,
    /// Erased by GC, waiting for a checkpoint before reuse.
    Pending,
}

#[derive(Debug, Clone, Copy)]
struct BlockInfo {
    state: BlockState,
    /// Next unallocated sector slot in the block (page-aligned).
    write_ptr: u32,
    valid: u32,
    erase_count: u32,
}

#[derive(Debug, Clone, Copy)]
struct OpenPage {
    first: PhysSector,
    filled: u32,
}

/// The FTL's state as saved in a checkpoint.
#[derive(Debug, Serialize, Deserialize)]
pub struct FtlState {
    /// Mapped chunks of the LBA map: (chunk index, physical sector per LBA, `u32::MAX` = none).
    map_chunks: Vec<(u32, Vec<u32>)>,
    /// Per block: (state, write pointer, erase count).
    blocks: Vec<(BlockState, u32, u32)>,
    /// Next die to receive a page.
    cursor: u32,
    /// Counters at the checkpoint.
    counters: FtlCounters,
}

/// Page-level FTL. See the module docs.
pub struct Ftl {
    layout: Layout,
    map: Vec<Option<Box<[u32]>>>,
    blocks: Vec<BlockInfo>,
    /// Per block: the LBA stored in each sector slot (`NONE` when invalid); allocated while the
    /// block holds data.
    rev: Vec<Option<Box<[u32]>>>,
    free: Vec<Vec<u32>>,
    free_count: u32,
    open: Vec<Option<u32>>,
    cursor: u32,
    open_page: Option<OpenPage>,
    pending: Vec<u32>,
    defer_reuse: bool,
    in_gc: bool,
    counters: FtlCounters,
}

impl Ftl {
    /// An empty FTL (every block free). With `defer_reuse`, blocks erased by GC wait for a
    /// checkpoint before reuse (persistent images).
    pub fn new(layout: Layout, defer_reuse: bool) -> Self {
        let mut free = vec![Vec::new(); layout.dies as usize];
        for d in 0..layout.dies {
            let first = layout.first_block(DieId(d)).0;
            // Stack: pop from the end, so push in reverse to hand out low blocks first.
            free[d as usize].extend((first..first + layout.blocks_per_die).rev());
        }
        let blocks = vec![
            BlockInfo {
                state: BlockState::Free,
                write_ptr: 0,
                valid: 0,
                erase_count: 0,
            };
            layout.total_blocks as usize
        ];
        let chunks = (layout.user_lbas as usize).div_ceil(MAP_CHUNK);
        Ftl {
            layout,
            map: (0..chunks).map(|_| None).collect(),
            rev: (0..layout.total_blocks).map(|_| None).collect(),
            blocks,
            free,
            free_count: layout.total_blocks,
            open: vec![None; layout.dies as usize],
            cursor: 0,
            open_page: None,
            pending: Vec::new(),
            defer_reuse,
            in_gc: false,
            counters: FtlCounters::default(),
        }
    }

    /// The layout this FTL manages.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Counters so far.
    pub fn counters(&self) -> FtlCounters {
        self.counters
    }

    /// Free blocks (not counting those waiting for a checkpoint).
    pub fn free_blocks(&self) -> u32 {
        self.free_count
    }

    /// GC starts below this many free (or pending) blocks.
    fn gc_low(&self) -> u32 {
        self.layout.dies + 2
    }

    /// GC stops at this many free (or pending) blocks.
    fn gc_high(&self) -> u32 {
        2 * self.layout.dies + 2
    }

    /// Pages that can be allocated without reclaiming anything: the rest of every open block and
    /// every free block.
    fn writable_pages(&self) -> u32 {
        let spb = self.layout.sectors_per_block();
        let spp = self.layout.sectors_per_page;
        let open: u32 = self
            .open
            .iter()
            .flatten()
            .map(|&b| (spb - self.blocks[b as usize].write_ptr) / spp)
            .sum();
        open + self.free_count * self.layout.pages_per_block
    }

    /// Where an LBA's data lives, if it is mapped. The caller checks the range.
    #[inline]
    pub fn lookup(&self, lba: Lba) -> Option<PhysSector> {
        let i = lba.0 as usize;
        let chunk = self.map.get(i / MAP_CHUNK)?.as_ref()?;
        match chunk[i % MAP_CHUNK] {
            NONE => None,
            s => Some(PhysSector(s)),
        }
    }

    fn set_map(&mut self, lba: Lba, value: u32) {
        let i = lba.0 as usize;
        let chunk = self.map[i / MAP_CHUNK].get_or_insert_with(|| vec![NONE; MAP_CHUNK].into_boxed_slice());
        chunk[i % MAP_CHUNK] = value;
    }

    fn invalidate(&mut self, s: PhysSector) {
        let b = self.layout.block_of(s);
        let slot = (s.0 - self.layout.first_sector(b).0) as usize;
        let info = &mut self.blocks[b.0 as usize];
        info.valid -= 1;
        if let Some(rev) = self.rev[b.0 as usize].as_mut() {
            rev[slot] = NONE;
        }
    }

    fn bind(&mut self, lba: Lba, s: PhysSector) {
        let b = self.layout.block_of(s);
        let slot = (s.0 - self.layout.first_sector(b).0) as usize;
        let spb = self.layout.sectors_per_block() as usize;
        let rev = self.rev[b.0 as usize].get_or_insert_with(|| vec![NONE; spb].into_boxed_slice());
        rev[slot] = lba.0 as u32;
        self.blocks[b.0 as usize].valid += 1;
        self.set_map(lba, s.0);
    }

    /// Places a write of `lba`: returns the sector its data must go to, and appends the NAND
    /// operations this implies (garbage collection, a page program when a page fills).
    pub fn write(&mut self, lba: Lba, ops: &mut Vec<NandOp>) -> Result<PhysSector, FtlError> {
        if let Some(old) = self.lookup(lba) {
            self.invalidate(old);
            self.set_map(lba, NONE);
        }
        let s = self.alloc_slot(ops)?;
        self.bind(lba, s);
        self.counters.host_sectors_written += 1;
        Ok(s)
    }

    /// Deallocates an LBA (TRIM); returns whether it was mapped.
    pub fn trim(&mut self, lba: Lba) -> bool {
        match self.lookup(lba) {
            Some(old) => {
                self.invalidate(old);
                self.set_map(lba, NONE);
                self.counters.sectors_trimmed += 1;
                true
            }
            None => false,
        }
    }

    /// Closes a partly filled open page (a flush): appends its program.
    pub fn close_open_page(&mut self, ops: &mut Vec<NandOp>) {
        if let Some(p) = self.open_page.take() {
            self.program(p, ops);
        }
    }

    fn program(&mut self, p: OpenPage, ops: &mut Vec<NandOp>) {
        ops.push(NandOp::Program {
            page: self.layout.page_of(p.first),
            sectors: p.filled,
        });
        self.counters.pages_programmed += 1;
        self.counters.nand_sectors_written += u64::from(p.filled);
    }

    fn alloc_slot(&mut self, ops: &mut Vec<NandOp>) -> Result<PhysSector, FtlError> {
        if self.open_page.is_none()
            && !self.in_gc
            && self.free_count + (self.pending.len() as u32) < self.gc_low()
        {
            self.collect(ops)?;
        }
        let mut page = match self.open_page {
            Some(p) => p,
            None => self.new_page()?,
        };
        let s = PhysSector(page.first.0 + page.filled);
        page.filled += 1;
        if page.filled == self.layout.sectors_per_page {
            self.open_page = None;
            self.program(page, ops);
        } else {
            self.open_page = Some(page);
        }
        Ok(s)
    }

    fn new_page(&mut self) -> Result<OpenPage, FtlError> {
        let spb = self.layout.sectors_per_block();
        for _ in 0..self.layout.dies {
            let die = self.cursor as usize;
            self.cursor = (self.cursor + 1) % self.layout.dies;
            let blk = match self.open[die] {
                Some(b) => b,
                None => match self.free[die].pop() {
                    Some(b) => {
                        self.free_count -= 1;
                        let info = &mut self.blocks[b as usize];
                        info.state = BlockState::Open;
                        info.write_ptr = 0;
                        self.open[die] = Some(b);
                        b
                    }
                    None => continue,
                },
            };
            let info = &mut self.blocks[blk as usize];
            let first = PhysSector(self.layout.first_sector(BlockId(blk)).0 + info.write_ptr);
            info.write_ptr += self.layout.sectors_per_page;
            if info.write_ptr == spb {
                info.state = BlockState::Full;
                self.open[die] = None;
            }
            let page = OpenPage { first, filled: 0 };
            self.open_page = Some(page);
            return Ok(page);
        }
        Err(FtlError::NoSpace)
    }

    fn victim(&self) -> Option<u32> {
        let spb = self.layout.sectors_per_block();
        let busy = self.open_page.map(|p| self.layout.block_of(p.first).0);
        let mut best: Option<(u32, u32)> = None;
        for (i, b) in self.blocks.iter().enumerate() {
            let i = i as u32;
            if b.state == BlockState::Full
                && b.valid < spb
                && Some(i) != busy
                && best.is_none_or(|(_, v)| b.valid < v)
            {
                best = Some((i, b.valid));
                if b.valid == 0 {
                    break;
                }
            }
        }
        best.map(|(i, _)| i)
    }

    fn collect(&mut self, ops: &mut Vec<NandOp>) -> Result<(), FtlError> {
        self.in_gc = true;
        let result = self.collect_inner(ops);
        self.in_gc = false;
        result
    }

    fn collect_inner(&mut self, ops: &mut Vec<NandOp>) -> Result<(), FtlError> {
        let spp = self.layout.sectors_per_page;
        while self.free_count + (self.pending.len() as u32) < self.gc_high() {
            let Some(victim) = self.victim() else { break };
            if self.blocks[victim as usize].valid.div_ceil(spp) >= self.writable_pages() {
                break;
            }
            self.counters.gc_runs += 1;
            let first = self.layout.first_sector(BlockId(victim)).0;
            let rev = self.rev[victim as usize].take();
            if let Some(rev) = rev.as_ref() {
                for (pi, page) in rev.chunks(spp as usize).enumerate() {
                    let live = page.iter().filter(|&&l| l != NONE).count() as u32;
                    if live == 0 {
                        continue;
                    }
                    let page_first = first + pi as u32 * spp;
                    ops.push(NandOp::Read {
                        page: self.layout.page_of(PhysSector(page_first)),
                        sectors: live,
                    });
                    for (k, &lba) in page.iter().enumerate() {
                        if lba == NONE {
                            continue;
                        }
                        let from = PhysSector(page_first + k as u32);
                        let to = self.alloc_slot(ops)?;
                        self.bind(Lba(u64::from(lba)), to);
                        ops.push(NandOp::Copy { from, to });
                        self.counters.gc_sectors_copied += 1;
                    }
                }
            }
            let info = &mut self.blocks[victim as usize];
            info.valid = 0;
            info.write_ptr = 0;
            info.erase_count += 1;
            self.counters.blocks_erased += 1;
            ops.push(NandOp::Erase {
                block: BlockId(victim),
            });
            if self.defer_reuse {
                info.state = BlockState::Pending;
                self.pending.push(victim);
            } else {
                self.release(victim);
            }
        }
        Ok(())
    }

    fn release(&mut self, b: u32) {
        self.blocks[b as usize].state = BlockState::Free;
        let die = self.layout.die_of_block(BlockId(b)).0 as usize;
        // Free blocks are handed out from the end: put reclaimed blocks at the front so the
        // least recently erased block is reused first (simple wear levelling).
        self.free[die].insert(0, b);
        self.free_count += 1;
    }

    // INVARIANT(flush-survives-kill): GC-erased blocks wait for a checkpoint before reuse
    /// True when blocks erased since the last checkpoint are needed for new writes: the device
    /// should checkpoint and then call [`Ftl::release_pending`].
    pub fn wants_checkpoint(&self) -> bool {
        !self.pending.is_empty() && self.free_count < self.gc_low()
    }

    /// Makes blocks erased before the checkpoint that just committed reusable.
    pub fn release_pending(&mut self) {
        for b in std::mem::take(&mut self.pending) {
            self.release(b);
        }
    }

    /// The state to persist. The open page must have been closed (flush) first; blocks waiting
    /// for this checkpoint are saved as free.
    pub fn state(&self) -> FtlState {
        debug_assert!(self.open_page.is_none(), "checkpoint with an open page");
        let map_chunks = self
            .map
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|c| (i as u32, c.to_vec())))
            .collect();
        let blocks = self
            .blocks
            .iter()
            .map(|b| {
                let state = if b.state == BlockState::Pending {
                    BlockState::Free
                } else {
                    b.state
                };
                (state, b.write_ptr, b.erase_count)
            })
            .collect();
        FtlState {
            map_chunks,
            blocks,
            cursor: self.cursor,
            counters: self.counters,
        }
    }

    /// Rebuilds an FTL from a checkpoint; `None` if the state does not fit the layout or is
    /// inconsistent (a corrupt checkpoint).
    pub fn from_state(layout: Layout, state: FtlState, defer_reuse: bool) -> Option<Self> {
        let mut ftl = Ftl::new(layout, defer_reuse);
        if state.blocks.len() != layout.total_blocks as usize || state.cursor >= layout.dies {
            return None;
        }
        let spb = layout.sectors_per_block();
        for f in &mut ftl.free {
            f.clear();
        }
        ftl.free_count = 0;
        for (i, &(st, wp, ec)) in state.blocks.iter().enumerate() {
            if wp > spb || wp % layout.sectors_per_page != 0 {
                return None;
            }
            let die = layout.die_of_block(BlockId(i as u32)).0 as usize;
            let info = &mut ftl.blocks[i];
            *info = BlockInfo {
                state: st,
                write_ptr: wp,
                valid: 0,
                erase_count: ec,
            };
            match st {
                BlockState::Free => {
                    info.write_ptr = 0;
                    ftl.free[die].push(i as u32);
                    ftl.free_count += 1;
                }
                BlockState::Open => {
                    if ftl.open[die].replace(i as u32).is_some() {
                        return None;
                    }
                }
                BlockState::Full => {}
                BlockState::Pending => return None,
            }
        }
        for f in &mut ftl.free {
            f.reverse();
        }
        for (ci, entries) in state.map_chunks {
            if ci as usize >= ftl.map.len() || entries.len() != MAP_CHUNK {
                return None;
            }
            for (k, &s) in entries.iter().enumerate() {
                if s == NONE {
                    continue;
                }
                let lba = Lba(ci as u64 * MAP_CHUNK as u64 + k as u64);
                if lba.0 >= layout.user_lbas || u64::from(s) >= layout.total_sectors() {
                    return None;
                }
                let b = layout.block_of(PhysSector(s));
                let info = ftl.blocks[b.0 as usize];
                let slot = s - layout.first_sector(b).0;
                if info.state == BlockState::Free || slot >= info.write_ptr {
                    return None;
                }
                ftl.bind(lba, PhysSector(s));
            }
        }
        ftl.cursor = state.cursor;
        ftl.counters = state.counters;
        Some(ftl)
    }

    /// Sum of valid sectors over all blocks (for consistency checks in tests).
    pub fn valid_sectors(&self) -> u64 {
        self.blocks.iter().map(|b| u64::from(b.valid)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::DeviceProfile;

    fn tiny() -> Ftl {
        Ftl::new(Layout::new(&DeviceProfile::tiny()), false)
    }

    #[test]
    fn consecutive_lbas_fill_a_page_then_stripe_over_channels() {
        let mut ftl = tiny();
        let l = *ftl.layout();
        let mut ops = Vec::new();
        let sectors: Vec<_> = (0..16).map(|i| ftl.write(Lba(i), &mut ops).unwrap()).collect();
        for (i, &s) in sectors.iter().enumerate() {
            let die = l.die_of_page(l.page_of(s));
            assert_eq!(die.0 as usize, i / 4, "LBA {i}");
            assert_eq!(l.channel_of(die) as usize, (i / 4) % 4);
        }
        assert_eq!(
            ops.iter()
                .filter(|o| matches!(o, NandOp::Program { sectors: 4, .. }))
                .count(),
            4
        );
    }

    #[test]
    fn overwrite_is_out_of_place_and_trim_unmaps() {
        let mut ftl = tiny();
        let mut ops = Vec::new();
        let a = ftl.write(Lba(7), &mut ops).unwrap();
        let b = ftl.write(Lba(7), &mut ops).unwrap();
        assert_ne!(a, b);
        assert_eq!(ftl.lookup(Lba(7)), Some(b));
        assert_eq!(ftl.valid_sectors(), 1);
        assert!(ftl.trim(Lba(7)));
        assert!(!ftl.trim(Lba(7)));
        assert_eq!(ftl.lookup(Lba(7)), None);
        assert_eq!(ftl.valid_sectors(), 0);
    }
}
