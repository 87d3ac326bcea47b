//! YourSQL's device side: the early filter and the sampler over a table of row pages
//! (`yoursql-core`'s format: one 4 KiB page per device block, no row across pages).
//!
//! | id | args | outputs | does |
//! |---|---|---|---|
//! | `filter` | `file: file`, `keys: str`, `all: bool`, `chunk: u64` | `hints: (u64, u64, Vec<u32>)` | runs the matchers over every page, `chunk` pages per request, and sends per request (first page, pages covered, hinted pages as offsets from the first), in page order |
//! | `sampler` | `file: file`, `keys: str`, `all: bool`, `pages: u64`, `run: u64`, `seed: u64` | `ratio: (u64, u64)` | runs the matchers over about `pages` pages in runs of `run` consecutive pages at seeded random places, and sends (pages scanned, pages hinted) once |
//!
//! `keys` are hex, comma-separated (`"c207cb0111,41495200"`). With `all` false a page is
//! hinted when it holds any key (the hardware's mode); with `all` true it must hold every key:
//! the first key is scanned over the whole range, each further key only over the pages still
//! hinted, so the extra scans cost reads of hinted pages only.
//!
//! The sampler picks run starts with SplitMix64 from `seed` (deterministic), without
//! repetition, so that it never scans a page twice; a table smaller than `pages` is scanned
//! whole.

use ssdlet_sdk::{Context, File, Output, Ssdlet, SsdletError};

/// Page size the format uses (one device block).
const PAGE: u64 = 4096;

/// Decodes the `keys` argument.
fn parse_keys(text: &str) -> Result<Vec<Vec<u8>>, SsdletError> {
    let bad = || {
        SsdletError::msg(format!(
            "yoursql: keys `{text}` are not comma-separated hex byte strings"
        ))
    };
    let mut keys = Vec::new();
    for k in text.split(',') {
        if k.is_empty() || k.len() % 2 != 0 {
            return Err(bad());
        }
        let bytes = (0..k.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(k.get(i..i + 2).unwrap_or("x"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| bad())?;
        keys.push(bytes);
    }
    Ok(keys)
}

fn check_limits(ctx: &Context, keys: &[Vec<u8>], all: bool) -> Result<(), SsdletError> {
    let lim = ctx.matcher_limits()?;
    if u64::from(lim.page_size) != PAGE {
        return Err(SsdletError::msg(format!(
            "yoursql: the matcher's page is {} bytes; expected {PAGE}",
            lim.page_size
        )));
    }
    let per_scan = if all { 1 } else { keys.len() };
    if per_scan > lim.max_keys as usize {
        return Err(SsdletError::msg(format!(
            "yoursql: {per_scan} keys per scan; the matcher takes {}",
            lim.max_keys
        )));
    }
    if let Some(k) = keys.iter().find(|k| k.len() > lim.max_key_len as usize) {
        return Err(SsdletError::msg(format!(
            "yoursql: a key of {} bytes; the matcher takes at most {}",
            k.len(),
            lim.max_key_len
        )));
    }
    Ok(())
}

/// Hints for pages `first..first + count` (module docs for `all`).
fn hints(file: &File, keys: &[Vec<u8>], all: bool, first: u64, count: u64) -> Result<Vec<bool>, SsdletError> {
    let range = first..first + count;
    if !all {
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        return Ok(file.scan_pages(&refs, range)?);
    }
    let mut hit = file.scan_pages(&[keys[0].as_slice()], range)?;
    for k in &keys[1..] {
        let mut i = 0usize;
        while i < hit.len() {
            if !hit[i] {
                i += 1;
                continue;
            }
            let start = i;
            while i < hit.len() && hit[i] {
                i += 1;
            }
            let again = file.scan_pages(&[k.as_slice()], first + start as u64..first + i as u64)?;
            for (j, h) in again.into_iter().enumerate() {
                hit[start + j] = h;
            }
        }
    }
    Ok(hit)
}

fn pages_of(file: &File) -> Result<u64, SsdletError> {
    Ok(file.len()?.div_ceil(PAGE))
}

/// The early filter (module docs).
pub struct Filter;
impl Ssdlet for Filter {
    type Args = (File, String, bool, u64);
    type Inputs = ();
    type Outputs = (Output<(u64, u64, Vec<u32>)>,);
    const ARG_NAMES: &'static [&'static str] = &["file", "keys", "all", "chunk"];
    const OUTPUT_NAMES: &'static [&'static str] = &["hints"];
    fn run(
        ctx: &Context,
        (file, keys, all, chunk): Self::Args,
        (): (),
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let keys = parse_keys(&keys)?;
        check_limits(ctx, &keys, all)?;
        let chunk = chunk.clamp(1, u64::from(u32::MAX));
        let pages = pages_of(&file)?;
        let mut first = 0;
        while first < pages {
            let count = chunk.min(pages - first);
            let h = hints(&file, &keys, all, first, count)?;
            let hinted: Vec<u32> = h
                .iter()
                .enumerate()
                .filter(|(_, &b)| b)
                .map(|(i, _)| i as u32)
                .collect();
            if out.put((first, count, hinted)).is_err() {
                return Ok(()); // the host stopped listening
            }
            first += count;
        }
        Ok(())
    }
}

/// SplitMix64: a small, well-mixed, seedable generator.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The sampler (module docs).
pub struct Sampler;
impl Ssdlet for Sampler {
    type Args = (File, String, bool, u64, u64, u64);
    type Inputs = ();
    type Outputs = (Output<(u64, u64)>,);
    const ARG_NAMES: &'static [&'static str] = &["file", "keys", "all", "pages", "run", "seed"];
    const OUTPUT_NAMES: &'static [&'static str] = &["ratio"];
    fn run(
        ctx: &Context,
        (file, keys, all, want, run, seed): Self::Args,
        (): (),
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let keys = parse_keys(&keys)?;
        check_limits(ctx, &keys, all)?;
        let pages = pages_of(&file)?;
        let run = run.max(1);
        let (mut scanned, mut hinted) = (0u64, 0u64);
        if want >= pages {
            let h = hints(&file, &keys, all, 0, pages)?;
            scanned = pages;
            hinted = h.iter().filter(|&&b| b).count() as u64;
        } else {
            // Runs are slots of `run` pages; pick distinct slots at random.
            let slots = pages.div_ceil(run);
            let take = want.div_ceil(run).min(slots);
            let mut rng = SplitMix(seed);
            let mut picked: Vec<u64> = Vec::with_capacity(take as usize);
            while (picked.len() as u64) < take {
                let s = rng.next() % slots;
                if !picked.contains(&s) {
                    picked.push(s);
                }
            }
            picked.sort_unstable();
            for s in picked {
                let first = s * run;
                let count = run.min(pages - first);
                let h = hints(&file, &keys, all, first, count)?;
                scanned += count;
                hinted += h.iter().filter(|&&b| b).count() as u64;
            }
        }
        let _ = out.put((scanned, hinted));
        Ok(())
    }
}

ssdlet_sdk::register_module! {
    name: "yoursql",
    ssdlets: { "filter" => Filter, "sampler" => Sampler },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_from_hex() {
        assert_eq!(
            parse_keys("c207cb0111,41495200").unwrap(),
            vec![vec![0xC2, 0x07, 0xCB, 0x01, 0x11], b"AIR\0".to_vec()]
        );
        for bad in ["", "c2,", "c", "zz", "c2,,41", "c2 07"] {
            let e = parse_keys(bad).unwrap_err();
            assert!(e.message().contains("hex"), "{bad}: {}", e.message());
        }
    }

    #[test]
    fn splitmix_is_seeded() {
        let a: Vec<u64> = (0..4).scan(SplitMix(7), |r, _| Some(r.next())).collect();
        let b: Vec<u64> = (0..4).scan(SplitMix(7), |r, _| Some(r.next())).collect();
        let c: Vec<u64> = (0..4).scan(SplitMix(8), |r, _| Some(r.next())).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        // The published first output for seed 0.
        assert_eq!(SplitMix(0).next(), 0xE220_A839_7B1D_CDAF);
    }
}
