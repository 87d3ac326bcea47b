//! [`Firmware`]: the device runtime as the device's NVMe front end. Standard commands go
//! through the `sim-nvme` controller (same status codes and timing); vendor commands are
//! decoded and served here, against the [`Runtime`].

use std::path::Path;

use sim_nvme::nvme::{
    Command, Completion, Controller, Dispatched, QueueId, SharedSsd, Status, SubmitError, VendorReply,
};
use sim_nvme::SimTime;

use crate::loader::{LoadError, LoadedModule, Loader};
use crate::namespace::NamespaceError;
use crate::runtime::{AppId, ArgValue, Runtime, RuntimeError};
use ndp_protocol::isc::{ErrorKind, FileInfo, IscRequest, IscResponse, ModuleInfo, ModuleSource};
use ndp_protocol::tenant::{Access, Tenant};
use ndp_protocol::ModuleId;

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
        E::ArgCount { .. }
        | E::ArgType { .. }
        | E::ArgValue { .. }
        | E::ArgEncode { .. }
        | E::CrossSite { .. }
        | E::ReadTooLarge { .. } => ErrorKind::InvalidArgument,
        E::NoSuchFile(_)
        | E::NoSuchApp(_)
        | E::NoSuchInstance(_)
        | E::NoSuchHostPort { .. }
        | E::NoSuchPort { .. }
        | E::NoSuchCore { .. }
        | E::Namespace(NamespaceError::NotFound(_)) => ErrorKind::NotFound,
        E::Namespace(NamespaceError::NotYours { .. }) | E::StaleFile { .. } => ErrorKind::Forbidden,
        E::Namespace(_) => ErrorKind::File,
        E::AlreadyStarted { .. } | E::HostSenderClosed(_) | E::PortInUse { .. } | E::Unconnected { .. } => {
            ErrorKind::State
        }
        E::PortType(_) => ErrorKind::PortType,
        E::AppFailed { .. } => ErrorKind::AppFailed,
        E::WaitingForHost { .. } | E::WaitingForApps { .. } => ErrorKind::WaitingForHost,
        E::Deadlock { .. } => ErrorKind::Deadlock,
        _ => ErrorKind::Device,
    }
}

/// The file a file request names and what it does to it (a rename's target must be free,
/// which the namespace checks).
fn file_access(req: &IscRequest) -> Option<(&str, Access)> {
    match req {
        IscRequest::FileOpen { name } | IscRequest::FileRead { name, .. } => Some((name, Access::Read)),
        IscRequest::FileWrite { name, .. }
        | IscRequest::FileRemove { name }
        | IscRequest::FileShare { name, .. }
        | IscRequest::FileRename { from: name, .. } => Some((name, Access::Modify)),
        _ => None,
    }
}

/// A command as it reaches the firmware, its ISC request (a vendor command's) decoded once:
/// the device thread checks whether it would block, parks it, and serves it from this.
#[derive(Debug)]
pub struct Arrived {
    cmd: Command,
    /// `None` for a standard command; else the request or why its payload is refused.
    request: Option<Result<IscRequest, (ErrorKind, String)>>,
    /// Who issued it (`None`: the device owner; [`ndp_protocol::tenant`]).
    tenant: Option<Tenant>,
}

impl Arrived {
    // INVARIANT(payload-never-panics): decoded once, on arrival; a bad payload is kept as an Err
    /// `cmd`, with its ISC request decoded if it is a vendor command.
    pub fn new(cmd: Command) -> Arrived {
        let request = match &cmd {
            Command::Vendor { opcode, payload } => Some(IscRequest::decode(*opcode, payload)),
            _ => None,
        };
        Arrived {
            cmd,
            request,
            tenant: None,
        }
    }

    /// The same command, issued by `tenant` (INVARIANT(files-belong-to-tenants)).
    pub fn from_tenant(self, tenant: Option<Tenant>) -> Arrived {
        Arrived { tenant, ..self }
    }

    /// Whether it is an admin command.
    pub fn is_admin(&self) -> bool {
        self.cmd.is_admin()
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
    /// The NVMe controller: queues, standard commands, the cost of every command. It shares
    /// the drive with the runtime.
    ctrl: Controller<SharedSsd>,
    rt: Runtime,
    loader: Loader,
    modules: Vec<Option<LoadedModule>>,
}

impl Firmware {
    /// Firmware over `rt`, staging loaded modules with `loader`.
    pub fn new(rt: Runtime, loader: Loader) -> Firmware {
        Firmware {
            ctrl: Controller::over(rt.shared_ssd()),
            rt,
            loader,
            modules: Vec::new(),
        }
    }

    /// The runtime (read-only: hosts change it only through commands,
    /// INVARIANT(runtime-behind-commands)).
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// Submits a command the host issues at `at` on queue `qid`; returns its command id. The
    /// device first runs its Applications until nothing is runnable, so what a command sees
    /// depends only on the commands before it.
    pub fn submit(&mut self, qid: QueueId, cmd: Command, at: SimTime) -> Result<u16, SubmitError> {
        self.submit_arrived(qid, Arrived::new(cmd), at)
    }

    /// [`Firmware::submit`] of a command whose ISC request was decoded on arrival (its tenant
    /// is served by [`Firmware::submit_arrived_and_wait`] only).
    fn submit_arrived(&mut self, qid: QueueId, arrived: Arrived, at: SimTime) -> Result<u16, SubmitError> {
        // INVARIANT(run-idle-before-command): the device is idle before the command is served
        self.rt.run_idle();
        let Arrived { cmd, request, tenant } = arrived;
        // INVARIANT(firmware-owns-controller): each controller borrow ends with its statement,
        // so none is held while the vendor command is served
        let dispatched = match &request {
            Some(Ok(r)) if self.host_local(r) => self.ctrl.dispatch_host_local(qid, cmd, at)?,
            _ => self.ctrl.dispatch(qid, cmd, at)?,
        };
        match dispatched {
            Dispatched::Completed(cid) => Ok(cid),
            Dispatched::Vendor(v) => {
                let request = request.unwrap_or_else(|| IscRequest::decode(v.opcode, &v.payload));
                let reply = self.serve(request, v.arrived_at, tenant);
                let (reply, prepaid) = reply;
                Ok(self.ctrl.complete_vendor(v, reply, prepaid))
            }
        }
    }

    /// Whether `request` concerns only Applications at the host site (conventional runs): it
    /// models a call inside the host, so the controller charges it no I/O stack, PCIe or
    /// firmware time. Decided here, from the runtime's own records, never by the client.
    fn host_local(&self, request: &IscRequest) -> bool {
        // INVARIANT(isc-cost-charged): the one exception, a call inside a conventional run's host
        use ndp_protocol::Site;
        let rt = &self.rt;
        let inst = |i: &ndp_protocol::InstanceId| rt.site_of_instance((*i).into());
        let site = match request {
            IscRequest::CreateApp { config, .. } => Some(config.site),
            IscRequest::Spawn { app, .. }
            | IscRequest::Start { app }
            | IscRequest::Abort { app }
            | IscRequest::Wait { app, .. }
            | IscRequest::Report { app }
            | IscRequest::Logs { app, .. } => rt.site_of((*app).into()),
            IscRequest::Connect { from, to, .. } => inst(from).filter(|&s| inst(to) == Some(s)),
            IscRequest::HostSender { to, .. } => inst(to),
            IscRequest::HostReceiver { from, .. } => inst(from),
            IscRequest::Send { port, .. } | IscRequest::CloseSender { port } => {
                rt.site_of_port(crate::runtime::SenderId::from(*port).0)
            }
            IscRequest::Recv { port, .. } => rt.site_of_port(crate::runtime::ReceiverId::from(*port).0),
            _ => None,
        };
        site == Some(Site::Host)
    }

    /// The next completion on `qid` (the one that finishes first), if any.
    pub fn reap(&mut self, qid: QueueId) -> Option<Completion> {
        self.ctrl.reap(qid)
    }

    /// The completion of command `cid` on `qid`, leaving others queued.
    pub fn take(&mut self, qid: QueueId, cid: u16) -> Option<Completion> {
        self.ctrl.take(qid, cid)
    }

    /// Submits a command and takes its completion (queue depth 1).
    pub fn submit_and_wait(
        &mut self,
        qid: QueueId,
        cmd: Command,
        at: SimTime,
    ) -> Result<Completion, SubmitError> {
        self.submit_arrived_and_wait(qid, Arrived::new(cmd), at)
    }

    /// [`Firmware::submit_and_wait`] of a command whose ISC request was decoded on arrival.
    pub fn submit_arrived_and_wait(
        &mut self,
        qid: QueueId,
        arrived: Arrived,
        at: SimTime,
    ) -> Result<Completion, SubmitError> {
        let tenant = arrived.tenant;
        let read = matches!(arrived.cmd, Command::Read { .. }).then(|| arrived.cmd.clone());
        let cid = self.submit_arrived(qid, arrived, at)?;
        // `submit` posts every completion before it returns.
        let mut c = self
            .take(qid, cid)
            .expect("a submitted command's completion is posted at once");
        if let Some(read) = read {
            super::tenancy::view(self.rt.namespace(), &read, tenant, &mut c);
        }
        Ok(c)
    }

    /// Why the firmware refuses `arrived` from its tenant without serving it: raw blocks
    /// outside the files the tenant may use (INVARIANT(files-belong-to-tenants)).
    pub fn refusal(&mut self, arrived: &Arrived) -> Option<String> {
        arrived.tenant?;
        // INVARIANT(run-idle-before-command): judged on an idle device, like the command
        self.rt.run_idle();
        super::tenancy::refusal(self.rt.namespace(), &arrived.cmd, arrived.tenant)
    }

    /// Creates an I/O queue pair of `depth` entries (an admin command at time zero; the
    /// controller serves it, as it serves every standard command).
    pub fn create_io_queue(&mut self, depth: u16) -> Result<QueueId, Status> {
        self.ctrl.create_io_queue(depth)
    }

    /// The runtime's resumption count ([`Runtime::steps`]).
    pub fn steps(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        self.rt.steps()
    }

    /// Runs Applications for at most `steps` resumptions; returns whether work is left.
    pub fn run_some(&mut self, steps: usize) -> bool {
        self.rt.run_some(steps)
    }

    /// Whether `cmd` is a blocking `Wait` or `Recv` that cannot be answered yet: after the
    /// device has run until nothing is runnable, its Application waits for host input, or its
    /// receiver is empty and open.
    pub fn would_block(&mut self, arrived: &Arrived) -> bool {
        let Some(Ok(req)) = &arrived.request else {
            return false;
        };
        // INVARIANT(run-idle-before-command): would-block is judged on an idle device
        self.rt.run_idle();
        match *req {
            IscRequest::Wait { app, block: true } => {
                let app = AppId::from(app);
                self.rt.is_running(app).unwrap_or(false) && self.rt.waits_for_others(app.0)
            }
            IscRequest::Recv {
                port, block: true, ..
            } => self.rt.recv_ready(port.into()).is_ok_and(|r| !r),
            _ => false,
        }
    }

    fn serve(
        &mut self,
        request: Result<IscRequest, (ErrorKind, String)>,
        at: SimTime,
        tenant: Option<Tenant>,
    ) -> (VendorReply, u64) {
        let (status, served) = match request {
            Err((kind, message)) => (
                // INVARIANT(payload-never-panics): a refused payload is Invalid Field in Command
                Status::INVALID_FIELD,
                Served {
                    response: IscResponse::Error { kind, message },
                    prepaid: 0,
                    done: at,
                },
            ),
            Ok(req) => {
                self.rt.set_now(at);
                let served = match self.execute(req, at, tenant) {
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

    fn module(&self, id: ModuleId) -> Result<&LoadedModule, ServeError> {
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

    fn execute(
        &mut self,
        req: IscRequest,
        at: SimTime,
        tenant: Option<Tenant>,
    ) -> Result<Served, ServeError> {
        let rt = &mut self.rt;
        // INVARIANT(files-belong-to-tenants): a file request names files its tenant may use
        if let Some((name, access)) = file_access(&req) {
            rt.namespace()
                .check(name, tenant, access)
                .map_err(RuntimeError::from)?;
        }
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
            IscRequest::CreateApp { name, config } => IscResponse::App(rt.create_app(&name, config).into()),
            IscRequest::Spawn {
                app,
                module,
                ssdlet,
                args,
                placement,
            } => {
                let ssdlet = self.module(module)?.ssdlet(&ssdlet)?;
                let args: Vec<ArgValue> = args.into_iter().map(ArgValue::from).collect();
                // INVARIANT(files-belong-to-tenants): a handle is checked against the file now
                for a in &args {
                    if let ArgValue::File(f) = a {
                        self.rt.check_handle(*f, tenant)?;
                    }
                }
                let id = self.rt.spawn_on(app.into(), &ssdlet, &args, placement)?;
                IscResponse::Instance(id.into())
            }
            IscRequest::Connect {
                from,
                output,
                to,
                input,
            } => {
                rt.connect(from.into(), &output, to.into(), &input)?;
                IscResponse::Done
            }
            IscRequest::HostSender { to, input } => {
                IscResponse::Sender(rt.host_sender(to.into(), &input)?.into())
            }
            IscRequest::HostReceiver { from, output } => {
                IscResponse::Receiver(rt.host_receiver(from.into(), &output)?.into())
            }
            IscRequest::Start { app } => {
                rt.start(app.into())?;
                IscResponse::Done
            }
            IscRequest::Send { port, messages } => {
                rt.send_encoded(port.into(), messages, at)?;
                IscResponse::Done
            }
            IscRequest::CloseSender { port } => {
                rt.close_sender(port.into())?;
                IscResponse::Done
            }
            IscRequest::Recv { port, max, .. } => {
                let r = rt.recv_encoded(port.into(), max as usize)?;
                // INVARIANT(isc-cost-charged): messages went to the host by DMA when they were put
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
                rt.abort(app.into())?;
                IscResponse::Done
            }
            IscRequest::Wait { app, .. } => {
                let report = rt.wait(app.into())?;
                let done = report.finished_at.max(at);
                return Ok(Served {
                    response: IscResponse::Report(report),
                    prepaid: 0,
                    done,
                });
            }
            IscRequest::Report { app } => IscResponse::Report(rt.report(app.into())?),
            IscRequest::Logs { app, from } => {
                let (lines, next, dropped) = rt.app_logs(app.into(), from, ndp_protocol::LOGS_BATCH)?;
                IscResponse::Logs {
                    lines: lines
                        .into_iter()
                        .map(|l| ndp_protocol::LogEntry {
                            ssdlet: l.ssdlet,
                            level: l.level.0,
                            text: l.text,
                            at: l.at,
                        })
                        .collect(),
                    next,
                    dropped,
                }
            }
            IscRequest::FileCreate { name, size } => {
                IscResponse::File(rt.create_sized_file(&name, size, tenant)?.into())
            }
            IscRequest::FileOpen { name } => IscResponse::File(rt.open_file(&name)?.into()),
            IscRequest::FileWrite { name, offset, data } => {
                rt.write_file(&name, offset, &data)?;
                IscResponse::Done
            }
            IscRequest::FileRead { name, offset, len } => {
                IscResponse::Data(rt.read_file(&name, offset, len)?)
            }
            IscRequest::FileList => IscResponse::Files(
                rt.namespace()
                    .visible(tenant)
                    .map(|f| FileInfo {
                        name: f.name.clone(),
                        size: f.size,
                        owner: f.owner,
                        shared: f.shared,
                    })
                    .collect(),
            ),
            IscRequest::FileShare { name, shared } => {
                rt.share_file(&name, shared)?;
                IscResponse::Done
            }
            IscRequest::FileRemove { name } => {
                rt.remove_file(&name)?;
                IscResponse::Done
            }
            IscRequest::FileRename { from, to } => {
                rt.rename_file(&from, &to)?;
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
