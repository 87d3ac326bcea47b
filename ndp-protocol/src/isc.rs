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
//! | `0xC8` | device files | `FileCreate` (with size), `FileOpen`, `FileWrite` / `FileRead` (byte ranges), `FileList`, `FileRemove`, `FileRename`, `FileShare` |
//!
//! Outcomes:
//! - success: status *Successful Completion*, the response in the data;
//! - a refused request (unknown id, mismatched port types, failed Application, ...):
//!   *Successful Completion* with [`IscResponse::Error`], whose message is the device's
//!   typed error text; the device keeps serving;
//! - a payload that does not decode ([`IscRequest::decode`]), a request under the wrong
//!   opcode, or another protocol version: *Invalid Field in Command*, with an `Error` response
//!   (kind [`ErrorKind::Malformed`] or [`ErrorKind::Version`]) in the data.

use serde::{Deserialize, Serialize};
use sim_nvme::nvme::{Command, Completion, Payload, Status};
use sim_nvme::SimTime;

use crate::ids::{AppId, FileId, InstanceId, ModuleId, ReceiverId, SenderId};
use crate::meta::ModuleMeta;
use crate::report::RunReport;
use crate::values::{AppConfig, ArgValue, Placement};
use crate::PROTOCOL_VERSION;

/// Where a module to load comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModuleSource {
    /// The module file's bytes, sent with the command (the device may not share the host's
    /// filesystem). `name` stands for its path in errors.
    Bytes {
        /// A name for errors and the staged copy (usually the host path).
        name: String,
        /// The `cdylib`'s bytes.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// A path on the device's filesystem.
    Path(String),
}

/// One ISC command. Its family decides the vendor opcode ([`IscRequest::opcode`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum IscRequest {
    /// `0xC0`: check and load a module.
    LoadModule {
        /// Its bytes or path.
        source: ModuleSource,
    },
    /// `0xC0`: drop the device's handle on a module (its library closes once no instance
    /// uses it).
    UnloadModule {
        /// The module.
        module: ModuleId,
    },
    /// `0xC1`: a new, empty Application.
    CreateApp {
        /// Its name (reports, errors).
        name: String,
        /// Its limits.
        config: AppConfig,
    },
    /// `0xC2`: an instance of SSDlet `ssdlet` of `module` in `app`.
    Spawn {
        /// The Application (still building).
        app: AppId,
        /// The module.
        module: ModuleId,
        /// The SSDlet id within the module.
        ssdlet: String,
        /// Arguments, checked against the SSDlet's metadata.
        args: Vec<ArgValue>,
        /// Core placement.
        placement: Placement,
    },
    /// `0xC3`: SSDlet output to SSDlet input (the instances may be in different Applications).
    Connect {
        /// Sending instance.
        from: InstanceId,
        /// Its output port.
        output: String,
        /// Receiving instance.
        to: InstanceId,
        /// Its input port.
        input: String,
    },
    /// `0xC3`: a host-to-device port feeding input `input` of `to`.
    HostSender {
        /// Receiving instance.
        to: InstanceId,
        /// Its input port.
        input: String,
    },
    /// `0xC3`: a device-to-host port collecting output `output` of `from`.
    HostReceiver {
        /// Sending instance.
        from: InstanceId,
        /// Its output port.
        output: String,
    },
    /// `0xC4`: start an Application at the instant the command reaches the device.
    Start {
        /// The Application.
        app: AppId,
    },
    /// `0xC5`: a batch of postcard-encoded messages on a host sender.
    Send {
        /// The port.
        port: SenderId,
        /// Encoded messages, in order.
        #[serde(with = "crate::byte_lists")]
        messages: Vec<Vec<u8>>,
    },
    /// `0xC5`: close a host sender (end of stream for its SSDlet).
    CloseSender {
        /// The port.
        port: SenderId,
    },
    /// `0xC5`: take up to `max` messages from a host receiver. With `block`, a device thread
    /// (`device_runtime::device`) answers only once a message is there or the stream has ended.
    Recv {
        /// The port.
        port: ReceiverId,
        /// Most messages to take.
        max: u32,
        /// Park until there is something to answer.
        block: bool,
    },
    /// `0xC6`: abort an Application.
    Abort {
        /// The Application.
        app: AppId,
    },
    /// `0xC7`: the final report once `app` is done (an error if it failed, or if it waits for
    /// host input and `block` is off or there is no device thread to park on).
    Wait {
        /// The Application.
        app: AppId,
        /// Park until it is done.
        block: bool,
    },
    /// `0xC7`: the report of `app` so far.
    Report {
        /// The Application.
        app: AppId,
    },
    /// `0xC8`: create a device file of `size` bytes (zeros until written).
    FileCreate {
        /// Its name.
        name: String,
        /// Its size in bytes.
        size: u64,
    },
    /// `0xC8`: the capability of an existing device file.
    FileOpen {
        /// Its name.
        name: String,
    },
    /// `0xC8`: write `data` at byte `offset` of a file.
    FileWrite {
        /// The file.
        name: String,
        /// Byte offset.
        offset: u64,
        /// The bytes.
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    },
    /// `0xC8`: read `len` bytes at byte `offset` of a file.
    FileRead {
        /// The file.
        name: String,
        /// Byte offset.
        offset: u64,
        /// Bytes to read.
        len: u64,
    },
    /// `0xC8`: every file of the namespace.
    FileList,
    /// `0xC8`: remove a file.
    FileRemove {
        /// The file.
        name: String,
    },
    /// `0xC8`: give file `from` the name `to` (which must be free), committing the table once:
    /// how a put publishes a file whose data it wrote under a staging name
    /// ([`crate::filetable::STAGING_PREFIX`]) and flushed.
    FileRename {
        /// The file's name now.
        from: String,
        /// Its new name.
        to: String,
    },
    /// `0xC7`: the lines `app`'s SSDlets have logged (`ctx.info` and the like), from line
    /// number `from` on (0: the first line kept), at most [`LOGS_BATCH`] at a time.
    Logs {
        /// The Application.
        app: AppId,
        /// The first line number wanted ([`IscResponse::Logs`]'s `next` continues a read).
        from: u64,
    },
    /// `0xC8`: let other tenants read a file (`shared`), or stop them; its owner only
    /// ([`crate::tenant`]).
    FileShare {
        /// The file.
        name: String,
        /// Whether other tenants may read it.
        shared: bool,
    },
}

/// Most log lines one [`IscRequest::Logs`] returns.
pub const LOGS_BATCH: usize = 1024;

/// One line an SSDlet logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The SSDlet's id.
    pub ssdlet: String,
    /// Severity: 1 error, 2 warn, 3 info, 4 debug.
    pub level: u32,
    /// The text (at most 4 KiB; longer lines are cut).
    pub text: String,
    /// The SSDlet's simulated clock when it logged.
    pub at: SimTime,
}

impl IscRequest {
    /// The request's name, for messages ("LoadModule", "Spawn", ...).
    pub fn name(&self) -> &'static str {
        use IscRequest::*;
        match self {
            LoadModule { .. } => "LoadModule",
            UnloadModule { .. } => "UnloadModule",
            CreateApp { .. } => "CreateApp",
            Spawn { .. } => "Spawn",
            Connect { .. } => "Connect",
            HostSender { .. } => "HostSender",
            HostReceiver { .. } => "HostReceiver",
            Start { .. } => "Start",
            Send { .. } => "Send",
            CloseSender { .. } => "CloseSender",
            Recv { .. } => "Recv",
            Abort { .. } => "Abort",
            Wait { .. } => "Wait",
            Report { .. } => "Report",
            FileCreate { .. } => "FileCreate",
            FileOpen { .. } => "FileOpen",
            FileWrite { .. } => "FileWrite",
            FileRead { .. } => "FileRead",
            FileList => "FileList",
            FileRemove { .. } => "FileRemove",
            FileRename { .. } => "FileRename",
            Logs { .. } => "Logs",
            FileShare { .. } => "FileShare",
        }
    }

    /// The vendor opcode of this command's family.
    pub fn opcode(&self) -> u8 {
        use IscRequest::*;
        match self {
            LoadModule { .. } | UnloadModule { .. } => opcode::MODULE,
            CreateApp { .. } => opcode::APP,
            Spawn { .. } => opcode::SPAWN,
            Connect { .. } | HostSender { .. } | HostReceiver { .. } => opcode::CONNECT,
            Start { .. } => opcode::START,
            Send { .. } | CloseSender { .. } | Recv { .. } => opcode::PORT_DATA,
            Abort { .. } => opcode::ABORT,
            Wait { .. } | Report { .. } | Logs { .. } => opcode::WAIT,
            FileCreate { .. }
            | FileOpen { .. }
            | FileWrite { .. }
            | FileRead { .. }
            | FileList
            | FileRemove { .. }
            | FileRename { .. }
            | FileShare { .. } => opcode::FILES,
        }
    }

    /// The NVMe command carrying this request (in an [`Envelope`] of the current version).
    pub fn to_command(&self) -> Result<Command, IscError> {
        let env = Envelope {
            version: PROTOCOL_VERSION,
            request: self.clone(),
        };
        let payload = postcard::to_stdvec(&env).map_err(|e| IscError::Encode(e.to_string()))?;
        Ok(Command::Vendor {
            opcode: self.opcode(),
            payload,
        })
    }
}

/// What a command's payload holds: the protocol version, then the request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// [`PROTOCOL_VERSION`] of the sender.
    pub version: u16,
    /// The request.
    pub request: IscRequest,
}

/// A loaded module: its device id and metadata (SSDlets, their arguments and typed ports).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleInfo {
    /// The id to spawn from.
    pub id: ModuleId,
    /// Its metadata.
    pub meta: ModuleMeta,
}

/// A device file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Who created it (`None`: the device owner; [`crate::tenant`]).
    pub owner: Option<crate::Tenant>,
    /// Whether tenants other than its owner may read it.
    pub shared: bool,
}

/// What went wrong, for programs; the message says it for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    /// The request's protocol version is not this device's.
    Version,
    /// The payload does not decode or does not fit the opcode (status Invalid Field).
    Malformed,
    /// A module failed its checks or did not load.
    Load,
    /// A module, SSDlet, Application, instance, port, core or file does not exist.
    NotFound,
    /// An argument has the wrong count or type.
    InvalidArgument,
    /// Two ports carry different message types.
    PortType,
    /// The request does not fit the current state (already started, port in use, closed).
    State,
    /// The Application failed (the first SSDlet error).
    AppFailed,
    /// The Application waits for host input.
    WaitingForHost,
    /// The device found a deadlock and aborted the Applications involved.
    Deadlock,
    /// A device file operation failed (exists, no space, out of range, bad name).
    File,
    /// The device itself failed (media, resources, poisoned module).
    Device,
    /// The file belongs to another tenant ([`crate::tenant`]).
    Forbidden,
}

/// The answer to an [`IscRequest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum IscResponse {
    /// Done, nothing to return.
    Done,
    /// A module was loaded.
    Module(ModuleInfo),
    /// An Application was created.
    App(AppId),
    /// An instance was spawned.
    Instance(InstanceId),
    /// A host sender was connected.
    Sender(SenderId),
    /// A host receiver was connected.
    Receiver(ReceiverId),
    /// Messages taken from a host receiver.
    Messages {
        /// Encoded messages, oldest first.
        #[serde(with = "crate::byte_lists")]
        messages: Vec<Vec<u8>>,
        /// The stream has ended (the SSDlet closed it and everything was taken).
        end: bool,
    },
    /// A run report.
    Report(RunReport),
    /// A file capability.
    File(FileId),
    /// File data.
    Data(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The namespace's files.
    Files(Vec<FileInfo>),
    /// The request failed.
    Error {
        /// The kind.
        kind: ErrorKind,
        /// The device's typed error text (names the thing and what was expected).
        message: String,
    },
    /// Log lines of an Application, oldest first.
    Logs {
        /// The lines from the number asked for.
        lines: Vec<LogEntry>,
        /// The number of the line after the last one returned (ask from here next).
        next: u64,
        /// Lines dropped so far because the device keeps only the most recent ones.
        dropped: u64,
    },
}

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

impl IscRequest {
    // INVARIANT(payload-never-panics): version, request, no trailing bytes, opcode family; else Err
    /// Decodes a vendor command's payload: the protocol version, then a request of this
    /// opcode's family, with nothing after it. A refusal gives the kind and the message the
    /// device answers with.
    pub fn decode(opcode: u8, payload: &[u8]) -> Result<IscRequest, (ErrorKind, String)> {
        let (version, rest) = postcard::take_from_bytes::<u16>(payload).map_err(|e| {
            let msg = format!("the ISC payload does not start with a protocol version: {e}");
            (ErrorKind::Malformed, msg)
        })?;
        if version != PROTOCOL_VERSION {
            let msg = format!(
            "ISC protocol version {version} is not supported: this device speaks version {PROTOCOL_VERSION}"
        );
            return Err((ErrorKind::Version, msg));
        }
        let (req, rest) = postcard::take_from_bytes::<IscRequest>(rest).map_err(|e| {
            let msg = format!("the ISC payload of opcode {opcode:#04x} does not decode as a request: {e}");
            (ErrorKind::Malformed, msg)
        })?;
        if !rest.is_empty() {
            let msg = format!(
                "the ISC request of opcode {opcode:#04x} is followed by {} stray bytes",
                rest.len()
            );
            return Err((ErrorKind::Malformed, msg));
        }
        if req.opcode() != opcode {
            let msg = format!(
                "opcode {opcode:#04x} does not carry this request: expected opcode {:#04x} for {}",
                req.opcode(),
                req.name()
            );
            return Err((ErrorKind::Malformed, msg));
        }
        Ok(req)
    }
}
