//! The controller: queue pairs, dispatch of commands to the [`Ssd`], and completions.
//!
//! Commands execute when they are submitted (the model computes their completion instant at
//! once); a completion waits in its queue until the host reaps it, and counts against the
//! queue's depth until then. [`Controller::reap`] returns the completion that finishes first,
//! which is what a host polling its completion queue sees next.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::command::{Command, Identify, Payload, VENDOR_OPCODES};
use super::status::Status;
use crate::addr::Lba;
use crate::error::IoError;
use crate::profile::{DeviceProfile, LBA_BYTES};
use crate::ssd::Ssd;
use crate::time::{SimDuration, SimTime};

/// A queue pair's id. Queue 0 is the admin queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueId(pub u16);

/// The admin queue, which exists from power-on.
pub const ADMIN_QUEUE: QueueId = QueueId(0);
const ADMIN_DEPTH: u16 = 32;

/// A completion queue entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The queue the command was submitted on.
    pub qid: QueueId,
    /// The command id the controller gave it at submission.
    pub cid: u16,
    /// How it ended.
    pub status: Status,
    /// Command-specific dword 0 (e.g. a new queue's id).
    pub result: u32,
    /// Data carried back.
    pub payload: Payload,
    /// When the host issued it.
    pub submitted_at: SimTime,
    /// When the host sees it complete.
    pub done_at: SimTime,
}

impl Completion {
    /// Latency as the host sees it.
    pub fn latency(&self) -> SimDuration {
        self.done_at - self.submitted_at
    }
}

/// A submission the controller would not queue; the command is given back.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// No queue pair has this id.
    #[error("no I/O queue {qid}: expected the admin queue 0 or a queue created with CreateIoQueue")]
    InvalidQueue {
        /// The id given.
        qid: u16,
        /// The command, given back.
        command: Box<Command>,
    },
    /// The queue holds `depth` commands that have not been reaped.
    #[error("queue {qid} is full ({depth} entries not reaped)")]
    QueueFull {
        /// The queue.
        qid: u16,
        /// Its depth.
        depth: u16,
        /// The command, given back.
        command: Box<Command>,
    },
    /// The command was issued after [`SimTime::HORIZON`].
    #[error("a command issued at {} ns is beyond the simulated horizon of {} ns", at.0, SimTime::HORIZON.0)]
    BeyondHorizon {
        /// The instant given.
        at: SimTime,
        /// The command, given back.
        command: Box<Command>,
    },
}

impl SubmitError {
    /// The NVMe status this rejection corresponds to (a full queue is a host-side condition
    /// with no NVMe status: the host must reap before it submits).
    pub fn status(&self) -> Option<Status> {
        match self {
            SubmitError::InvalidQueue { .. } => Some(Status::INVALID_QUEUE_ID),
            SubmitError::QueueFull { .. } => None,
            SubmitError::BeyondHorizon { .. } => Some(Status::INVALID_FIELD),
        }
    }

    /// The command that was not queued.
    pub fn into_command(self) -> Command {
        match self {
            SubmitError::InvalidQueue { command, .. }
            | SubmitError::QueueFull { command, .. }
            | SubmitError::BeyondHorizon { command, .. } => *command,
        }
    }
}

/// What a vendor handler answers.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorReply {
    /// Completion status.
    pub status: Status,
    /// Command-specific dword 0.
    pub result: u32,
    /// Reply data.
    pub payload: Vec<u8>,
    /// When the command completes on the device (before the PCIe transfer of `payload`).
    pub done_at: SimTime,
}

// INVARIANT(sim-knows-no-ssdlets): the hook sees an opcode and opaque payload bytes only
/// Serves vendor-specific opcodes (`0xC0..=0xFF`): the in-storage-computing commands.
pub trait VendorHandler: Send {
    /// Executes one vendor command that reached the device at `at`.
    fn handle(&mut self, ssd: &mut Ssd, at: SimTime, opcode: u8, payload: Vec<u8>) -> VendorReply;
}

struct QueuePair {
    depth: u16,
    /// Vendor commands dispatched to an external firmware and not yet completed.
    deferred: usize,
    next_cid: u16,
    pending: BinaryHeap<Reverse<(SimTime, u64, u16)>>,
    entries: Vec<Option<Completion>>,
    seq: u64,
}

impl QueuePair {
    fn new(depth: u16) -> Self {
        QueuePair {
            depth,
            deferred: 0,
            next_cid: 0,
            pending: BinaryHeap::new(),
            entries: (0..depth).map(|_| None).collect(),
            seq: 0,
        }
    }

    fn outstanding(&self) -> usize {
        self.pending.len() + self.deferred
    }
}

/// A vendor command [`Controller::dispatch`] hands to firmware outside the controller. It holds
/// a slot of its queue until [`Controller::complete_vendor`] posts its completion.
#[must_use = "a deferred vendor command holds a queue slot until it is completed"]
#[derive(Debug)]
pub struct DeferredVendor {
    qid: QueueId,
    submitted_at: SimTime,
    /// The opcode (within [`VENDOR_OPCODES`]).
    pub opcode: u8,
    /// The command data, now in device DRAM.
    pub payload: Vec<u8>,
    /// When the payload is in device DRAM and a firmware core has parsed the command.
    pub arrived_at: SimTime,
    /// Dispatched by [`Controller::dispatch_host_local`]: its reply costs no PCIe either.
    host_local: bool,
}

/// What [`Controller::dispatch`] did with a command.
#[derive(Debug)]
pub enum Dispatched {
    /// The controller executed it (a standard command, a rejected opcode): its completion is
    /// queued under this command id.
    Completed(u16),
    /// A vendor opcode: the caller executes it and calls [`Controller::complete_vendor`].
    Vendor(DeferredVendor),
}

/// An NVMe controller in front of a simulated SSD, which it owns ([`Ssd`], the default) or
/// shares with the device's firmware ([`SharedSsd`]: the firmware also reads and writes it
/// internally, and owns this controller).
pub struct Controller<D: Drive = Ssd> {
    ssd: D,
    /// The profile's figures the controller charges and reports (a copy: the drive may be
    /// shared).
    profile: DeviceProfile,
    queues: Vec<Option<QueuePair>>,
    vendor: Option<Box<dyn VendorHandler>>,
}

/// How a [`Controller`] reaches its SSD.
pub trait Drive {
    /// Runs `f` on the SSD.
    fn with<R>(&mut self, f: impl FnOnce(&mut Ssd) -> R) -> R;
}

impl Drive for Ssd {
    fn with<R>(&mut self, f: impl FnOnce(&mut Ssd) -> R) -> R {
        f(self)
    }
}

/// An SSD shared by a controller and the firmware that owns it (one thread).
pub type SharedSsd = std::rc::Rc<std::cell::RefCell<Ssd>>;

impl Drive for SharedSsd {
    /// # Panics
    /// If the firmware holds the SSD borrowed while it submits a command to the controller
    /// (a firmware bug: the controller is only driven between the firmware's own uses).
    fn with<R>(&mut self, f: impl FnOnce(&mut Ssd) -> R) -> R {
        f(&mut self.borrow_mut())
    }
}

impl Controller<Ssd> {
    /// A controller with only the admin queue, owning `ssd`.
    pub fn new(ssd: Ssd) -> Self {
        Controller::over(ssd)
    }

    /// The device behind the controller.
    pub fn ssd(&self) -> &Ssd {
        &self.ssd
    }

    /// The device behind the controller, mutably (for firmware-side components).
    pub fn ssd_mut(&mut self) -> &mut Ssd {
        &mut self.ssd
    }

    /// Gives the device back.
    pub fn into_ssd(self) -> Ssd {
        self.ssd
    }
}

impl<D: Drive> Controller<D> {
    /// A controller with only the admin queue, in front of `drive`.
    pub fn over(mut drive: D) -> Self {
        let profile = drive.with(|s| s.profile().clone());
        let max = usize::from(profile.controller.max_io_queues);
        let mut queues: Vec<Option<QueuePair>> = (0..=max).map(|_| None).collect();
        queues[0] = Some(QueuePair::new(ADMIN_DEPTH));
        Controller {
            ssd: drive,
            profile,
            queues,
            vendor: None,
        }
    }

    /// Installs the handler for vendor-specific opcodes.
    pub fn set_vendor_handler(&mut self, h: Box<dyn VendorHandler>) {
        self.vendor = Some(h);
    }

    /// Creates an I/O queue pair (a convenience over submitting `CreateIoQueue` and reaping).
    pub fn create_io_queue(&mut self, depth: u16) -> Result<QueueId, Status> {
        let c = self.submit_and_wait(ADMIN_QUEUE, Command::CreateIoQueue { depth }, SimTime::ZERO);
        match c {
            Ok(c) if c.status.is_success() => Ok(QueueId(c.result as u16)),
            Ok(c) => Err(c.status),
            Err(e) => Err(e.status().unwrap_or(Status::INTERNAL_ERROR)),
        }
    }

    /// Submits and immediately reaps one command (queue-depth-1 use).
    pub fn submit_and_wait(
        &mut self,
        qid: QueueId,
        cmd: Command,
        at: SimTime,
    ) -> Result<Completion, SubmitError> {
        let cid = self.submit(qid, cmd, at)?;
        Ok(self.take(qid, cid).expect("completion posted at submission"))
    }

    /// Takes the completion of command `cid` on `qid`, leaving others queued (`None` if it is
    /// not there: never submitted, or reaped already).
    pub fn take(&mut self, qid: QueueId, cid: u16) -> Option<Completion> {
        let q = self.queues.get_mut(usize::from(qid.0))?.as_mut()?;
        // Take exactly this command's completion, leaving others queued.
        let depth = q.entries.len();
        let entry = q.entries[usize::from(cid) % depth].take()?;
        q.pending.retain(|Reverse((_, _, c))| *c != cid);
        Some(entry)
    }

    /// Commands submitted on a queue and not yet reaped.
    pub fn outstanding(&self, qid: QueueId) -> usize {
        self.queue(qid).map_or(0, QueuePair::outstanding)
    }

    fn queue(&self, qid: QueueId) -> Option<&QueuePair> {
        self.queues.get(usize::from(qid.0)).and_then(Option::as_ref)
    }

    /// Submits a command that the host issues at `at`; returns its command id. The command is
    /// executed at once; its completion waits to be reaped.
    pub fn submit(&mut self, qid: QueueId, cmd: Command, at: SimTime) -> Result<u16, SubmitError> {
        if at > SimTime::HORIZON {
            return Err(SubmitError::BeyondHorizon {
                at,
                command: Box::new(cmd),
            });
        }
        let Some(q) = self.queues.get(usize::from(qid.0)).and_then(Option::as_ref) else {
            return Err(SubmitError::InvalidQueue {
                qid: qid.0,
                command: Box::new(cmd),
            });
        };
        if q.outstanding() >= usize::from(q.depth) {
            return Err(SubmitError::QueueFull {
                qid: qid.0,
                depth: q.depth,
                command: Box::new(cmd),
            });
        }
        let (status, result, payload, done_at) = self.execute(qid, cmd, at);
        Ok(self.post(qid, at, status, result, payload, done_at))
    }

    // INVARIANT(sim-knows-no-ssdlets): vendor commands leave the controller as opaque bytes
    /// Like [`Controller::submit`], except that a command with a vendor opcode
    /// (`0xC0..=0xFF`) is not given to the installed [`VendorHandler`] but handed back, for
    /// firmware that lives outside the controller (the device runtime, which owns the
    /// controller and so cannot be called back from inside it). The controller charges what it
    /// charges every vendor command: the host I/O stack on an I/O queue, the PCIe transfer of
    /// the payload to the device, then one firmware-core command time. The command holds its
    /// queue slot until [`Controller::complete_vendor`].
    pub fn dispatch(&mut self, qid: QueueId, cmd: Command, at: SimTime) -> Result<Dispatched, SubmitError> {
        self.dispatch_priced(qid, cmd, at, false)
    }

    /// Like [`Controller::dispatch`], for a vendor command the firmware knows to model a call
    /// inside the host (a port or control operation of a conventional run, whose SSDlets run
    /// on host cores): it costs no host I/O stack, no PCIe in either direction and no
    /// firmware-core time, and completes when the firmware's reply is ready. It still holds a
    /// queue slot until [`Controller::complete_vendor`]. Any other command is dispatched as by
    /// [`Controller::dispatch`].
    pub fn dispatch_host_local(
        &mut self,
        qid: QueueId,
        cmd: Command,
        at: SimTime,
    ) -> Result<Dispatched, SubmitError> {
        self.dispatch_priced(qid, cmd, at, true)
    }

    fn dispatch_priced(
        &mut self,
        qid: QueueId,
        cmd: Command,
        at: SimTime,
        host_local: bool,
    ) -> Result<Dispatched, SubmitError> {
        if at > SimTime::HORIZON {
            return Err(SubmitError::BeyondHorizon {
                at,
                command: Box::new(cmd),
            });
        }
        let Command::Vendor { opcode, payload } = cmd else {
            return self.submit(qid, cmd, at).map(Dispatched::Completed);
        };
        if !VENDOR_OPCODES.contains(&opcode) {
            let cmd = Command::Vendor { opcode, payload };
            return self.submit(qid, cmd, at).map(Dispatched::Completed);
        }
        let Some(q) = self.queues.get_mut(usize::from(qid.0)).and_then(Option::as_mut) else {
            return Err(SubmitError::InvalidQueue {
                qid: qid.0,
                command: Box::new(Command::Vendor { opcode, payload }),
            });
        };
        if q.outstanding() >= usize::from(q.depth) {
            return Err(SubmitError::QueueFull {
                qid: qid.0,
                depth: q.depth,
                command: Box::new(Command::Vendor { opcode, payload }),
            });
        }
        // INVARIANT(isc-cost-charged): the slot is held until complete_vendor; host I/O stack (I/O
        // queues), payload over PCIe and one firmware-core time are charged here
        q.deferred += 1;
        let arrived_at = if host_local {
            at
        } else {
            let issued = if qid == ADMIN_QUEUE {
                at
            } else {
                at + SimDuration(self.profile.host.io_stack_ns)
            };
            let len = payload.len() as u64;
            self.ssd.with(|s| {
                let sent = s.pcie_to_device(issued, len);
                s.firmware(sent)
            })
        };
        Ok(Dispatched::Vendor(DeferredVendor {
            qid,
            submitted_at: at,
            opcode,
            payload,
            arrived_at,
            host_local,
        }))
    }

    /// Posts the completion of a vendor command from [`Controller::dispatch`]: the reply
    /// crosses PCIe to the host after `reply.done_at`, except `prepaid` of its bytes, which the
    /// firmware already moved to host memory by DMA (and charged) before. Returns its command id.
    pub fn complete_vendor(&mut self, cmd: DeferredVendor, reply: VendorReply, prepaid: u64) -> u16 {
        // INVARIANT(isc-cost-charged): the reply crosses PCIe, minus bytes already sent by DMA
        // (and none of a host-local command's)
        let ready = reply.done_at.max(cmd.arrived_at);
        let done = if cmd.host_local {
            ready
        } else {
            let charged = (reply.payload.len() as u64).saturating_sub(prepaid);
            self.ssd.with(|s| s.pcie_to_host(ready, charged))
        };
        if let Some(q) = self
            .queues
            .get_mut(usize::from(cmd.qid.0))
            .and_then(Option::as_mut)
        {
            q.deferred = q.deferred.saturating_sub(1);
        }
        let payload = Payload::Data(reply.payload);
        self.post(
            cmd.qid,
            cmd.submitted_at,
            reply.status,
            reply.result,
            payload,
            done,
        )
    }

    /// Queues a completion; the queue exists and has a free entry (checked at submission).
    fn post(
        &mut self,
        qid: QueueId,
        at: SimTime,
        status: Status,
        result: u32,
        payload: Payload,
        done_at: SimTime,
    ) -> u16 {
        let Some(q) = self.queues.get_mut(usize::from(qid.0)).and_then(Option::as_mut) else {
            // The queue was deleted while a deferred command was outstanding: nothing to post.
            return 0;
        };
        let depth = q.entries.len();
        let mut cid = q.next_cid;
        while q.entries[usize::from(cid) % depth].is_some() {
            cid = cid.wrapping_add(1);
        }
        q.next_cid = cid.wrapping_add(1);
        q.entries[usize::from(cid) % depth] = Some(Completion {
            qid,
            cid,
            status,
            result,
            payload,
            submitted_at: at,
            done_at,
        });
        q.seq += 1;
        q.pending.push(Reverse((done_at, q.seq, cid)));
        cid
    }

    /// The next completion on a queue (the one that finishes first), if any is outstanding.
    pub fn reap(&mut self, qid: QueueId) -> Option<Completion> {
        let q = self.queues.get_mut(usize::from(qid.0))?.as_mut()?;
        let Reverse((_, _, cid)) = q.pending.pop()?;
        let depth = q.entries.len();
        q.entries[usize::from(cid) % depth].take()
    }

    fn execute(&mut self, qid: QueueId, cmd: Command, at: SimTime) -> (Status, u32, Payload, SimTime) {
        let admin = qid == ADMIN_QUEUE;
        if let Command::Vendor { opcode, payload } = cmd {
            return self.vendor(at, opcode, payload, admin);
        }
        if cmd.is_admin() != admin {
            return (Status::INVALID_OPCODE, 0, Payload::None, at);
        }
        if admin {
            return self.admin(cmd, at);
        }
        // The conventional path: the host I/O stack before the device sees the command.
        let at = at + SimDuration(self.profile.host.io_stack_ns);
        let nsid = match &cmd {
            Command::Read { nsid, .. }
            | Command::Write { nsid, .. }
            | Command::Flush { nsid }
            | Command::Deallocate { nsid, .. } => *nsid,
            _ => unreachable!("admin and vendor commands were dispatched above"),
        };
        if nsid != 1 {
            return (Status::INVALID_NAMESPACE, 0, Payload::None, at);
        }
        let outcome: Result<(Payload, SimTime), IoError> = match cmd {
            Command::Read { lba, blocks, .. } => self.read(at, lba, blocks),
            Command::Write { lba, data, .. } => self
                .ssd
                .with(|s| s.host_write(at, lba, &data))
                .map(|t| (Payload::None, t)),
            Command::Flush { .. } => self.ssd.with(|s| s.flush(at)).map(|t| (Payload::None, t)),
            Command::Deallocate { ranges, .. } => self.deallocate(at, &ranges),
            _ => unreachable!("admin and vendor commands were dispatched above"),
        };
        match outcome {
            Ok((payload, done)) => (Status::SUCCESS, 0, payload, done),
            Err(e) => (Status::from(&e), 0, Payload::None, at),
        }
    }

    fn read(&mut self, at: SimTime, lba: Lba, blocks: u32) -> Result<(Payload, SimTime), IoError> {
        let (data, done) = self.ssd.with(|s| s.host_read_vec(at, lba, u64::from(blocks)))?;
        Ok((Payload::Data(data), done))
    }

    fn deallocate(&mut self, at: SimTime, ranges: &[(Lba, u32)]) -> Result<(Payload, SimTime), IoError> {
        if ranges.is_empty() {
            return Err(IoError::Empty);
        }
        for &(lba, n) in ranges {
            self.ssd.with(|s| s.check_range(lba, u64::from(n), false))?;
        }
        let mut done = at;
        for &(lba, n) in ranges {
            done = done.max(self.ssd.with(|s| s.trim(at, lba, u64::from(n)))?);
        }
        Ok((Payload::None, done))
    }

    fn admin(&mut self, cmd: Command, at: SimTime) -> (Status, u32, Payload, SimTime) {
        let capacity = self.ssd.with(|s| s.capacity_lbas());
        let p = &self.profile;
        match cmd {
            Command::Identify => {
                let id = Identify {
                    model: format!("sim-nvme {}", p.name),
                    firmware: env!("CARGO_PKG_VERSION").to_string(),
                    namespace_blocks: capacity,
                    block_bytes: LBA_BYTES as u32,
                    max_transfer_bytes: p.controller.max_transfer_bytes,
                    max_io_queues: p.controller.max_io_queues,
                    max_queue_depth: p.controller.max_queue_depth,
                    channels: p.geometry.channels,
                    matcher_max_keys: p.matcher.max_keys,
                    matcher_max_key_bytes: p.matcher.max_key_bytes,
                    vendor_opcodes: (*VENDOR_OPCODES.start(), *VENDOR_OPCODES.end()),
                };
                (Status::SUCCESS, 0, Payload::Identify(Box::new(id)), at)
            }
            Command::CreateIoQueue { depth } => {
                if depth < 2 || depth > p.controller.max_queue_depth {
                    return (Status::INVALID_QUEUE_SIZE, 0, Payload::None, at);
                }
                match self.queues.iter().skip(1).position(Option::is_none) {
                    Some(i) => {
                        self.queues[i + 1] = Some(QueuePair::new(depth));
                        (Status::SUCCESS, (i + 1) as u32, Payload::None, at)
                    }
                    None => (Status::INVALID_QUEUE_ID, 0, Payload::None, at),
                }
            }
            Command::DeleteIoQueue { qid } => {
                let slot = self.queues.get_mut(usize::from(qid)).filter(|_| qid != 0);
                match slot {
                    Some(s) if s.is_some() => {
                        *s = None;
                        (Status::SUCCESS, 0, Payload::None, at)
                    }
                    _ => (Status::INVALID_QUEUE_ID, 0, Payload::None, at),
                }
            }
            _ => (Status::INVALID_OPCODE, 0, Payload::None, at),
        }
    }

    fn vendor(
        &mut self,
        at: SimTime,
        opcode: u8,
        payload: Vec<u8>,
        admin: bool,
    ) -> (Status, u32, Payload, SimTime) {
        let Some(h) = self.vendor.as_mut().filter(|_| VENDOR_OPCODES.contains(&opcode)) else {
            return (Status::INVALID_OPCODE, 0, Payload::None, at);
        };
        let at = if admin {
            at
        } else {
            at + SimDuration(self.profile.host.io_stack_ns)
        };
        self.ssd.with(|s| {
            let sent = s.pcie_to_device(at, payload.len() as u64);
            let r = h.handle(s, sent, opcode, payload);
            let done = s.pcie_to_host(r.done_at, r.payload.len() as u64);
            (r.status, r.result, Payload::Data(r.payload), done)
        })
    }
}
