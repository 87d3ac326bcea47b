//! Counters the device keeps for reports.

use serde::{Deserialize, Serialize};

use crate::ftl::FtlCounters;

/// What the device has done since it was opened (FTL counters since the image was created).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SsdStats {
    /// Read commands served over the host path.
    pub host_reads: u64,
    /// Internal reads (data into device DRAM, no PCIe).
    pub internal_reads: u64,
    /// Write commands.
    pub writes: u64,
    /// NAND page reads (tR), including garbage-collection reads and matcher scans.
    pub nand_pages_read: u64,
    /// Bytes moved device-to-host over PCIe.
    pub pcie_bytes_to_host: u64,
    /// Bytes moved host-to-device over PCIe.
    pub pcie_bytes_to_device: u64,
    /// Blocks the matchers scanned.
    pub matcher_pages_scanned: u64,
    /// Blocks the matchers hinted.
    pub matcher_pages_hinted: u64,
    /// Flushes.
    pub flushes: u64,
    /// FTL checkpoints committed to the media (flushes and internal ones).
    pub checkpoints: u64,
    /// FTL counters (host/NAND writes, GC, TRIM).
    pub ftl: FtlCounters,
}
