//! The embedded device (feature `embedded`, on by default; INVARIANT(embedded-is-a-feature)):
//! the device firmware (`device-runtime`) on its own thread in this process, optionally on a
//! persistent image file that it locks. `ndp serve` starts its device with [`start_device`] too.

use std::path::{Path, PathBuf};

use device_runtime::device::{DeviceError, DeviceHandle, DeviceThread};
use device_runtime::isc::Firmware;
use device_runtime::loader::Loader;
use device_runtime::runtime::{Runtime, RuntimeConfig};
use ndp_protocol::{ErrorKind, IscError};
use sim_nvme::nvme::{Command, Completion};
use sim_nvme::{DeviceProfile, SimTime, Ssd};

use crate::error::{Error, Result};
use crate::transport::Transport;

/// Where an embedded device keeps its NAND contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageSpec {
    /// In memory: gone when the last `Device` clone is dropped.
    Memory,
    /// A persistent image file: opened if it exists (it must be of the same profile), else
    /// created.
    File(PathBuf),
}

/// An exclusive advisory lock (`flock`) on a device image file, held while a device uses it,
/// so two devices (say `ndp serve` and `ndp put --image`) never write one image at once.
pub struct ImageLock(#[allow(dead_code)] std::fs::File);

// INVARIANT(image-flock): exclusive, non-blocking: a second device on the image is refused
fn lock_image(path: &Path) -> Result<ImageLock> {
    use std::os::fd::AsRawFd;
    let f = std::fs::File::open(path)
        .map_err(|e| Error::Open(format!("device image `{}`: {e}", path.display())))?;
    // INVARIANT(unsafe-listed-modules): a single, listed libc call
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

// INVARIANT(host-through-transport): boots the firmware; commands then go through `Embedded`
/// Starts the firmware of a device of `profile` on `image` on its own thread; a file image
/// is locked for as long as the returned lock lives (drop it after the thread).
pub fn start_device(
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

/// The device firmware on its own thread in this process.
pub(crate) struct Embedded {
    base: DeviceHandle,
    /// Owns the device thread: dropped (and the thread joined) with the last `Device` clone.
    _thread: DeviceThread,
    // INVARIANT(image-flock): held for as long as the device thread runs
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
pub fn from_device(e: DeviceError) -> Error {
    match e {
        DeviceError::Stopped => Error::Stopped,
        DeviceError::Start(m) => Error::Open(m),
        DeviceError::Isc(IscError::Refused { kind, message }) => Error::Refused {
            request: "command",
            kind,
            message,
        },
        DeviceError::Denied(message) => Error::Refused {
            request: "command",
            kind: ErrorKind::Forbidden,
            message,
        },
        other => Error::Transport(other.to_string()),
    }
}
