//! Errors of device operations, each naming the thing and what was expected.

use std::io;
use thiserror::Error;

use crate::ftl::FtlError;

/// Why a read, write, trim, flush or matcher scan failed.
#[derive(Debug, Error)]
pub enum IoError {
    /// The request reaches past the last LBA of the namespace.
    #[error("LBA range {lba}..{end} is out of range: the namespace has LBAs 0..{capacity}", end = lba + count)]
    LbaOutOfRange {
        /// First LBA requested.
        lba: u64,
        /// Blocks requested.
        count: u64,
        /// LBAs in the namespace.
        capacity: u64,
    },
    /// A request for zero blocks.
    #[error("request of zero blocks: expected at least one 4 KiB block")]
    Empty,
    /// A request larger than the controller's maximum data transfer size.
    #[error("request of {bytes} bytes exceeds the maximum data transfer size of {max} bytes")]
    TooLarge {
        /// Bytes requested.
        bytes: u64,
        /// The profile's `controller.max_transfer_bytes`.
        max: u64,
    },
    /// A data buffer whose length does not match the block count.
    #[error("data buffer of {got} bytes: expected {expected} bytes (whole 4 KiB blocks)")]
    BufferSize {
        /// Bytes the request needs.
        expected: u64,
        /// Bytes given.
        got: u64,
    },
    /// The FTL could not place a write.
    #[error(transparent)]
    Ftl(#[from] FtlError),
    /// A matcher request the hardware cannot run.
    #[error(transparent)]
    Matcher(#[from] MatcherError),
    /// The backing store failed.
    #[error("device media I/O failed: {0}")]
    Media(#[from] io::Error),
}

/// Why a pattern-matcher scan was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MatcherError {
    /// No keys given.
    #[error("pattern matcher scan with no keys: expected 1 to {max} keys")]
    NoKeys {
        /// The profile's `matcher.max_keys`.
        max: u32,
    },
    /// More keys than the hardware holds.
    #[error("pattern matcher scan with {given} keys: the matcher holds at most {max}")]
    TooManyKeys {
        /// Keys given.
        given: usize,
        /// The profile's `matcher.max_keys`.
        max: u32,
    },
    /// A key longer than the hardware supports, or empty.
    #[error("pattern matcher key {index} is {len} bytes: expected 1 to {max} bytes")]
    KeyLength {
        /// Position of the key in the request.
        index: usize,
        /// Its length.
        len: usize,
        /// The profile's `matcher.max_key_bytes`.
        max: u32,
    },
}
