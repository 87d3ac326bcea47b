//! Storage access: [`File`] (a capability handed in as an argument), [`FileStream`] (buffered
//! sequential reads with `read_line`), and the per-channel pattern matcher.
//!
//! Reads are internal reads (NAND to device DRAM): they suspend the SSDlet while the
//! (simulated) device works, never the core.

use std::io::{self, BufRead, Read};
use std::ops::Range;

use ssdlet_abi::{FileHandle, Status};

use crate::rt::Rt;

fn io_err(what: &str, status: Status) -> io::Error {
    let kind = match status {
        Status::OUT_OF_RANGE | Status::INVALID_ARGUMENT => io::ErrorKind::InvalidInput,
        Status::NO_SUCH_FILE => io::ErrorKind::NotFound,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("{what}: {}", status.name()))
}

/// A file the host handed to this SSDlet. It is the SSDlet's only access to storage: there is
/// no way to open a file by name.
#[derive(Clone)]
pub struct File {
    rt: Rt,
    handle: FileHandle,
}

impl File {
    pub(crate) fn new(rt: Rt, handle: FileHandle) -> Self {
        File { rt, handle }
    }

    /// Length of the file in bytes.
    pub fn len(&self) -> io::Result<u64> {
        self.rt
            .file_len(self.handle)
            .map_err(|s| io_err("file length", s))
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read (0 at the end).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.rt
            .file_read(self.handle, offset, buf)
            .map_err(|s| io_err("file read", s))
    }

    /// Reads exactly `buf.len()` bytes at `offset`, or fails with `UnexpectedEof`.
    pub fn read_exact_at(&self, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.read_at(offset, buf)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file ended before the buffer was filled",
                ));
            }
            offset += n as u64;
            buf = &mut buf[n..];
        }
        Ok(())
    }

    /// Runs the pattern matcher over pages `pages` of the file, looking for any of `keys`.
    /// Returns one hint per page: `true` if a key may occur in it (false positives are
    /// possible, so confirm in software), `false` if no key occurs. Key count and length are
    /// limited by [`crate::Context::matcher_limits`].
    pub fn scan_pages(&self, keys: &[&[u8]], pages: Range<u64>) -> io::Result<Vec<bool>> {
        let count = pages.end.saturating_sub(pages.start);
        let count = usize::try_from(count)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "page range too large"))?;
        let mut flags = vec![0u8; count];
        match self.rt.matcher_scan(self.handle, keys, pages.start, &mut flags) {
            Status::OK => Ok(flags.into_iter().map(|f| f != 0).collect()),
            other => Err(io_err("matcher scan", other)),
        }
    }
}

/// Buffered sequential reader over a [`File`] (Biscuit's `FileStream`). Implements
/// [`Read`] and [`BufRead`], so `read_line`, `lines()` and `read_until` work as usual.
pub struct FileStream {
    file: File,
    next_offset: u64,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl FileStream {
    /// Default buffer size: 64 KiB.
    pub const DEFAULT_CAPACITY: usize = 64 * 1024;

    /// A stream from the start of `file` with a 64 KiB buffer.
    pub fn new(file: File) -> Self {
        Self::with_capacity(file, Self::DEFAULT_CAPACITY)
    }

    /// A stream from the start of `file` with a `capacity`-byte buffer (at least 1).
    pub fn with_capacity(file: File, capacity: usize) -> Self {
        FileStream {
            file,
            next_offset: 0,
            buf: vec![0; capacity.max(1)],
            start: 0,
            end: 0,
        }
    }

    /// File offset of the next byte the stream will return.
    pub fn position(&self) -> u64 {
        self.next_offset - (self.end - self.start) as u64
    }

    /// Reads the next line into `line` (cleared first) without its `\n` or `\r\n`. Returns
    /// `false` at the end of the file. Lines need not be UTF-8.
    pub fn next_line(&mut self, line: &mut Vec<u8>) -> io::Result<bool> {
        line.clear();
        let n = self.read_until(b'\n', line)?;
        if n == 0 {
            return Ok(false);
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        Ok(true)
    }
}

impl Read for FileStream {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for FileStream {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start == self.end {
            let n = self.file.read_at(self.next_offset, &mut self.buf)?;
            self.next_offset += n as u64;
            self.start = 0;
            self.end = n;
        }
        Ok(&self.buf[self.start..self.end])
    }

    fn consume(&mut self, amt: usize) {
        self.start = (self.start + amt).min(self.end);
    }
}
