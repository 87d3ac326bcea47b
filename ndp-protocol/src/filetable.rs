//! The device file table's on-disk format: where each device file's blocks are. The firmware
//! keeps it (`device-runtime`'s namespace); a host that reads files conventionally decodes the
//! same blocks over NVMe, as a file system driver reads its superblock, so the format is part of
//! the protocol.
//!
//! The table lives in the namespace's first blocks, in two copies (LBAs `0..64` and
//! `64..128`). A commit writes the copy `generation % 2`, so the other copy always holds the
//! previous table intact; the valid copy with the highest generation wins. A copy is
//! `magic "NDPFSTB2" | generation u64 | length u32 | crc32 u32 | postcard(table)`, padded to
//! whole blocks. File data lives from LBA 128 on.
//!
//! Each file names its owner and whether it is shared ([`crate::tenant`]). A copy written before
//! files had owners (magic `"NDPFSTAB"`, version 1) still decodes: its files belong to the device
//! owner and are not shared, and the next commit writes version 2.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_nvme::{Lba, LBA_BYTES};

use crate::tenant::Tenant;

/// The first bytes of a table copy.
pub const MAGIC: [u8; 8] = *b"NDPFSTB2";
/// The first bytes of a copy of version 1 (files without owners), still read.
pub const MAGIC_V1: [u8; 8] = *b"NDPFSTAB";
/// Blocks in one copy of the table.
pub const TABLE_BLOCKS: u64 = 64;
/// First block available to file data.
pub const DATA_START: u64 = 2 * TABLE_BLOCKS;
/// Bytes of a copy's header (magic, generation, length, checksum).
pub const COPY_HEADER: usize = 24;
/// Longest file name, in bytes.
pub const MAX_NAME: usize = 255;
/// What a file name must be (the firmware refuses others).
pub const NAME_RULE: &str = "1 to 255 bytes of printable characters, no '/' and no NUL, not `.` or `..`";

/// Whether `name` follows [`NAME_RULE`].
pub fn is_valid_name(name: &str) -> bool {
    !(name.is_empty()
        || name == "."
        || name == ".."
        || name.len() > MAX_NAME
        || name.chars().any(|c| c == '/' || c.is_control()))
}

/// Names starting with this are staging names: a put writes its data under one, flushes, then
/// renames it to the file's name (`FileRename`), so a file is visible only once all its data is
/// durable. Staging files are left out of listings, and the firmware removes them when it opens
/// the device (they belong to puts that were interrupted).
pub const STAGING_PREFIX: &str = ".ndp-put.";

/// A byte range outside a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("range {offset}..{end} is outside file `{name}` of {size} bytes", end = offset.saturating_add(*len))]
pub struct OutOfFile {
    /// The file.
    pub name: String,
    /// Start of the range.
    pub offset: u64,
    /// Length of the range.
    pub len: u64,
    /// File size.
    pub size: u64,
}

/// A run of consecutive blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extent {
    /// First block.
    pub start: Lba,
    /// Blocks in the run.
    pub blocks: u64,
}

/// A file: its name, size and where its blocks are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The name.
    pub name: String,
    /// Size in bytes (the last block may be partly used).
    pub size: u64,
    /// Extents in file order.
    pub extents: Vec<Extent>,
    /// Who created it (`None`: the device owner).
    pub owner: Option<Tenant>,
    /// Whether other tenants may read it ([`crate::tenant::allowed`]).
    pub shared: bool,
}

impl FileEntry {
    /// Blocks allocated to the file.
    pub fn blocks(&self) -> u64 {
        self.extents.iter().map(|e| e.blocks).sum()
    }

    /// The device block holding file block `i` (block-sized offset), if inside the file.
    pub fn block(&self, mut i: u64) -> Option<Lba> {
        for e in &self.extents {
            if i < e.blocks {
                return Some(e.start.offset(i));
            }
            i -= e.blocks;
        }
        None
    }

    /// The device runs covering bytes `offset..offset + len` of the file, as (first block,
    /// blocks) in file order; the caller reads whole blocks and slices.
    pub fn runs(&self, offset: u64, len: u64) -> Result<Vec<Extent>, OutOfFile> {
        if offset.checked_add(len).is_none_or(|end| end > self.size) {
            return Err(OutOfFile {
                name: self.name.clone(),
                offset,
                len,
                size: self.size,
            });
        }
        let mut out: Vec<Extent> = Vec::new();
        if len == 0 {
            return Ok(out);
        }
        let (first, last) = (offset / LBA_BYTES, (offset + len - 1) / LBA_BYTES);
        let mut base = 0;
        for e in &self.extents {
            let (lo, hi) = (first.max(base), last.min(base + e.blocks - 1));
            if lo <= hi {
                out.push(Extent {
                    start: e.start.offset(lo - base),
                    blocks: hi - lo + 1,
                });
            }
            base += e.blocks;
        }
        Ok(out)
    }
}

/// The table: every file by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTable {
    /// Files by name.
    pub files: BTreeMap<String, FileEntry>,
}

/// A table that no longer fits its reserved blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// Encoded size.
    pub bytes: usize,
    /// Reserved size.
    pub max: usize,
}

impl FileTable {
    /// The table the two copies hold (the blocks at LBA `0` and [`TABLE_BLOCKS`]) and its
    /// generation: the valid copy with the highest generation; both blank, an empty table at
    /// generation 0. Neither valid and not blank: what is wrong with each copy.
    pub fn from_copies(copies: [&[u8]; 2]) -> Result<(u64, FileTable), String> {
        let mut best: Option<(u64, FileTable)> = None;
        let mut blank = true;
        let mut problems = Vec::new();
        for (copy, buf) in copies.into_iter().enumerate() {
            if buf.len() < COPY_HEADER || buf[..COPY_HEADER].iter().all(|&b| b == 0) {
                continue;
            }
            blank = false;
            match decode(buf) {
                Ok((generation, table)) => {
                    if best.as_ref().is_none_or(|(g, _)| generation > *g) {
                        best = Some((generation, table));
                    }
                }
                Err(what) => problems.push(format!("copy {copy}: {what}")),
            }
        }
        match best {
            Some(b) => Ok(b),
            None if blank => Ok((0, FileTable::default())),
            None => Err(problems.join("; ")),
        }
    }

    /// The copy of generation `generation`, padded to whole blocks, to be written at
    /// [`FileTable::copy_lba`].
    pub fn encode_copy(&self, generation: u64) -> Result<Vec<u8>, TooLarge> {
        let max = (TABLE_BLOCKS * LBA_BYTES) as usize - COPY_HEADER;
        // Strings, integers and vectors always encode into a Vec: no error to report.
        let body = postcard::to_stdvec(self).expect("a file table always encodes");
        if body.len() > max {
            return Err(TooLarge {
                bytes: body.len(),
                max,
            });
        }
        let mut buf = Vec::with_capacity(COPY_HEADER + body.len());
        buf.extend_from_slice(&MAGIC);
        buf.extend_from_slice(&generation.to_le_bytes());
        buf.extend_from_slice(&(body.len() as u32).to_le_bytes());
        buf.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        buf.extend_from_slice(&body);
        buf.resize(buf.len().div_ceil(LBA_BYTES as usize) * LBA_BYTES as usize, 0);
        Ok(buf)
    }

    /// Where the copy of generation `generation` lives.
    pub fn copy_lba(generation: u64) -> Lba {
        Lba((generation % 2) * TABLE_BLOCKS)
    }
}

/// Version 1 of the table: files without owners.
mod v1 {
    use super::*;

    #[derive(Deserialize)]
    pub(super) struct FileEntry {
        name: String,
        size: u64,
        extents: Vec<Extent>,
    }

    #[derive(Deserialize)]
    pub(super) struct FileTable {
        files: BTreeMap<String, FileEntry>,
    }

    impl From<FileTable> for super::FileTable {
        fn from(t: FileTable) -> Self {
            let files = t.files.into_iter().map(|(k, f)| {
                let entry = super::FileEntry {
                    name: f.name,
                    size: f.size,
                    extents: f.extents,
                    owner: None,
                    shared: false,
                };
                (k, entry)
            });
            super::FileTable {
                files: files.collect(),
            }
        }
    }
}

fn decode(buf: &[u8]) -> Result<(u64, FileTable), String> {
    let version1 = buf[..8] == MAGIC_V1;
    if buf[..8] != MAGIC && !version1 {
        return Err("no table magic".into());
    }
    let generation = u64::from_le_bytes(buf[8..16].try_into().expect("8 bytes"));
    let len = u32::from_le_bytes(buf[16..20].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(buf[20..24].try_into().expect("4 bytes"));
    let body = buf
        .get(COPY_HEADER..COPY_HEADER + len)
        .ok_or("length beyond the table blocks")?;
    if crc32fast::hash(body) != crc {
        return Err("checksum mismatch".into());
    }
    let table = if version1 {
        postcard::from_bytes::<v1::FileTable>(body).map(FileTable::from)
    } else {
        postcard::from_bytes(body)
    };
    let table = table.map_err(|e| format!("does not decode: {e}"))?;
    Ok((generation, table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_copy_decodes_with_its_files_owned_by_the_device_owner() {
        #[derive(Serialize)]
        struct OldEntry {
            name: String,
            size: u64,
            extents: Vec<Extent>,
        }
        let mut files = BTreeMap::new();
        let extents = vec![Extent {
            start: Lba(DATA_START),
            blocks: 1,
        }];
        let entry = OldEntry {
            name: "old".into(),
            size: 5,
            extents: extents.clone(),
        };
        files.insert("old".to_string(), entry);
        let body = postcard::to_stdvec(&files).unwrap();
        let mut copy = Vec::new();
        copy.extend_from_slice(&MAGIC_V1);
        copy.extend_from_slice(&3u64.to_le_bytes());
        copy.extend_from_slice(&(body.len() as u32).to_le_bytes());
        copy.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        copy.extend_from_slice(&body);
        let (generation, table) = FileTable::from_copies([&copy, &[]]).unwrap();
        assert_eq!(generation, 3);
        let f = &table.files["old"];
        assert_eq!(
            (f.size, &f.extents, f.owner, f.shared),
            (5, &extents, None, false)
        );
        // Written back, it is version 2 and keeps owners.
        let mut t = table.clone();
        t.files.get_mut("old").unwrap().owner = Some(Tenant::Uid(7));
        let again = t.encode_copy(4).unwrap();
        assert_eq!(again[..8], MAGIC);
        let (_, back) = FileTable::from_copies([&again, &[]]).unwrap();
        assert_eq!(back, t);
    }
}
