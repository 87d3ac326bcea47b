//! Errors of the runtime: [`SsdletError`] (how one instance failed) and [`RuntimeError`]
//! (a refused request, or a run that failed as a whole).

use sim_nvme::IoError;

use crate::instance::AbortReason;
use crate::namespace::NamespaceError;
use crate::porttype::PortTypeMismatch;

use super::{AppId, FileId, InstanceId, Site};

/// How an SSDlet instance failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SsdletError {
    /// It panicked.
    #[error("SSDlet `{ssdlet}` panicked: {message}")]
    Panicked {
        /// The SSDlet id.
        ssdlet: String,
        /// The panic message and location.
        message: String,
    },
    /// Its `run` returned an error.
    #[error("SSDlet `{ssdlet}` failed: {message}")]
    Failed {
        /// The SSDlet id.
        ssdlet: String,
        /// Its error message.
        message: String,
    },
    /// Its arguments did not decode.
    #[error("SSDlet `{ssdlet}` rejected its arguments: {message}")]
    BadArgs {
        /// The SSDlet id.
        ssdlet: String,
        /// Why.
        message: String,
    },
    /// It overflowed its fiber stack.
    #[error("SSDlet `{ssdlet}` overflowed its {stack_size}-byte stack (fault at {addr:#x}); its module is poisoned")]
    StackOverflow {
        /// The SSDlet id.
        ssdlet: String,
        /// The configured stack size.
        stack_size: usize,
        /// The faulting address.
        addr: usize,
    },
    /// It made an invalid memory access.
    #[error("SSDlet `{ssdlet}` made an invalid memory access (signal {signal} at {addr:#x}); its module is poisoned")]
    MemoryFault {
        /// The SSDlet id.
        ssdlet: String,
        /// The signal.
        signal: i32,
        /// The faulting address.
        addr: usize,
    },
    /// The runtime aborted it.
    #[error("SSDlet `{ssdlet}` was aborted: {reason}")]
    Aborted {
        /// The SSDlet id.
        ssdlet: String,
        /// Why.
        reason: AbortReason,
    },
    /// Its entry point returned something the ABI does not allow.
    #[error("SSDlet `{ssdlet}` broke the module ABI: its entry point returned `{status}`")]
    Protocol {
        /// The SSDlet id.
        ssdlet: String,
        /// The status name.
        status: &'static str,
    },
}

/// Why the runtime refused a request or a run failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// Wrong number of arguments.
    #[error("SSDlet `{ssdlet}` takes {expected} arguments, got {got}")]
    ArgCount {
        /// The SSDlet id.
        ssdlet: String,
        /// Its argument count.
        expected: usize,
        /// Given.
        got: usize,
    },
    /// An argument of the wrong type.
    #[error("argument `{arg}` of SSDlet `{ssdlet}` has type `{expected}`, got a `{got}`")]
    ArgType {
        /// The SSDlet id.
        ssdlet: String,
        /// The argument name.
        arg: String,
        /// Its type.
        expected: String,
        /// The given value's type.
        got: String,
    },
    /// A message argument whose bytes are not one value of its type.
    #[error("argument `{arg}` of SSDlet `{ssdlet}` is not one `{ty}`: {reason}")]
    ArgValue {
        /// The SSDlet id.
        ssdlet: String,
        /// The argument name.
        arg: String,
        /// Its type.
        ty: String,
        /// What is wrong with the bytes.
        reason: String,
    },
    /// An argument could not be encoded.
    #[error("cannot encode the arguments of SSDlet `{ssdlet}`: {reason}")]
    ArgEncode {
        /// The SSDlet id.
        ssdlet: String,
        /// Why.
        reason: String,
    },
    /// A file handle whose file was removed or replaced since it was opened.
    #[error("file handle {} of `{name}` is stale: the file was removed or replaced since it was opened; expected a handle from a new FileOpen", id.0)]
    StaleFile {
        /// The handle.
        id: FileId,
        /// The file's name when it was opened.
        name: String,
    },
    /// A file id this runtime did not hand out.
    #[error("no file {0:?} on this runtime")]
    NoSuchFile(FileId),
    /// A file operation on the device namespace failed.
    #[error(transparent)]
    Namespace(#[from] NamespaceError),
    /// Writing a file's data to the device failed.
    #[error("cannot write file `{name}` to the device: {source}")]
    FileWrite {
        /// The file name.
        name: String,
        /// The device error.
        source: IoError,
    },
    /// Reading a file's data on the device failed.
    #[error("cannot read file `{name}` on the device: {source}")]
    FileRead {
        /// The file name.
        name: String,
        /// The device error.
        source: IoError,
    },
    /// A host read of more bytes than one reply carries.
    #[error("a read of {len} bytes of file `{name}` is more than one reply carries; expected at most {max} bytes per read")]
    ReadTooLarge {
        /// The file name.
        name: String,
        /// Bytes asked for.
        len: u64,
        /// The most one read returns ([`crate::runtime::MAX_HOST_READ`]).
        max: u64,
    },
    /// An application id this runtime does not know (or already removed).
    #[error("no application {0:?} on this runtime")]
    NoSuchApp(AppId),
    /// An instance id this runtime does not know.
    #[error("no SSDlet instance {0:?} on this runtime")]
    NoSuchInstance(InstanceId),
    /// `start` found ports connected to nothing; every port must be connected (to an SSDlet or
    /// the host) before an Application starts.
    #[error("application `{app}` cannot start: {ports} connected to nothing; expected every port connected (to an SSDlet, or to the host with connect_to / connect_from)")]
    Unconnected {
        /// The Application's name.
        app: String,
        /// The ports, as "`ssdlet.port` (output), ...".
        ports: String,
    },
    /// The application has started: its graph can no longer change.
    #[error("application {app:?} has already started; {what} must happen before `start`")]
    AlreadyStarted {
        /// The application.
        app: AppId,
        /// What was attempted.
        what: &'static str,
    },
    /// A connection between SSDlets of Applications at different sites.
    #[error("cannot connect `{from}` (at the {}) to `{to}` (at the {}): SSDlets connect only within one site; expected two Applications at the same site", from_site.name(), to_site.name())]
    CrossSite {
        /// The sending SSDlet.
        from: String,
        /// Its Application's site.
        from_site: Site,
        /// The receiving SSDlet.
        to: String,
        /// Its Application's site.
        to_site: Site,
    },
    /// A core index beyond the profile's cores of the Application's site.
    #[error("placement hint: core {core} does not exist (the {} has {cores} cores for SSDlets)", site.name())]
    NoSuchCore {
        /// Where the Application runs.
        site: Site,
        /// The requested core.
        core: u32,
        /// Cores of the profile.
        cores: u32,
    },
    /// A host port id this runtime did not hand out, or of the wrong direction.
    #[error("no host {dir} {id} on this runtime")]
    NoSuchHostPort {
        /// `sender` or `receiver`.
        dir: &'static str,
        /// The id.
        id: usize,
    },
    /// A host sender was used after it was closed.
    #[error("host sender {0} is closed")]
    HostSenderClosed(usize),
    /// A host value did not encode.
    #[error("cannot encode a host message: {0}")]
    Encode(String),
    /// The device profile is unusable.
    #[error("device profile `{name}` is invalid: {reason}")]
    Profile {
        /// The profile name.
        name: String,
        /// Why.
        reason: String,
    },
    /// An Application failed: the first SSDlet error.
    #[error("application `{app}` failed: {source}")]
    AppFailed {
        /// The application's name.
        app: String,
        /// The first failure.
        source: SsdletError,
    },
    /// An Application cannot finish: some of its SSDlets wait for host input that is still open.
    #[error(
        "application `{app}` is waiting for host input ({waiting}); send more or close the host senders"
    )]
    WaitingForHost {
        /// The application's name.
        app: String,
        /// The SSDlets waiting.
        waiting: String,
    },
    /// An Application cannot finish yet: it is connected by ports to Applications that have
    /// not started (they may still feed or drain it).
    #[error(
        "application `{app}` is waiting for connected applications that have not started ({building}); \
         its SSDlets {waiting} are blocked on ports to them: start them first"
    )]
    WaitingForApps {
        /// The application's name.
        app: String,
        /// Its blocked SSDlets.
        waiting: String,
        /// The connected Applications still being built.
        building: String,
    },
    /// The device profile has no cores for SSDlets.
    #[error("device profile `{0}` has no ARM cores for SSDlets (arm.cores = 0)")]
    NoCores(String),
    /// A port name the SSDlet does not have.
    #[error("SSDlet `{ssdlet}` has no {dir} port `{port}` (it has: {known})")]
    NoSuchPort {
        /// The SSDlet id.
        ssdlet: String,
        /// `input` or `output`.
        dir: &'static str,
        /// The requested name.
        port: String,
        /// Its ports of that direction.
        known: String,
    },
    /// The port is already connected.
    #[error("{dir} port `{ssdlet}.{port}` is already connected")]
    PortInUse {
        /// The SSDlet id.
        ssdlet: String,
        /// `input` or `output`.
        dir: &'static str,
        /// The port.
        port: String,
    },
    /// Message types differ.
    #[error(transparent)]
    PortType(#[from] PortTypeMismatch),
    /// The module was poisoned by a trap.
    #[error("module `{module}` is poisoned by an earlier trap in one of its SSDlets; reload it")]
    ModulePoisoned {
        /// The module name.
        module: String,
    },
    /// A fiber stack could not be allocated.
    #[error("cannot allocate a {size}-byte fiber stack: {source}")]
    FiberStack {
        /// Requested size.
        size: usize,
        /// The OS error.
        source: std::io::Error,
    },
    /// Every unfinished instance was blocked on a port.
    #[error(
        "deadlock: SSDlets blocked on ports that nothing can feed or drain ({blocked}); \
         their applications were aborted"
    )]
    Deadlock {
        /// The blocked SSDlets.
        blocked: String,
    },
    /// A host message did not decode.
    #[error("message {index} on a host receiver does not decode: {reason}")]
    Decode {
        /// Its position.
        index: usize,
        /// Why.
        reason: String,
    },
}
