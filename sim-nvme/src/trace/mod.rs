//! The timeline recorder: what the simulated hardware, the device runtime and the host clock
//! were busy with, in simulated time, for `--trace FILE.json`.
//!
//! Off by default. [`start`] turns it on for the process, [`finish`] turns it off and returns
//! the [`Trace`] (slices per track, counter samples, message flows), which
//! [`Trace::write_chrome`] writes as Chrome trace-event JSON (Perfetto UI and
//! `chrome://tracing` open it). The recorder is process-wide because the times it records are
//! computed in three crates and on several threads (the device thread, host threads); every
//! recording function first reads one relaxed atomic flag and returns when it is off, so a run
//! without a trace pays a branch per event site and allocates nothing
//! (INVARIANT(trace-off-costs-nothing)). Recording only reads instants the model has already
//! computed; it never feeds back into them (INVARIANT(trace-does-not-change-figures)).
//!
//! The number of events is capped ([`TraceConfig::max_events`]): once reached, later events
//! are dropped and counted, and the written metadata says so (the trace is then the run's
//! beginning). Messages whose other end was dropped are left out of the file.
//!
//! Order: events are sorted when the trace is finished (tracks, then instants), so a run
//! whose simulated times are reproducible (modeled compute) gives the same file every time,
//! whatever the threads' interleaving was.

mod chrome;
mod model;

pub use chrome::TraceError;
pub use model::{CounterKind, CounterSample, Flow, FlowEnd, Group, NameId, Slice, Trace, Track};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::time::SimTime;

/// Events recorded at most by default (slices, counter samples, flow ends): about 200 MB of
/// memory and a few hundred MB of JSON at the cap.
pub const DEFAULT_MAX_EVENTS: u64 = 4_000_000;

/// How a trace is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceConfig {
    /// Events recorded at most; later ones are dropped and counted.
    pub max_events: u64,
}

impl Default for TraceConfig {
    fn default() -> Self {
        TraceConfig {
            max_events: DEFAULT_MAX_EVENTS,
        }
    }
}

/// A message's flow, as the recorder numbered it (an index into [`Trace::flows`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowId(pub u32);

// INVARIANT(trace-off-costs-nothing): one relaxed load decides; nothing else runs when off
static ON: AtomicBool = AtomicBool::new(false);
static RECORDER: Mutex<Option<Recorder>> = Mutex::new(None);
static HOST_THREADS: AtomicU32 = AtomicU32::new(0);

/// Whether a trace is being recorded.
#[inline]
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Starts recording (a trace already being recorded is discarded).
pub fn start(config: TraceConfig) {
    let mut r = RECORDER.lock().unwrap_or_else(PoisonError::into_inner);
    *r = Some(Recorder::new(config));
    ON.store(true, Ordering::Relaxed);
}

/// Stops recording and returns what was recorded (`None` if nothing was being recorded).
pub fn finish() -> Option<Trace> {
    let mut r = RECORDER.lock().unwrap_or_else(PoisonError::into_inner);
    ON.store(false, Ordering::Relaxed);
    r.take().map(Recorder::into_trace)
}

/// A new host-thread track number (one per host clock; numbered in creation order).
pub fn new_host_thread() -> u32 {
    HOST_THREADS.fetch_add(1, Ordering::Relaxed)
}

#[inline(never)]
fn with<R>(f: impl FnOnce(&mut Recorder) -> R) -> Option<R> {
    let mut r = RECORDER.lock().unwrap_or_else(PoisonError::into_inner);
    r.as_mut().map(|r| {
        r.sites += 1;
        f(r)
    })
}

/// Records that `track` was busy with `name` from `start` to `end`.
#[inline]
pub fn slice(track: Track, name: &str, start: SimTime, end: SimTime) {
    if enabled() {
        with(|r| r.slice(track, name, start, end));
    }
}

/// Records the slice of `dur` nanoseconds that ends at `end` (what a resource returned).
#[inline]
pub fn slice_ending(track: Track, name: &str, end: SimTime, dur: u64) {
    if enabled() {
        with(|r| r.slice(track, name, SimTime(end.0.saturating_sub(dur)), end));
    }
}

/// Records a change of `delta` bytes of device DRAM in use at `at`.
#[inline]
pub fn dram(at: SimTime, delta: i64) {
    if enabled() && delta != 0 {
        with(|r| r.dram(at, delta));
    }
}

/// Records a change of `delta` bytes of device DRAM in use at the latest instant a DRAM change
/// was recorded (for memory freed where no clock is at hand: a handed-over message block).
#[inline]
pub fn dram_latest(delta: i64) {
    if enabled() && delta != 0 {
        with(|r| {
            let at = r.dram.last().map_or(SimTime::ZERO, |&(at, _)| at);
            r.dram(at, delta)
        });
    }
}

/// Records that port connection `name` holds `depth` messages from `at` on.
#[inline]
pub fn queue_depth(name: &str, at: SimTime, depth: usize) {
    if enabled() {
        with(|r| r.counter(CounterKind::QueueDepth, name, at, depth as i64));
    }
}

/// Records a message put on `track` at `at`; returns its flow, to be ended by [`flow_end`].
#[inline]
pub fn flow_start(track: Track, at: SimTime) -> Option<FlowId> {
    if enabled() {
        with(|r| r.flow_start(track, at)).flatten()
    } else {
        None
    }
}

/// Records that the message of `flow` was taken on `track` at `at`.
#[inline]
pub fn flow_end(flow: Option<FlowId>, track: Track, at: SimTime) {
    if let Some(id) = flow {
        if enabled() {
            with(|r| r.flow_end(id, track, at));
        }
    }
}

/// The recorder's state while a trace is on.
struct Recorder {
    max_events: u64,
    recorded: u64,
    dropped: u64,
    sites: u64,
    names: Vec<String>,
    index: HashMap<String, u32>,
    slices: Vec<Slice>,
    counters: Vec<CounterSample>,
    /// DRAM changes in the order recorded: summed in time order when finished.
    dram: Vec<(SimTime, i64)>,
    flows: Vec<Flow>,
}

impl Recorder {
    fn new(config: TraceConfig) -> Recorder {
        Recorder {
            max_events: config.max_events,
            recorded: 0,
            dropped: 0,
            sites: 0,
            names: Vec::new(),
            index: HashMap::new(),
            slices: Vec::new(),
            counters: Vec::new(),
            dram: Vec::new(),
            flows: Vec::new(),
        }
    }

    /// Counts one event; false if it is over the cap (then it is counted as dropped).
    fn admit(&mut self) -> bool {
        if self.recorded >= self.max_events {
            self.dropped += 1;
            return false;
        }
        self.recorded += 1;
        true
    }

    fn name(&mut self, name: &str) -> NameId {
        if let Some(&i) = self.index.get(name) {
            return NameId(i);
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), i);
        NameId(i)
    }

    fn slice(&mut self, track: Track, name: &str, start: SimTime, end: SimTime) {
        if self.admit() {
            let name = self.name(name);
            self.slices.push(Slice {
                track,
                name,
                start,
                end: end.max(start),
            });
        }
    }

    fn counter(&mut self, kind: CounterKind, name: &str, at: SimTime, value: i64) {
        if self.admit() {
            let name = self.name(name);
            self.counters.push(CounterSample {
                kind,
                name,
                at,
                value,
            });
        }
    }

    fn dram(&mut self, at: SimTime, delta: i64) {
        // Changes at one instant are one sample: added up, not another event.
        if let Some(last) = self.dram.last_mut().filter(|l| l.0 == at) {
            last.1 += delta;
            return;
        }
        if self.admit() {
            self.dram.push((at, delta));
        }
    }

    fn flow_start(&mut self, track: Track, at: SimTime) -> Option<FlowId> {
        if !self.admit() {
            return None;
        }
        let id = FlowId(u32::try_from(self.flows.len()).ok()?);
        self.flows.push(Flow {
            from: FlowEnd { track, at },
            to: None,
        });
        Some(id)
    }

    fn flow_end(&mut self, id: FlowId, track: Track, at: SimTime) {
        if self.admit() {
            if let Some(f) = self.flows.get_mut(id.0 as usize) {
                f.to = Some(FlowEnd { track, at });
            }
        }
    }

    fn into_trace(mut self) -> Trace {
        if !self.dram.is_empty() {
            let id = self.name("DRAM in use");
            // Stable: changes at one instant keep the order they happened in.
            self.dram.sort_by_key(|&(at, _)| at);
            let mut total = 0i64;
            for &(at, delta) in &self.dram {
                total += delta;
                match self.counters.last_mut() {
                    Some(last) if last.kind == CounterKind::DramInUse && last.at == at => last.value = total,
                    _ => self.counters.push(CounterSample {
                        kind: CounterKind::DramInUse,
                        name: id,
                        at,
                        value: total,
                    }),
                }
            }
        }
        // Sorted by content, not by recording order, so threads' interleaving does not show.
        let names = self.names;
        let text = |n: NameId| names[n.0 as usize].as_str();
        self.slices.sort_by(|a, b| {
            (a.track, a.start, a.end, text(a.name)).cmp(&(b.track, b.start, b.end, text(b.name)))
        });
        self.counters
            .sort_by(|a, b| (a.kind, text(a.name), a.at).cmp(&(b.kind, text(b.name), b.at)));
        Trace {
            slices: self.slices,
            counters: self.counters,
            flows: self.flows,
            max_events: self.max_events,
            recorded: self.recorded,
            dropped: self.dropped,
            sites: self.sites,
            names,
        }
    }
}
