//! String search near the data: the per-channel matchers hint pages, the SSDlet reads only
//! those (plus the bytes around them that complete lines) and confirms matches in software.
//!
//! | id | args | inputs | outputs | does |
//! |---|---|---|---|---|
//! | `grep` | `file: file`, `pattern: str` | | `lines: (u64, Vec<u8>)` | every line containing `pattern`, as (byte offset of the line's start, line without its `\n`), in file order |
//!
//! **Output.** Lines are identified by the byte offset where they start, not by line number:
//! a line number needs the newlines of every page before it, and the point of the matcher is
//! not to read those pages. A host that wants numbers counts newlines itself (or runs a second
//! pass); the `grep` crate's tests compare against `ndp_data::baseline::grep_offsets`. Lines are
//! split on `\n` only (a `\r` stays in the line), like `baseline::grep_lines`. An empty pattern
//! is refused.
//!
//! **Matcher keys, and why no match is lost.** The key `K` is the pattern, cut to the
//! matcher's key limit. The matcher only sees a key that lies inside one 4 KiB page, so an
//! occurrence of `K` that straddles pages `p | p+1` is invisible to a scan for `K` itself. The
//! scan therefore uses the two halves of `K` as keys instead: `A = K[..h]` and `B = K[h..]`
//! with `h = len(K) / 2`. If `K` straddles the boundary with its first `j` bytes in `p`, then
//! either `j >= h` and page `p` holds all of `A`, or `j < h` and page `p+1` holds all of `B`.
//! An occurrence inside one page holds both. So every occurrence of the pattern starting at
//! `s` has a hinted page `q` with `s` in `[q*4096 - (len(K) - 1), (q+1)*4096)`. For each hinted
//! page the SSDlet reads that window plus `len(pattern) - 1` bytes, finds the occurrences that
//! start in it with `memmem`-style search, and extends each to its whole line (reading
//! backwards and forwards as far as the line goes). Lines are deduplicated by start offset.
//! False positives (a half of the key occurs, or `K` without the rest of the pattern) cost a
//! read and are dropped by the confirmation. The price of the halves is more false positives
//! for a short pattern whose halves are common; a rare pattern with a rare half is still rare.

use std::collections::BTreeMap;

use ssdlet_sdk::{Context, File, Output, Ssdlet, SsdletError};

/// A matching line: (byte offset of its start, its bytes without the `\n`).
pub type Line = (u64, Vec<u8>);

/// Pages scanned per matcher request (so the hints of a large file arrive in pieces).
const SCAN_PAGES: u64 = 1 << 16;

/// Bytes read per step while extending a line backwards or forwards.
const STEP: u64 = 4096;

// INVARIANT(grep-no-lost-match): both halves, so a straddling occurrence still hints a page
/// The matcher keys for `pattern`: the halves of its first `max_key` bytes (one key if that is
/// a single byte).
pub fn keys_for(pattern: &[u8], max_key: usize) -> Vec<&[u8]> {
    let k = &pattern[..pattern.len().min(max_key.max(1))];
    if k.len() < 2 {
        return vec![k];
    }
    let (a, b) = k.split_at(k.len() / 2);
    vec![a, b]
}

fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return Vec::new();
    }
    let first = needle[0];
    let mut out = Vec::new();
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay[i..=hay.len() - needle.len()].iter().position(|&b| b == first) {
            Some(d) => {
                let s = i + d;
                if &hay[s..s + needle.len()] == needle {
                    out.push(s);
                }
                i = s + 1;
            }
            None => break,
        }
    }
    out
}

/// The start of the line holding byte `off - 1`'s successor (searching backwards from `off`).
fn line_start(file: &File, off: u64, buf: &mut Vec<u8>) -> Result<u64, SsdletError> {
    let mut end = off; // search [.., end)
    while end > 0 {
        let start = end.saturating_sub(STEP);
        buf.resize((end - start) as usize, 0);
        file.read_exact_at(start, buf)?;
        if let Some(i) = buf.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// The line starting at `start` (without its `\n`), and the offset just past its end.
fn line_from(file: &File, start: u64, len: u64) -> Result<(Vec<u8>, u64), SsdletError> {
    let mut line = Vec::new();
    let mut pos = start;
    let mut buf = vec![0u8; STEP as usize];
    while pos < len {
        let n = ((len - pos).min(STEP)) as usize;
        file.read_exact_at(pos, &mut buf[..n])?;
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            line.extend_from_slice(&buf[..i]);
            return Ok((line, pos + i as u64 + 1));
        }
        line.extend_from_slice(&buf[..n]);
        pos += n as u64;
    }
    Ok((line, len))
}

/// Finds the lines of `file` containing `pattern` (module docs).
pub struct Grep;
impl Ssdlet for Grep {
    type Args = (File, String);
    type Inputs = ();
    type Outputs = (Output<Line>,);
    const ARG_NAMES: &'static [&'static str] = &["file", "pattern"];
    const OUTPUT_NAMES: &'static [&'static str] = &["lines"];
    fn run(
        ctx: &Context,
        (file, pattern): (File, String),
        (): (),
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let pat = pattern.as_bytes();
        if pat.is_empty() {
            return Err(SsdletError::msg(
                "grep: the pattern is empty; expected at least one byte",
            ));
        }
        let limits = ctx.matcher_limits()?;
        let page = u64::from(limits.page_size);
        if page == 0 || limits.max_keys == 0 || limits.max_key_len == 0 {
            return Err(SsdletError::msg(format!(
                "grep: the matcher is unusable (page size {page}, {} keys of {} bytes)",
                limits.max_keys, limits.max_key_len
            )));
        }
        let keys = keys_for(pat, limits.max_key_len as usize);
        if keys.len() > limits.max_keys as usize {
            return Err(SsdletError::msg(format!(
                "grep: the matcher takes {} key(s) per scan; the pattern needs {}",
                limits.max_keys,
                keys.len()
            )));
        }
        let klen: u64 = keys.iter().map(|k| k.len() as u64).sum();
        let len = file.len()?;
        let pages = len.div_ceil(page);
        // Line start -> line; a BTreeMap keeps file order and drops duplicates.
        let mut found: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        let mut sent_up_to = 0u64; // lines starting before this were sent already
        let mut window = Vec::new();
        let mut scratch = Vec::new();
        let mut first = 0u64;
        while first < pages {
            let last = (first + SCAN_PAGES).min(pages);
            let hints = file.scan_pages(&keys, first..last)?;
            for (i, hint) in hints.into_iter().enumerate() {
                if !hint {
                    continue;
                }
                let q = first + i as u64;
                // Occurrences starting in [lo, hi) are this page's to find.
                let lo = (q * page).saturating_sub(klen - 1);
                let hi = ((q + 1) * page).min(len);
                let wend = (hi + pat.len() as u64 - 1).min(len);
                window.resize((wend - lo) as usize, 0);
                file.read_exact_at(lo, &mut window)?;
                let mut next_free = 0u64; // skip occurrences inside a line already taken
                for s in find_all(&window, pat) {
                    let at = lo + s as u64;
                    if at >= hi || at < next_free {
                        continue;
                    }
                    // Complete the line from the window when it holds the whole line.
                    let start = match window[..s].iter().rposition(|&b| b == b'\n') {
                        Some(i) => lo + i as u64 + 1,
                        None => line_start(&file, lo, &mut scratch)?,
                    };
                    let (line, end) = match window[s..].iter().position(|&b| b == b'\n') {
                        Some(i) if start >= lo => (
                            window[(start - lo) as usize..s + i].to_vec(),
                            lo + (s + i) as u64 + 1,
                        ),
                        _ => line_from(&file, start, len)?,
                    };
                    next_free = end;
                    found.entry(start).or_insert(line);
                }
            }
            // Lines starting before this batch's first possible occurrence are final.
            let settled = (last * page).saturating_sub(klen.max(1) - 1);
            let later = found.split_off(&settled);
            for (start, line) in std::mem::replace(&mut found, later) {
                if start >= sent_up_to {
                    sent_up_to = start + 1;
                    if out.put((start, line)).is_err() {
                        return Ok(());
                    }
                }
            }
            first = last;
        }
        for (start, line) in found {
            if start >= sent_up_to {
                sent_up_to = start + 1;
                if out.put((start, line)).is_err() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

ssdlet_sdk::register_module! {
    name: "grep",
    ssdlets: { "grep" => Grep },
}
