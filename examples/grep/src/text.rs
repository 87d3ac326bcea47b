//! The conventional grep's streaming host computation: [`LineScanner`] takes the file chunk by
//! chunk as a scan delivers it (lines may straddle chunks) and gives the same lines as
//! `ndp_data::baseline::grep_offsets` over the whole file.

/// A line found by grep: (byte offset of its start, its bytes without the `\n`).
pub type LineHit = (u64, Vec<u8>);

/// Lines containing `pattern` in `text`, as (offset of the line's start, line), with `memmem`.
pub fn grep_offsets_fast(text: &[u8], pattern: &[u8]) -> Vec<LineHit> {
    if pattern.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    grep_offsets_with(text, &memchr::memmem::Finder::new(pattern), 0, &mut out);
    out
}

/// Appends to `out` the lines of `text` holding `finder`'s pattern, their offsets shifted by
/// `base` (a streaming scan reuses one searcher and one list for every chunk).
fn grep_offsets_with(text: &[u8], finder: &memchr::memmem::Finder<'_>, base: u64, out: &mut Vec<LineHit>) {
    let mut pos = 0usize;
    while let Some(i) = finder.find(&text[pos..]) {
        let at = pos + i;
        let start = memchr::memrchr(b'\n', &text[..at]).map_or(0, |j| j + 1);
        let end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |j| at + j);
        out.push((base + start as u64, text[start..end].to_vec()));
        if end >= text.len() {
            break;
        }
        pos = end + 1;
    }
}

/// Finds the lines containing a pattern over chunks (lines may straddle chunks).
pub struct LineScanner {
    pattern: Vec<u8>,
    /// The pattern's searcher, built once.
    finder: memchr::memmem::Finder<'static>,
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
            finder: memchr::memmem::Finder::new(pattern).into_owned(),
            fed: 0,
            carry: Vec::new(),
            hits: Vec::new(),
        }
    }

    /// Tests the carried line (now complete) and empties the carry, keeping its capacity so
    /// that a steady scan allocates nothing per chunk.
    fn finish_carry(&mut self, start: u64) {
        if !self.pattern.is_empty() && self.finder.find(&self.carry).is_some() {
            self.hits.push((start, self.carry.clone()));
        }
        self.carry.clear();
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
                    self.carry.extend_from_slice(&rest[..i]);
                    self.finish_carry(start);
                    rest = &rest[i + 1..];
                    off += i as u64 + 1;
                }
            }
        }
        match memchr::memrchr(b'\n', rest) {
            None => self.carry.extend_from_slice(rest),
            Some(j) => {
                if !self.pattern.is_empty() {
                    grep_offsets_with(&rest[..j], &self.finder, off, &mut self.hits);
                }
                self.carry.extend_from_slice(&rest[j + 1..]);
            }
        }
    }

    /// The lines found, in file order, once every chunk was fed.
    pub fn finish(mut self) -> Vec<LineHit> {
        if !self.carry.is_empty() {
            self.finish_carry(self.fed - self.carry.len() as u64);
        }
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_support::baseline;

    fn owned(v: Vec<(u64, &[u8])>) -> Vec<LineHit> {
        v.into_iter().map(|(o, l)| (o, l.to_vec())).collect()
    }

    #[test]
    fn chunked_equals_whole_for_every_chunk_size() {
        let text = b"ab cd\nxx ab\n\nab\nlong line with ab inside ab twice\nlast ab".to_vec();
        let want = owned(baseline::grep_offsets(&text, b"ab"));
        for size in 1..=text.len() {
            let mut g = LineScanner::new(b"ab");
            for c in text.chunks(size) {
                g.feed(c);
            }
            assert_eq!(g.finish(), want, "chunk size {size}");
        }
    }
}
