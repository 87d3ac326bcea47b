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
}

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
}
