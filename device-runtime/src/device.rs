//! A device on its own OS thread: the [`Firmware`] (and the single-threaded [`Runtime`] in
//! it) lives on the thread; host threads reach it only through NVMe commands sent via a
//! [`DeviceHandle`] (`Send + Clone`).
//!
//! The hand-off is `std::sync::mpsc`: one request channel into the device thread, and a reply
//! per command: a callback the device thread calls with the completion ([`Done`]). It needs no
//! dependency, the device thread is a plain blocking loop (it must own the `!Send` runtime, so
//! it is not an async task anyway), and `Sender` is `Send + Sync + Clone`. Each side of a
//! hand-off looks for the other's message for `HANDOFF_SPIN` (50 us) before it sleeps.
//! [`DeviceHandle::submit`] waits on a channel the callback sends to; a tokio daemon uses
//! [`DeviceHandle::submit_then`], whose callback wakes a task, so a parked command costs it no
//! thread.
//!
//! Between requests the thread keeps running Applications in short slices
//! ([`Firmware::run_some`]), checking for requests in between. Before it serves a command it
//! runs the device until nothing is runnable (INVARIANT(run-idle-before-command)), so what a
//! command sees (and when it completes, in simulated time) depends only on the commands before
//! it, never on wall-clock timing.
//! A blocking `Wait` or `Recv` ([`IscRequest`]) that cannot be answered yet is parked and
//! served once later commands (from any host thread) let it complete.
//!
//! Each handle keeps its host's simulated clock: a command is submitted at the handle's
//! `now`, and `now` moves to the command's completion instant.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ndp_protocol::Tenant;
use sim_nvme::nvme::{Command, Completion, QueueId, ADMIN_QUEUE};
use sim_nvme::{DeviceProfile, SimTime};

use crate::isc::{response_of, Arrived, Firmware, IscError, IscRequest, IscResponse};
use crate::loader::Loader;
use crate::runtime::{Runtime, RuntimeConfig};

/// Resumptions the device thread runs between two looks at its request channel.
const SLICE: usize = 256;
/// How long each side of a hand-off keeps looking for the other's next message before it
/// sleeps (assumed: 50 us). A host that reads hinted pages one command at a time sends the next
/// within a few microseconds of the last reply. Derived on a 2-vCPU VM: the offloaded filter
/// query at SF 1 makes about 2,450 round trips (counted: 2,390 reads of hinted runs and 51 hint
/// messages, besides the file table and the Application's set-up), and its wall time fell by
/// about 200 ms once neither side slept at once: some 80 us per round trip of putting a thread
/// to sleep and waking it. Only wall time changes: what a command sees depends on the commands
/// before it, never on when it arrives (INVARIANT(run-idle-before-command)).
const HANDOFF_SPIN: Duration = Duration::from_micros(50);
/// Depth of the I/O queue host commands use (each is reaped before the next on a handle).
const IO_DEPTH: u16 = 64;

/// Why a command through a [`DeviceHandle`] failed.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The device thread is gone (shut down, or it failed).
    #[error("the device thread has stopped; expected a running device (shut down or failed)")]
    Stopped,
    /// The device could not be started.
    #[error("cannot start the device: {0}")]
    Start(String),
    /// The controller did not queue the command.
    #[error("the device did not queue the command: {0}")]
    Submit(String),
    /// The firmware refused a tenant's raw command: its blocks are outside the files the tenant
    /// may use (INVARIANT(files-belong-to-tenants)).
    #[error("the device refused the command: {0}")]
    Denied(String),
    /// The ISC exchange failed (a refusal carries the device's typed error text).
    #[error(transparent)]
    Isc(#[from] IscError),
    /// The response is not the kind the request asks for.
    #[error("unexpected ISC response to {request}: {response}")]
    Unexpected {
        /// The request kind.
        request: &'static str,
        /// The response, debug-printed.
        response: String,
    },
    /// A host message did not encode.
    #[error("cannot encode a host message: {0}")]
    Encode(String),
    /// A received message did not decode as the expected type.
    #[error("message {index} from the device does not decode: {reason}")]
    Decode {
        /// Its position in the stream.
        index: usize,
        /// Why.
        reason: String,
    },
}

/// What the device thread calls with a command's completion (on the device thread: it must
/// not block, e.g. send it on a channel). Dropped uncalled when the device stops.
pub type Done = Box<dyn FnOnce(Result<Completion, DeviceError>) + Send>;

enum Request {
    Submit {
        cmd: Command,
        at: SimTime,
        tenant: Option<Tenant>,
        reply: Done,
    },
    Shutdown,
}

/// What a watchdog on another thread sees of the device thread: a count that moves with every
/// resumption and every command, and whether the thread is idle (waiting for a command). A
/// thread that is not idle while the count stands still for long is stuck (an SSDlet that
/// never yields).
#[derive(Clone, Debug)]
pub struct Heartbeat {
    steps: std::sync::Arc<std::sync::atomic::AtomicU64>,
    idle: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Heartbeat {
    /// The count of resumptions and commands so far.
    pub fn beats(&self) -> u64 {
        self.steps.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the device thread is waiting for a command (nothing to run).
    pub fn is_idle(&self) -> bool {
        self.idle.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn beat(&self) {
        self.steps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn set_idle(&self, idle: bool) {
        self.idle.store(idle, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The device thread's owner. Dropping it stops the thread (handles then get
/// [`DeviceError::Stopped`]) and joins it.
pub struct DeviceThread {
    handle: DeviceHandle,
    heartbeat: Heartbeat,
    thread: Option<JoinHandle<()>>,
}

impl DeviceThread {
    /// A device thread with a fresh in-memory SSD of `profile`, staging modules
    /// under `$TMPDIR` (see [`Loader::with_temp_staging`]).
    pub fn in_memory(profile: DeviceProfile, config: RuntimeConfig) -> Result<DeviceThread, DeviceError> {
        DeviceThread::start(move || {
            let rt = Runtime::in_memory(profile, config).map_err(|e| e.to_string())?;
            let loader = Loader::with_temp_staging().map_err(|e| e.to_string())?;
            Ok(Firmware::new(rt, loader))
        })
    }

    // INVARIANT(device-deterministic): the runtime lives on this one thread only
    /// A device thread running the firmware `build` makes (on the thread: the runtime is not
    /// `Send`).
    pub fn start<F>(build: F) -> Result<DeviceThread, DeviceError>
    where
        F: FnOnce() -> Result<Firmware, String> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<Request>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<Heartbeat, String>>();
        let thread = std::thread::Builder::new()
            .name("ssd-device".into())
            .spawn(move || {
                let mut fw = match build() {
                    Ok(fw) => fw,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let q = match fw.create_io_queue(IO_DEPTH) {
                    Ok(q) => q,
                    Err(s) => {
                        let _ = ready_tx.send(Err(format!("cannot create the host I/O queue: {s}")));
                        return;
                    }
                };
                let heartbeat = Heartbeat {
                    steps: fw.steps(),
                    idle: Default::default(),
                };
                let _ = ready_tx.send(Ok(heartbeat.clone()));
                serve(fw, q, rx, &heartbeat);
            })
            .map_err(|e| DeviceError::Start(e.to_string()))?;
        match ready_rx.recv() {
            Ok(Ok(heartbeat)) => Ok(DeviceThread {
                heartbeat,
                handle: DeviceHandle {
                    tx,
                    now: SimTime::ZERO,
                },
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(DeviceError::Start(e))
            }
            Err(_) => {
                let _ = thread.join();
                Err(DeviceError::Start(
                    "the device thread failed while starting".into(),
                ))
            }
        }
    }

    /// A handle for a host thread (its clock starts at zero).
    pub fn handle(&self) -> DeviceHandle {
        self.handle.clone()
    }

    /// The device thread's [`Heartbeat`], for a watchdog.
    pub fn heartbeat(&self) -> Heartbeat {
        self.heartbeat.clone()
    }
}

impl Drop for DeviceThread {
    fn drop(&mut self) {
        let _ = self.handle.tx.send(Request::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A parked command and where its completion goes.
struct Parked {
    cmd: Arrived,
    at: SimTime,
    reply: Done,
}

/// The device thread's loop.
fn serve(mut fw: Firmware, q: QueueId, rx: mpsc::Receiver<Request>, hb: &Heartbeat) {
    let mut parked: Vec<Parked> = Vec::new();
    let mut busy = false;
    loop {
        let next = if busy {
            match rx.try_recv() {
                Ok(r) => Some(r),
                Err(mpsc::TryRecvError::Empty) => None,
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        } else {
            hb.set_idle(true);
            let r = recv_soon(&rx);
            hb.set_idle(false);
            match r {
                Ok(r) => Some(r),
                Err(_) => return,
            }
        };
        hb.beat();
        let Some(req) = next else {
            busy = fw.run_some(SLICE);
            continue;
        };
        let Request::Submit {
            cmd,
            at,
            tenant,
            reply,
        } = req
        else {
            return;
        };
        let cmd = Arrived::new(cmd).from_tenant(tenant);
        if fw.would_block(&cmd) {
            parked.push(Parked { cmd, at, reply });
            continue;
        }
        execute(&mut fw, q, cmd, at, reply);
        // The command may have unblocked parked ones (oldest first).
        let mut i = 0;
        while i < parked.len() {
            if fw.would_block(&parked[i].cmd) {
                i += 1;
            } else {
                let p = parked.remove(i);
                execute(&mut fw, q, p.cmd, p.at, p.reply);
                i = 0;
            }
        }
        busy = true;
    }
}

/// `rx.recv()`, but first looking for the message for [`HANDOFF_SPIN`] (yielding the CPU to
/// any other runnable thread in between) before sleeping.
fn recv_soon<T>(rx: &mpsc::Receiver<T>) -> Result<T, mpsc::RecvError> {
    let start = Instant::now();
    loop {
        match rx.try_recv() {
            Ok(v) => return Ok(v),
            Err(mpsc::TryRecvError::Disconnected) => return Err(mpsc::RecvError),
            Err(mpsc::TryRecvError::Empty) if start.elapsed() >= HANDOFF_SPIN => return rx.recv(),
            Err(mpsc::TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
}

fn execute(fw: &mut Firmware, q: QueueId, cmd: Arrived, at: SimTime, reply: Done) {
    let qid = if cmd.is_admin() { ADMIN_QUEUE } else { q };
    if let Some(why) = fw.refusal(&cmd) {
        reply(Err(DeviceError::Denied(why)));
        return;
    }
    let result = fw
        .submit_arrived_and_wait(qid, cmd, at)
        .map_err(|e| DeviceError::Submit(e.to_string()));
    reply(result);
}

// INVARIANT(runtime-behind-commands): a host thread holds only a channel for NVMe commands
/// A host thread's way to the device: submits NVMe commands (standard and ISC) and gets
/// their completions. `Send + Clone`; each clone keeps its own simulated host clock.
#[derive(Clone)]
pub struct DeviceHandle {
    tx: mpsc::Sender<Request>,
    now: SimTime,
}

impl DeviceHandle {
    /// This host's simulated clock: the instant its next command is issued.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Moves this host's clock (e.g. past host-side compute); it never goes back.
    pub fn advance_to(&mut self, at: SimTime) {
        self.now = self.now.max(at);
    }

    /// Submits `cmd` at this host's clock and waits for its completion; the clock moves to
    /// the completion instant. Admin commands go to the admin queue, others to an I/O queue.
    pub fn submit(&mut self, cmd: Command) -> Result<Completion, DeviceError> {
        let (reply, rx) = mpsc::channel();
        self.submit_then(
            cmd,
            Box::new(move |r| {
                // A host that gave up waiting is not the device's concern.
                let _ = reply.send(r);
            }),
        )?;
        let c = recv_soon(&rx).map_err(|_| DeviceError::Stopped)??;
        self.now = self.now.max(c.done_at);
        Ok(c)
    }

    /// Submits `cmd` at this host's clock without waiting: the device thread calls `done`
    /// with the completion when the command completes (a parked `Recv` or `Wait` later), or
    /// drops it uncalled if the device stops first. This handle's clock does not move; the
    /// caller advances it from the completion if it wants to.
    pub fn submit_then(&self, cmd: Command, done: Done) -> Result<(), DeviceError> {
        self.submit_as_then(cmd, None, done)
    }

    /// [`DeviceHandle::submit_then`] of a command issued by `tenant` (`None`: the device owner;
    /// [`ndp_protocol::tenant`]): the firmware serves it only on files the tenant may use, and
    /// a raw command outside them completes as [`DeviceError::Denied`].
    pub fn submit_as_then(
        &self,
        cmd: Command,
        tenant: Option<Tenant>,
        done: Done,
    ) -> Result<(), DeviceError> {
        let req = Request::Submit {
            cmd,
            at: self.now,
            tenant,
            reply: done,
        };
        self.tx.send(req).map_err(|_| DeviceError::Stopped)
    }

    /// Sends an ISC request and decodes its response (a refusal is
    /// [`IscError::Refused`] with the device's typed error text).
    pub fn call(&mut self, req: &IscRequest) -> Result<IscResponse, DeviceError> {
        let c = self.submit(req.to_command()?)?;
        Ok(response_of(&c)?)
    }

    /// Sends `items` on a host sender as one `Send` command (feature `testing`).
    #[cfg(feature = "testing")]
    pub fn send<T: serde::Serialize>(
        &mut self,
        port: ndp_protocol::SenderId,
        items: &[T],
    ) -> Result<(), DeviceError> {
        let messages = items
            .iter()
            .map(|v| postcard::to_stdvec(v).map_err(|e| DeviceError::Encode(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        self.expect_done(&IscRequest::Send { port, messages }, "Send")
    }

    /// Closes a host sender.
    pub fn close(&mut self, port: ndp_protocol::SenderId) -> Result<(), DeviceError> {
        self.expect_done(&IscRequest::CloseSender { port }, "CloseSender")
    }

    /// Receives up to `max` messages, blocking until there is one or the stream has ended;
    /// returns them and whether the stream has ended (feature `testing`).
    #[cfg(feature = "testing")]
    pub fn recv<T: serde::de::DeserializeOwned>(
        &mut self,
        port: ndp_protocol::ReceiverId,
        max: u32,
    ) -> Result<(Vec<T>, bool), DeviceError> {
        let req = IscRequest::Recv {
            port,
            max,
            block: true,
        };
        match self.call(&req)? {
            IscResponse::Messages { messages, end } => {
                let items = messages
                    .iter()
                    .enumerate()
                    .map(|(index, m)| {
                        postcard::from_bytes(m).map_err(|e| DeviceError::Decode {
                            index,
                            reason: e.to_string(),
                        })
                    })
                    .collect::<Result<Vec<T>, _>>()?;
                Ok((items, end))
            }
            r => Err(unexpected("Recv", &r)),
        }
    }

    /// Receives every message until the end of the stream (feature `testing`).
    #[cfg(feature = "testing")]
    pub fn recv_all<T: serde::de::DeserializeOwned>(
        &mut self,
        port: ndp_protocol::ReceiverId,
    ) -> Result<Vec<T>, DeviceError> {
        let mut out = Vec::new();
        loop {
            let (items, end) = self.recv(port, 4096)?;
            out.extend(items);
            if end {
                return Ok(out);
            }
        }
    }

    fn expect_done(&mut self, req: &IscRequest, what: &'static str) -> Result<(), DeviceError> {
        match self.call(req)? {
            IscResponse::Done => Ok(()),
            r => Err(unexpected(what, &r)),
        }
    }
}

fn unexpected(request: &'static str, r: &IscResponse) -> DeviceError {
    DeviceError::Unexpected {
        request,
        response: format!("{r:?}"),
    }
}
