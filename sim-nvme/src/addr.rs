//! Addresses: logical blocks, physical sectors, pages, blocks and dies, and the layout that
//! converts between them.
//!
//! Physical layout: die `d` sits on channel `d % channels`, way `d / channels`, so consecutive
//! die indices rotate over the channels first. Each die owns `planes * blocks_per_plane`
//! consecutive erase blocks; a block holds `pages_per_block` pages of `sectors_per_page` 4 KiB
//! sectors. A [`PhysSector`] numbers sectors block-major over that layout.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::profile::{DeviceProfile, LBA_BYTES};

/// A logical block address (4 KiB units), as the host sees the namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Lba(pub u64);

/// A 4 KiB slot of physical NAND (block-major numbering, see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PhysSector(pub u32);

/// A physical NAND page (the unit of tR and tPROG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhysPage(pub u32);

/// An erase block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockId(pub u32);

/// A die (the unit of array parallelism).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DieId(pub u32);

impl fmt::Display for Lba {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LBA {}", self.0)
    }
}

impl Lba {
    /// The LBA `n` blocks after this one.
    pub fn offset(self, n: u64) -> Lba {
        Lba(self.0 + n)
    }
}

/// Geometry numbers derived once from a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// NAND channels.
    pub channels: u32,
    /// Dies in the whole device.
    pub dies: u32,
    /// Erase blocks per die (all planes).
    pub blocks_per_die: u32,
    /// Pages per erase block.
    pub pages_per_block: u32,
    /// 4 KiB sectors per NAND page.
    pub sectors_per_page: u32,
    /// Erase blocks in the device.
    pub total_blocks: u32,
    /// Logical blocks exported to the host (raw capacity less over-provisioning).
    pub user_lbas: u64,
}

impl Layout {
    /// Derives the layout from a (validated) profile.
    pub fn new(p: &DeviceProfile) -> Self {
        let g = &p.geometry;
        let dies = g.channels * g.dies_per_channel;
        let blocks_per_die = g.planes_per_die * g.blocks_per_plane;
        let sectors_per_page = g.page_bytes / LBA_BYTES as u32;
        let total_blocks = dies * blocks_per_die;
        let raw = u64::from(total_blocks) * u64::from(g.pages_per_block) * u64::from(sectors_per_page);
        let user_lbas = (raw as f64 * (1.0 - g.over_provisioning)).floor() as u64;
        Layout {
            channels: g.channels,
            dies,
            blocks_per_die,
            pages_per_block: g.pages_per_block,
            sectors_per_page,
            total_blocks,
            user_lbas,
        }
    }

    /// Sectors in one erase block.
    pub fn sectors_per_block(&self) -> u32 {
        self.pages_per_block * self.sectors_per_page
    }

    /// Physical sectors in the device.
    pub fn total_sectors(&self) -> u64 {
        u64::from(self.total_blocks) * u64::from(self.sectors_per_block())
    }

    /// Raw NAND bytes.
    pub fn raw_bytes(&self) -> u64 {
        self.total_sectors() * LBA_BYTES
    }

    /// The page holding a sector.
    pub fn page_of(&self, s: PhysSector) -> PhysPage {
        PhysPage(s.0 / self.sectors_per_page)
    }

    /// The block holding a sector.
    pub fn block_of(&self, s: PhysSector) -> BlockId {
        BlockId(s.0 / self.sectors_per_block())
    }

    /// The die holding a block.
    pub fn die_of_block(&self, b: BlockId) -> DieId {
        DieId(b.0 / self.blocks_per_die)
    }

    /// The die holding a page.
    pub fn die_of_page(&self, p: PhysPage) -> DieId {
        DieId(p.0 / (self.pages_per_block * self.blocks_per_die))
    }

    /// The channel a die sits on.
    pub fn channel_of(&self, d: DieId) -> u32 {
        d.0 % self.channels
    }

    /// The first sector of a block.
    pub fn first_sector(&self, b: BlockId) -> PhysSector {
        PhysSector(b.0 * self.sectors_per_block())
    }

    /// The first block of a die.
    pub fn first_block(&self, d: DieId) -> BlockId {
        BlockId(d.0 * self.blocks_per_die)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pm1725_layout() {
        let l = Layout::new(&DeviceProfile::pm1725());
        assert_eq!(l.dies, 80);
        assert_eq!(l.raw_bytes(), 5 << 38);
        assert!(l.user_lbas * LBA_BYTES > 990_000_000_000);
    }

    #[test]
    fn addressing_round_trips() {
        let l = Layout::new(&DeviceProfile::tiny());
        let b = BlockId(37);
        let s = PhysSector(l.first_sector(b).0 + 5);
        assert_eq!(l.block_of(s), b);
        assert_eq!(l.die_of_block(b), l.die_of_page(l.page_of(s)));
        assert_eq!(l.die_of_block(l.first_block(DieId(3))), DieId(3));
        assert_eq!(l.channel_of(DieId(5)), 1);
    }
}
