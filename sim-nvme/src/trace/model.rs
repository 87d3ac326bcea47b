//! What a trace holds: tracks, complete slices, counter samples and flows, in simulated time.
//!
//! [`Trace`] is the in-process form a report can read (which track was busy when, what a
//! counter was over time, which message went where); [`super::chrome`] writes it as Chrome
//! trace-event JSON.

use serde::Serialize;

use crate::time::SimTime;

/// A timeline: one hardware resource, SSDlet core or host thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Track {
    /// A firmware core of the controller (command processing).
    FirmwareCore(u32),
    /// A NAND channel (data moved between dies and the controller).
    Channel(u32),
    /// A NAND die (array operations: read, program, erase).
    Die(u32),
    /// A channel's pattern matcher (scans of pages on their way in).
    Matcher(u32),
    /// The PCIe link, device to host.
    PcieToHost,
    /// The PCIe link, host to device.
    PcieToDevice,
    /// A simulated ARM core of the device runtime (slices named by SSDlet instance).
    ArmCore(u32),
    /// The device side of host ports: where messages from and to the host start and end.
    HostPorts,
    /// A host clock (one host thread): I/O waits and compute.
    HostThread(u32),
    /// A host core running SSDlets of a conventional run (an Application at the host site).
    HostCore(u32),
}

/// Which group of tracks a track belongs to (a "process" in the trace viewer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Group {
    /// The SSD's hardware: firmware cores, channels, dies, matchers, PCIe.
    Hardware,
    /// The device runtime: ARM cores, host ports, DRAM and queue counters.
    Runtime,
    /// The host: its threads.
    Host,
}

impl Group {
    /// The trace viewer's process id of this group.
    pub fn pid(self) -> u32 {
        match self {
            Group::Hardware => 1,
            Group::Runtime => 2,
            Group::Host => 3,
        }
    }

    /// The process name the viewer shows.
    pub fn label(self) -> &'static str {
        match self {
            Group::Hardware => "SSD hardware (sim-nvme)",
            Group::Runtime => "SSD runtime (SSDlets)",
            Group::Host => "host",
        }
    }
}

impl Track {
    /// The group the track is shown in.
    pub fn group(self) -> Group {
        match self {
            Track::FirmwareCore(_)
            | Track::Channel(_)
            | Track::Die(_)
            | Track::Matcher(_)
            | Track::PcieToHost
            | Track::PcieToDevice => Group::Hardware,
            Track::ArmCore(_) | Track::HostPorts => Group::Runtime,
            Track::HostThread(_) | Track::HostCore(_) => Group::Host,
        }
    }

    /// The viewer's thread id: unique within the group, ordered as the tracks are listed.
    pub fn tid(self) -> u64 {
        let (kind, i): (u64, u32) = match self {
            Track::PcieToDevice => (1, 0),
            Track::PcieToHost => (2, 0),
            Track::FirmwareCore(i) => (3, i),
            Track::Channel(i) => (4, 2 * i),
            Track::Matcher(i) => (4, 2 * i + 1),
            Track::Die(i) => (5, i),
            Track::ArmCore(i) => (1, i),
            Track::HostPorts => (2, 0),
            Track::HostThread(i) => (1, i),
            Track::HostCore(i) => (2, i),
        };
        (kind << 20) | u64::from(i)
    }

    /// The thread name the viewer shows, e.g. `ARM core 0`, `NAND die 3`.
    pub fn label(self) -> String {
        match self {
            Track::FirmwareCore(i) => format!("firmware core {i}"),
            Track::Channel(i) => format!("NAND channel {i}"),
            Track::Die(i) => format!("NAND die {i}"),
            Track::Matcher(i) => format!("matcher (channel {i})"),
            Track::PcieToHost => "PCIe to host".to_owned(),
            Track::PcieToDevice => "PCIe to device".to_owned(),
            Track::ArmCore(i) => format!("ARM core {i}"),
            Track::HostPorts => "host ports".to_owned(),
            Track::HostThread(i) => format!("host thread {i}"),
            Track::HostCore(i) => format!("host core {i}"),
        }
    }
}

/// An index into [`Trace::names`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct NameId(pub u32);

/// A complete slice: `track` was busy with `name` from `start` to `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Slice {
    /// Where.
    pub track: Track,
    /// What (an SSDlet instance, `read`, `program`, `compute`, ...).
    pub name: NameId,
    /// First instant busy.
    pub start: SimTime,
    /// First instant free again.
    pub end: SimTime,
}

/// What a counter counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum CounterKind {
    /// Device DRAM held by SSDlets and their messages, in bytes.
    DramInUse,
    /// Messages queued on one port connection (the sample's name is the connection).
    QueueDepth,
}

/// A counter's value from `at` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CounterSample {
    /// Which counter.
    pub kind: CounterKind,
    /// Its name (for [`CounterKind::QueueDepth`], the port connection).
    pub name: NameId,
    /// From when.
    pub at: SimTime,
    /// The value.
    pub value: i64,
}

/// One end of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FlowEnd {
    /// The track the end sits on (its slice encloses `at`).
    pub track: Track,
    /// When.
    pub at: SimTime,
}

/// A message from its sender to its receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// Where and when it was put.
    pub from: FlowEnd,
    /// Where and when it was taken (`None`: never taken while tracing).
    pub to: Option<FlowEnd>,
}

/// A recorded timeline, in simulated time.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Trace {
    /// Slice and counter names, by [`NameId`].
    pub names: Vec<String>,
    /// Complete slices, sorted by track, then start. Slices on one track never overlap.
    pub slices: Vec<Slice>,
    /// Counter samples, sorted by kind, name, then instant.
    pub counters: Vec<CounterSample>,
    /// Messages, in the order they were put (index = flow id).
    pub flows: Vec<Flow>,
    /// Events recorded at most (the cap).
    pub max_events: u64,
    /// Events recorded.
    pub recorded: u64,
    /// Events dropped because the cap was reached (the trace is the run's beginning).
    pub dropped: u64,
    /// Calls of the recording functions that reached the recorder (events, dropped ones and
    /// DRAM changes added into a sample at the same instant): what the run would pay a
    /// flag check for with the trace off.
    pub sites: u64,
}

impl Trace {
    /// The text of a name.
    pub fn name(&self, id: NameId) -> &str {
        self.names.get(id.0 as usize).map_or("?", String::as_str)
    }

    /// Every track that has at least one slice, in order.
    pub fn tracks(&self) -> Vec<Track> {
        let mut t: Vec<Track> = self.slices.iter().map(|s| s.track).collect();
        t.dedup();
        t
    }

    /// The instant the last slice ends.
    pub fn end(&self) -> SimTime {
        self.slices.iter().map(|s| s.end).max().unwrap_or_default()
    }
}
