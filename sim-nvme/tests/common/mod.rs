//! Helpers shared by the integration tests: seeds, block contents that name their LBA and
//! version, and temporary image paths that clean up after themselves.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

use sim_nvme::LBA_BYTES;

/// Bytes in one logical block.
pub const BLOCK: usize = LBA_BYTES as usize;

/// Where the NAND data starts in an image (see the `image` module docs).
pub const DATA_BASE: u64 = 1 << 20;

/// The seed for randomized tests: `SIM_SEED` if set (decimal or 0x-hex), else `default`.
pub fn seed(default: u64) -> u64 {
    match std::env::var("SIM_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("SIM_SEED={s:?} is not a number"))
        }
        Err(_) => default,
    }
}

/// Fills one 4 KiB block with contents derived from `(lba, version)`: the first 16 bytes are
/// the LBA and version in little-endian, the rest a cheap hash of both and the offset, so a
/// block that lands at the wrong LBA or carries an older version is always told apart.
pub fn fill_block(buf: &mut [u8], lba: u64, version: u32) {
    assert_eq!(buf.len(), BLOCK);
    buf[..8].copy_from_slice(&lba.to_le_bytes());
    buf[8..16].copy_from_slice(&u64::from(version).to_le_bytes());
    let mut x =
        lba.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(version).wrapping_mul(0xD1B5_4A32_D192_ED03);
    for chunk in buf[16..].chunks_exact_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes());
    }
}

/// `blocks` consecutive blocks from `lba`, each carrying `version`.
pub fn blocks_data(lba: u64, blocks: u64, version: u32) -> Vec<u8> {
    let mut v = vec![0u8; blocks as usize * BLOCK];
    for (i, b) in v.chunks_exact_mut(BLOCK).enumerate() {
        fill_block(b, lba + i as u64, version);
    }
    v
}

/// Which version (0 = zeros) a block read back holds, if it is a well-formed block of
/// `lba`; `None` for anything else (garbage, another LBA's data).
pub fn version_of(buf: &[u8], lba: u64) -> Option<u32> {
    if buf.iter().all(|&b| b == 0) {
        return Some(0);
    }
    let v = u64::from_le_bytes(buf[8..16].try_into().unwrap());
    let v = u32::try_from(v).ok()?;
    let mut expected = vec![0u8; BLOCK];
    fill_block(&mut expected, lba, v);
    (buf == expected.as_slice()).then_some(v)
}

/// A path in a fresh temporary directory of its own, removed (with anything written there,
/// e.g. a crashed writer's leftovers) on drop.
pub struct TempPath {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl TempPath {
    /// A fresh path (the file is not created) whose name includes `tag`.
    pub fn new(tag: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("sim-nvme-test-")
            .tempdir()
            .expect("temp dir");
        let path = dir.path().join(format!("{tag}.img"));
        TempPath { dir, path }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory holding it.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
