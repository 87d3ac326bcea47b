//! The conventional wordcount's streaming host computation: [`WordCounter`] takes the file
//! chunk by chunk as a scan delivers it (words may straddle chunks) and gives the same counts
//! as `ndp_data::baseline::word_count` over the whole file.
//!
//! As strong as the device's mappers: words are counted as bytes in an Fx hash map (the
//! SSDlets' own hasher, `ndp_data::fx`) and converted to strings once, at the end, so the
//! conventional path is faster than the plain native count it is checked against.

use std::collections::HashMap;

use app_support::fx::FxHashMap;

/// Counts words (maximal runs of bytes that are not ASCII whitespace) over chunks.
#[derive(Default)]
pub struct WordCounter {
    counts: FxHashMap<Vec<u8>, u64>,
    carry: Vec<u8>,
}

impl WordCounter {
    fn count(&mut self, word: &[u8]) {
        if word.is_empty() {
            return;
        }
        match self.counts.get_mut(word) {
            Some(c) => *c += 1,
            None => {
                self.counts.insert(word.to_vec(), 1);
            }
        }
    }

    /// Takes the next chunk of the file.
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        if !self.carry.is_empty() {
            match rest.iter().position(u8::is_ascii_whitespace) {
                None => {
                    self.carry.extend_from_slice(rest);
                    return;
                }
                Some(i) => {
                    let mut word = std::mem::take(&mut self.carry);
                    word.extend_from_slice(&rest[..i]);
                    self.count(&word);
                    word.clear();
                    self.carry = word;
                    rest = &rest[i..];
                }
            }
        }
        match rest.iter().rposition(u8::is_ascii_whitespace) {
            None => self.carry.extend_from_slice(rest),
            Some(j) => {
                for w in rest[..j].split(u8::is_ascii_whitespace) {
                    self.count(w);
                }
                self.carry.extend_from_slice(&rest[j + 1..]);
            }
        }
    }

    /// The counts, once every chunk was fed.
    pub fn finish(mut self) -> HashMap<String, u64> {
        let last = std::mem::take(&mut self.carry);
        self.count(&last);
        let mut out = HashMap::with_capacity(self.counts.len());
        for (word, c) in self.counts {
            // Two invalid byte strings may convert to the same text: their counts add up.
            let w = match String::from_utf8(word) {
                Ok(w) => w,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            };
            *out.entry(w).or_insert(0) += c;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_support::baseline;

    #[test]
    fn chunked_equals_whole_for_every_chunk_size() {
        let text = b"ab cd\nxx ab\n\nab\nlong line with ab inside ab twice\nlast ab".to_vec();
        let want = baseline::word_count(&text);
        for size in 1..=text.len() {
            let mut w = WordCounter::default();
            for c in text.chunks(size) {
                w.feed(c);
            }
            assert_eq!(w.finish(), want, "chunk size {size}");
        }
    }
}
