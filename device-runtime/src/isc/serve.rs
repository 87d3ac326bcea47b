//! [`Firmware`]: the device runtime as the device's NVMe front end. Standard commands go
//! through the `sim-nvme` controller (same status codes and timing); vendor commands are
//! decoded and served here, against the [`Runtime`].

use std::path::Path;

use sim_nvme::nvme::{
    Command, Completion, Dispatched, QueueId, Status, SubmitError, VendorReply, ADMIN_QUEUE,
};
use sim_nvme::SimTime;

use super::wire::{ErrorKind, FileInfo, IscRequest, IscResponse, ModuleId, ModuleInfo, ModuleSource};
use super::PROTOCOL_VERSION;
use crate::loader::{LoadError, Loader, Module};
use crate::namespace::NamespaceError;
use crate::runtime::{Runtime, RuntimeError};

/// Why a served request failed (the text goes back in [`IscResponse::Error`]).
#[derive(Debug, thiserror::Error)]
enum ServeError {
    #[error("no module {id} is loaded on this device (loaded: {loaded})")]
    NoSuchModule { id: u32, loaded: String },
    #[error("the device's module table is full ({0} modules)")]
    TooManyModules(usize),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Load(#[from] LoadError),
}

impl ServeError {
    fn kind(&self) -> ErrorKind {
        match self {
            ServeError::NoSuchModule { .. } => ErrorKind::NotFound,
            ServeError::TooManyModules(_) => ErrorKind::Device,
            ServeError::Load(LoadError::UnknownSsdlet { .. }) => ErrorKind::NotFound,
            ServeError::Load(_) => ErrorKind::Load,
            ServeError::Runtime(e) => runtime_kind(e),
        }
    }
}

fn runtime_kind(e: &RuntimeError) -> ErrorKind {
    use RuntimeError as E;
    match e {
        E::ArgCount { .. } | E::ArgType { .. } | E::ArgEncode { .. } => ErrorKind::InvalidArgument,
        E::NoSuchFile(_)
        | E::NoSuchApp(_)
        | E::NoSuchInstance(_)
        | E::NoSuchHostPort { .. }
        | E::NoSuchPort { .. }
        | E::NoSuchCore { .. }
        | E::Namespace(NamespaceError::NotFound(_)) => ErrorKind::NotFound,
        E::Namespace(_) => ErrorKind::File,
        E::AlreadyStarted { .. } | E::HostSenderClosed(_) | E::PortInUse { .. } => ErrorKind::State,
        E::PortType(_) => ErrorKind::PortType,
        E::AppFailed { .. } => ErrorKind::AppFailed,
        E::WaitingForHost { .. } | E::WaitingForApps { .. } => ErrorKind::WaitingForHost,
        E::Deadlock { .. } => ErrorKind::Deadlock,
        _ => ErrorKind::Device,
    }
}

/// What a served request produced.
struct Served {
    response: IscResponse,
    /// Reply bytes already moved to the host by DMA.
    prepaid: u64,
    /// When the operation completed on the device.
    done: SimTime,
}

/// The device runtime in front of its NVMe controller: serves every NVMe command, standard
/// and ISC ([`crate::isc`]). Single-threaded, like the [`Runtime`] it owns; see
/// [`crate::device`] for running it on its own thread.
pub struct Firmware {
    rt: Runtime,
    loader: Loader,
    modules: Vec<Option<Module>>,
}

impl Firmware {
    /// Firmware over `rt`, staging loaded modules with `loader`.
    pub fn new(rt: Runtime, loader: Loader) -> Firmware {
        Firmware {
            rt,
            loader,
            modules: Vec::new(),
        }
    }

    /// The runtime (read-only: hosts change it only through commands).
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// Submits a command the host issues at `at` on queue `qid`; returns its command id. The
    /// device first runs its Applications until nothing is runnable, so what a command sees
    /// depends only on the commands before it.
    pub fn submit(&mut self, qid: QueueId, cmd: Command, at: SimTime) -> Result<u16, SubmitError> {
        self.rt.run_idle();
        let dispatched = self.rt.world.ctrl.borrow_mut().dispatch(qid, cmd, at)?;
        match dispatched {
            Dispatched::Completed(cid) => Ok(cid),
            Dispatched::Vendor(v) => {
                let reply = self.serve(v.opcode, &v.payload, v.arrived_at);
                let (reply, prepaid) = reply;
                Ok(self.rt.world.ctrl.borrow_mut().complete_vendor(v, reply, prepaid))
            }
        }
    }

    /// The next completion on `qid` (the one that finishes first), if any.
    pub fn reap(&mut self, qid: QueueId) -> Option<Completion> {
        self.rt.world.ctrl.borrow_mut().reap(qid)
    }

    /// The completion of command `cid` on `qid`, leaving others queued.
    pub fn take(&mut self, qid: QueueId, cid: u16) -> Option<Completion> {
        self.rt.world.ctrl.borrow_mut().take(qid, cid)
    }

    /// Submits a command and takes its completion (queue depth 1).
    pub fn submit_and_wait(
        &mut self,
        qid: QueueId,
        cmd: Command,
        at: SimTime,
    ) -> Result<Completion, SubmitError> {
        let cid = self.submit(qid, cmd, at)?;
        // `submit` posts every completion before it returns.
        Ok(self
            .take(qid, cid)
            .expect("a submitted command's completion is posted at once"))
    }

    /// Creates an I/O queue pair of `depth` entries (an admin command at time zero).
    pub fn create_io_queue(&mut self, depth: u16) -> Result<QueueId, Status> {
        let c = self.submit_and_wait(ADMIN_QUEUE, Command::CreateIoQueue { depth }, SimTime::ZERO);
        match c {
            Ok(c) if c.status.is_success() => Ok(QueueId(c.result as u16)),
            Ok(c) => Err(c.status),
            Err(e) => Err(e.status().unwrap_or(Status::INTERNAL_ERROR)),
        }
    }

    /// Runs Applications for at most `steps` resumptions; returns whether work is left.
    pub fn run_some(&mut self, steps: usize) -> bool {
        self.rt.run_some(steps)
    }

    /// Whether `cmd` is a blocking `Wait` or `Recv` that cannot be answered yet: after the
    /// device has run until nothing is runnable, its Application waits for host input, or its
    /// receiver is empty and open.
    pub fn would_block(&mut self, cmd: &Command) -> bool {
        let Command::Vendor { opcode, payload } = cmd else {
            return false;
        };
        let Ok(req) = decode(*opcode, payload) else {
            return false;
        };
        self.rt.run_idle();
        match req {
            IscRequest::Wait { app, block: true } => {
                self.rt.is_running(app).unwrap_or(false) && self.rt.waits_for_others(app.0)
            }
            IscRequest::Recv {
                port, block: true, ..
            } => self.rt.recv_ready(port).is_ok_and(|r| !r),
            _ => false,
        }
    }

    fn serve(&mut self, opcode: u8, payload: &[u8], at: SimTime) -> (VendorReply, u64) {
        let (status, served) = match decode(opcode, payload) {
            Err((kind, message)) => (
                Status::INVALID_FIELD,
                Served {
                    response: IscResponse::Error { kind, message },
                    prepaid: 0,
                    done: at,
                },
            ),
            Ok(req) => {
                self.rt.set_now(at);
                let served = match self.execute(req, at) {
                    Ok(s) => s,
                    Err(e) => Served {
                        response: IscResponse::Error {
                            kind: e.kind(),
                            message: e.to_string(),
                        },
                        prepaid: 0,
                        done: at,
                    },
                };
                (Status::SUCCESS, served)
            }
        };
        let done = served.done.max(self.rt.now()).max(at);
        let (status, bytes) = match postcard::to_stdvec(&served.response) {
            Ok(b) => (status, b),
            Err(_) => (Status::INTERNAL_ERROR, Vec::new()),
        };
        let reply = VendorReply {
            status,
            result: 0,
            payload: bytes,
            done_at: done,
        };
        (reply, served.prepaid)
    }

    fn module(&self, id: ModuleId) -> Result<&Module, ServeError> {
        self.modules
            .get(id.0 as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| ServeError::NoSuchModule {
                id: id.0,
                loaded: self.loaded(),
            })
    }

    fn loaded(&self) -> String {
        let ids: Vec<String> = (self.modules.iter().enumerate())
            .filter(|(_, m)| m.is_some())
            .map(|(i, _)| i.to_string())
            .collect();
        if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.join(", ")
        }
    }

    fn execute(&mut self, req: IscRequest, at: SimTime) -> Result<Served, ServeError> {
        let rt = &mut self.rt;
        let response = match req {
            IscRequest::LoadModule { source } => {
                let module = match &source {
                    ModuleSource::Bytes { name, bytes } => self.loader.load_bytes(Path::new(name), bytes)?,
                    ModuleSource::Path(p) => self.loader.load(Path::new(p))?,
                };
                let meta = module.meta().clone();
                let slot = match self.modules.iter().position(Option::is_none) {
                    Some(i) => i,
                    None => {
                        self.modules.push(None);
                        self.modules.len() - 1
                    }
                };
                let id = u32::try_from(slot).map_err(|_| ServeError::TooManyModules(slot))?;
                self.modules[slot] = Some(module);
                IscResponse::Module(ModuleInfo {
                    id: ModuleId(id),
                    meta,
                })
            }
            IscRequest::UnloadModule { module } => {
                self.module(module)?;
                self.modules[module.0 as usize] = None;
                IscResponse::Done
            }
            IscRequest::CreateApp { name, config } => IscResponse::App(rt.create_app(&name, config)),
            IscRequest::Spawn {
                app,
                module,
                ssdlet,
                args,
                placement,
            } => {
                let ssdlet = self.module(module)?.ssdlet(&ssdlet)?;
                IscResponse::Instance(self.rt.spawn_on(app, &ssdlet, &args, placement)?)
            }
            IscRequest::Connect {
                from,
                output,
                to,
                input,
            } => {
                rt.connect(from, &output, to, &input)?;
                IscResponse::Done
            }
            IscRequest::HostSender { to, input } => IscResponse::Sender(rt.host_sender(to, &input)?),
            IscRequest::HostReceiver { from, output } => {
                IscResponse::Receiver(rt.host_receiver(from, &output)?)
            }
            IscRequest::Start { app } => {
                rt.start(app)?;
                IscResponse::Done
            }
            IscRequest::Send { port, messages } => {
                rt.send_encoded(port, messages, at)?;
                IscResponse::Done
            }
            IscRequest::CloseSender { port } => {
                rt.close_sender(port)?;
                IscResponse::Done
            }
            IscRequest::Recv { port, max, .. } => {
                let r = rt.recv_encoded(port, max as usize)?;
                let prepaid = r.messages.iter().map(|m| m.len() as u64).sum();
                return Ok(Served {
                    response: IscResponse::Messages {
                        messages: r.messages,
                        end: r.end,
                    },
                    prepaid,
                    done: r.last_at.unwrap_or(at).max(at),
                });
            }
            IscRequest::Abort { app } => {
                rt.abort(app)?;
                IscResponse::Done
            }
            IscRequest::Wait { app, .. } => {
                let report = rt.wait(app)?;
                let done = report.finished_at.max(at);
                return Ok(Served {
                    response: IscResponse::Report(report),
                    prepaid: 0,
                    done,
                });
            }
            IscRequest::Report { app } => IscResponse::Report(rt.report(app)?),
            IscRequest::FileCreate { name, size } => IscResponse::File(rt.create_sized_file(&name, size)?),
            IscRequest::FileOpen { name } => IscResponse::File(rt.open_file(&name)?),
            IscRequest::FileWrite { name, offset, data } => {
                rt.write_file(&name, offset, &data)?;
                IscResponse::Done
            }
            IscRequest::FileRead { name, offset, len } => {
                IscResponse::Data(rt.read_file(&name, offset, len)?)
            }
            IscRequest::FileList => IscResponse::Files(
                rt.namespace()
                    .list()
                    .map(|f| FileInfo {
                        name: f.name.clone(),
                        size: f.size,
                    })
                    .collect(),
            ),
            IscRequest::FileRemove { name } => {
                rt.remove_file(&name)?;
                IscResponse::Done
            }
        };
        Ok(Served {
            response,
            prepaid: 0,
            done: self.rt.now(),
        })
    }
}

/// Decodes a vendor command: the protocol version, then a request of this opcode's family,
/// with nothing after it.
fn decode(opcode: u8, payload: &[u8]) -> Result<IscRequest, (ErrorKind, String)> {
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
