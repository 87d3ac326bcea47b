//! The persistent device image: one sparse host file holding NAND data and FTL checkpoints.
//!
//! Layout of the file:
//!
//! ```text
//! [0, 4 KiB)            header slot 0
//! [4 KiB, 8 KiB)        header slot 1
//! [1 MiB, +raw bytes)   NAND data, physical sector s at 1 MiB + s * 4096 (sparse)
//! then                  checkpoint slot 0, checkpoint slot 1 (each sized for a full map)
//! then                  sector tags: 8 bytes per physical sector (sparse)
//! ```
//!
//! **Checked data.** Every sector written carries a tag, `"NS" | 1 | 0 | crc32 (u32 LE)` of its
//! 4096 bytes, written after the data (the ECC of a real SSD). A read checks it: a sector whose
//! bytes do not match its tag, or that holds bytes but no tag (a write torn by a crash, or damage
//! to the file), fails with [`UnrecoveredRead`], which the controller completes as NVMe
//! *Unrecovered Read Error*: a damaged image never yields wrong bytes. A sector with neither
//! bytes nor a tag was never written and reads as zeros.
//!
//! A header slot is `magic (8) | length (u32 LE) | crc32 (u32 LE) | postcard(Header)`. A
//! commit with generation `g` writes checkpoint slot `g % 2` and syncs, then writes the same
//! header into header slot 0, syncs, into header slot 1, and syncs again: a commit is complete
//! (and a flush acknowledged) only once both header slots name it, and the other checkpoint slot
//! holds the previous commit intact until the next one. On open the valid header with the
//! highest generation wins. So a damaged header slot of a completed commit is answered by its
//! twin and loses nothing, and an older generation can win only when a crash tore the commit
//! before its second slot was written, i.e. when the newer commit was never acknowledged
//! (INVARIANT(no-fallback-past-a-flush): see `write_header`). The winning header's checkpoint must pass its checksum,
//! or the image is refused as corrupt rather than silently rolled back. A file whose header slots both
//! lack the magic is *foreign*; one shorter than its header says is
//! *truncated*; a file whose slots all fail their checksums is *corrupt*; each is refused with
//! an [`ImageError`] that says which.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use thiserror::Error;

use crate::addr::{BlockId, Layout, PhysSector};
use crate::media::Media;
use crate::profile::LBA_BYTES;

/// The first bytes of every image file.
pub const MAGIC: [u8; 8] = *b"NDPSSDIM";
/// Version of the image layout; another version is refused. 2: sector tags (checksums).
pub const FORMAT_VERSION: u32 = 2;
/// Bytes of one sector's tag.
const TAG_BYTES: u64 = 8;
/// The first four bytes of a sector's tag.
const TAG_MARK: [u8; 4] = [b'N', b'S', 1, 0];

/// A sector whose bytes do not match its checksum (module docs): the read fails rather than
/// return wrong bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("physical sector {sector} does not match its checksum (unrecoverable read error)")]
pub struct UnrecoveredRead {
    /// The physical sector.
    pub sector: u64,
}
const SLOT_BYTES: u64 = 4096;
const DATA_BASE: u64 = 1 << 20;

/// Why an image could not be created or opened.
#[derive(Debug, Error)]
pub enum ImageError {
    /// An I/O error on the image file.
    #[error("device image {path}: {source}")]
    Io {
        /// The image file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// `create` was asked for a path that already exists.
    #[error("device image {path} already exists: expected a new path (open it instead)")]
    Exists {
        /// The image file.
        path: PathBuf,
    },
    /// The file does not start with the image magic: some other kind of file.
    #[error("{path} is not a device image (foreign file): expected the magic bytes \"NDPSSDIM\"")]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// The file is shorter than its own header says.
    #[error("device image {path} is truncated: expected at least {expected} bytes, found {found}")]
    Truncated {
        /// The image file.
        path: PathBuf,
        /// Bytes the header implies.
        expected: u64,
        /// Bytes in the file.
        found: u64,
    },
    /// A header or checkpoint fails its checksum or does not decode.
    #[error("device image {path} is corrupt: {what}")]
    Corrupt {
        /// The image file.
        path: PathBuf,
        /// What failed.
        what: String,
    },
    /// The image was written by another version of this format.
    #[error("device image {path} has format version {found}, expected {expected}")]
    Version {
        /// The image file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
    /// The image was created for a different NAND geometry than the profile describes.
    #[error("device image {path} was created for profile `{image_profile}` with another geometry ({image}); the profile in use has {profile}")]
    Geometry {
        /// The image file.
        path: PathBuf,
        /// Profile name recorded in the image.
        image_profile: String,
        /// Geometry recorded in the image.
        image: String,
        /// Geometry of the profile given to `open`.
        profile: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    format_version: u32,
    profile_name: String,
    layout: Layout,
    generation: u64,
    checkpoint_len: u64,
    checkpoint_crc: u32,
}

fn describe(l: &Layout) -> String {
    format!(
        "{} channels, {} dies, {} blocks/die, {} pages/block, {} sectors/page",
        l.channels, l.dies, l.blocks_per_die, l.pages_per_block, l.sectors_per_page
    )
}

/// Upper bound of a postcard-encoded FTL checkpoint for a layout, rounded to 4 KiB.
fn checkpoint_slot_bytes(l: &Layout) -> u64 {
    let chunks = l.user_lbas.div_ceil(4096);
    let bytes = chunks * (5 + 3 + 4096 * 5) + u64::from(l.total_blocks) * 11 + 256;
    bytes.div_ceil(SLOT_BYTES) * SLOT_BYTES
}

/// A device image file: NAND data plus the last committed FTL checkpoint.
pub struct ImageFile {
    file: File,
    path: PathBuf,
    profile_name: String,
    layout: Layout,
    generation: u64,
    checkpoint_base: u64,
    slot_bytes: u64,
}

impl ImageFile {
    fn total_len(l: &Layout) -> u64 {
        Self::tag_base(l) + (l.raw_bytes() / LBA_BYTES) * TAG_BYTES
    }

    fn tag_base(l: &Layout) -> u64 {
        DATA_BASE + l.raw_bytes() + 2 * checkpoint_slot_bytes(l)
    }

    fn tag_offset(&self, s: PhysSector) -> u64 {
        Self::tag_base(&self.layout) + u64::from(s.0) * TAG_BYTES
    }

    /// Creates a new image (a sparse file) for a layout. Refuses an existing path.
    pub fn create(path: &Path, profile_name: &str, layout: Layout) -> Result<Self, ImageError> {
        let io_err = |source| ImageError::Io {
            path: path.to_path_buf(),
            source,
        };
        // Owner-only: the image holds every device file.
        let file = match std::os::unix::fs::OpenOptionsExt::mode(
            OpenOptions::new().read(true).write(true).create_new(true),
            0o600,
        )
        .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(ImageError::Exists {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => return Err(io_err(e)),
        };
        file.set_len(Self::total_len(&layout)).map_err(io_err)?;
        let mut img = ImageFile {
            file,
            path: path.to_path_buf(),
            profile_name: profile_name.to_string(),
            layout,
            generation: 0,
            checkpoint_base: DATA_BASE + layout.raw_bytes(),
            slot_bytes: checkpoint_slot_bytes(&layout),
        };
        img.write_header(0, &[]).map_err(io_err)?;
        img.file.sync_all().map_err(io_err)?;
        Ok(img)
    }

    // INVARIANT(sim-no-panic-on-input): every bad image is refused with an ImageError
    /// Opens an existing image, checking magic, checksums, version, length and geometry.
    /// Returns the image and the last committed checkpoint (empty for a fresh image).
    pub fn open(path: &Path, layout: Layout) -> Result<(Self, Vec<u8>), ImageError> {
        let io_err = |source| ImageError::Io {
            path: path.to_path_buf(),
            source,
        };
        let corrupt = |what: String| ImageError::Corrupt {
            path: path.to_path_buf(),
            what,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io_err)?;
        let found = file.metadata().map_err(io_err)?.len();
        let has_magic = |off: u64| {
            let mut magic = [0u8; 8];
            found >= off + 8 && file.read_exact_at(&mut magic, off).is_ok() && magic == MAGIC
        };
        // Foreign only if neither header slot starts with the magic: a damaged first slot
        // beside an intact second one is a damaged image, and says so.
        if !has_magic(0) && !has_magic(SLOT_BYTES) {
            return Err(ImageError::Foreign {
                path: path.to_path_buf(),
            });
        }
        if found < 2 * SLOT_BYTES {
            return Err(ImageError::Truncated {
                path: path.to_path_buf(),
                expected: 2 * SLOT_BYTES,
                found,
            });
        }
        let mut headers: Vec<Header> = (0..2u64)
            .filter_map(|i| read_slot(&file, i * SLOT_BYTES))
            .collect();
        if headers.is_empty() {
            return Err(corrupt("both header slots fail their checksum".into()));
        }
        headers.sort_by_key(|h| std::cmp::Reverse(h.generation));
        let newest = &headers[0];
        if newest.format_version != FORMAT_VERSION {
            return Err(ImageError::Version {
                path: path.to_path_buf(),
                found: newest.format_version,
                expected: FORMAT_VERSION,
            });
        }
        if newest.layout != layout {
            return Err(ImageError::Geometry {
                path: path.to_path_buf(),
                image_profile: newest.profile_name.clone(),
                image: describe(&newest.layout),
                profile: describe(&layout),
            });
        }
        let expected = Self::total_len(&layout);
        if found < expected {
            return Err(ImageError::Truncated {
                path: path.to_path_buf(),
                expected,
                found,
            });
        }
        let mut img = ImageFile {
            file,
            path: path.to_path_buf(),
            profile_name: newest.profile_name.clone(),
            layout,
            generation: 0,
            checkpoint_base: DATA_BASE + layout.raw_bytes(),
            slot_bytes: checkpoint_slot_bytes(&layout),
        };
        // The newest valid header names the last completed commit: its checkpoint was synced
        // before the header was written. If that checkpoint fails its checksum the file was
        // damaged after the fact; falling back to an older generation would silently drop
        // flushed data, so the image is refused instead.
        match img.read_checkpoint(newest) {
            Ok(state) => {
                img.generation = newest.generation;
                Ok((img, state))
            }
            Err(what) => Err(corrupt(format!("generation {}: {what}", newest.generation))),
        }
    }

    fn read_checkpoint(&self, h: &Header) -> Result<Vec<u8>, String> {
        if h.checkpoint_len == 0 {
            return Ok(Vec::new());
        }
        if h.checkpoint_len > self.slot_bytes {
            return Err(format!("checkpoint length {} exceeds its slot", h.checkpoint_len));
        }
        let mut buf = vec![0u8; h.checkpoint_len as usize];
        let off = self.checkpoint_base + (h.generation % 2) * self.slot_bytes;
        self.file
            .read_exact_at(&mut buf, off)
            .map_err(|e| e.to_string())?;
        if crc32fast::hash(&buf) != h.checkpoint_crc {
            return Err("checkpoint fails its checksum".into());
        }
        Ok(buf)
    }

    fn write_header(&mut self, generation: u64, state: &[u8]) -> io::Result<()> {
        let h = Header {
            format_version: FORMAT_VERSION,
            profile_name: self.profile_name.clone(),
            layout: self.layout,
            generation,
            checkpoint_len: state.len() as u64,
            checkpoint_crc: crc32fast::hash(state),
        };
        let body = postcard::to_stdvec(&h).map_err(io::Error::other)?;
        let mut slot = Vec::with_capacity(SLOT_BYTES as usize);
        slot.extend_from_slice(&MAGIC);
        slot.extend_from_slice(&(body.len() as u32).to_le_bytes());
        slot.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        slot.extend_from_slice(&body);
        slot.resize(SLOT_BYTES as usize, 0);
        // INVARIANT(no-fallback-past-a-flush): both slots, in order, each synced
        for i in 0..2 {
            self.file.write_all_at(&slot, i * SLOT_BYTES)?;
            self.file.sync_data()?;
        }
        Ok(())
    }

    /// The image's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Generation of the last committed checkpoint.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn data_offset(s: PhysSector) -> u64 {
        DATA_BASE + u64::from(s.0) * LBA_BYTES
    }
}

fn read_slot(file: &File, off: u64) -> Option<Header> {
    let mut slot = vec![0u8; SLOT_BYTES as usize];
    file.read_exact_at(&mut slot, off).ok()?;
    if slot[..8] != MAGIC {
        return None;
    }
    let len = u32::from_le_bytes(slot[8..12].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(slot[12..16].try_into().ok()?);
    let body = slot.get(16..16 + len)?;
    if crc32fast::hash(body) != crc {
        return None;
    }
    postcard::from_bytes(body).ok()
}

// INVARIANT(no-silent-wrong-read): a sector's bytes are returned only if they match its tag
impl Media for ImageFile {
    fn read(&mut self, s: PhysSector, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, Self::data_offset(s))?;
        let mut tag = [0u8; TAG_BYTES as usize];
        self.file.read_exact_at(&mut tag, self.tag_offset(s))?;
        let unrecovered = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                UnrecoveredRead {
                    sector: u64::from(s.0),
                },
            )
        };
        if tag == [0; TAG_BYTES as usize] {
            // Never written (sparse), or written without its tag: only zeros may be returned.
            return if buf.iter().all(|&b| b == 0) {
                Ok(())
            } else {
                Err(unrecovered())
            };
        }
        let crc = u32::from_le_bytes([tag[4], tag[5], tag[6], tag[7]]);
        if tag[..4] != TAG_MARK || crc32fast::hash(buf) != crc {
            return Err(unrecovered());
        }
        Ok(())
    }

    fn write(&mut self, s: PhysSector, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, Self::data_offset(s))?;
        let mut tag = [0u8; TAG_BYTES as usize];
        tag[..4].copy_from_slice(&TAG_MARK);
        tag[4..].copy_from_slice(&crc32fast::hash(data).to_le_bytes());
        self.file.write_all_at(&tag, self.tag_offset(s))
    }

    fn copy(&mut self, from: PhysSector, to: PhysSector) -> io::Result<()> {
        let mut tmp = [0u8; LBA_BYTES as usize];
        self.read(from, &mut tmp)?;
        self.write(to, &tmp)
    }

    fn erase(&mut self, _b: BlockId) -> io::Result<()> {
        // The bytes stay until overwritten; no checkpoint after this erase maps them.
        Ok(())
    }

    fn scan(&mut self, s: PhysSector, f: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        let mut tmp = [0u8; LBA_BYTES as usize];
        self.read(s, &mut tmp)?;
        f(&tmp);
        Ok(())
    }

    fn commit(&mut self, state: &[u8]) -> io::Result<()> {
        if state.len() as u64 > self.slot_bytes {
            return Err(io::Error::other(format!(
                "checkpoint of {} bytes exceeds its slot of {} bytes",
                state.len(),
                self.slot_bytes
            )));
        }
        let generation = self.generation + 1;
        let off = self.checkpoint_base + (generation % 2) * self.slot_bytes;
        self.file.write_all_at(state, off)?;
        self.file.sync_data()?;
        self.write_header(generation, state)?;
        self.generation = generation;
        Ok(())
    }

    fn is_persistent(&self) -> bool {
        true
    }
}
