//! How a [`crate::Device`] reaches its device: a [`Transport`] submits one NVMe command (standard
//! or ISC) issued at a host instant and returns its completion. The embedded transport runs the
//! device firmware on a thread of this process; a socket transport to `ndp serve` carries the
//! same commands, so the API above behaves the same over either.

use device_runtime::device::{Device as DeviceThread, DeviceError, DeviceHandle};
use device_runtime::isc::IscError;
use sim_nvme::nvme::{Command, Completion};
use sim_nvme::SimTime;

use crate::daemon::DaemonStatus;
use crate::device::ImageLock;
use crate::error::Error;

/// One way to a device. Implementations are shared by every clone of a `Device` and by every
/// thread using them.
pub(crate) trait Transport: Send + Sync {
    /// Submits `cmd` issued at host instant `at` and waits for its completion. A blocking ISC
    /// request (`Recv`, `Wait`) returns only once it can be answered.
    fn submit(&self, cmd: Command, at: SimTime) -> Result<Completion, Error>;

    /// The daemon's status, if this transport goes through one.
    fn daemon_status(&self) -> Result<DaemonStatus, Error> {
        Err(Error::NotConnected("the daemon status"))
    }
}

/// The device firmware on its own thread in this process.
pub(crate) struct Embedded {
    base: DeviceHandle,
    /// Owns the device thread: dropped (and the thread joined) with the last `Device` clone.
    _thread: DeviceThread,
    /// The image file's lock, released after the thread has stopped (fields drop in order).
    _lock: Option<ImageLock>,
}

impl Embedded {
    pub(crate) fn new(thread: DeviceThread, lock: Option<ImageLock>) -> Embedded {
        Embedded {
            base: thread.handle(),
            _thread: thread,
            _lock: lock,
        }
    }
}

impl Transport for Embedded {
    fn submit(&self, cmd: Command, at: SimTime) -> Result<Completion, Error> {
        // A fresh handle per command: its clock is exactly `at`.
        let mut h = self.base.clone();
        h.advance_to(at);
        h.submit(cmd).map_err(from_device)
    }
}

/// The host API's view of a device-thread error.
pub(crate) fn from_device(e: DeviceError) -> Error {
    match e {
        DeviceError::Stopped => Error::Stopped,
        DeviceError::Start(m) => Error::Open(m),
        DeviceError::Isc(IscError::Refused { kind, message }) => Error::Refused {
            request: "command",
            kind,
            message,
        },
        other => Error::Transport(other.to_string()),
    }
}
