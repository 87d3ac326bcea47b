//! State shared by the SSDlet instances of one driver: channels, the in-memory file fake,
//! matcher limits and the log. Single-threaded: every instance runs on the driver's thread.

use std::cell::RefCell;
use std::collections::VecDeque;

use ssdlet_abi::{LogLevel, MatcherLimits};

/// Index of a channel in [`World::channels`].
pub(crate) type ChannelId = usize;

/// A bounded FIFO of encoded messages between two endpoints.
#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) queue: VecDeque<Vec<u8>>,
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
}

impl Channel {
    pub(crate) fn new(capacity: usize) -> Channel {
        Channel {
            queue: VecDeque::new(),
            capacity,
            sender_closed: false,
            receiver_closed: false,
            pool: Vec::new(),
            messages: 0,
        }
    }

    pub(crate) fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.pool.len() < 64 && buf.capacity() <= 64 * 1024 {
            buf.clear();
            self.pool.push(buf);
        }
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
}

/// Everything instances share.
pub(crate) struct World {
    pub(crate) channels: RefCell<Vec<Channel>>,
    /// In-memory stand-in for device files (a real runtime backs this with sim-nvme).
    pub(crate) files: RefCell<Vec<Vec<u8>>>,
    pub(crate) matcher: MatcherLimits,
    pub(crate) logs: RefCell<Vec<LogLine>>,
}
