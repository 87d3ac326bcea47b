//! The ISC wire types: [`IscRequest`] (in a versioned [`Envelope`]) and [`IscResponse`],
//! postcard-encoded in the payload of `Command::Vendor` and in the completion's data.

use serde::{Deserialize, Serialize};
use sim_nvme::nvme::Command;

use crate::loader::ModuleMeta;
use crate::runtime::{
    AppConfig, AppId, ArgValue, FileId, HostReceiver, HostSender, InstanceId, Placement, RunReport,
};

use super::{opcode, IscError, PROTOCOL_VERSION};

/// A module loaded on the device (its slot in the device's module table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModuleId(pub u32);

/// Where a module to load comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModuleSource {
    /// The module file's bytes, sent with the command (the device may not share the host's
    /// filesystem). `name` stands for its path in errors.
    Bytes {
        /// A name for errors and the staged copy (usually the host path).
        name: String,
        /// The `cdylib`'s bytes.
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
        port: HostSender,
        /// Encoded messages, in order.
        messages: Vec<Vec<u8>>,
    },
    /// `0xC5`: close a host sender (end of stream for its SSDlet).
    CloseSender {
        /// The port.
        port: HostSender,
    },
    /// `0xC5`: take up to `max` messages from a host receiver. With `block`, a device thread
    /// ([`crate::device`]) answers only once a message is there or the stream has ended.
    Recv {
        /// The port.
        port: HostReceiver,
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
            Wait { .. } | Report { .. } => opcode::WAIT,
            FileCreate { .. }
            | FileOpen { .. }
            | FileWrite { .. }
            | FileRead { .. }
            | FileList
            | FileRemove { .. } => opcode::FILES,
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
    Sender(HostSender),
    /// A host receiver was connected.
    Receiver(HostReceiver),
    /// Messages taken from a host receiver.
    Messages {
        /// Encoded messages, oldest first.
        messages: Vec<Vec<u8>>,
        /// The stream has ended (the SSDlet closed it and everything was taken).
        end: bool,
    },
    /// A run report.
    Report(RunReport),
    /// A file capability.
    File(FileId),
    /// File data.
    Data(Vec<u8>),
    /// The namespace's files.
    Files(Vec<FileInfo>),
    /// The request failed.
    Error {
        /// The kind.
        kind: ErrorKind,
        /// The device's typed error text (names the thing and what was expected).
        message: String,
    },
}
