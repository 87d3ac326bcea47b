//! [`Error`]: everything the host API can fail with, each naming the thing and what was
//! expected, and carrying the device's own message when the device refused a request.

use std::path::PathBuf;

use ndp_protocol::ErrorKind;

/// Why a host API call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The device is gone (shut down or failed); expected a running device.
    #[error("the device has stopped; expected a running device")]
    Stopped,
    /// The device could not be opened or started.
    #[error("cannot open the device: {0}")]
    Open(String),
    /// The command did not reach the device or its reply did not come back readable.
    #[error("the command to the device failed: {0}")]
    Transport(String),
    /// The daemon could not be reached.
    #[error("cannot connect to `{endpoint}`: {source}; expected a running `ndp serve` there")]
    Connect {
        /// The socket path, or `tcp://HOST:PORT`.
        endpoint: String,
        /// Why.
        source: std::io::Error,
    },
    /// The daemon refused the session or a command, or closed the connection.
    #[error("ndp serve at `{endpoint}`: {message}")]
    Daemon {
        /// The socket path, or `tcp://HOST:PORT`.
        endpoint: String,
        /// The kind.
        kind: crate::daemon::WireErrorKind,
        /// The daemon's message.
        message: String,
    },
    /// The operation needs a device reached through `ndp serve`.
    #[error("{0} needs a device connected to `ndp serve`; this one is embedded")]
    NotConnected(&'static str),
    /// The device refused a request (its typed error text is `message`).
    #[error("the device refused {request}: {message}")]
    Refused {
        /// The request kind (`Spawn`, `Connect`, ...).
        request: &'static str,
        /// The device's error kind.
        kind: ErrorKind,
        /// The device's message.
        message: String,
    },
    /// A module file could not be read on the host.
    #[error("cannot read module `{path}`: {source}; expected the path of a built SSDlet module (.so)")]
    ModulePath {
        /// The path given.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The device refused to load a module.
    #[error("module `{path}` did not load: {message}")]
    Load {
        /// The module's host path.
        path: PathBuf,
        /// The device's message.
        message: String,
    },
    /// The module has no SSDlet with this id.
    #[error("module `{module}` has no SSDlet `{id}`: {message}")]
    UnknownSsdlet {
        /// The module's name.
        module: String,
        /// The id asked for.
        id: String,
        /// The device's message (lists the ids it has).
        message: String,
    },
    /// An argument does not fit the SSDlet's declared argument.
    #[error("argument {index} (`{name}`) of SSDlet `{ssdlet}`: {message}")]
    BadArg {
        /// The SSDlet id.
        ssdlet: String,
        /// The argument's position.
        index: usize,
        /// Its declared name.
        name: String,
        /// What is wrong, naming what was expected.
        message: String,
    },
    /// No device file has this name.
    #[error("no file `{name}` on the device{}", if message.is_empty() { String::new() } else { format!("; {message}") })]
    UnknownFile {
        /// The name asked for.
        name: String,
        /// What the device holds instead, when known (else empty).
        message: String,
    },
    /// A put under a name the device would refuse.
    #[error("file name `{name}` is invalid: expected {expected}")]
    BadFileName {
        /// The name.
        name: String,
        /// What a name must be.
        expected: String,
    },
    /// A put under the name of an existing device file.
    #[error(
        "a file named `{name}` already exists on the device; expected a new name (remove the old file first)"
    )]
    FileExists {
        /// The name.
        name: String,
    },
    /// Two ports carry different message types.
    #[error("cannot connect {from} to {to}: {message}")]
    PortType {
        /// The output port, `ssdlet.port`.
        from: String,
        /// The input port, `ssdlet.port`.
        to: String,
        /// The device's message (names both types).
        message: String,
    },
    /// An SSDlet has no such port.
    #[error("SSDlet `{ssdlet}` has no {direction} port {port}; expected one of: {available}")]
    NoSuchPort {
        /// The SSDlet id.
        ssdlet: String,
        /// `input` or `output`.
        direction: &'static str,
        /// The index or name asked for.
        port: String,
        /// Its ports of that direction.
        available: String,
    },
    /// The Application failed (its first SSDlet error) or was aborted.
    #[error("application `{app}` failed: {message}")]
    AppFailed {
        /// The Application's name.
        app: String,
        /// The device's message.
        message: String,
    },
    /// A message from the device does not decode as the host's type.
    #[error("message {index} on port {port} does not decode as `{ty}`: {reason}")]
    Decode {
        /// The port.
        port: String,
        /// The host type.
        ty: &'static str,
        /// Its position in the stream.
        index: u64,
        /// Why.
        reason: String,
    },
    /// A host value does not encode.
    #[error("a `{ty}` for port {port} does not encode: {reason}")]
    Encode {
        /// The port.
        port: String,
        /// The host type.
        ty: &'static str,
        /// Why.
        reason: String,
    },
    /// A host file could not be read or written.
    #[error("host file `{path}`: {source}")]
    HostIo {
        /// The host path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An NVMe command completed with an error status.
    #[error("NVMe {command} failed with status {status}")]
    Nvme {
        /// The command.
        command: &'static str,
        /// The status.
        status: String,
    },
    /// A conventional read asked for bytes outside a file.
    #[error("bytes {offset}..{end} are outside device file `{name}` of {size} bytes")]
    OutOfRange {
        /// The file.
        name: String,
        /// First byte asked for.
        offset: u64,
        /// End of the range asked for.
        end: u64,
        /// The file's size.
        size: u64,
    },
    /// The device's file table, read over NVMe, does not decode.
    #[error("the device's file table does not decode: {0}")]
    FileTable(String),
    /// The device answered with a response of another kind than the request asks for.
    #[error("unexpected device response to {request}: {response}")]
    Unexpected {
        /// The request kind.
        request: &'static str,
        /// The response, debug-printed.
        response: String,
    },
}

impl Error {
    /// The device's error kind, if the device refused the request.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Error::Refused { kind, .. } => Some(*kind),
            Error::UnknownSsdlet { .. } | Error::UnknownFile { .. } => Some(ErrorKind::NotFound),
            Error::BadArg { .. } => Some(ErrorKind::InvalidArgument),
            Error::PortType { .. } => Some(ErrorKind::PortType),
            Error::Load { .. } => Some(ErrorKind::Load),
            Error::AppFailed { .. } => Some(ErrorKind::AppFailed),
            _ => None,
        }
    }
}

/// Result of the host API.
pub type Result<T, E = Error> = std::result::Result<T, E>;
