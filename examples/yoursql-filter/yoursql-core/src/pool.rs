//! [`BufferPool`]: the host's buffer pool of table pages (MariaDB/InnoDB's buffer pool in
//! YourSQL's set-up), in which conventional scans find pages read before.
//!
//! **Model.** A pool of `capacity` bytes holding chunks of table files: one chunk is one read
//! command of the conventional reader (`ScanConfig::read_ahead`, 128 KiB by default), named by
//! its file and byte offset. A conventional scan takes every chunk the pool holds from host
//! memory (no NVMe command, no PCIe transfer, the host's decoding still charged) and offers
//! every chunk it reads from the device to the pool. Replacement is least-recently-used over
//! chunks (assumed; InnoDB's midpoint insertion, which protects hot pages from large scans, is
//! not modelled, so a scan of a table larger than the pool leaves only its tail behind).
//! Offloaded scans read the pages the matchers hinted past the pool (assumed: YourSQL reads
//! them with its own prefetcher); the auto mode reads a table conventionally when it fits in the
//! pool and the pool holds at least half of it.
//!
//! The pool is shared by the scans of every query that uses the same [`BufferPool`] handle
//! (clones share it), so a stream of queries warms it; [`BufferPool::clear`] empties it.
//! Access order is the scans' order, so with scans run one after another the pool's contents,
//! and every hit, are deterministic.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use host_sdk::ScanCache;

/// A chunk's name: file and byte offset.
type Key = (String, u64);

#[derive(Debug, Default)]
struct Inner {
    capacity: u64,
    used: u64,
    /// Chunk -> (its bytes, its last use).
    chunks: HashMap<Key, (Arc<[u8]>, u64)>,
    /// Last use -> chunk (least recent first).
    order: BTreeMap<u64, Key>,
    tick: u64,
    hits: u64,
    misses: u64,
}

/// The host buffer pool (module docs). Cheap to clone; clones share the pool.
#[derive(Debug, Clone, Default)]
pub struct BufferPool {
    inner: Arc<Mutex<Inner>>,
}

/// What a pool holds and has served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Capacity in bytes.
    pub capacity: u64,
    /// Bytes held.
    pub used: u64,
    /// Chunks served from the pool since it was made or cleared.
    pub hits: u64,
    /// Chunks looked up and not found.
    pub misses: u64,
}

/// Two handles are equal when they share one pool.
impl PartialEq for BufferPool {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl BufferPool {
    /// An empty pool of `capacity` bytes (0: a pool that holds nothing).
    pub fn new(capacity: u64) -> BufferPool {
        BufferPool {
            inner: Arc::new(Mutex::new(Inner {
                capacity,
                ..Inner::default()
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Empties the pool and its counters (capacity kept).
    pub fn clear(&self) {
        let mut p = self.lock();
        let capacity = p.capacity;
        *p = Inner {
            capacity,
            ..Inner::default()
        };
    }

    /// Its figures.
    pub fn stats(&self) -> PoolStats {
        let p = self.lock();
        PoolStats {
            capacity: p.capacity,
            used: p.used,
            hits: p.hits,
            misses: p.misses,
        }
    }

    /// Bytes of device file `file` the pool holds.
    pub fn resident_bytes(&self, file: &str) -> u64 {
        let p = self.lock();
        p.chunks
            .iter()
            .filter(|((f, _), _)| f == file)
            .map(|(_, (b, _))| b.len() as u64)
            .sum()
    }

    /// The [`ScanCache`] of device file `file` in this pool.
    pub fn file(&self, file: &str) -> PoolFile<'_> {
        PoolFile {
            pool: self,
            file: file.to_owned(),
        }
    }
}

impl Inner {
    fn touch(&mut self, key: &Key) {
        self.tick += 1;
        let tick = self.tick;
        if let Some((_, used)) = self.chunks.get_mut(key) {
            self.order.remove(used);
            *used = tick;
            self.order.insert(tick, key.clone());
        }
    }

    fn insert(&mut self, key: Key, data: &[u8]) {
        let len = data.len() as u64;
        if len > self.capacity || self.chunks.contains_key(&key) {
            return;
        }
        while self.used + len > self.capacity {
            let Some((_, old)) = self.order.pop_first() else {
                break;
            };
            if let Some((b, _)) = self.chunks.remove(&old) {
                self.used -= b.len() as u64;
            }
        }
        self.tick += 1;
        self.order.insert(self.tick, key.clone());
        self.chunks.insert(key, (Arc::from(data), self.tick));
        self.used += len;
    }
}

/// One file's view of a [`BufferPool`], for [`host_sdk::HostFile::scan_through`].
#[derive(Debug)]
pub struct PoolFile<'a> {
    pool: &'a BufferPool,
    file: String,
}

impl ScanCache for PoolFile<'_> {
    fn get(&mut self, offset: u64, len: u64) -> Option<Arc<[u8]>> {
        let mut p = self.pool.lock();
        let key = (self.file.clone(), offset);
        let found = p
            .chunks
            .get(&key)
            .filter(|(b, _)| b.len() as u64 == len)
            .map(|(b, _)| Arc::clone(b));
        match found {
            Some(b) => {
                p.hits += 1;
                p.touch(&key);
                Some(b)
            }
            None => {
                p.misses += 1;
                None
            }
        }
    }

    fn put(&mut self, offset: u64, data: &[u8]) {
        self.pool.lock().insert((self.file.clone(), offset), data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_chunks_leave_first() {
        let pool = BufferPool::new(300);
        let mut f = pool.file("t.tbl");
        for off in [0, 100, 200] {
            f.put(off, &[off as u8; 100]);
        }
        assert_eq!(f.get(0, 100).as_deref(), Some(&[0u8; 100][..]));
        f.put(300, &[3; 100]); // evicts 100, the least recent
        assert!(f.get(100, 100).is_none());
        assert!(f.get(0, 100).is_some() && f.get(200, 100).is_some() && f.get(300, 100).is_some());
        assert_eq!(pool.resident_bytes("t.tbl"), 300);
        assert_eq!(pool.resident_bytes("u.tbl"), 0);
        let s = pool.stats();
        assert_eq!((s.used, s.hits, s.misses), (300, 4, 1));
        // A chunk larger than the pool is not kept; a pool of 0 bytes keeps nothing.
        f.put(400, &[4; 301]);
        assert!(f.get(400, 301).is_none());
        let none = BufferPool::new(0);
        none.file("t.tbl").put(0, &[1]);
        assert_eq!(none.stats().used, 0);
        pool.clear();
        assert_eq!(
            pool.stats(),
            PoolStats {
                capacity: 300,
                used: 0,
                hits: 0,
                misses: 0
            }
        );
    }

    #[test]
    fn a_chunk_of_another_length_is_not_served() {
        let pool = BufferPool::new(1000);
        let mut f = pool.file("t.tbl");
        f.put(0, &[1; 100]);
        assert!(f.get(0, 50).is_none());
    }
}
