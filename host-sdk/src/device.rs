//! [`Device`]: a handle on one simulated smart SSD (Biscuit's `SSD`), and its host clock.
//!
//! A `Device` is cheap to clone; clones share the device and the host clock (one host
//! program). [`Device::with_own_clock`] gives another host thread a clock of its own, so its
//! simulated times do not depend on how the threads interleave.
//!
//! The host clock is the simulated instant at which this host issues its next command: every
//! command moves it to its completion, and [`Device::compute`] adds measured host compute (thread CPU time), so
//! a program can report conventional and NDP runs in the same simulated time.
//!
//! With a trace on ([`sim_nvme::trace`]), each host clock is a host-thread track: the time a
//! command moves it forward is an I/O wait, [`Device::charge`] is compute.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ndp_protocol::{response_of, IscError, IscRequest, IscResponse};
use sim_nvme::nvme::{Command, Completion};
use sim_nvme::trace::{self, Track};
use sim_nvme::{SimDuration, SimTime};

use crate::daemon::{DaemonStatus, Remote};
#[cfg(feature = "embedded")]
use crate::embedded::ImageSpec;
use crate::error::{Error, Result};
use crate::transport::Transport;
#[cfg(feature = "embedded")]
use device_runtime::runtime::RuntimeConfig;
#[cfg(feature = "embedded")]
use sim_nvme::DeviceProfile;

/// A simulated smart SSD (Biscuit's `SSD`), reached only through NVMe and ISC commands.
#[derive(Clone)]
pub struct Device {
    transport: Arc<dyn Transport>,
    clock: Arc<HostClock>,
}

/// One host thread's simulated clock and its track on a trace's timeline.
#[derive(Debug)]
struct HostClock {
    now: Mutex<SimTime>,
    track: Track,
}

impl HostClock {
    fn new(at: SimTime) -> Arc<HostClock> {
        Arc::new(HostClock {
            now: Mutex::new(at),
            track: Track::HostThread(trace::new_host_thread()),
        })
    }

    // INVARIANT(host-clock-forward): max, never back
    /// Moves the clock to `at` (never back); the time it moved is recorded as `what`.
    fn advance_to(&self, at: SimTime, what: &str) {
        let mut c = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        if at > *c {
            trace::slice(self.track, what, *c, at);
            *c = at;
        }
    }
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}

impl Device {
    /// A device in this process (the firmware on its own thread), with the default runtime
    /// configuration (feature `embedded`).
    #[cfg(feature = "embedded")]
    pub fn embedded(profile: DeviceProfile, image: ImageSpec) -> Result<Device> {
        Device::embedded_with(profile, image, RuntimeConfig::default())
    }

    /// [`Device::embedded`] with a runtime configuration (feature `embedded`).
    #[cfg(feature = "embedded")]
    pub fn embedded_with(profile: DeviceProfile, image: ImageSpec, config: RuntimeConfig) -> Result<Device> {
        let (thread, lock) = crate::embedded::start_device(profile, image, config)?;
        Ok(Device::over(Arc::new(crate::embedded::Embedded::new(
            thread, lock,
        ))))
    }

    /// A device served by `ndp serve` on Unix socket `socket` ([`crate::daemon`]). The same
    /// API and behaviour as an embedded device; clones share one connection, and a thread
    /// blocked in a `Recv` or `Wait` holds no other thread up.
    pub fn connect(socket: impl AsRef<Path>) -> Result<Device> {
        Ok(Device::over(Arc::new(Remote::connect(socket.as_ref())?)))
    }

    /// A device served by `ndp serve --listen ADDR:PORT --token-file FILE` on another host (or
    /// this one), reached over TCP at `addr` (`HOST:PORT`) with the daemon's shared `token`. The
    /// same API as [`Device::connect`]. A wrong token is [`Error::Daemon`] with kind
    /// `Unauthorized`; a closed port, or a node that does not answer within 10 s, is
    /// [`Error::Connect`] naming the address.
    pub fn connect_tcp(addr: &str, token: &str) -> Result<Device> {
        Device::connect_tcp_within(addr, token, crate::daemon::TCP_TIMEOUT)
    }

    /// [`Device::connect_tcp`], waiting at most `timeout` to connect and again at most
    /// `timeout` for the daemon's welcome.
    pub fn connect_tcp_within(addr: &str, token: &str, timeout: std::time::Duration) -> Result<Device> {
        Ok(Device::over(Arc::new(Remote::connect_tcp(addr, token, timeout)?)))
    }

    /// The status of the daemon this device is reached through (its sessions and the
    /// Applications it aborted after their host processes went away); an embedded device
    /// has none ([`Error::NotConnected`]).
    pub fn daemon_status(&self) -> Result<DaemonStatus> {
        self.transport.daemon_status()
    }

    /// Whom the files this host creates belong to, and so which files it may use: `None`, the
    /// device owner (embedded, or `ndp serve` running as this user), who may use every file;
    /// otherwise this host's uid or the TCP token, which may use its own files and read the
    /// ones their owners share ([`Device::share_file`]; [`ndp_protocol::tenant`]).
    pub fn tenant(&self) -> Option<ndp_protocol::Tenant> {
        self.transport.tenant()
    }

    // INVARIANT(transport-agnostic): one Device type over any transport
    fn over(transport: Arc<dyn Transport>) -> Device {
        Device {
            transport,
            clock: HostClock::new(SimTime::ZERO),
        }
    }

    /// The same device with a host clock of its own, starting at this one's instant (for
    /// another host thread).
    pub fn with_own_clock(&self) -> Device {
        Device {
            transport: Arc::clone(&self.transport),
            clock: HostClock::new(self.now()),
        }
    }

    /// The host clock: when this host issues its next command.
    pub fn now(&self) -> SimTime {
        *self.clock.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the host clock to `at` (it never goes back); on a trace, the time it moved is
    /// waiting.
    pub fn advance_to(&self, at: SimTime) {
        self.clock.advance_to(at, "wait");
    }

    /// Charges `d` of host compute to the host clock.
    pub fn charge(&self, d: Duration) {
        let mut c = self.clock.now.lock().unwrap_or_else(PoisonError::into_inner);
        let from = *c;
        *c += sim(d);
        if *c > from {
            trace::slice(self.clock.track, "compute", from, *c);
        }
    }

    /// This host clock's track on a trace's timeline.
    pub(crate) fn track(&self) -> Track {
        self.clock.track
    }

    /// Moves the host clock to `at` without recording the move (the caller recorded what
    /// the host did meanwhile).
    pub(crate) fn advance_untraced(&self, at: SimTime) {
        let mut c = self.clock.now.lock().unwrap_or_else(PoisonError::into_inner);
        *c = (*c).max(at);
    }

    // INVARIANT(host-clock-forward): measured host compute only adds
    /// Runs `f` on the host, measures the CPU time this thread spent in it (not wall time: a
    /// descheduled thread adds nothing) and charges it to the host clock.
    pub fn compute<R>(&self, f: impl FnOnce() -> R) -> R {
        let (r, spent) = crate::cpu::on_cpu(f);
        self.charge(spent);
        r
    }

    // INVARIANT(host-through-transport): every command goes through the transport
    /// Submits an NVMe command at the host clock; the clock moves to its completion.
    pub fn submit(&self, cmd: Command) -> Result<Completion> {
        let c = self.transport.submit(cmd, self.now())?;
        self.clock.advance_to(c.done_at, "I/O wait");
        Ok(c)
    }

    /// Submits an NVMe command issued at `at`, leaving the host clock alone (for queues of
    /// outstanding commands).
    pub(crate) fn submit_at(&self, cmd: Command, at: SimTime) -> Result<Completion> {
        self.transport.submit(cmd, at)
    }

    /// Sends an ISC request and returns its response; a refusal is [`Error::Refused`].
    pub(crate) fn call(&self, req: &IscRequest) -> Result<IscResponse> {
        let request = req.name();
        let cmd = req.to_command().map_err(|e| Error::Transport(e.to_string()))?;
        let c = self.submit(cmd)?;
        match response_of(&c) {
            Ok(r) => Ok(r),
            Err(IscError::Refused { kind, message }) => Err(Error::Refused {
                request,
                kind,
                message,
            }),
            Err(e) => Err(Error::Transport(format!("{request}: {e}"))),
        }
    }

    /// [`Device::call`] expecting `Done`.
    pub(crate) fn call_done(&self, req: &IscRequest) -> Result<()> {
        match self.call(req)? {
            IscResponse::Done => Ok(()),
            r => Err(unexpected(req, &r)),
        }
    }
}

/// A host duration as simulated time.
pub(crate) fn sim(d: Duration) -> SimDuration {
    SimDuration(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

pub(crate) fn unexpected(req: &IscRequest, r: &IscResponse) -> Error {
    Error::Unexpected {
        request: req.name(),
        response: format!("{r:?}"),
    }
}
