//! The device's file namespace: names to extents of LBAs, persisted on the device itself.
//!
//! Host and device must agree on where a file lives, so the table lives on the device in the
//! protocol's format ([`ndp_protocol::filetable`]: two copies in the first 128 blocks, the
//! newest valid generation wins). A commit writes the copy `generation % 2` with internal
//! writes and flushes, so the other copy always holds the previous table intact. File data
//! lives from LBA 128 on, in extents allocated first-fit.
//!
//! A file handed to an SSDlet is a capability: the runtime resolves it to these extents, and
//! an SSDlet can read nothing else.
//!
//! Each file has an owner ([`ndp_protocol::tenant`]): [`Namespace::check`] says whether a
//! tenant may read or modify it, [`Namespace::covers`] whether a raw NVMe command's blocks lie
//! in files the tenant may use, and [`Namespace::view_copy`] is the table as that tenant may
//! read it over NVMe (its own and shared files only).

use thiserror::Error;

pub use ndp_protocol::filetable::{Extent, FileEntry, DATA_START, MAX_NAME, STAGING_PREFIX, TABLE_BLOCKS};
use ndp_protocol::filetable::{FileTable, OutOfFile};
use ndp_protocol::tenant::{allowed, owner_name, Access, Tenant};
use sim_nvme::{IoError, Lba, SimTime, Ssd, LBA_BYTES};

/// Why a namespace operation failed.
#[derive(Debug, Error)]
pub enum NamespaceError {
    /// No file has this name.
    #[error("no file named `{0}` on the device")]
    NotFound(String),
    /// A file with this name exists already.
    #[error("a file named `{0}` already exists on the device")]
    Exists(String),
    /// The file belongs to another tenant, and is not shared (or the access is not a read).
    #[error("file `{name}` belongs to {owner}{shared}; {who} may not {access} it (expected one of its own files{or_shared})",
        shared = if *shared { " and is shared for reading" } else { "" },
        or_shared = if *access == "read" { " or a shared one" } else { "" })]
    NotYours {
        /// The file.
        name: String,
        /// Its owner.
        owner: String,
        /// Whether its owner shares it.
        shared: bool,
        /// The tenant asking.
        who: String,
        /// What it asked: "read" or "modify".
        access: &'static str,
    },
    /// The name cannot be used.
    #[error("file name `{name}` is invalid: expected {expected}")]
    BadName {
        /// The name.
        name: String,
        /// What a name must be.
        expected: &'static str,
    },
    /// Not enough free blocks.
    #[error("no space for `{name}`: it needs {need} blocks, {free} are free")]
    NoSpace {
        /// The file.
        name: String,
        /// Blocks needed.
        need: u64,
        /// Blocks free.
        free: u64,
    },
    /// The table no longer fits its reserved blocks.
    #[error(
        "the file table needs {bytes} bytes, more than its {max} reserved bytes (too many files or extents)"
    )]
    TableFull {
        /// Encoded size.
        bytes: usize,
        /// Reserved size.
        max: usize,
    },
    /// Neither copy of the table is valid, and the blocks are not blank.
    #[error("the device file table is corrupt: {0}")]
    Corrupt(String),
    /// A byte range outside a file.
    #[error("range {offset}..{end} is outside file `{name}` of {size} bytes", end = offset.saturating_add(*len))]
    OutOfBounds {
        /// The file.
        name: String,
        /// Start of the range.
        offset: u64,
        /// Length of the range.
        len: u64,
        /// File size.
        size: u64,
    },
    /// The device refused an I/O.
    #[error("device I/O on the file table failed: {0}")]
    Io(#[from] IoError),
}

impl From<OutOfFile> for NamespaceError {
    fn from(e: OutOfFile) -> Self {
        NamespaceError::OutOfBounds {
            name: e.name,
            offset: e.offset,
            len: e.len,
            size: e.size,
        }
    }
}

/// The file namespace of one device.
#[derive(Debug)]
pub struct Namespace {
    table: FileTable,
    generation: u64,
    capacity: u64,
}

impl Namespace {
    /// Loads the table from the device (a blank device has an empty namespace). Returns the
    /// namespace and the instant the reads completed.
    pub fn load(ssd: &mut Ssd, at: SimTime) -> Result<(Self, SimTime), NamespaceError> {
        let capacity = ssd.capacity_lbas();
        if capacity <= DATA_START {
            return Err(NamespaceError::Corrupt(format!(
                "the device has {capacity} blocks, fewer than the {DATA_START} the table reserves"
            )));
        }
        let mut done = at;
        let mut copies = [Vec::new(), Vec::new()];
        for (copy, buf) in copies.iter_mut().enumerate() {
            buf.resize((TABLE_BLOCKS * LBA_BYTES) as usize, 0);
            done = done.max(ssd.internal_read(at, Lba(copy as u64 * TABLE_BLOCKS), buf)?);
        }
        Ok((Self::from_copies([&copies[0], &copies[1]], capacity)?, done))
    }

    /// The namespace held by the two table copies (the blocks at LBA `0` and
    /// [`TABLE_BLOCKS`]), however they were read: by the device's internal reads, or by a
    /// host reading the blocks over NVMe. Both blank: an empty namespace. `capacity` (blocks in
    /// the device namespace) only bounds later allocations.
    pub fn from_copies(copies: [&[u8]; 2], capacity: u64) -> Result<Self, NamespaceError> {
        let (generation, table) = FileTable::from_copies(copies).map_err(NamespaceError::Corrupt)?;
        Ok(Namespace {
            table,
            generation,
            capacity,
        })
    }

    /// The file with this name.
    pub fn get(&self, name: &str) -> Result<&FileEntry, NamespaceError> {
        self.table
            .files
            .get(name)
            .ok_or_else(|| NamespaceError::NotFound(name.to_string()))
    }

    // INVARIANT(files-belong-to-tenants): every file request of a tenant passes here
    /// File `name`, if `who` may `access` it (`who` `None`: the device owner, who may do
    /// anything).
    pub fn check(
        &self,
        name: &str,
        who: Option<Tenant>,
        access: Access,
    ) -> Result<&FileEntry, NamespaceError> {
        let f = self.get(name)?;
        if allowed(who, f.owner, f.shared, access) {
            return Ok(f);
        }
        Err(NamespaceError::NotYours {
            name: name.to_string(),
            owner: owner_name(f.owner),
            shared: f.shared,
            who: owner_name(who),
            access: match access {
                Access::Read => "read",
                Access::Modify => "modify",
            },
        })
    }

    /// The files `who` may read, by name (staging files left out).
    pub fn visible(&self, who: Option<Tenant>) -> impl Iterator<Item = &FileEntry> {
        self.list()
            .filter(move |f| allowed(who, f.owner, f.shared, Access::Read))
    }

    /// Lets other tenants read file `name`, or stops them (not yet committed).
    pub fn share(&mut self, name: &str, shared: bool) -> Result<(), NamespaceError> {
        let f = self
            .table
            .files
            .get_mut(name)
            .ok_or_else(|| NamespaceError::NotFound(name.to_string()))?;
        f.shared = shared;
        Ok(())
    }

    /// Whether blocks `lba..lba + blocks` all lie in files `who` may `access` (the data region
    /// only; the table's blocks are never covered).
    pub fn covers(&self, who: Option<Tenant>, lba: Lba, blocks: u64, access: Access) -> bool {
        if who.is_none() {
            return true;
        }
        let mut runs: Vec<Extent> = (self.table.files.values())
            .filter(|f| allowed(who, f.owner, f.shared, access))
            .flat_map(|f| f.extents.iter().copied())
            .collect();
        runs.sort_by_key(|e| e.start);
        let (mut next, end) = (lba.0, lba.0.saturating_add(blocks));
        for e in runs {
            if next >= end {
                break;
            }
            if e.start.0 <= next {
                next = next.max(e.start.0.saturating_add(e.blocks));
            }
        }
        next >= end
    }

    /// One copy of the table as `who` may read it over NVMe: its files and the shared ones,
    /// at the current generation, padded to [`TABLE_BLOCKS`] blocks.
    pub fn view_copy(&self, who: Option<Tenant>) -> Vec<u8> {
        let table = FileTable {
            files: (self.table.files.values())
                .filter(|f| allowed(who, f.owner, f.shared, Access::Read))
                .map(|f| (f.name.clone(), f.clone()))
                .collect(),
        };
        // A subset of a table that fits fits too.
        let mut buf = table.encode_copy(self.generation).unwrap_or_default();
        buf.resize((TABLE_BLOCKS * LBA_BYTES) as usize, 0);
        buf
    }

    /// All files, by name.
    pub fn list(&self) -> impl Iterator<Item = &FileEntry> {
        self.table
            .files
            .values()
            .filter(|f| !f.name.starts_with(STAGING_PREFIX))
    }

    /// Gives file `from` the name `to` (not yet committed: call [`Namespace::commit`]).
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), NamespaceError> {
        check_name(to)?;
        if to.starts_with(STAGING_PREFIX) {
            return Err(NamespaceError::BadName {
                name: to.to_string(),
                expected: "a name not starting with the staging prefix `.ndp-put.` (staging files are removed when the device opens)",
            });
        }
        if self.table.files.contains_key(to) {
            return Err(NamespaceError::Exists(to.to_string()));
        }
        let mut entry = self
            .table
            .files
            .remove(from)
            .ok_or_else(|| NamespaceError::NotFound(from.to_string()))?;
        entry.name = to.to_string();
        self.table.files.insert(to.to_string(), entry);
        Ok(())
    }

    /// Removes every staging file ([`STAGING_PREFIX`]: an interrupted put's) and deallocates its
    /// blocks, committing the table if there was any. Returns their names and the instant done.
    pub fn reclaim_staged(
        &mut self,
        ssd: &mut Ssd,
        at: SimTime,
    ) -> Result<(Vec<String>, SimTime), NamespaceError> {
        let staged: Vec<String> = self
            .table
            .files
            .keys()
            .filter(|n| n.starts_with(STAGING_PREFIX))
            .cloned()
            .collect();
        let mut done = at;
        for name in &staged {
            done = done.max(self.remove(ssd, at, name)?.1);
        }
        if !staged.is_empty() {
            done = self.commit(ssd, done)?;
        }
        Ok((staged, done))
    }

    /// Blocks not allocated to any file.
    pub fn free_blocks(&self) -> u64 {
        self.free_extents().iter().map(|e| e.blocks).sum()
    }

    fn free_extents(&self) -> Vec<Extent> {
        let mut used: Vec<Extent> = self
            .table
            .files
            .values()
            .flat_map(|f| f.extents.iter().copied())
            .collect();
        used.sort_by_key(|e| e.start);
        let mut free = Vec::new();
        let mut next = DATA_START;
        for e in used {
            if e.start.0 > next {
                free.push(Extent {
                    start: Lba(next),
                    blocks: e.start.0 - next,
                });
            }
            next = next.max(e.start.0 + e.blocks);
        }
        if self.capacity > next {
            free.push(Extent {
                start: Lba(next),
                blocks: self.capacity - next,
            });
        }
        free
    }

    /// Allocates a file of `size` bytes (not yet committed: call [`Namespace::commit`]).
    /// One contiguous extent when a free run is large enough, else several.
    pub fn create(&mut self, name: &str, size: u64) -> Result<&FileEntry, NamespaceError> {
        self.create_for(name, size, None)
    }

    /// [`Namespace::create`] of a file owned by `owner` (`None`: the device owner).
    pub fn create_for(
        &mut self,
        name: &str,
        size: u64,
        owner: Option<Tenant>,
    ) -> Result<&FileEntry, NamespaceError> {
        check_name(name)?;
        if self.table.files.contains_key(name) {
            return Err(NamespaceError::Exists(name.to_string()));
        }
        let need = size.div_ceil(LBA_BYTES);
        let free = self.free_extents();
        let total: u64 = free.iter().map(|e| e.blocks).sum();
        if need > total {
            return Err(NamespaceError::NoSpace {
                name: name.to_string(),
                need,
                free: total,
            });
        }
        let extents = match free.iter().find(|e| e.blocks >= need) {
            Some(e) if need > 0 => vec![Extent {
                start: e.start,
                blocks: need,
            }],
            Some(_) => Vec::new(),
            None => {
                let mut left = need;
                let mut out = Vec::new();
                for e in free {
                    let take = e.blocks.min(left);
                    out.push(Extent {
                        start: e.start,
                        blocks: take,
                    });
                    left -= take;
                    if left == 0 {
                        break;
                    }
                }
                out
            }
        };
        let entry = FileEntry {
            name: name.to_string(),
            size,
            extents,
            owner,
            shared: false,
        };
        Ok(self.table.files.entry(name.to_string()).or_insert(entry))
    }

    /// Removes a file from the table and deallocates its blocks on the device.
    pub fn remove(
        &mut self,
        ssd: &mut Ssd,
        at: SimTime,
        name: &str,
    ) -> Result<(FileEntry, SimTime), NamespaceError> {
        let entry = self
            .table
            .files
            .remove(name)
            .ok_or_else(|| NamespaceError::NotFound(name.to_string()))?;
        let mut done = at;
        for e in &entry.extents {
            done = done.max(ssd.trim(at, e.start, e.blocks)?);
        }
        Ok((entry, done))
    }

    /// Writes the table to the device (the copy for the next generation) and flushes, so it
    /// survives a restart. Returns the completion instant.
    pub fn commit(&mut self, ssd: &mut Ssd, at: SimTime) -> Result<SimTime, NamespaceError> {
        let generation = self.generation + 1;
        let buf = self
            .table
            .encode_copy(generation)
            .map_err(|t| NamespaceError::TableFull {
                bytes: t.bytes,
                max: t.max,
            })?;
        let lba = FileTable::copy_lba(generation);
        let written = ssd.internal_write(at, lba, &buf)?;
        let done = ssd.flush(written)?;
        self.generation = generation;
        Ok(done)
    }
}

fn check_name(name: &str) -> Result<(), NamespaceError> {
    if !ndp_protocol::filetable::is_valid_name(name) {
        return Err(NamespaceError::BadName {
            name: name.to_string(),
            expected: ndp_protocol::filetable::NAME_RULE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_nvme::DeviceProfile;

    fn device() -> Ssd {
        Ssd::in_memory(DeviceProfile::tiny()).unwrap()
    }

    #[test]
    fn staged_files_are_hidden_renamed_and_reclaimed_at_load() {
        let mut ssd = device();
        let (mut ns, t) = Namespace::load(&mut ssd, SimTime::ZERO).unwrap();
        ns.create(".ndp-put.1", 5000).unwrap();
        ns.create(".ndp-put.2", 100).unwrap();
        ns.create("kept", 10).unwrap();
        let free = ns.free_blocks();
        let t = ns.commit(&mut ssd, t).unwrap();
        assert_eq!(ns.list().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["kept"]);
        ns.rename(".ndp-put.2", "published").unwrap();
        assert!(matches!(
            ns.rename(".ndp-put.1", "kept"),
            Err(NamespaceError::Exists(_))
        ));
        assert!(matches!(ns.rename("gone", "x"), Err(NamespaceError::NotFound(_))));
        let t = ns.commit(&mut ssd, t).unwrap();
        // Reopened: the interrupted put's file is gone, its blocks free again.
        let (mut again, t) = Namespace::load(&mut ssd, t).unwrap();
        let (reclaimed, _) = again.reclaim_staged(&mut ssd, t).unwrap();
        assert_eq!(reclaimed, [".ndp-put.1"]);
        assert_eq!(again.free_blocks(), free + 2);
        let names: Vec<&str> = again.list().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["kept", "published"]);
    }

    #[test]
    fn create_commit_reload() {
        let mut ssd = device();
        let (mut ns, t) = Namespace::load(&mut ssd, SimTime::ZERO).unwrap();
        assert_eq!(ns.list().count(), 0);
        ns.create("a.txt", 10_000).unwrap();
        ns.create("b.bin", 4096).unwrap();
        let t = ns.commit(&mut ssd, t).unwrap();
        let (ns2, _) = Namespace::load(&mut ssd, t).unwrap();
        assert_eq!(ns2.get("a.txt").unwrap(), ns.get("a.txt").unwrap());
        assert_eq!(ns2.get("a.txt").unwrap().blocks(), 3);
        assert_eq!(ns2.list().count(), 2);
        assert_eq!(ns2.generation, 1);
    }

    #[test]
    fn extents_do_not_overlap_and_reuse_freed_space() {
        let mut ssd = device();
        let (mut ns, t) = Namespace::load(&mut ssd, SimTime::ZERO).unwrap();
        ns.create("x", 8 * 4096).unwrap();
        ns.create("y", 8 * 4096).unwrap();
        let x = ns.get("x").unwrap().extents.clone();
        let y = ns.get("y").unwrap().extents.clone();
        assert_eq!(x[0].start, Lba(DATA_START));
        assert_eq!(y[0].start, Lba(DATA_START + 8));
        ns.remove(&mut ssd, t, "x").unwrap();
        // A 12-block file does not fit the 8-block hole.
        ns.create("z", 12 * 4096).unwrap();
        let z = ns.get("z").unwrap();
        assert_eq!(
            z.extents.len(),
            1,
            "first fit takes the tail run that is large enough"
        );
        assert_eq!(z.extents[0].start, Lba(DATA_START + 16));
        let free = ns.free_blocks();
        ns.create("big", free * 4096).unwrap();
        let big = ns.get("big").unwrap();
        assert_eq!(
            big.extents[0],
            Extent {
                start: Lba(DATA_START),
                blocks: 8
            }
        );
        assert_eq!(big.blocks(), free);
        assert!(matches!(
            ns.create("more", 1),
            Err(NamespaceError::NoSpace { need: 1, free: 0, .. })
        ));
    }

    #[test]
    fn runs_map_byte_ranges() {
        let f = FileEntry {
            owner: None,
            shared: false,
            name: "f".into(),
            size: 5 * 4096,
            extents: vec![
                Extent {
                    start: Lba(200),
                    blocks: 2,
                },
                Extent {
                    start: Lba(500),
                    blocks: 3,
                },
            ],
        };
        assert_eq!(f.block(3), Some(Lba(501)));
        assert_eq!(f.block(5), None);
        let r = f.runs(4000, 5000).unwrap();
        assert_eq!(
            r,
            vec![
                Extent {
                    start: Lba(200),
                    blocks: 2
                },
                Extent {
                    start: Lba(500),
                    blocks: 1
                }
            ]
        );
        let e = f.runs(5 * 4096 - 1, 2).unwrap_err();
        assert!(matches!(
            NamespaceError::from(e),
            NamespaceError::OutOfBounds { .. }
        ));
        assert!(f.runs(0, 0).unwrap().is_empty());
    }

    #[test]
    fn bad_names_and_duplicates_are_refused() {
        let mut ssd = device();
        let (mut ns, _) = Namespace::load(&mut ssd, SimTime::ZERO).unwrap();
        for bad in ["", ".", "..", "a/b", "nul\0", &"x".repeat(256)] {
            assert!(
                matches!(ns.create(bad, 1), Err(NamespaceError::BadName { .. })),
                "{bad:?}"
            );
        }
        ns.create("dup", 1).unwrap();
        assert!(matches!(ns.create("dup", 1), Err(NamespaceError::Exists(_))));
        assert!(matches!(ns.get("nope"), Err(NamespaceError::NotFound(_))));
    }

    #[test]
    fn a_torn_newest_copy_falls_back_and_garbage_is_corrupt() {
        let mut ssd = device();
        let (mut ns, t) = Namespace::load(&mut ssd, SimTime::ZERO).unwrap();
        ns.create("one", 1).unwrap();
        let t = ns.commit(&mut ssd, t).unwrap(); // generation 1 -> copy 1
        ns.create("two", 1).unwrap();
        let t = ns.commit(&mut ssd, t).unwrap(); // generation 2 -> copy 0
                                                 // Tear copy 0 (the newest): flip a byte of its body.
        let mut block = vec![0u8; 4096];
        ssd.internal_read(t, Lba(0), &mut block).unwrap();
        block[ndp_protocol::filetable::COPY_HEADER + 2] ^= 0xff;
        let t = ssd.internal_write(t, Lba(0), &block).unwrap();
        let (old, t) = Namespace::load(&mut ssd, t).unwrap();
        assert!(old.get("one").is_ok() && old.get("two").is_err());
        // Both copies garbage: refused.
        let t = ssd.internal_write(t, Lba(TABLE_BLOCKS), &[0xAB; 4096]).unwrap();
        let err = Namespace::load(&mut ssd, t).unwrap_err();
        assert!(matches!(err, NamespaceError::Corrupt(_)), "{err}");
    }
}
