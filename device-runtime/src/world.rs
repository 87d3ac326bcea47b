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
use crate::runs::Run;

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

/// What [`Channel::pop_into`] took.
pub(crate) struct Taken {
    /// How many messages.
    pub(crate) messages: usize,
    /// Their encodings' bytes in all.
    pub(crate) bytes: usize,
    /// When the first was available.
    pub(crate) at: SimTime,
    /// Its flow on the trace's timeline.
    pub(crate) flow: Option<FlowId>,
    /// The sender parked on the full channel, to be woken.
    pub(crate) sender: Option<Slot>,
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
    /// The entries: a message each, or a run of several ([`Payload::Run`]).
    pub(crate) queue: VecDeque<Msg>,
    /// Messages queued (a run counts its messages not yet taken).
    pub(crate) queued: usize,
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
            queued: 0,
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
        let mut buf = match buf {
            Payload::Copied(buf) => buf,
            Payload::Run(run) => (*run).into_buffer(),
            _ => return,
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
        self.queued = 0;
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
        self.queued += 1;
        trace::queue_depth(&self.name, at, self.queued);
        self.messages += 1;
        self.bytes += len;
        self.rx_waiter.take()
    }

    /// Queues the messages of `lens`, encoded back to back in `bytes`, all available at `at`,
    /// as one run (a host receiver takes messages, not runs: for it, one by one). Returns the
    /// receiver parked on this channel, to be woken at `at`.
    pub(crate) fn push_run(
        &mut self,
        bytes: &[u8],
        lens: &[u32],
        at: SimTime,
        flow: Option<FlowId>,
    ) -> Option<Slot> {
        if self.host == HostEnd::Receiver {
            let (mut receiver, mut from, mut flow) = (None, 0, flow);
            for &len in lens {
                let to = from + len as usize;
                let payload = Payload::copy_of(bytes.get(from..to).unwrap_or_default(), &mut self.pool);
                // The run's flow goes with its first message.
                let flow = flow.take();
                receiver = receiver.or(self.push(
                    Msg {
                        at,
                        bytes: payload,
                        flow,
                    },
                    u64::from(len),
                ));
                from = to;
            }
            return receiver;
        }
        let run = Run::new(self.pool.pop().unwrap_or_default(), bytes, lens);
        self.last_at = self.last_at.max(at);
        self.queue.push_back(Msg {
            at,
            bytes: Payload::Run(Box::new(run)),
            flow,
        });
        self.queued += lens.len();
        trace::queue_depth(&self.name, at, self.queued);
        self.messages += lens.len() as u64;
        self.bytes += bytes.len() as u64;
        self.rx_waiter.take()
    }

    /// Takes the next message (the oldest: INVARIANT(port-fifo)), the first of a run alone,
    /// and the sender parked on the full channel (to be woken).
    // Always: on the per-message path, and LLVM stopped inlining them as the callers grew.
    #[inline(always)]
    pub(crate) fn pop(&mut self, now: SimTime) -> Option<(Msg, Option<Slot>)> {
        // Not through `pop_message`: its `Option` costs a single get ~20 instructions.
        let mut msg = self.queue.pop_front()?;
        self.queued -= 1;
        if let Payload::Run(_) = msg.bytes {
            msg = self.first_of_run(msg);
        }
        trace::queue_depth(&self.name, now.max(msg.at), self.queued);
        Some((msg, self.tx_waiter.take()))
    }

    /// Takes the next message, the first of a run alone, without a trace.
    fn pop_message(&mut self) -> Option<Msg> {
        let mut msg = self.queue.pop_front()?;
        self.queued -= 1;
        if let Payload::Run(_) = msg.bytes {
            msg = self.first_of_run(msg);
        }
        Some(msg)
    }

    /// The first message of `entry`, a run just taken from the front, whose other messages
    /// go back there.
    #[inline(never)]
    fn first_of_run(&mut self, mut entry: Msg) -> Msg {
        let Payload::Run(run) = &mut entry.bytes else {
            return entry;
        };
        let first = Msg {
            at: entry.at,
            bytes: Payload::copy_of(run.take_first(), &mut self.pool),
            flow: entry.flow.take(),
        };
        if run.len() > 0 {
            self.queue.push_front(entry);
        } else {
            self.recycle(entry.bytes);
        }
        first
    }

    /// Takes, from the front of the queue, the messages that fit into `buf` (their encodings
    /// back to back) and `lens` (their lengths): all of a run that fit, or one message copied
    /// in (not a block handed over); `None` if nothing at the front fits.
    #[inline(always)]
    pub(crate) fn pop_into(&mut self, now: SimTime, buf: &mut [u8], lens: &mut [u32]) -> Option<Taken> {
        let front = self.queue.front_mut()?;
        let at = front.at;
        let (n, bytes) = match &mut front.bytes {
            Payload::Run(run) => {
                let (n, bytes) = run.take_into(buf, lens);
                if n == 0 {
                    return None;
                }
                let flow = front.flow.take();
                if run.len() == 0 {
                    if let Some(m) = self.queue.pop_front() {
                        self.recycle(m.bytes);
                    }
                }
                self.queued -= n;
                trace::queue_depth(&self.name, now.max(at), self.queued);
                return Some(Taken {
                    messages: n,
                    bytes,
                    at,
                    flow,
                    sender: self.tx_waiter.take(),
                });
            }
            Payload::Adopted(_) | Payload::Block(_) => return None,
            other => {
                let src = other.in_place()?;
                let (Some(dst), Some(len)) = (buf.get_mut(..src.len()), lens.first_mut()) else {
                    return None;
                };
                let encoded = u32::try_from(src.len()).ok()?;
                dst.copy_from_slice(src);
                *len = encoded;
                (1, src.len())
            }
        };
        let (msg, sender) = self.pop(now)?;
        let flow = msg.flow;
        self.recycle(msg.bytes);
        Some(Taken {
            messages: n,
            bytes,
            at,
            flow,
            sender,
        })
    }

    /// Takes up to `max` messages for the host (the first of a run alone), without a trace.
    pub(crate) fn pop_for_host(&mut self, max: usize) -> Vec<Msg> {
        std::iter::from_fn(|| self.pop_message()).take(max).collect()
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

    /// Wakes `slot` at `at`, if there is one to wake (what [`Channel`]'s operations return).
    // Always: on the per-message path, where there is seldom one to wake.
    #[inline(always)]
    pub(crate) fn wake_any(&self, slot: Option<Slot>, at: SimTime) {
        if let Some(slot) = slot {
            self.wake(slot, at);
        }
    }

    // INVARIANT(ready-queue-once): an instance already queued keeps its one place
    /// Makes `slot` runnable at `at` (the scheduler runs it no earlier than its own clock).
    /// An instance already queued keeps its place.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(host: HostEnd) -> Channel {
        Channel::new(usize::MAX, host, "a.out -> b.in".into(), [None, None])
    }

    fn one(bytes: &[u8], at: u64) -> Msg {
        Msg {
            at: SimTime(at),
            bytes: Payload::copy_of(bytes, &mut Vec::new()),
            flow: None,
        }
    }

    /// Every message, one by one, as single gets take them: its bytes and instant.
    fn pop_all(c: &mut Channel) -> Vec<(Vec<u8>, u64)> {
        std::iter::from_fn(|| c.pop(SimTime::ZERO))
            .map(|(m, _)| (m.bytes.into_vec(), m.at.0))
            .collect()
    }

    // INVARIANT(port-fifo), with runs among single messages.
    #[test]
    fn runs_are_their_messages_in_order_and_counted_one_by_one() {
        let mut c = channel(HostEnd::None);
        c.push(one(b"a", 1), 1);
        c.push_run(b"bccddd", &[1, 2, 3], SimTime(2), None);
        c.push_run(&[7; 40], &[0, 40], SimTime(3), None);
        c.push(one(b"e", 4), 1);
        assert_eq!((c.queue.len(), c.queued, c.messages, c.bytes), (4, 7, 7, 48));
        let got = pop_all(&mut c);
        let want: Vec<(Vec<u8>, u64)> = vec![
            (b"a".to_vec(), 1),
            (b"b".to_vec(), 2),
            (b"cc".to_vec(), 2),
            (b"ddd".to_vec(), 2),
            (vec![], 3),
            (vec![7; 40], 3),
            (b"e".to_vec(), 4),
        ];
        assert_eq!(got, want);
        assert_eq!((c.queue.len(), c.queued), (0, 0));
    }

    #[test]
    fn a_batch_get_takes_what_fits_from_runs_and_single_messages() {
        let mut c = channel(HostEnd::None);
        c.push_run(b"abbccc", &[1, 2, 3], SimTime(2), None);
        c.push(one(b"dddd", 3), 4);
        let (mut buf, mut lens) = ([0u8; 4], [0u32; 8]);
        // Room for "a" and "bb", not "ccc".
        let t = c.pop_into(SimTime::ZERO, &mut buf, &mut lens).unwrap();
        assert_eq!((t.messages, t.bytes, t.at), (2, 3, SimTime(2)));
        assert_eq!((&buf[..3], &lens[..2]), (&b"abb"[..], &[1, 2][..]));
        assert_eq!(c.queued, 2);
        assert!(c.pop_into(SimTime::ZERO, &mut buf[..2], &mut lens).is_none());
        let t = c.pop_into(SimTime::ZERO, &mut buf, &mut lens).unwrap();
        assert_eq!((t.messages, t.bytes, &buf[..3]), (1, 3, &b"ccc"[..]));
        // The run is used up and gone; a single message is taken if it fits.
        assert_eq!((c.queue.len(), c.queued), (1, 1));
        let t = c.pop_into(SimTime::ZERO, &mut buf, &mut lens).unwrap();
        assert_eq!(
            (t.messages, t.bytes, t.at, &buf[..4]),
            (1, 4, SimTime(3), &b"dddd"[..])
        );
        assert!(c.pop_into(SimTime::ZERO, &mut buf, &mut lens).is_none());
        assert_eq!(c.queued, 0);
    }

    #[test]
    fn a_host_receiver_gets_messages_never_runs() {
        let mut c = channel(HostEnd::Receiver);
        // Empty messages first: the run's flow still goes with the first message only.
        c.push_run(b"abbccc", &[0, 0, 1, 2, 3], SimTime(5), Some(FlowId(7)));
        let flows: Vec<_> = c.queue.iter().map(|m| m.flow).collect();
        assert_eq!(flows, [Some(FlowId(7)), None, None, None, None]);
        assert_eq!((c.queue.len(), c.queued, c.messages, c.bytes), (5, 5, 5, 6));
        assert!(c.queue.iter().all(|m| !matches!(m.bytes, Payload::Run(_))));
        c.pop_for_host(2);
        let got: Vec<Vec<u8>> = c
            .pop_for_host(2)
            .into_iter()
            .map(|m| m.bytes.into_vec())
            .collect();
        assert_eq!(got, vec![b"a".to_vec(), b"bb".to_vec()]);
        assert_eq!(c.queued, 1);
    }

    #[test]
    fn draining_a_channel_with_runs_leaves_nothing_queued() {
        let mut c = channel(HostEnd::None);
        c.push_run(b"abbccc", &[1, 2, 3], SimTime(2), None);
        c.pop(SimTime::ZERO);
        c.close_receiver();
        assert_eq!((c.queue.len(), c.queued), (0, 0));
        // The run's buffer is kept for reuse.
        assert_eq!(c.pool.len(), 1);
    }
}
