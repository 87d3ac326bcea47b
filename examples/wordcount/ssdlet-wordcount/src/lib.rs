//! Biscuit's wordcount (ISCA'16, appendix): mapper -> shuffler -> reducer, on the device.
//!
//! | id | args | inputs | outputs | does |
//! |---|---|---|---|---|
//! | `mapper` | `file: file` | | `pairs: Vec<(str, u64)>` | counts the words of the whole file, sends batches of `(word, count)` |
//! | `mapper_range` | `file: file`, `start: u64`, `end: u64` | | `pairs: Vec<(str, u64)>` | the same over the lines that start in `[start, end)` |
//! | `shuffler2` | | `in: Vec<(str, u64)>` | `out0`, `out1`: `Vec<(str, u64)>` | routes each pair to output `hash(word) % 2` |
//! | `merge2` | | `in0`, `in1`: `Vec<(str, u64)>` | `out: Vec<(str, u64)>` | forwards both inputs (several mappers into one shuffler) |
//! | `reducer` | | `in: Vec<(str, u64)>` | `counts: Vec<(str, u64)>` | sums counts per word, sends them (in batches) when its input closes |
//!
//! A word is a maximal run of bytes that are not ASCII whitespace (the rule of
//! `ndp_data::baseline::word_count`); a non-UTF-8 word is converted lossily, as there.
//! Mappers combine counts locally (a MapReduce combiner) until they hold [`COMBINE_WORDS`]
//! distinct words or their range ends, then send the pairs in messages of [`OUT_BATCH`]
//! pairs. With a natural-language vocabulary the combiner holds every distinct word, so the
//! shuffle moves each word about once per mapper: allocations and message encoding, not the
//! text, would otherwise dominate (every device allocation is a runtime call). Each reducer owns the words whose hash it is
//! given, so the reducers' outputs are disjoint and together are the file's word count.
//!
//! Every SSDlet yields after each batch it takes or sends (mappers after each read too): a long count is cooperative (other SSDlets on its core run meanwhile, and the
//! watchdog's time slice restarts).
//!
//! Splitting a file over mappers: `mapper_range` owns the lines that start inside its range
//! (a line starts at 0 or right after a `\n`), so ranges `[0, a)`, `[a, b)`, `[b, len)` with any
//! cut points count every word exactly once.

use ndp_data::fx::{hash_word, FxHashMap};
use ssdlet_sdk::{Context, File, Input, Output, Ssdlet, SsdletError};

/// A batch of `(word, count)` pairs: the message type of every port of this module.
pub type Pairs = Vec<(String, u64)>;

/// Text a mapper reads per internal read (and counts before it yields): 256 KiB.
pub const READ_BYTES: usize = 256 << 10;

/// Distinct words a mapper combines before it sends them (bounds its DRAM to ~16 MiB).
pub const COMBINE_WORDS: usize = 1 << 18;

/// Pairs per message a mapper or reducer sends.
pub const OUT_BATCH: usize = 4096;

/// Where the line containing offset `off - 1`'s successor starts: `0` for `0`, else the first
/// offset after a `\n` at or after `off - 1` (the file length if there is none).
fn line_start_at_or_after(file: &File, off: u64, len: u64) -> Result<u64, SsdletError> {
    if off == 0 {
        return Ok(0);
    }
    if off >= len {
        return Ok(len);
    }
    let mut pos = off - 1;
    let mut buf = vec![0u8; 64 * 1024];
    while pos < len {
        let n = file.read_at(pos, &mut buf)?;
        if n == 0 {
            break;
        }
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            return Ok(pos + i as u64 + 1);
        }
        pos += n as u64;
    }
    Ok(len)
}

/// Counts the words in `[start, end)` of `file` (both already at line starts) and sends a
/// the combined counts (module docs).
fn map_range(
    ctx: &Context,
    file: &File,
    start: u64,
    end: u64,
    out: &mut Output<Pairs>,
) -> Result<(), SsdletError> {
    let mut buf = vec![0u8; READ_BYTES];
    let mut carry = 0usize; // bytes of an unfinished word at the front of `buf`
    let mut pos = start;
    let mut counts: FxHashMap<Vec<u8>, u64> = FxHashMap::default();
    while pos < end {
        let want = ((end - pos) as usize).min(buf.len() - carry);
        let n = file.read_at(pos, &mut buf[carry..carry + want])?;
        if n == 0 {
            return Err(SsdletError::msg(format!(
                "file ended at {pos}, before the mapper's range end {end}"
            )));
        }
        pos += n as u64;
        let filled = carry + n;
        // Words may continue into the next read unless this is the range's end.
        let cut = if pos >= end {
            filled
        } else {
            match buf[..filled].iter().rposition(|b| b.is_ascii_whitespace()) {
                Some(i) => i + 1,
                None if filled == buf.len() => filled, // a word longer than the buffer: split it
                None => 0,
            }
        };
        count_words(&buf[..cut], &mut counts);
        ctx.yield_now();
        buf.copy_within(cut..filled, 0);
        carry = filled - cut;
        if counts.len() >= COMBINE_WORDS || pos >= end {
            let mut batch = Vec::with_capacity(OUT_BATCH.min(counts.len()));
            for (w, c) in counts.drain() {
                batch.push((String::from_utf8(w).unwrap_or_else(|e| lossy(e.as_bytes())), c));
                if batch.len() == OUT_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(OUT_BATCH));
                    if out.put(full).is_err() {
                        return Ok(()); // the consumer is gone
                    }
                    ctx.yield_now();
                }
            }
            if !batch.is_empty() && out.put(batch).is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn count_words(text: &[u8], counts: &mut FxHashMap<Vec<u8>, u64>) {
    for w in text.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
        match counts.get_mut(w) {
            Some(c) => *c += 1,
            None => {
                counts.insert(w.to_vec(), 1);
            }
        }
    }
}

/// Counts the words of a whole file.
pub struct Mapper;
impl Ssdlet for Mapper {
    type Args = (File,);
    type Inputs = ();
    type Outputs = (Output<Pairs>,);
    const ARG_NAMES: &'static [&'static str] = &["file"];
    const OUTPUT_NAMES: &'static [&'static str] = &["pairs"];
    fn run(ctx: &Context, (file,): (File,), (): (), (mut out,): Self::Outputs) -> Result<(), SsdletError> {
        let len = file.len()?;
        map_range(ctx, &file, 0, len, &mut out)
    }
}

/// Counts the words of the lines that start in `[start, end)`.
pub struct MapperRange;
impl Ssdlet for MapperRange {
    type Args = (File, u64, u64);
    type Inputs = ();
    type Outputs = (Output<Pairs>,);
    const ARG_NAMES: &'static [&'static str] = &["file", "start", "end"];
    const OUTPUT_NAMES: &'static [&'static str] = &["pairs"];
    fn run(
        ctx: &Context,
        (file, start, end): (File, u64, u64),
        (): (),
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        if start > end {
            return Err(SsdletError::msg(format!(
                "mapper range {start}..{end}: start must not exceed end"
            )));
        }
        let len = file.len()?;
        let a = line_start_at_or_after(&file, start, len)?;
        let b = line_start_at_or_after(&file, end, len)?;
        if a >= b {
            return Ok(());
        }
        map_range(ctx, &file, a, b, &mut out)
    }
}

/// Routes each pair to output `hash(word) % 2`.
pub struct Shuffler2;
impl Ssdlet for Shuffler2 {
    type Args = ();
    type Inputs = (Input<Pairs>,);
    type Outputs = (Output<Pairs>, Output<Pairs>);
    const INPUT_NAMES: &'static [&'static str] = &["in"];
    const OUTPUT_NAMES: &'static [&'static str] = &["out0", "out1"];
    fn run(
        ctx: &Context,
        (): (),
        (mut input,): Self::Inputs,
        (mut out0, mut out1): Self::Outputs,
    ) -> Result<(), SsdletError> {
        while let Some(batch) = input.get() {
            ctx.yield_now();
            let mut parts: [Pairs; 2] = [Vec::new(), Vec::new()];
            for (w, c) in batch {
                parts[(hash_word(w.as_bytes()) % 2) as usize].push((w, c));
            }
            let [p0, p1] = parts;
            if !p0.is_empty() {
                out0.put(p0)
                    .map_err(|_| SsdletError::msg("shuffler: reducer on out0 is gone"))?;
            }
            if !p1.is_empty() {
                out1.put(p1)
                    .map_err(|_| SsdletError::msg("shuffler: reducer on out1 is gone"))?;
            }
        }
        Ok(())
    }
}

/// Forwards the batches of two inputs to one output (alternating while both are open).
pub struct Merge2;
impl Ssdlet for Merge2 {
    type Args = ();
    type Inputs = (Input<Pairs>, Input<Pairs>);
    type Outputs = (Output<Pairs>,);
    const INPUT_NAMES: &'static [&'static str] = &["in0", "in1"];
    const OUTPUT_NAMES: &'static [&'static str] = &["out"];
    fn run(
        ctx: &Context,
        (): (),
        (mut in0, mut in1): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let (mut open0, mut open1) = (true, true);
        while open0 || open1 {
            for (open, input) in [(&mut open0, &mut in0), (&mut open1, &mut in1)] {
                if !*open {
                    continue;
                }
                match input.get() {
                    Some(batch) => {
                        out.put(batch)
                            .map_err(|_| SsdletError::msg("merge: the consumer of `out` is gone"))?;
                        ctx.yield_now();
                    }
                    None => *open = false,
                }
            }
        }
        Ok(())
    }
}

/// Sums counts per word; sends them in batches once its input is closed.
pub struct Reducer;
impl Ssdlet for Reducer {
    type Args = ();
    type Inputs = (Input<Pairs>,);
    type Outputs = (Output<Pairs>,);
    const INPUT_NAMES: &'static [&'static str] = &["in"];
    const OUTPUT_NAMES: &'static [&'static str] = &["counts"];
    fn run(
        ctx: &Context,
        (): (),
        (mut input,): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let mut counts: FxHashMap<String, u64> = FxHashMap::default();
        while let Some(batch) = input.get() {
            ctx.yield_now();
            for (w, c) in batch {
                match counts.get_mut(&w) {
                    Some(total) => *total = total.saturating_add(c),
                    None => {
                        counts.insert(w, c);
                    }
                }
            }
        }
        let mut batch = Vec::with_capacity(OUT_BATCH.min(counts.len()));
        for pair in counts {
            batch.push(pair);
            if batch.len() == OUT_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(OUT_BATCH));
                out.put(full)
                    .map_err(|_| SsdletError::msg("reducer: the consumer of `counts` is gone"))?;
                ctx.yield_now();
            }
        }
        if !batch.is_empty() {
            out.put(batch)
                .map_err(|_| SsdletError::msg("reducer: the consumer of `counts` is gone"))?;
        }
        Ok(())
    }
}

ssdlet_sdk::register_module! {
    name: "wordcount",
    ssdlets: {
        "mapper" => Mapper,
        "mapper_range" => MapperRange,
        "shuffler2" => Shuffler2,
        "merge2" => Merge2,
        "reducer" => Reducer,
    },
}
