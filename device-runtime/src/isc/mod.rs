//! The in-storage-computing (ISC) commands: the only way a host reaches the device runtime.
//!
//! Each command is an NVMe `Command::Vendor` whose payload is a postcard-encoded [`Envelope`]
//! (protocol version, then an [`IscRequest`]); the completion's data is a postcard-encoded
//! [`IscResponse`]. One vendor opcode per command family:
//!
//! | opcode | family | requests |
//! |---|---|---|
//! | `0xC0` | module | `LoadModule` (bytes or device path), `UnloadModule` |
//! | `0xC1` | application | `CreateApp` |
//! | `0xC2` | spawn | `Spawn` (module id, SSDlet id, arguments, placement) |
//! | `0xC3` | connect | `Connect` (SSDlet to SSDlet, also across Applications), `HostSender`, `HostReceiver` |
//! | `0xC4` | start | `Start` |
//! | `0xC5` | port data | `Send` (a batch of encoded messages), `CloseSender`, `Recv` (up to N; end of stream) |
//! | `0xC6` | abort | `Abort` |
//! | `0xC7` | wait/report | `Wait`, `Report` |
//! | `0xC8` | device files | `FileCreate` (with size), `FileOpen`, `FileWrite` / `FileRead` (byte ranges), `FileList`, `FileRemove` |
//!
//! Outcomes:
//! - success: status *Successful Completion*, the response in the data;
//! - a refused request (unknown id, mismatched port types, failed Application, ...):
//!   *Successful Completion* with [`IscResponse::Error`], whose message is the runtime's
//!   typed error text; the device keeps serving;
//! - a payload that does not decode, a request under the wrong opcode, or another protocol
//!   version: *Invalid Field in Command*, with an `Error` response (kind
//!   [`ErrorKind::Malformed`] or [`ErrorKind::Version`]) in the data. No payload bytes make the
//!   device panic.
//!
//! Timing: the controller charges the host I/O stack, the payload's PCIe transfer to the
//! device and one firmware-core command time ([`sim_nvme::Controller::dispatch`]); the command
//! then takes effect at that instant (an Application starts then, sent messages are available
//! then); the reply crosses PCIe back after the operation completes. Messages an SSDlet sends
//! to the host were moved by DMA when they were produced, so a `Recv` reply does not pay for
//! them again, and its completion is no earlier than the last message taken.
//!
//! [`Firmware`] serves these commands in front of a [`crate::runtime::Runtime`];
//! [`crate::device`] runs it on its own thread.

mod serve;
mod wire;

use sim_nvme::nvme::{Completion, Payload, Status};

pub use serve::Firmware;
pub use wire::{Envelope, ErrorKind, FileInfo, IscRequest, IscResponse, ModuleId, ModuleInfo, ModuleSource};

/// Version of the ISC protocol; a request of another version is refused.
pub const PROTOCOL_VERSION: u16 = 1;

/// The vendor opcode of each command family.
pub mod opcode {
    /// Module load and unload.
    pub const MODULE: u8 = 0xC0;
    /// Application create.
    pub const APP: u8 = 0xC1;
    /// Spawn an SSDlet instance.
    pub const SPAWN: u8 = 0xC2;
    /// Connect ports.
    pub const CONNECT: u8 = 0xC3;
    /// Start an Application.
    pub const START: u8 = 0xC4;
    /// Host port data: send, close, receive.
    pub const PORT_DATA: u8 = 0xC5;
    /// Abort an Application.
    pub const ABORT: u8 = 0xC6;
    /// Wait for and report on an Application.
    pub const WAIT: u8 = 0xC7;
    /// Device files.
    pub const FILES: u8 = 0xC8;
}

/// Why an ISC exchange failed, as the host sees it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IscError {
    /// The device refused the request; the message is its typed error text.
    #[error("{message}")]
    Refused {
        /// The kind.
        kind: ErrorKind,
        /// The device's message.
        message: String,
    },
    /// The command completed with an NVMe error status and no readable reason.
    #[error("the ISC command completed with NVMe status {0}")]
    Status(Status),
    /// The completion carries no ISC response, or one that does not decode.
    #[error("the ISC completion does not hold a response: {0}")]
    BadResponse(String),
    /// The request could not be encoded.
    #[error("cannot encode the ISC request: {0}")]
    Encode(String),
}

impl IscError {
    /// The kind of a refusal, if the device gave one.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            IscError::Refused { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

/// Decodes the response a completion carries; an `Error` response becomes
/// [`IscError::Refused`].
pub fn response_of(c: &Completion) -> Result<IscResponse, IscError> {
    let decoded = match &c.payload {
        Payload::Data(d) => postcard::from_bytes::<IscResponse>(d).map_err(|e| e.to_string()),
        other => Err(format!("expected response data, got {other:?}")),
    };
    match decoded {
        Ok(IscResponse::Error { kind, message }) => Err(IscError::Refused { kind, message }),
        _ if !c.status.is_success() => Err(IscError::Status(c.status)),
        Ok(r) => Ok(r),
        Err(e) => Err(IscError::BadResponse(e)),
    }
}
