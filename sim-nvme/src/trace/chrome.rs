//! [`Trace`] as Chrome trace-event JSON (the object form: `{"traceEvents": [...],
//! "metadata": {...}}`), which Perfetto UI and `chrome://tracing` open.
//!
//! Timestamps are simulated microseconds (`ts`, `dur`; fractions carry the nanoseconds).
//! Every event has `ph`, `ts`, `pid` and `tid`; the process and thread names are metadata
//! events (`ph: "M"`, at `ts` 0). Slices are complete events (`X`), counters `C` (DRAM in use
//! on the runtime's track 0, one counter per port connection), messages flow events `s` / `f`
//! bound to the enclosing slices (`bp: "e"`) of the sender's and the receiver's tracks.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Map, Value};
use thiserror::Error;

use super::model::{CounterKind, Group, Trace, Track};
use crate::time::SimTime;

/// Why a trace could not be written.
#[derive(Debug, Error)]
pub enum TraceError {
    /// The trace file could not be created or written.
    #[error("trace file {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// A complete slice (`X`).
#[derive(Serialize)]
struct Complete<'a> {
    name: &'a str,
    cat: &'static str,
    ph: &'static str,
    ts: f64,
    dur: f64,
    pid: u32,
    tid: u64,
}

/// A counter's arguments: one series.
#[derive(Serialize)]
enum CounterArgs {
    #[serde(rename = "bytes")]
    Bytes(i64),
    #[serde(rename = "messages")]
    Messages(i64),
}

/// A counter sample (`C`).
#[derive(Serialize)]
struct Counter<'a> {
    name: &'a str,
    cat: &'static str,
    ph: &'static str,
    ts: f64,
    pid: u32,
    tid: u64,
    args: CounterArgs,
}

/// One end of a flow (`s` or `f`).
#[derive(Serialize)]
struct FlowEvent {
    name: &'static str,
    cat: &'static str,
    ph: &'static str,
    id: u64,
    bp: &'static str,
    ts: f64,
    pid: u32,
    tid: u64,
}

/// Any serializable event, written as one JSON object.
mod erased {
    use std::io::{self, Write};

    pub(super) trait Event {
        fn write(&self, w: &mut dyn Write) -> io::Result<()>;
    }

    impl<T: serde::Serialize> Event for T {
        fn write(&self, w: &mut dyn Write) -> io::Result<()> {
            serde_json::to_writer(w, self).map_err(io::Error::other)
        }
    }
}

fn micros(t: SimTime) -> f64 {
    t.as_micros_f64()
}

impl Trace {
    /// The trace's own metadata: clock, unit, the cap and what it dropped.
    pub fn metadata(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("clock".into(), json!("simulated"));
        m.insert("time_unit".into(), json!("us"));
        m.insert("max_events".into(), json!(self.max_events));
        m.insert("events_recorded".into(), json!(self.recorded));
        m.insert("events_dropped".into(), json!(self.dropped));
        m.insert("capped".into(), json!(self.dropped > 0));
        if self.dropped > 0 {
            m.insert(
                "cap_rule".into(),
                json!(format!(
                    "only the first {} events were recorded; {} later ones were dropped, and messages whose other end was dropped are left out",
                    self.max_events, self.dropped
                )),
            );
        }
        m
    }

    /// Writes the trace as Chrome trace-event JSON to `out`; `extra` is added to the
    /// metadata (the program, its arguments).
    pub fn write_chrome(&self, out: impl Write, extra: &Map<String, Value>) -> io::Result<()> {
        let mut w = BufWriter::new(out);
        w.write_all(b"{\"traceEvents\":[\n")?;
        let mut first = true;
        let mut event = |w: &mut BufWriter<_>, v: &dyn erased::Event| -> io::Result<()> {
            if !first {
                w.write_all(b",\n")?;
            }
            first = false;
            v.write(w)
        };
        // Names: every group and track that appears.
        let mut tracks: BTreeSet<Track> = self.slices.iter().map(|s| s.track).collect();
        for f in &self.flows {
            if let Some(to) = f.to {
                tracks.insert(f.from.track);
                tracks.insert(to.track);
            }
        }
        let mut groups: BTreeSet<Group> = tracks.iter().map(|t| t.group()).collect();
        if !self.counters.is_empty() {
            groups.insert(Group::Runtime);
        }
        for g in &groups {
            let (pid, tid) = (g.pid(), 0);
            event(
                &mut w,
                &json!({"name": "process_name", "ph": "M", "ts": 0, "pid": pid, "tid": tid, "args": {"name": g.label()}}),
            )?;
            event(
                &mut w,
                &json!({"name": "process_sort_index", "ph": "M", "ts": 0, "pid": pid, "tid": tid, "args": {"sort_index": pid}}),
            )?;
        }
        for t in &tracks {
            let (pid, tid) = (t.group().pid(), t.tid());
            event(
                &mut w,
                &json!({"name": "thread_name", "ph": "M", "ts": 0, "pid": pid, "tid": tid, "args": {"name": t.label()}}),
            )?;
            event(
                &mut w,
                &json!({"name": "thread_sort_index", "ph": "M", "ts": 0, "pid": pid, "tid": tid, "args": {"sort_index": tid}}),
            )?;
        }
        for s in &self.slices {
            let cat = match s.track.group() {
                Group::Hardware => "hardware",
                Group::Runtime => "ssdlet",
                Group::Host => "host",
            };
            event(
                &mut w,
                &Complete {
                    name: self.name(s.name),
                    cat,
                    ph: "X",
                    ts: micros(s.start),
                    dur: micros(SimTime(s.end.0 - s.start.0)),
                    pid: s.track.group().pid(),
                    tid: s.track.tid(),
                },
            )?;
        }
        let pid = Group::Runtime.pid();
        let mut queue_name = String::new();
        for c in &self.counters {
            let (name, args) = match c.kind {
                CounterKind::DramInUse => (self.name(c.name), CounterArgs::Bytes(c.value)),
                CounterKind::QueueDepth => {
                    queue_name.clear();
                    queue_name.push_str("queue ");
                    queue_name.push_str(self.name(c.name));
                    (queue_name.as_str(), CounterArgs::Messages(c.value))
                }
            };
            event(
                &mut w,
                &Counter {
                    name,
                    cat: "counter",
                    ph: "C",
                    ts: micros(c.at),
                    pid,
                    tid: 0,
                    args,
                },
            )?;
        }
        for (id, f) in self.flows.iter().enumerate() {
            let Some(to) = f.to else { continue };
            for (ph, end) in [("s", f.from), ("f", to)] {
                event(
                    &mut w,
                    &FlowEvent {
                        name: "message",
                        cat: "port",
                        ph,
                        id: id as u64,
                        bp: "e",
                        ts: micros(end.at),
                        pid: end.track.group().pid(),
                        tid: end.track.tid(),
                    },
                )?;
            }
        }
        let mut meta = self.metadata();
        for (k, v) in extra {
            meta.insert(k.clone(), v.clone());
        }
        w.write_all(b"\n],\"displayTimeUnit\":\"ns\",\"metadata\":")?;
        serde_json::to_writer(&mut w, &Value::Object(meta)).map_err(io::Error::other)?;
        w.write_all(b"}\n")?;
        w.flush()
    }

    /// Writes the trace to the file `path` ([`Trace::write_chrome`]).
    pub fn save(&self, path: &Path, extra: &Map<String, Value>) -> Result<(), TraceError> {
        let err = |source| TraceError::Write {
            path: path.to_owned(),
            source,
        };
        let f = File::create(path).map_err(err)?;
        self.write_chrome(f, extra).map_err(err)
    }
}
