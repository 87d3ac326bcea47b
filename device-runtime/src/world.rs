//! State shared by every SSDlet instance of one runtime: channels (with their waiters and
//! counters), files (capabilities resolve to these), the simulated SSD, the ready queue of the
//! scheduler, the compute model and the log. Single-threaded: every instance runs on the
//! runtime's thread, and no `RefCell` borrow is held across a fiber suspension.

use std::cell::{Cell, RefCell, RefMut};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use sim_nvme::nvme::SharedSsd;
use sim_nvme::trace::{self, FlowId};
use sim_nvme::{SimDuration, SimTime, Ssd};
use ssdlet_abi::{LogLevel, MatcherLimits};

use crate::adopted::Payload;
use crate::compute::ComputeModel;
use crate::namespace::FileEntry;

/// Index of a channel in [`World::channels`].
pub(crate) type ChannelId = usize;

/// Index of an instance slot in the runtime.
pub(crate) type Slot = usize;

/// One message in flight: its bytes and the instant it is available to the receiver.
#[derive(Debug)]
pub(crate) struct Msg {
    pub(crate) at: SimTime,
    pub(crate) bytes: Payload,
    /// Its flow on the trace's timeline (`None` without a trace).
    pub(crate) flow: Option<FlowId>,
}

/// Which kind of endpoint a channel has on the host side, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HostEnd {
    /// Both ends are SSDlets.
    None,
    /// The host sends (host-to-device over PCIe).
    Sender,
    /// The host receives (device-to-host over PCIe).
    Receiver,
}

/// A bounded FIFO of encoded messages between two endpoints.
#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) queue: VecDeque<Msg>,
    /// Most messages queued at once; `usize::MAX` for host-fed inputs and host sinks.
    pub(crate) capacity: usize,
    /// The sender closed (or finished): the receiver sees end-of-stream once drained.
    pub(crate) sender_closed: bool,
    /// The receiver closed (or finished): puts fail with `CLOSED`.
    pub(crate) receiver_closed: bool,
    /// Spare buffers, reused so a steady stream does not allocate per message.
    pub(crate) pool: Vec<Vec<u8>>,
    /// Messages accepted so far.
    pub(crate) messages: u64,
    /// Payload bytes accepted so far.
    pub(crate) bytes: u64,
    /// Availability instant of the latest message accepted.
    pub(crate) last_at: SimTime,
    /// The instance blocked in `get` on this channel.
    pub(crate) rx_waiter: Option<Slot>,
    /// The instance blocked in `put` on this channel.
    pub(crate) tx_waiter: Option<Slot>,
    /// Host side of the channel.
    pub(crate) host: HostEnd,
    /// `sender.port -> receiver.port`, for reports.
    pub(crate) name: String,
    /// Applications at either end (for reports), as runtime app indices.
    pub(crate) apps: [Option<usize>; 2],
}

impl Channel {
    pub(crate) fn new(capacity: usize, host: HostEnd, name: String, apps: [Option<usize>; 2]) -> Channel {
        Channel {
            queue: VecDeque::new(),
            capacity,
            sender_closed: false,
            receiver_closed: false,
            pool: Vec::new(),
            messages: 0,
            bytes: 0,
            last_at: SimTime::ZERO,
            rx_waiter: None,
            tx_waiter: None,
            host,
            name,
            apps,
        }
    }

    // Always: on the per-message path, and LLVM stopped inlining them as the callers grew.
    #[inline(always)]
    pub(crate) fn recycle(&mut self, buf: Payload) {
        let Payload::Copied(mut buf) = buf else {
            return;
        };
        if self.pool.len() < 64 && buf.capacity() <= 64 * 1024 {
            buf.clear();
            self.pool.push(buf);
        }
    }

    /// Drops every queued message (the receiver is gone or its application aborted).
    pub(crate) fn drain(&mut self) {
        while let Some(m) = self.queue.pop_front() {
            self.recycle(m.bytes);
        }
    }

    /// Queues `msg` of `len` payload bytes (INVARIANT(port-fifo): messages are taken in the
    /// order they were put). Returns the receiver parked on this channel, to be woken at
    /// `msg.at`.
    // Always: on the per-message path, and LLVM stopped inlining them as the callers grew.
    #[inline(always)]
    pub(crate) fn push(&mut self, msg: Msg, len: u64) -> Option<Slot> {
        self.last_at = self.last_at.max(msg.at);
        let at = msg.at;
        self.queue.push_back(msg);
        trace::queue_depth(&self.name, at, self.queue.len());
        self.messages += 1;
        self.bytes += len;
        self.rx_waiter.take()
    }

    /// Takes the next message (the oldest: INVARIANT(port-fifo)), and the sender parked on the
    /// full channel (to be woken).
    // Always: on the per-message path, and LLVM stopped inlining them as the callers grew.
    #[inline(always)]
    pub(crate) fn pop(&mut self, now: SimTime) -> Option<(Msg, Option<Slot>)> {
        let msg = self.queue.pop_front()?;
        trace::queue_depth(&self.name, now.max(msg.at), self.queue.len());
        Some((msg, self.tx_waiter.take()))
    }

    /// The sender is done: the receiver sees end of stream once it has drained the queue.
    /// Returns the receiver parked on it, to be woken.
    pub(crate) fn close_sender(&mut self) -> Option<Slot> {
        self.sender_closed = true;
        self.rx_waiter.take()
    }

    /// The receiver is done: queued messages are dropped and later puts fail. Returns the
    /// sender parked on it, to be woken.
    pub(crate) fn close_receiver(&mut self) -> Option<Slot> {
        self.receiver_closed = true;
        self.drain();
        self.tx_waiter.take()
    }
}

/// One line an SSDlet logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// The instance's SSDlet id.
    pub ssdlet: String,
    /// Severity.
    pub level: LogLevel,
    /// The text.
    pub text: String,
    /// The instance's simulated clock when it logged.
    pub at: SimTime,
}

/// Where a file's bytes live.
pub(crate) enum FileBacking {
    // INVARIANT(testing-feature-only): in-memory files exist only with `testing`
    /// In host memory (the `TestDriver`'s files): no device time.
    #[cfg(feature = "testing")]
    Memory(Vec<u8>),
    /// On the simulated SSD, at the extents of its namespace entry.
    Device(FileEntry),
}

impl FileBacking {
    pub(crate) fn len(&self) -> u64 {
        match self {
            #[cfg(feature = "testing")]
            FileBacking::Memory(b) => b.len() as u64,
            FileBacking::Device(e) => e.size,
        }
    }
}

/// Settings the services read on every call.
#[derive(Clone, Debug)]
pub(crate) struct ServiceConfig {
    pub(crate) compute: ComputeModel,
    /// Simulated time an SSDlet may run without suspending.
    pub(crate) time_slice: SimDuration,
    /// Device DRAM copy bandwidth (MB/s) charged to inter-SSDlet messages.
    pub(crate) dram_copy_mb_per_s: u64,
    /// Host memory copy bandwidth (MB/s) charged to messages of host-site SSDlets.
    pub(crate) host_copy_mb_per_s: u64,
    /// Bytes one internal read command moves at most (reads are split into such chunks).
    pub(crate) read_chunk: u64,
    /// Bytes read ahead of a sequential reader, issued at once (0: no read-ahead).
    pub(crate) readahead: u64,
}

/// Everything instances share.
pub(crate) struct World {
    pub(crate) channels: RefCell<Vec<Channel>>,
    pub(crate) files: RefCell<Vec<FileBacking>>,
    pub(crate) matcher: MatcherLimits,
    // INVARIANT(firmware-owns-controller): the world shares the drive; the firmware owns the
    // controller in front of it
    /// The simulated drive, shared with the NVMe controller that the firmware owns. Services
    /// borrow it for one call at a time, through [`World::ssd`].
    pub(crate) ssd: SharedSsd,
    /// Runnable instances by the instant they may run: `(time, sequence, slot)`.
    pub(crate) ready: RefCell<BinaryHeap<Reverse<(SimTime, u64, Slot)>>>,
    pub(crate) seq: Cell<u64>,
    /// Per slot: whether it is in `ready` (an instance is queued at most once).
    pub(crate) queued: RefCell<Vec<bool>>,
    pub(crate) config: ServiceConfig,
    /// Payload bytes `port_put` copied into channel buffers, and bytes `port_put_owned`
    /// handed over without a copy.
    pub(crate) copied_bytes: Cell<u64>,
    pub(crate) adopted_bytes: Cell<u64>,
    /// Scratch buffer for unaligned reads.
    pub(crate) scratch: RefCell<Vec<u8>>,
}

impl World {
    /// The simulated drive, borrowed for one operation.
    pub(crate) fn ssd(&self) -> RefMut<'_, Ssd> {
        self.ssd.borrow_mut()
    }

    /// The simulated drive, unless it is borrowed already.
    pub(crate) fn try_ssd(&self) -> Option<RefMut<'_, Ssd>> {
        self.ssd.try_borrow_mut().ok()
    }

    /// Makes `slot` runnable at `at` (the scheduler runs it no earlier than its own clock).
    /// An instance already queued keeps its place.
    /// Wakes `slot` at `at`, if there is one to wake (what [`Channel`]'s operations return).
    pub(crate) fn wake_any(&self, slot: Option<Slot>, at: SimTime) {
        if let Some(slot) = slot {
            self.wake(slot, at);
        }
    }

    // INVARIANT(ready-queue-once): an instance already queued keeps its one place
    pub(crate) fn wake(&self, slot: Slot, at: SimTime) {
        let Ok(mut q) = self.queued.try_borrow_mut() else {
            return;
        };
        match q.get_mut(slot) {
            Some(flag) if !*flag => *flag = true,
            _ => return,
        }
        self.push(slot, at);
    }

    /// Queues `slot` at `at` unconditionally (the scheduler re-queues a popped instance).
    pub(crate) fn push(&self, slot: Slot, at: SimTime) {
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        if let Ok(mut r) = self.ready.try_borrow_mut() {
            r.push(Reverse((at, seq, slot)));
        }
    }
}
