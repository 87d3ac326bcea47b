//! Plain native computations the examples are checked against: they share no code with the
//! SSDlets or the device, so agreement means something (INVARIANT(baselines-not-shared)).

use std::collections::HashMap;

use crate::gen::graph::{next_hop, Graph, GraphError};

/// Counts words: maximal runs of bytes that are not ASCII whitespace.
pub fn word_count(text: &[u8]) -> HashMap<String, u64> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for word in text.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
        let w = String::from_utf8_lossy(word);
        match counts.get_mut(w.as_ref()) {
            Some(c) => *c += 1,
            None => {
                counts.insert(w.into_owned(), 1);
            }
        }
    }
    counts
}

/// The `n` most frequent words, most frequent first, ties by word.
pub fn top_words(counts: &HashMap<String, u64>, n: usize) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.iter().map(|(w, &c)| (w.clone(), c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

/// Lines containing `pattern`, as (line number from 0, line without its newline).
pub fn grep_lines<'a>(text: &'a [u8], pattern: &[u8]) -> Vec<(u64, &'a [u8])> {
    let finder = naive_find(pattern);
    text.split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| finder(line))
        .map(|(i, line)| (i as u64, line))
        .collect()
}

/// [`grep_lines`] with each line identified by the byte offset where it starts (the NDP
/// grep's output: line numbers would need every page's newlines).
pub fn grep_offsets<'a>(text: &'a [u8], pattern: &[u8]) -> Vec<(u64, &'a [u8])> {
    let mut starts = vec![0u64];
    starts.extend(
        text.iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .map(|(i, _)| i as u64 + 1),
    );
    grep_lines(text, pattern)
        .into_iter()
        .map(|(n, line)| (starts[n as usize], line))
        .collect()
}

/// A deliberately naive substring test (windows), independent of the matcher's `memmem`.
fn naive_find(pattern: &[u8]) -> impl Fn(&[u8]) -> bool + '_ {
    move |hay: &[u8]| pattern.is_empty() || hay.windows(pattern.len()).any(|w| w == pattern)
}

/// The nodes a walk from `start` visits in `hops` hops (start included), reading pages
/// straight from the generator.
pub fn walk(graph: &Graph, start: u64, hops: u32) -> Result<Vec<u64>, GraphError> {
    let mut path = Vec::with_capacity(hops as usize + 1);
    let mut node = start;
    path.push(node);
    for hop in 0..hops {
        node = next_hop(&graph.page(node), node, start, hop)?;
        path.push(node);
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::graph::GraphSpec;

    #[test]
    fn counts_and_top() {
        let c = word_count(b"a b  a\nc a\tb\n");
        assert_eq!(c["a"], 3);
        assert_eq!(c["b"], 2);
        assert_eq!(top_words(&c, 2), vec![("a".into(), 3), ("b".into(), 2)]);
    }

    #[test]
    fn grep_numbers_lines() {
        let hits = grep_lines(b"foo\nbar\nxfoox\n", b"foo");
        assert_eq!(hits, vec![(0, &b"foo"[..]), (2, &b"xfoox"[..])]);
        let hits = grep_offsets(b"foo\nbar\nxfoox\n", b"foo");
        assert_eq!(hits, vec![(0, &b"foo"[..]), (8, &b"xfoox"[..])]);
    }

    #[test]
    fn walks_are_deterministic() {
        let g = Graph::new(GraphSpec::with_bytes(4096 * 1000, 11)).unwrap();
        let a = walk(&g, 17, 50).unwrap();
        assert_eq!(a.len(), 51);
        assert_eq!(a, walk(&g, 17, 50).unwrap());
        assert_ne!(a, walk(&g, 18, 50).unwrap());
    }
}
