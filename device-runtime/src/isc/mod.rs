//! The in-storage-computing (ISC) commands on the device side: the firmware that serves them.
//! The commands themselves (requests, responses, opcodes, version) are the protocol crate's
//! ([`ndp_protocol::isc`], re-exported here); `convert.rs` maps its handles to the runtime's.
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
//! | `0xC8` | device files | `FileCreate` (with size), `FileOpen`, `FileWrite` / `FileRead` (byte ranges), `FileList`, `FileRemove`, `FileRename` |
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

mod convert;
mod serve;
mod tenancy;

pub use ndp_protocol::isc::{
    opcode, response_of, Envelope, ErrorKind, FileInfo, IscError, IscRequest, IscResponse, ModuleInfo,
    ModuleSource,
};
pub use ndp_protocol::{ModuleId, PROTOCOL_VERSION};
pub use serve::{Arrived, Firmware};
