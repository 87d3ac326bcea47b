//! Where simulated NAND keeps its bytes: the [`Media`] trait and the in-memory backend.
//!
//! The persistent backend is [`ImageFile`](crate::image::ImageFile). Media hold data at
//! physical sectors; the FTL decides which. A media also stores the FTL checkpoint, so that a
//! persistent one can bring the mapping back after a restart.

use std::io;

use crate::addr::{BlockId, Layout, PhysSector};
use crate::profile::LBA_BYTES;

const SECTOR: usize = LBA_BYTES as usize;

/// Storage behind the simulated NAND array.
pub trait Media: Send {
    /// Copies one sector into `buf` (4096 bytes). A sector never written reads as zeros.
    fn read(&mut self, s: PhysSector, buf: &mut [u8]) -> io::Result<()>;
    /// Stores one sector (`data` is 4096 bytes).
    fn write(&mut self, s: PhysSector, data: &[u8]) -> io::Result<()>;
    /// Copies a sector's data to another sector (garbage collection).
    fn copy(&mut self, from: PhysSector, to: PhysSector) -> io::Result<()>;
    /// Forgets a block's data (erase). Backends may keep the bytes; the FTL no longer maps them.
    fn erase(&mut self, b: BlockId) -> io::Result<()>;
    /// Calls `f` with the sector's bytes, without copying them out when the backend can.
    fn scan(&mut self, s: PhysSector, f: &mut dyn FnMut(&[u8])) -> io::Result<()>;
    /// The sector's bytes where they lie, for backends that keep them in memory (then many
    /// sectors can be matched at once, on several threads); `None` where they must be read.
    fn sector_bytes(&self, _s: PhysSector) -> Option<&[u8]> {
        None
    }
    /// Makes every write so far durable and records `state` (the FTL checkpoint) as the state to
    /// restore on reopen. In-memory media only drop it.
    fn commit(&mut self, state: &[u8]) -> io::Result<()>;
    /// Whether data survives the process (then GC-erased blocks wait for a checkpoint).
    fn is_persistent(&self) -> bool;
}

/// NAND kept in process memory, one lazily allocated buffer per erase block. For tests and
/// benchmarks; nothing survives the process.
pub struct MemMedia {
    block_bytes: usize,
    sectors_per_block: u32,
    blocks: Vec<Option<Box<[u8]>>>,
    zeros: Box<[u8]>,
}

impl MemMedia {
    /// Empty media for a layout.
    pub fn new(layout: &Layout) -> Self {
        MemMedia {
            block_bytes: layout.sectors_per_block() as usize * SECTOR,
            sectors_per_block: layout.sectors_per_block(),
            blocks: (0..layout.total_blocks).map(|_| None).collect(),
            zeros: vec![0; SECTOR].into_boxed_slice(),
        }
    }

    fn locate(&self, s: PhysSector) -> (usize, usize) {
        let b = (s.0 / self.sectors_per_block) as usize;
        let off = (s.0 % self.sectors_per_block) as usize * SECTOR;
        (b, off)
    }

    fn sector(&self, s: PhysSector) -> &[u8] {
        let (b, off) = self.locate(s);
        match &self.blocks[b] {
            Some(buf) => &buf[off..off + SECTOR],
            None => &self.zeros,
        }
    }

    fn sector_mut(&mut self, s: PhysSector) -> &mut [u8] {
        let (b, off) = self.locate(s);
        let bytes = self.block_bytes;
        let buf = self.blocks[b].get_or_insert_with(|| vec![0; bytes].into_boxed_slice());
        &mut buf[off..off + SECTOR]
    }
}

impl Media for MemMedia {
    fn read(&mut self, s: PhysSector, buf: &mut [u8]) -> io::Result<()> {
        buf.copy_from_slice(self.sector(s));
        Ok(())
    }

    fn write(&mut self, s: PhysSector, data: &[u8]) -> io::Result<()> {
        self.sector_mut(s).copy_from_slice(data);
        Ok(())
    }

    fn copy(&mut self, from: PhysSector, to: PhysSector) -> io::Result<()> {
        let mut tmp = [0u8; SECTOR];
        tmp.copy_from_slice(self.sector(from));
        self.sector_mut(to).copy_from_slice(&tmp);
        Ok(())
    }

    fn erase(&mut self, b: BlockId) -> io::Result<()> {
        self.blocks[b.0 as usize] = None;
        Ok(())
    }

    fn scan(&mut self, s: PhysSector, f: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        f(self.sector(s));
        Ok(())
    }

    fn sector_bytes(&self, s: PhysSector) -> Option<&[u8]> {
        Some(self.sector(s))
    }

    fn commit(&mut self, _state: &[u8]) -> io::Result<()> {
        Ok(())
    }

    fn is_persistent(&self) -> bool {
        false
    }
}
