//! Text with a Zipf word distribution, for wordcount and string search.
//!
//! A vocabulary of `vocabulary` distinct pseudo-words (lowercase, 2 to 12 letters) is drawn
//! from the seed; each word of the text is the vocabulary's `k`-th word with probability
//! proportional to `1 / k^exponent` (Zipf). Lines hold 4 to 16 words separated by one space.
//! Words are made only of `a..=z`, so a search pattern with another character (e.g. a digit)
//! never occurs unless planted.

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct TextSpec {
    /// Bytes of text (the last line is cut to fit exactly). Unit: bytes.
    pub bytes: u64,
    /// Distinct words. Unit: count. Default 200,000 (assumed: a large English corpus's working vocabulary).
    pub vocabulary: usize,
    /// Zipf exponent. Unit: none. Default 1.0.
    pub exponent: f64,
    /// Seed of the generator.
    pub seed: u64,
}

impl TextSpec {
    /// `bytes` of text with the default vocabulary and exponent.
    pub fn new(bytes: u64, seed: u64) -> Self {
        TextSpec {
            bytes,
            vocabulary: 200_000,
            exponent: 1.0,
            seed,
        }
    }
}

/// A Zipf sampler over ranks `0..n` (inverse CDF by binary search).
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// Ranks `0..n` with weights `1 / (k + 1)^exponent`. `n` must be at least 1.
    pub fn new(n: usize, exponent: f64) -> Self {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (0..n.max(1))
            .map(|k| {
                acc += 1.0 / ((k + 1) as f64).powf(exponent);
                acc
            })
            .collect();
        for c in &mut cdf {
            *c /= acc;
        }
        Zipf { cdf }
    }

    /// A rank drawn from `u` uniform in `[0, 1)`.
    pub fn rank(&self, u: f64) -> usize {
        self.cdf.partition_point(|&c| c <= u).min(self.cdf.len() - 1)
    }
}

/// The vocabulary for a seed: `n` distinct lowercase words.
pub fn vocabulary(n: usize, seed: u64) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x766f_6361_6200);
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut words = Vec::with_capacity(n);
    while words.len() < n {
        let len = rng.usize(2..=12);
        let w: String = (0..len).map(|_| rng.lowercase()).collect();
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

/// Generates the text, calling `sink` with successive chunks (about 64 KiB each, ending at line
/// boundaries except for the last) so that large texts need not be held in memory.
pub fn generate(spec: &TextSpec, mut sink: impl FnMut(&[u8])) {
    let words = vocabulary(spec.vocabulary, spec.seed);
    let zipf = Zipf::new(words.len(), spec.exponent);
    let mut rng = fastrand::Rng::with_seed(spec.seed);
    let mut left = spec.bytes;
    let mut buf = Vec::with_capacity(80 << 10);
    while left > 0 {
        let mut line = Vec::with_capacity(128);
        for i in 0..rng.usize(4..=16) {
            if i > 0 {
                line.push(b' ');
            }
            line.extend_from_slice(words[zipf.rank(rng.f64())].as_bytes());
        }
        line.push(b'\n');
        let take = (line.len() as u64).min(left) as usize;
        buf.extend_from_slice(&line[..take]);
        left -= take as u64;
        if buf.len() >= 64 << 10 {
            sink(&buf);
            buf.clear();
        }
    }
    if !buf.is_empty() {
        sink(&buf);
    }
}

/// The whole text in memory (for tests and small sizes).
pub fn generate_vec(spec: &TextSpec) -> Vec<u8> {
    let mut out = Vec::with_capacity(spec.bytes as usize);
    generate(spec, |c| out.extend_from_slice(c));
    out
}

/// Plants `pattern` in `count` lines spread evenly over `text` (overwriting bytes at offsets
/// `(2i + 1) * len / (2 * count)`; a newline overwritten joins two lines); returns the
/// offsets. Does nothing if the text is shorter than `2 * count` patterns.
pub fn plant(text: &mut [u8], pattern: &[u8], count: usize) -> Vec<usize> {
    let len = text.len();
    if count == 0 || pattern.is_empty() || len < count * pattern.len() * 2 {
        return Vec::new();
    }
    let mut at = Vec::with_capacity(count);
    for i in 0..count {
        let a = ((2 * i + 1) * len / (2 * count)).min(len - pattern.len());
        text[a..a + pattern.len()].copy_from_slice(pattern);
        at.push(a);
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_size_and_deterministic() {
        let spec = TextSpec {
            vocabulary: 1000,
            ..TextSpec::new(300_001, 42)
        };
        let a = generate_vec(&spec);
        assert_eq!(a.len(), 300_001);
        assert_eq!(a, generate_vec(&spec));
        let other = generate_vec(&TextSpec { seed: 43, ..spec });
        assert_ne!(a, other);
        assert!(a
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b == b' ' || b == b'\n'));
    }

    #[test]
    fn zipf_ranks_follow_the_weights() {
        let z = Zipf::new(100, 1.0);
        let mut rng = fastrand::Rng::with_seed(1);
        let mut counts = [0u32; 100];
        for _ in 0..200_000 {
            counts[z.rank(rng.f64())] += 1;
        }
        // Rank 0 is about twice as frequent as rank 1 and ten times rank 9.
        let r01 = f64::from(counts[0]) / f64::from(counts[1]);
        let r09 = f64::from(counts[0]) / f64::from(counts[9]);
        assert!((1.8..2.2).contains(&r01), "{r01}");
        assert!((8.5..11.5).contains(&r09), "{r09}");
        assert_eq!(z.rank(0.0), 0);
        assert_eq!(z.rank(0.999_999_999), 99);
    }

    #[test]
    fn planted_patterns_are_found() {
        let mut t = generate_vec(&TextSpec {
            vocabulary: 100,
            ..TextSpec::new(100_000, 1)
        });
        let at = plant(&mut t, b"XYZZY-1", 10);
        assert_eq!(at.len(), 10);
        let found = t.windows(7).filter(|w| w == b"XYZZY-1").count();
        assert_eq!(found, 10);
        assert!(plant(&mut t[..10], b"XYZZY-1", 10).is_empty());
    }

    #[test]
    fn vocabulary_is_distinct() {
        let v = vocabulary(5000, 9);
        let set: std::collections::HashSet<_> = v.iter().collect();
        assert_eq!(set.len(), 5000);
    }
}
