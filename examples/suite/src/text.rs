//! Streaming host computations for the conventional runs: they take the file chunk by chunk
//! as a scan delivers it (words and lines may straddle chunks) and give the same answers as
//! `ndp_data::baseline` over the whole file.

use std::collections::HashMap;

/// A line found by grep: (byte offset of its start, its bytes without the `\n`).
pub type LineHit = (u64, Vec<u8>);

/// Counts words (maximal runs of bytes that are not ASCII whitespace) over chunks.
#[derive(Default)]
pub struct WordCounter {
    counts: HashMap<String, u64>,
    carry: Vec<u8>,
}

impl WordCounter {
    fn count(&mut self, word: &[u8]) {
        if word.is_empty() {
            return;
        }
        let w = String::from_utf8_lossy(word);
        match self.counts.get_mut(w.as_ref()) {
            Some(c) => *c += 1,
            None => {
                self.counts.insert(w.into_owned(), 1);
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
        self.counts
    }
}

/// Lines containing `pattern` in `text`, as (offset of the line's start, line), with `memmem`.
pub fn grep_offsets_fast(text: &[u8], pattern: &[u8]) -> Vec<LineHit> {
    let mut out = Vec::new();
    if pattern.is_empty() {
        return out;
    }
    let finder = memchr::memmem::Finder::new(pattern);
    let mut pos = 0usize;
    while let Some(i) = finder.find(&text[pos..]) {
        let at = pos + i;
        let start = memchr::memrchr(b'\n', &text[..at]).map_or(0, |j| j + 1);
        let end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |j| at + j);
        out.push((start as u64, text[start..end].to_vec()));
        if end >= text.len() {
            break;
        }
        pos = end + 1;
    }
    out
}

/// Finds the lines containing a pattern over chunks (lines may straddle chunks).
pub struct LineScanner {
    pattern: Vec<u8>,
    /// File offset of the next chunk.
    fed: u64,
    /// The unfinished last line.
    carry: Vec<u8>,
    hits: Vec<LineHit>,
}

impl LineScanner {
    /// A scanner for `pattern` (an empty pattern matches nothing).
    pub fn new(pattern: &[u8]) -> Self {
        LineScanner {
            pattern: pattern.to_vec(),
            fed: 0,
            carry: Vec::new(),
            hits: Vec::new(),
        }
    }

    fn line(&mut self, start: u64, line: Vec<u8>) {
        if !self.pattern.is_empty() && memchr::memmem::find(&line, &self.pattern).is_some() {
            self.hits.push((start, line));
        }
    }

    /// Takes the next chunk of the file.
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        let mut off = self.fed;
        self.fed += chunk.len() as u64;
        if !self.carry.is_empty() {
            let start = off - self.carry.len() as u64;
            match memchr::memchr(b'\n', rest) {
                None => {
                    self.carry.extend_from_slice(rest);
                    return;
                }
                Some(i) => {
                    let mut line = std::mem::take(&mut self.carry);
                    line.extend_from_slice(&rest[..i]);
                    self.line(start, line);
                    rest = &rest[i + 1..];
                    off += i as u64 + 1;
                }
            }
        }
        match memchr::memrchr(b'\n', rest) {
            None => self.carry.extend_from_slice(rest),
            Some(j) => {
                let found = grep_offsets_fast(&rest[..j], &self.pattern);
                self.hits.extend(found.into_iter().map(|(o, l)| (off + o, l)));
                self.carry.extend_from_slice(&rest[j + 1..]);
            }
        }
    }

    /// The lines found, in file order, once every chunk was fed.
    pub fn finish(mut self) -> Vec<LineHit> {
        if !self.carry.is_empty() {
            let line = std::mem::take(&mut self.carry);
            self.line(self.fed - line.len() as u64, line);
        }
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndp_data::baseline;

    fn owned(v: Vec<(u64, &[u8])>) -> Vec<LineHit> {
        v.into_iter().map(|(o, l)| (o, l.to_vec())).collect()
    }

    #[test]
    fn chunked_equals_whole_for_every_chunk_size() {
        let text = b"ab cd\nxx ab\n\nab\nlong line with ab inside ab twice\nlast ab".to_vec();
        let want_words = baseline::word_count(&text);
        let want_lines = owned(baseline::grep_offsets(&text, b"ab"));
        for size in 1..=text.len() {
            let mut w = WordCounter::default();
            let mut g = LineScanner::new(b"ab");
            for c in text.chunks(size) {
                w.feed(c);
                g.feed(c);
            }
            assert_eq!(w.finish(), want_words, "chunk size {size}");
            assert_eq!(g.finish(), want_lines, "chunk size {size}");
        }
    }
}
