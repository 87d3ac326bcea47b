//! [`Device`]: a handle on one simulated smart SSD (Biscuit's `SSD`), and its host clock.
//!
//! A `Device` is cheap to clone; clones share the device and the host clock (one host
//! program). [`Device::with_own_clock`] gives another host thread a clock of its own, so its
//! simulated times do not depend on how the threads interleave.
//!
//! The host clock is the simulated instant at which this host issues its next command: every
//! command moves it to its completion, and [`Device::compute`] adds measured host compute (thread CPU time), so
//! a program can report conventional and NDP runs in the same simulated time.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use device_runtime::device::Device as DeviceThread;
use device_runtime::isc::{response_of, Firmware, IscError, IscRequest, IscResponse};
use device_runtime::loader::Loader;
use device_runtime::runtime::{Runtime, RuntimeConfig};
use sim_nvme::nvme::{Command, Completion};
use sim_nvme::{DeviceProfile, SimDuration, SimTime, Ssd};

use crate::daemon::{DaemonStatus, Remote};
use crate::error::{Error, Result};
use crate::transport::{from_device, Embedded, Transport};

/// Where an embedded device keeps its NAND contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageSpec {
    /// In memory: gone when the last `Device` clone is dropped.
    Memory,
    /// A persistent image file: opened if it exists (it must be of the same profile), else
    /// created.
    File(PathBuf),
}

/// A simulated smart SSD (Biscuit's `SSD`), reached only through NVMe and ISC commands.
#[derive(Clone)]
pub struct Device {
    transport: Arc<dyn Transport>,
    clock: Arc<Mutex<SimTime>>,
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
    /// configuration.
    pub fn embedded(profile: DeviceProfile, image: ImageSpec) -> Result<Device> {
        Device::embedded_with(profile, image, RuntimeConfig::default())
    }

    /// [`Device::embedded`] with a runtime configuration.
    pub fn embedded_with(profile: DeviceProfile, image: ImageSpec, config: RuntimeConfig) -> Result<Device> {
        let (thread, lock) = start_device(profile, image, config)?;
        Ok(Device::over(Arc::new(Embedded::new(thread, lock))))
    }

    /// A device served by `ndp serve` on Unix socket `socket` ([`crate::daemon`]). The same
    /// API and behaviour as an embedded device; clones share one connection, and a thread
    /// blocked in a `Recv` or `Wait` holds no other thread up.
    pub fn connect(socket: impl AsRef<Path>) -> Result<Device> {
        Ok(Device::over(Arc::new(Remote::connect(socket.as_ref())?)))
    }

    /// The status of the daemon this device is reached through (its sessions and the
    /// Applications it aborted after their host processes went away); an embedded device
    /// has none ([`Error::NotConnected`]).
    pub fn daemon_status(&self) -> Result<DaemonStatus> {
        self.transport.daemon_status()
    }

    fn over(transport: Arc<dyn Transport>) -> Device {
        Device {
            transport,
            clock: Arc::new(Mutex::new(SimTime::ZERO)),
        }
    }

    /// The same device with a host clock of its own, starting at this one's instant (for
    /// another host thread).
    pub fn with_own_clock(&self) -> Device {
        Device {
            transport: Arc::clone(&self.transport),
            clock: Arc::new(Mutex::new(self.now())),
        }
    }

    /// The host clock: when this host issues its next command.
    pub fn now(&self) -> SimTime {
        *self.clock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the host clock to `at` (it never goes back).
    pub fn advance_to(&self, at: SimTime) {
        let mut c = self.clock.lock().unwrap_or_else(PoisonError::into_inner);
        *c = (*c).max(at);
    }

    /// Charges `d` of host compute to the host clock.
    pub fn charge(&self, d: Duration) {
        let mut c = self.clock.lock().unwrap_or_else(PoisonError::into_inner);
        *c += sim(d);
    }

    /// Runs `f` on the host, measures the CPU time this thread spent in it (not wall time: a
    /// descheduled thread adds nothing) and charges it to the host clock.
    pub fn compute<R>(&self, f: impl FnOnce() -> R) -> R {
        let (r, spent) = crate::cpu::on_cpu(f);
        self.charge(spent);
        r
    }

    /// Submits an NVMe command at the host clock; the clock moves to its completion.
    pub fn submit(&self, cmd: Command) -> Result<Completion> {
        let c = self.transport.submit(cmd, self.now())?;
        self.advance_to(c.done_at);
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

/// An exclusive advisory lock (`flock`) on a device image file, held while a device uses it,
/// so two devices (say `ndp serve` and `ndp put --image`) never write one image at once.
pub(crate) struct ImageLock(#[allow(dead_code)] std::fs::File);

fn lock_image(path: &Path) -> Result<ImageLock> {
    use std::os::fd::AsRawFd;
    let f = std::fs::File::open(path)
        .map_err(|e| Error::Open(format!("device image `{}`: {e}", path.display())))?;
    // SAFETY: flock(2) on a descriptor `f` owns; it touches no memory of this process.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r != 0 {
        return Err(Error::Open(format!(
            "device image `{}` is in use by another device (an `ndp serve` or another program); \
             expected a free image",
            path.display()
        )));
    }
    Ok(ImageLock(f))
}

/// Starts the firmware of a device of `profile` on `image` on its own thread; a file image
/// is locked for as long as the returned lock lives (drop it after the thread).
pub(crate) fn start_device(
    profile: DeviceProfile,
    image: ImageSpec,
    config: RuntimeConfig,
) -> Result<(DeviceThread, Option<ImageLock>)> {
    let file = match &image {
        ImageSpec::File(p) => Some(p.clone()),
        ImageSpec::Memory => None,
    };
    // An existing image is locked before it is opened; a new one once it exists.
    let early = match &file {
        Some(p) if p.exists() => Some(lock_image(p)?),
        _ => None,
    };
    let thread = DeviceThread::start(move || {
        let name = profile.name.clone();
        let ssd = match &image {
            ImageSpec::Memory => Ssd::in_memory(profile).map_err(|e| e.to_string()),
            ImageSpec::File(p) if p.exists() => Ssd::open_image(profile, p).map_err(|e| e.to_string()),
            ImageSpec::File(p) => Ssd::create_image(profile, p).map_err(|e| e.to_string()),
        }
        .map_err(|e| format!("profile `{name}`, image {image:?}: {e}"))?;
        let rt = Runtime::new(ssd, config).map_err(|e| e.to_string())?;
        let loader = Loader::with_temp_staging().map_err(|e| e.to_string())?;
        Ok(Firmware::new(rt, loader))
    })
    .map_err(from_device)?;
    let lock = match (early, file) {
        (Some(l), _) => Some(l),
        (None, Some(p)) => Some(lock_image(&p)?),
        (None, None) => None,
    };
    Ok((thread, lock))
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
