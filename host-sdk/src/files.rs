//! Files on the device: [`Device::put_file`] and friends, through the ISC file commands
//! (`0xC8`). Data moves in [`CHUNK`]-byte commands. A put writes under a staging name, flushes,
//! then renames the file to its name (INVARIANT(put-atomic)): a file on an image is visible
//! only once all its data is durable, and an interrupted put leaves nothing visible.

use std::io::{Read, Write};
use std::path::Path;

use ndp_protocol::filetable::{is_valid_name, NAME_RULE, STAGING_PREFIX};
use ndp_protocol::{ErrorKind, IscRequest, IscResponse};
use sim_nvme::nvme::Command;

use crate::device::{unexpected, Device};
use crate::error::{Error, Result};

pub use ndp_protocol::FileInfo;

/// Bytes per file command: 1 MiB.
pub const CHUNK: usize = 1 << 20;

impl Device {
    /// Creates device file `name` with the contents of host file `host_path`.
    pub fn put_file(&self, name: &str, host_path: impl AsRef<Path>) -> Result<FileInfo> {
        let path = host_path.as_ref();
        let io = |source| Error::HostIo {
            path: path.to_path_buf(),
            source,
        };
        let f = std::fs::File::open(path).map_err(io)?;
        let meta = f.metadata().map_err(io)?;
        // Checked before the device file is created: a directory (or a device node) would
        // leave a device file of the wrong size behind.
        if !meta.is_file() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "expected a regular file, found a directory or special file",
            )));
        }
        let size = meta.len();
        self.put_sized(name, size, f).map_err(|e| match e {
            PutError::Host(source) => io(source),
            PutError::Device(e) => e,
        })
    }

    /// Creates device file `name` from a stream. The device sizes a file when it is created,
    /// so the stream is read to its end first.
    pub fn put_reader(&self, name: &str, mut reader: impl Read) -> Result<FileInfo> {
        let mut data = Vec::new();
        reader.read_to_end(&mut data).map_err(|source| Error::HostIo {
            path: "<stream>".into(),
            source,
        })?;
        self.put_bytes(name, &data)
    }

    /// Creates device file `name` of `size` bytes read from `reader`, streamed in [`CHUNK`]s
    /// (so a wrapper around the reader sees the transfer progress).
    pub fn put_stream(&self, name: &str, size: u64, reader: impl Read) -> Result<FileInfo> {
        self.put_sized(name, size, reader).map_err(|e| match e {
            PutError::Host(source) => Error::HostIo {
                path: "<stream>".into(),
                source,
            },
            PutError::Device(e) => e,
        })
    }

    /// Creates device file `name` holding `data`.
    pub fn put_bytes(&self, name: &str, data: &[u8]) -> Result<FileInfo> {
        self.put_sized(name, data.len() as u64, data)
            .map_err(|e| match e {
                PutError::Host(source) => Error::HostIo {
                    path: "<memory>".into(),
                    source,
                },
                PutError::Device(e) => e,
            })
    }

    // INVARIANT(put-atomic): a put's file appears under its name only after all its data is
    // written and flushed (staged, flushed, renamed: one table commit)
    /// Writes `size` bytes of `src` under a staging name ([`STAGING_PREFIX`]), flushes, then
    /// renames the file to `name`: the file is visible whole or not at all, and an interrupted
    /// put leaves only a staging file, which the device removes when it is next opened.
    fn put_sized(&self, name: &str, size: u64, mut src: impl Read) -> Result<FileInfo, PutError> {
        // The name is checked and must be free before any data moves (the rename checks both
        // again, atomically).
        if !is_valid_name(name) || name.starts_with(STAGING_PREFIX) {
            return Err(Error::BadFileName {
                name: name.to_owned(),
                expected: format!("{NAME_RULE}, not starting with `{STAGING_PREFIX}`"),
            }
            .into());
        }
        let open = IscRequest::FileOpen {
            name: name.to_owned(),
        };
        match self.call(&open) {
            Ok(_) => {
                return Err(Error::FileExists {
                    name: name.to_owned(),
                }
                .into())
            }
            // Another tenant's file: the name is taken, and the refusal says by whom.
            Err(e) if e.kind() == Some(ErrorKind::Forbidden) => return Err(e.into()),
            Err(_) => {}
        }
        let staged = staging_name();
        let create = IscRequest::FileCreate {
            name: staged.clone(),
            size,
        };
        match self.call(&create)? {
            IscResponse::File(_) => {}
            r => return Err(unexpected(&create, &r).into()),
        }
        let written = self.write_staged(&staged, name, size, &mut src);
        if written.is_err() {
            // Best effort: the device removes staging files at its next open anyway.
            let _ = self.call_done(&IscRequest::FileRemove { name: staged });
        }
        written?;
        Ok(FileInfo {
            name: name.to_owned(),
            size,
            owner: self.tenant(),
            shared: false,
        })
    }

    /// The data, the flush and the rename of a staged put.
    fn write_staged(&self, staged: &str, name: &str, size: u64, src: &mut impl Read) -> Result<(), PutError> {
        let mut offset = 0u64;
        let mut buf = vec![0u8; CHUNK];
        while offset < size {
            let want = (size - offset).min(CHUNK as u64) as usize;
            src.read_exact(&mut buf[..want]).map_err(PutError::Host)?;
            self.call_done(&IscRequest::FileWrite {
                name: staged.to_owned(),
                offset,
                data: buf[..want].to_vec(),
            })?;
            offset += want as u64;
        }
        let c = self.submit(Command::Flush { nsid: 1 })?;
        if !c.status.is_success() {
            return Err(Error::Nvme {
                command: "Flush",
                status: c.status.to_string(),
            }
            .into());
        }
        self.call_done(&IscRequest::FileRename {
            from: staged.to_owned(),
            to: name.to_owned(),
        })?;
        Ok(())
    }

    /// The contents of device file `name`.
    pub fn get_bytes(&self, name: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.get_to(name, &mut out)?;
        Ok(out)
    }

    /// Writes device file `name` to host file `host_path` (created or truncated).
    pub fn get_file(&self, name: &str, host_path: impl AsRef<Path>) -> Result<u64> {
        let path = host_path.as_ref();
        let f = std::fs::File::create(path).map_err(|source| Error::HostIo {
            path: path.to_path_buf(),
            source,
        })?;
        let mut w = std::io::BufWriter::new(f);
        let n = self.get_to(name, &mut w)?;
        w.flush().map_err(|source| Error::HostIo {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(n)
    }

    /// Writes device file `name` to `out`; returns its size.
    pub fn get_to(&self, name: &str, mut out: impl Write) -> Result<u64> {
        let size = self.file_info(name)?.size;
        let mut offset = 0;
        while offset < size {
            let len = (size - offset).min(CHUNK as u64);
            let req = IscRequest::FileRead {
                name: name.to_owned(),
                offset,
                len,
            };
            match self.call(&req).map_err(|e| not_found(e, name))? {
                IscResponse::Data(d) => out.write_all(&d).map_err(|source| Error::HostIo {
                    path: "<writer>".into(),
                    source,
                })?,
                r => return Err(unexpected(&req, &r)),
            }
            offset += len;
        }
        Ok(size)
    }

    /// Every device file, by name.
    pub fn list_files(&self) -> Result<Vec<FileInfo>> {
        match self.call(&IscRequest::FileList)? {
            IscResponse::Files(f) => Ok(f),
            r => Err(unexpected(&IscRequest::FileList, &r)),
        }
    }

    /// The device file `name`.
    pub fn file_info(&self, name: &str) -> Result<FileInfo> {
        let files = self.list_files()?;
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        let message = if names.is_empty() {
            "the device holds no files".to_owned()
        } else {
            format!("the device holds: {}", names.join(", "))
        };
        files
            .iter()
            .find(|f| f.name == name)
            .cloned()
            .ok_or_else(|| Error::UnknownFile {
                name: name.to_owned(),
                message,
            })
    }

    /// Lets other tenants read device file `name` (`shared`), or stops them; its owner only
    /// ([`Device::tenant`]). On an embedded device there are no other tenants, but the mark is
    /// kept in the file table for when the image is served.
    pub fn share_file(&self, name: &str, shared: bool) -> Result<()> {
        self.call_done(&IscRequest::FileShare {
            name: name.to_owned(),
            shared,
        })
        .map_err(|e| not_found(e, name))
    }

    /// Removes device file `name`.
    pub fn remove_file(&self, name: &str) -> Result<()> {
        self.call_done(&IscRequest::FileRemove {
            name: name.to_owned(),
        })
        .map_err(|e| not_found(e, name))
    }
}

/// A `NotFound` refusal about file `name` as [`Error::UnknownFile`].
pub(crate) fn not_found(e: Error, name: &str) -> Error {
    match e {
        Error::Refused {
            kind: ErrorKind::NotFound,
            message,
            ..
        } => Error::UnknownFile {
            name: name.to_owned(),
            // The device's NotFound message only says what the variant says already.
            message: if message == format!("no file named `{name}` on the device") {
                String::new()
            } else {
                message
            },
        },
        e => e,
    }
}

enum PutError {
    Host(std::io::Error),
    Device(Error),
}

impl From<Error> for PutError {
    fn from(e: Error) -> PutError {
        PutError::Device(e)
    }
}

/// A staging name no other put uses: this process, a per-process counter and the wall clock
/// (two processes with one pid, after a restart, differ in the clock).
fn staging_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // Fixed width: the file table's size (and so where later writes land, and every simulated
    // time) must not depend on the pid or the clock.
    format!(
        "{STAGING_PREFIX}{:08x}.{:016x}.{:032x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}
