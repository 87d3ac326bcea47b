//! A small FxHash-style hasher (rustc's multiply-rotate hash): word counting is dominated by
//! the hash map, and std's SipHash costs about a third of the throughput (measured on the
//! wordcount SSDlet). Not DoS-resistant, which does not matter for counting words. The
//! wordcount SSDlets and the conventional host count use the same one, so neither side gets a
//! weaker hash map than the other.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// The hasher: `h = (h.rotate_left(5) ^ word) * K` over 8-byte words.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        while let Some((head, rest)) = bytes.split_first_chunk::<8>() {
            self.add(u64::from_le_bytes(*head));
            bytes = rest;
        }
        if let Some((head, rest)) = bytes.split_first_chunk::<4>() {
            self.add(u64::from(u32::from_le_bytes(*head)));
            bytes = rest;
        }
        for &b in bytes {
            self.add(u64::from(b));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The hash of a word, for partitioning (the same value on every SSDlet instance).
pub fn hash_word(word: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(word);
    // Mix the high bits down: the low bits of a multiplicative hash are weak.
    let x = h.finish();
    x ^ (x >> 32)
}
