//! The wire protocol between hosts and the simulated device, as explicit types that belong to
//! neither side (INVARIANT(protocol-owns-wire): a runtime struct is never encoded onto the wire).
//!
//! - [`isc`]: the in-storage-computing requests and responses, carried in the payloads of NVMe
//!   vendor commands (`0xC0..=0xC8`) and their completions; [`PROTOCOL_VERSION`].
//! - [`daemon`]: the frames of `ndp serve`'s socket protocol (hello, welcome, requests and
//!   replies carrying NVMe commands and completions); [`daemon::WIRE_VERSION`].
//! - [`ids`], [`values`], [`report`], [`meta`]: the handles, argument values, run reports and
//!   module metadata those messages carry.
//! - [`filetable`]: the device file table's on-disk format, which conventional hosts decode.
//! - [`sig`]: message signatures parsed, and a message's bytes walked by its signature.
//! - [`tenant`]: who owns a device file.
//!
//! Every type is encoded with `postcard`. `tests/golden.rs` pins the bytes of every message:
//! a change to any type here that changes its encoding fails a test, and then the version it
//! belongs to ([`PROTOCOL_VERSION`] or [`daemon::WIRE_VERSION`]) must change with it.
//!
//! Depends on `serde`, `postcard`, `serde_bytes` (byte vectors encoded as one block),
//! `sim-nvme`'s command types, `crc32fast` (the file table's checksum) and `memchr` (a module
//! file's debug-build mark) only; both `device-runtime` and `host-sdk` depend on it, never the
//! other way.

mod byte_lists;
pub mod daemon;
pub mod filetable;
pub mod ids;
pub mod isc;
pub mod meta;
pub mod report;
pub mod sig;
pub mod tenant;
pub mod values;

pub use ids::{AppId, FileId, InstanceId, ModuleId, ReceiverId, SenderId};
pub use isc::{
    opcode, response_of, Envelope, ErrorKind, FileInfo, IscError, IscRequest, IscResponse, LogEntry,
    ModuleInfo, ModuleSource, LOGS_BATCH,
};
pub use meta::{ModuleMeta, Slot, SsdletMeta};
pub use report::{CostSource, PortReport, RunReport, SsdletReport, WorkCounts};
pub use tenant::Tenant;
pub use values::{AppConfig, ArgValue, Placement, Site};

/// Version of the ISC protocol; a request of another version is refused.
pub const PROTOCOL_VERSION: u16 = 4;
