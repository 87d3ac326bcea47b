//! The key-based pattern matcher that sits on every channel.
//!
//! A scan carries 1 to `matcher.max_keys` keys (byte strings of 1 to `matcher.max_key_bytes`
//! bytes) and a range of logical blocks. Each channel's matcher looks at the blocks of its
//! channel as they stream off NAND and yields one **match hint** per block:
//!
//! - [`MatchMode::Any`]: the hint is set when at least one key occurs in the block;
//! - [`MatchMode::All`]: the hint is set when every key occurs in the block (anywhere, in any
//!   order).
//!
//! Matching is exact byte matching within one 4 KiB block: a key that straddles two blocks is
//! not seen, and a key that occurs inside unrelated data sets the hint anyway (a false
//! positive). Callers confirm hits in software. A block never written reads as zeros and is
//! matched as such, without NAND time.

use memchr::memmem::Finder;

use crate::addr::Lba;
use crate::error::MatcherError;
use crate::profile::MatcherLimits;

/// How a page's key hits combine into its hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum MatchMode {
    /// At least one key occurs in the page.
    #[default]
    Any,
    /// Every key occurs in the page.
    All,
}

/// A matcher scan: keys, how they combine, and the blocks to scan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MatchRequest {
    /// The keys.
    pub keys: Vec<Vec<u8>>,
    /// How key hits combine.
    pub mode: MatchMode,
    /// First block to scan.
    pub start: Lba,
    /// Blocks to scan.
    pub count: u64,
}

/// One hint per scanned block, in block order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MatchHints {
    /// `hints[i]` is the hint of block `start + i`.
    pub hints: Vec<bool>,
}

impl MatchHints {
    /// Offsets (from the scan's start) of the blocks whose hint is set.
    pub fn hinted(&self) -> impl Iterator<Item = u64> + '_ {
        self.hints
            .iter()
            .enumerate()
            .filter(|(_, &h)| h)
            .map(|(i, _)| i as u64)
    }

    /// Number of hinted blocks.
    pub fn count(&self) -> u64 {
        self.hints.iter().filter(|&&h| h).count() as u64
    }
}

/// Keys checked against the limits and compiled for scanning.
pub struct CompiledKeys {
    finders: Vec<Finder<'static>>,
    mode: MatchMode,
}

impl CompiledKeys {
    /// Checks keys against the hardware limits and compiles them.
    pub fn new(keys: &[Vec<u8>], mode: MatchMode, limits: &MatcherLimits) -> Result<Self, MatcherError> {
        if keys.is_empty() {
            return Err(MatcherError::NoKeys { max: limits.max_keys });
        }
        if keys.len() > limits.max_keys as usize {
            return Err(MatcherError::TooManyKeys {
                given: keys.len(),
                max: limits.max_keys,
            });
        }
        for (index, k) in keys.iter().enumerate() {
            if k.is_empty() || k.len() > limits.max_key_bytes as usize {
                return Err(MatcherError::KeyLength {
                    index,
                    len: k.len(),
                    max: limits.max_key_bytes,
                });
            }
        }
        Ok(CompiledKeys {
            finders: keys.iter().map(|k| Finder::new(k).into_owned()).collect(),
            mode,
        })
    }

    /// The hint for one page of data.
    #[inline]
    pub fn matches(&self, page: &[u8]) -> bool {
        match self.mode {
            MatchMode::Any => self.finders.iter().any(|f| f.find(page).is_some()),
            MatchMode::All => self.finders.iter().all(|f| f.find(page).is_some()),
        }
    }

    /// The hints of `blocks`, in order: the same as [`CompiledKeys::matches`] of each, in
    /// turn. A run of at least [`PARALLEL_MIN_BLOCKS`] blocks is split into contiguous shares,
    /// one per thread the machine offers (at most [`MAX_THREADS`]), as the device's channel
    /// matchers work side by side. Only the simulator's wall time changes: which thread
    /// matched a block changes neither its hint nor any simulated time.
    pub fn matches_all(&self, blocks: &[&[u8]]) -> Vec<bool> {
        static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        let threads = if blocks.len() < PARALLEL_MIN_BLOCKS {
            1
        } else {
            *CORES
                .get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS)))
        };
        self.matches_split(blocks, threads)
    }

    /// [`CompiledKeys::matches_all`] on `threads` threads (the calling one among them).
    fn matches_split(&self, blocks: &[&[u8]], threads: usize) -> Vec<bool> {
        let match_share = |bs: &[&[u8]]| bs.iter().map(|b| self.matches(b)).collect::<Vec<bool>>();
        if threads <= 1 {
            return match_share(blocks);
        }
        let mut shares = blocks.chunks(blocks.len().div_ceil(threads));
        std::thread::scope(|scope| {
            // The first share on this thread; the others on their own, or on this one where a
            // thread cannot be started. A share's panic (a bug) goes on up as this thread's.
            let mine = shares.next().unwrap_or_default();
            let others: Vec<_> = shares
                .map(|bs| {
                    let spawned = std::thread::Builder::new()
                        .name("matcher".into())
                        .spawn_scoped(scope, move || match_share(bs));
                    (bs, spawned.ok())
                })
                .collect();
            let mut hints = match_share(mine);
            for (bs, thread) in others {
                match thread.map(|t| t.join()) {
                    Some(Ok(share)) => hints.extend(share),
                    Some(Err(panic)) => std::panic::resume_unwind(panic),
                    None => hints.extend(match_share(bs)),
                }
            }
            hints
        })
    }
}

/// Fewest blocks [`CompiledKeys::matches_all`] splits over threads (assumed): 1,024 blocks
/// are 4 MiB, about 0.4 ms of matching at 10 GiB/s, against about 80 us to start and join a
/// thread (a scoped spawn and join measured 76-84 us on a 2-vCPU VM).
pub const PARALLEL_MIN_BLOCKS: usize = 1024;

/// Most threads [`CompiledKeys::matches_all`] uses (assumed): the matching is bound by memory
/// bandwidth, which a few cores saturate.
pub const MAX_THREADS: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::DeviceProfile;

    #[test]
    fn limits_are_enforced() {
        let l = DeviceProfile::tiny().matcher;
        assert!(matches!(
            CompiledKeys::new(&[], MatchMode::Any, &l),
            Err(MatcherError::NoKeys { .. })
        ));
        let many = vec![b"a".to_vec(); 4];
        assert!(matches!(
            CompiledKeys::new(&many, MatchMode::Any, &l),
            Err(MatcherError::TooManyKeys { given: 4, .. })
        ));
        let long = vec![vec![b'x'; 17]];
        assert!(matches!(
            CompiledKeys::new(&long, MatchMode::Any, &l),
            Err(MatcherError::KeyLength {
                index: 0,
                len: 17,
                ..
            })
        ));
        assert!(matches!(
            CompiledKeys::new(&[vec![]], MatchMode::Any, &l),
            Err(MatcherError::KeyLength { len: 0, .. })
        ));
    }

    #[test]
    fn any_and_all() {
        let l = DeviceProfile::tiny().matcher;
        let keys = vec![b"foo".to_vec(), b"bar".to_vec()];
        let any = CompiledKeys::new(&keys, MatchMode::Any, &l).unwrap();
        let all = CompiledKeys::new(&keys, MatchMode::All, &l).unwrap();
        assert!(any.matches(b"xxfooxx") && !all.matches(b"xxfooxx"));
        assert!(any.matches(b"bar..foo") && all.matches(b"bar..foo"));
        assert!(!any.matches(b"fo ob ar"));
    }

    #[test]
    fn matching_many_blocks_at_once_gives_each_its_own_hint_in_order() {
        let l = DeviceProfile::tiny().matcher;
        let keys = vec![b"needle".to_vec(), b"pin".to_vec()];
        // Blocks of 64 bytes; block i holds "needle" if i % 7 == 3 and "pin" if i % 5 == 1.
        let n = PARALLEL_MIN_BLOCKS * 3 + 17;
        let data: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                let mut b = vec![b'.'; 64];
                if i % 7 == 3 {
                    b[10..16].copy_from_slice(b"needle");
                }
                if i % 5 == 1 {
                    b[40..43].copy_from_slice(b"pin");
                }
                b
            })
            .collect();
        let blocks: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        for mode in [MatchMode::Any, MatchMode::All] {
            let k = CompiledKeys::new(&keys, mode, &l).unwrap();
            let want: Vec<bool> = (0..n)
                .map(|i| match mode {
                    MatchMode::Any => i % 7 == 3 || i % 5 == 1,
                    MatchMode::All => i % 7 == 3 && i % 5 == 1,
                })
                .collect();
            // Split over the machine's threads, and below the threshold on this one.
            assert_eq!(k.matches_all(&blocks), want, "{mode:?}");
            let few = PARALLEL_MIN_BLOCKS - 1;
            assert_eq!(k.matches_all(&blocks[..few]), want[..few], "{mode:?}");
            // Every split this code can make, whatever the machine: 1 to MAX_THREADS shares,
            // the last one shorter (n is not a multiple of any of them), and more threads
            // than blocks.
            for threads in 1..=MAX_THREADS {
                assert_eq!(k.matches_split(&blocks, threads), want, "{mode:?} on {threads}");
            }
            assert_eq!(k.matches_split(&blocks[..3], MAX_THREADS), want[..3], "{mode:?}");
        }
        assert!(CompiledKeys::new(&keys, MatchMode::Any, &l)
            .unwrap()
            .matches_all(&[])
            .is_empty());
    }
}
