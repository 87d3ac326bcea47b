//! How a [`crate::Device`] reaches its device: a [`Transport`] submits one NVMe command (standard
//! or ISC) issued at a host instant and returns its completion. The embedded transport
//! ([`crate::embedded`]) runs the device firmware on a thread of this process; the socket
//! transport to `ndp serve` ([`crate::daemon`]) carries the same commands, so the API above
//! behaves the same over either (INVARIANT(transport-agnostic)).

use sim_nvme::nvme::{Command, Completion};
use sim_nvme::SimTime;

use crate::daemon::DaemonStatus;
use crate::error::Error;

// INVARIANT(host-through-transport): `submit` is the only way host-sdk reaches a device
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

    /// Whom this host's files belong to: `None` (the device owner) on an embedded device, what
    /// the daemon's welcome said otherwise ([`ndp_protocol::tenant`]).
    fn tenant(&self) -> Option<ndp_protocol::Tenant> {
        None
    }
}
