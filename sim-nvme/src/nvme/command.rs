//! NVMe commands the simulated controller understands, and what completions carry back.

use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

use crate::addr::Lba;

/// Opcodes reserved for vendor-specific in-storage-computing commands.
pub const VENDOR_OPCODES: RangeInclusive<u8> = 0xC0..=0xFF;

/// A submission queue entry. Admin commands go to queue 0, I/O commands to I/O queues; the
/// wrong kind completes with *Invalid Command Opcode*, as on a real controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Admin 0x06: Identify controller and namespace 1.
    Identify,
    /// Admin 0x01/0x05: create an I/O submission/completion queue pair of `depth` entries.
    /// The new queue id is in the completion's `result`.
    CreateIoQueue {
        /// Entries in the queue (2 to `controller.max_queue_depth`).
        depth: u16,
    },
    /// Admin 0x00/0x04: delete an I/O queue pair.
    DeleteIoQueue {
        /// The queue id.
        qid: u16,
    },
    /// I/O 0x02: read `blocks` blocks from `lba` of namespace `nsid`.
    Read {
        /// Namespace (only 1 exists).
        nsid: u32,
        /// First block.
        lba: Lba,
        /// Blocks (at least 1, at most MDTS / 4096).
        blocks: u32,
    },
    /// I/O 0x01: write whole blocks from `lba`.
    Write {
        /// Namespace (only 1 exists).
        nsid: u32,
        /// First block.
        lba: Lba,
        /// Data, a non-empty multiple of 4096 bytes.
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    },
    /// I/O 0x00: make everything written so far durable.
    Flush {
        /// Namespace (only 1 exists).
        nsid: u32,
    },
    /// I/O 0x09 with the deallocate attribute: TRIM ranges of (first block, blocks).
    Deallocate {
        /// Namespace (only 1 exists).
        nsid: u32,
        /// Ranges to deallocate.
        ranges: Vec<(Lba, u32)>,
    },
    /// Any other opcode. `0xC0..=0xFF` goes to the installed [`super::VendorHandler`]; the
    /// rest completes with *Invalid Command Opcode*.
    Vendor {
        /// The opcode.
        opcode: u8,
        /// Command data (the handler defines its format).
        #[serde(with = "serde_bytes")]
        payload: Vec<u8>,
    },
}

impl Command {
    /// The opcode byte this command has on the wire.
    pub fn opcode(&self) -> u8 {
        match self {
            Command::Identify => 0x06,
            Command::CreateIoQueue { .. } => 0x05,
            Command::DeleteIoQueue { .. } => 0x04,
            Command::Read { .. } => 0x02,
            Command::Write { .. } => 0x01,
            Command::Flush { .. } => 0x00,
            Command::Deallocate { .. } => 0x09,
            Command::Vendor { opcode, .. } => *opcode,
        }
    }

    /// Whether this is an admin command (queue 0 only).
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Command::Identify | Command::CreateIoQueue { .. } | Command::DeleteIoQueue { .. }
        )
    }
}

/// Identify data for the controller and its one namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identify {
    /// Model string (includes the profile name).
    pub model: String,
    /// Firmware revision (the crate version).
    pub firmware: String,
    /// Namespace size in blocks.
    pub namespace_blocks: u64,
    /// Block size in bytes (4096).
    pub block_bytes: u32,
    /// Maximum data transfer size in bytes.
    pub max_transfer_bytes: u32,
    /// Maximum I/O queue pairs.
    pub max_io_queues: u16,
    /// Maximum entries per queue.
    pub max_queue_depth: u16,
    /// NAND channels (each with a pattern matcher).
    pub channels: u32,
    /// Keys one matcher scan may carry.
    pub matcher_max_keys: u32,
    /// Longest matcher key in bytes.
    pub matcher_max_key_bytes: u32,
    /// First and last vendor-specific opcode.
    pub vendor_opcodes: (u8, u8),
}

/// Data a completion carries back.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum Payload {
    /// Nothing.
    #[default]
    None,
    /// Read data, or a vendor command's reply.
    Data(#[serde(with = "serde_bytes")] Vec<u8>),
    /// Identify data.
    Identify(Box<Identify>),
}
