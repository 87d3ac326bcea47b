//! [`Application`]: a group of SSDlet instances wired into a dataflow graph (Biscuit's
//! `Application`): spawn, connect (between SSDlets, also of other Applications, and to and
//! from the host), start, wait, abort.
//!
//! The device-side Application is created by the first request that needs it, so
//! [`Application::new`] cannot fail, as in Biscuit.

use std::sync::{Arc, Mutex, PoisonError};

use ndp_protocol::{AppConfig, AppId, ArgValue, ErrorKind, IscRequest, IscResponse, Placement, RunReport};
use ssdlet_sdk::Message;

use crate::arg::{Arg, IntoArgs};
use crate::device::{unexpected, Device};
use crate::error::{Error, Result};
use crate::files::not_found;
use crate::logs::{LogBatch, LogLevel, LogLine};
use crate::module::Module;
use crate::port::{HostReceiver, HostSender};
use crate::ssdlet::{InPort, OutPort, SsdletInstance};

/// An Application on a device.
pub struct Application {
    device: Device,
    name: String,
    config: AppConfig,
    id: Mutex<Option<AppId>>,
}

impl Application {
    /// An empty Application named `app` with the default limits.
    pub fn new(device: &Device) -> Application {
        Application::with_config(device, "app", AppConfig::default())
    }

    /// An empty Application with a name (in reports and errors) and limits.
    pub fn with_config(device: &Device, name: &str, config: AppConfig) -> Application {
        Application {
            device: device.clone(),
            name: name.to_owned(),
            config,
            id: Mutex::new(None),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device it runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    fn id(&self) -> Result<AppId> {
        let mut id = self.id.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(a) = *id {
            return Ok(a);
        }
        let req = IscRequest::CreateApp {
            name: self.name.clone(),
            config: self.config.clone(),
        };
        match self.device.call(&req)? {
            IscResponse::App(a) => {
                *id = Some(a);
                Ok(a)
            }
            r => Err(unexpected(&req, &r)),
        }
    }

    /// An instance of SSDlet `id` of `module`, with arguments (`()`, a tuple or a list; files
    /// as [`Device::file`]), placed round robin over the device's cores.
    pub fn ssdlet(&self, module: &Module, id: &str, args: impl IntoArgs) -> Result<SsdletInstance> {
        self.ssdlet_on(module, id, args, Placement::RoundRobin)
    }

    /// [`Application::ssdlet`] with an explicit placement.
    pub fn ssdlet_on(
        &self,
        module: &Module,
        id: &str,
        args: impl IntoArgs,
        placement: Placement,
    ) -> Result<SsdletInstance> {
        let unknown = |message: String| Error::UnknownSsdlet {
            module: module.meta.name.clone(),
            id: id.to_owned(),
            message,
        };
        let declared = module.meta.ssdlet(id).map(|(_, m)| m.args.clone());
        let args = args
            .into_args()
            .into_iter()
            .enumerate()
            .map(|(k, a)| self.arg_value(id, k, declared.as_ref().and_then(|d| d.get(k)), a))
            .collect::<Result<Vec<_>>>()?;
        let req = IscRequest::Spawn {
            app: self.id()?,
            module: module.id,
            ssdlet: id.to_owned(),
            args,
            placement,
        };
        match self.device.call(&req) {
            Ok(IscResponse::Instance(instance)) => match module.meta.ssdlet(id) {
                Some((_, meta)) => Ok(SsdletInstance {
                    instance,
                    meta: Arc::new(meta.clone()),
                }),
                None => Err(unknown(format!(
                    "the device spawned it, but the module's metadata has SSDlets {}",
                    module.meta.ids()
                ))),
            },
            Ok(r) => Err(unexpected(&req, &r)),
            Err(Error::Refused {
                kind: ErrorKind::NotFound,
                message,
                ..
            }) if message.contains(id) => Err(unknown(message)),
            Err(e) => Err(e),
        }
    }

    /// Argument `index` of SSDlet `ssdlet` as the device takes it: a file by name resolved to
    /// its capability, an untyped integer typed as `slot` declares it.
    fn arg_value(
        &self,
        ssdlet: &str,
        index: usize,
        slot: Option<&ndp_protocol::Slot>,
        a: Arg,
    ) -> Result<ArgValue> {
        Ok(match a {
            Arg::File(name) => {
                let req = IscRequest::FileOpen { name: name.clone() };
                match self.device.call(&req).map_err(|e| not_found(e, &name))? {
                    IscResponse::File(f) => ArgValue::File(f),
                    r => return Err(unexpected(&req, &r)),
                }
            }
            Arg::U64(v) => ArgValue::U64(v),
            Arg::U32(v) => ArgValue::U32(v),
            Arg::I64(v) => ArgValue::I64(v),
            Arg::Bool(v) => ArgValue::Bool(v),
            Arg::Str(v) => ArgValue::Str(v),
            Arg::Int(v) => return typed_int(ssdlet, index, slot, v),
            Arg::Message { sig, bytes } => match slot {
                Some(slot) if slot.ty != sig => {
                    return Err(Error::BadArg {
                        ssdlet: ssdlet.to_owned(),
                        index,
                        name: slot.name.clone(),
                        message: format!("a `{sig}` was given; expected a `{}`", slot.ty),
                    })
                }
                _ => ArgValue::Message { sig, bytes },
            },
        })
    }

    /// Connects an output to an input (their message types must be equal). The two SSDlets
    /// may belong to different Applications (an inter-application port).
    pub fn connect(&self, from: OutPort, to: InPort) -> Result<()> {
        let (o, i) = (from.resolve()?, to.resolve()?);
        let req = IscRequest::Connect {
            from: o.instance,
            output: o.name,
            to: i.instance,
            input: i.name,
        };
        self.device.call_done(&req).map_err(|e| match e {
            Error::Refused {
                kind: ErrorKind::PortType,
                message,
                ..
            } => Error::PortType {
                from: o.label,
                to: i.label,
                message,
            },
            e => e,
        })
    }

    /// A host receiver on output `from` (Biscuit's `connectTo<T>`): `T` is the port's
    /// message type on the host. Its structural signature must equal the port's, as between
    /// two SSDlets; a mismatch is [`Error::PortType`] naming both types.
    pub fn connect_to<T: Message>(&self, from: OutPort) -> Result<HostReceiver<T>> {
        let o = from.resolve()?;
        check_host_type::<T>(&o.label, "the host receiver", &o.ty, true)?;
        let req = IscRequest::HostReceiver {
            from: o.instance,
            output: o.name,
        };
        match self.device.call(&req)? {
            IscResponse::Receiver(port) => Ok(HostReceiver::new(&self.device, port, o.label)),
            r => Err(unexpected(&req, &r)),
        }
    }

    /// A host receiver on output `from` that hands over each message's encoded bytes, with the
    /// port's type signature to decode them by (for tools that know no Rust type, such as
    /// `ndp run`); programs use [`Application::connect_to`].
    pub fn connect_to_encoded(&self, from: OutPort) -> Result<(HostReceiver<Vec<u8>>, String)> {
        let o = from.resolve()?;
        let req = IscRequest::HostReceiver {
            from: o.instance,
            output: o.name,
        };
        match self.device.call(&req)? {
            IscResponse::Receiver(port) => Ok((HostReceiver::encoded(&self.device, port, o.label), o.ty)),
            r => Err(unexpected(&req, &r)),
        }
    }

    /// A host sender into input `to` that sends bytes already encoded as the port's type, with
    /// the port's type signature to encode them by (for tools that know no Rust type, such as
    /// `ndp run`); programs use [`Application::connect_from`].
    pub fn connect_from_encoded(&self, to: InPort) -> Result<(HostSender<crate::port::Encoded>, String)> {
        let i = to.resolve()?;
        let req = IscRequest::HostSender {
            to: i.instance,
            input: i.name,
        };
        match self.device.call(&req)? {
            IscResponse::Sender(port) => Ok((HostSender::new(&self.device, port, i.label), i.ty)),
            r => Err(unexpected(&req, &r)),
        }
    }

    /// A host sender into input `to` (Biscuit's `connectFrom<T>`).
    /// `T`'s structural signature must equal the port's, as between two SSDlets; a mismatch
    /// is [`Error::PortType`] naming both types.
    pub fn connect_from<T: Message>(&self, to: InPort) -> Result<HostSender<T>> {
        let i = to.resolve()?;
        check_host_type::<T>(&i.label, "the host sender", &i.ty, false)?;
        let req = IscRequest::HostSender {
            to: i.instance,
            input: i.name,
        };
        match self.device.call(&req)? {
            IscResponse::Sender(port) => Ok(HostSender::new(&self.device, port, i.label)),
            r => Err(unexpected(&req, &r)),
        }
    }

    /// Starts every SSDlet of the Application.
    pub fn start(&self) -> Result<()> {
        self.device.call_done(&IscRequest::Start { app: self.id()? })
    }

    /// Waits until every SSDlet has finished and returns the run's report. An Application
    /// waiting on a host sender waits until another thread feeds or closes it; read host
    /// receivers first or from another thread, as their messages stay queued until taken.
    pub fn wait(&self) -> Result<RunReport> {
        let req = IscRequest::Wait {
            app: self.id()?,
            block: true,
        };
        match self.device.call(&req) {
            Ok(IscResponse::Report(r)) => Ok(r),
            Ok(r) => Err(unexpected(&req, &r)),
            Err(Error::Refused {
                kind: ErrorKind::AppFailed | ErrorKind::Deadlock,
                message,
                ..
            }) => {
                // The device's message names the Application already; said once.
                let prefix = format!("application `{}` failed: ", self.name);
                let message = message
                    .strip_prefix(&prefix)
                    .map_or(message.clone(), str::to_owned);
                Err(Error::AppFailed {
                    app: self.name.clone(),
                    message,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The report so far.
    pub fn report(&self) -> Result<RunReport> {
        let req = IscRequest::Report { app: self.id()? };
        match self.device.call(&req)? {
            IscResponse::Report(r) => Ok(r),
            r => Err(unexpected(&req, &r)),
        }
    }

    /// The lines its SSDlets logged at `min` or above (`LogLevel::Info`: error, warn, info),
    /// oldest first, all the device keeps (module [`crate::LogLine`]'s docs).
    pub fn logs(&self, min: LogLevel) -> Result<Vec<LogLine>> {
        let mut all = Vec::new();
        let mut from = 0;
        loop {
            let batch = self.logs_from(from, min)?;
            if batch.next == from {
                return Ok(all);
            }
            all.extend(batch.lines);
            from = batch.next;
        }
    }

    /// The lines logged from line number `from` on (one batch), filtered at `min`, with the
    /// number to read from next: a host following a running Application calls it in turns.
    pub fn logs_from(&self, from: u64, min: LogLevel) -> Result<LogBatch> {
        let req = IscRequest::Logs {
            app: self.id()?,
            from,
        };
        match self.device.call(&req)? {
            IscResponse::Logs { lines, next, dropped } => Ok(LogBatch {
                lines: lines
                    .into_iter()
                    .map(LogLine::from)
                    .filter(|l| min.admits(l.level))
                    .collect(),
                next,
                dropped,
            }),
            r => Err(unexpected(&req, &r)),
        }
    }

    /// Aborts the Application: its SSDlets stop at their next runtime call, its ports close.
    pub fn abort(&self) -> Result<()> {
        self.device.call_done(&IscRequest::Abort { app: self.id()? })
    }
}

/// Argument `index` of SSDlet `ssdlet`, an integer written without a type, as the type the
/// SSDlet declares for it (`slot`; `None`: the metadata declares no such argument, and the
/// device refuses the call naming the problem: passed on as an `i64`).
fn typed_int(ssdlet: &str, index: usize, slot: Option<&ndp_protocol::Slot>, v: i128) -> Result<ArgValue> {
    let bad = |message: String| Error::BadArg {
        ssdlet: ssdlet.to_owned(),
        index,
        name: slot.map_or_else(|| "undeclared".to_owned(), |s| s.name.clone()),
        message,
    };
    let Some(slot) = slot else {
        return i64::try_from(v)
            .map(ArgValue::I64)
            .map_err(|_| bad(format!("{v} does not fit an `i64`")));
    };
    let range = |ty: &str| bad(format!("{v} does not fit its type `{ty}`"));
    match slot.ty.as_str() {
        "u64" => u64::try_from(v).map(ArgValue::U64).map_err(|_| range("u64")),
        "u32" => u32::try_from(v).map(ArgValue::U32).map_err(|_| range("u32")),
        "i64" => i64::try_from(v).map(ArgValue::I64).map_err(|_| range("i64")),
        other => Err(bad(format!(
            "an integer was given, but it is declared `{other}`; expected a `{other}` value"
        ))),
    }
}

// INVARIANT(ports-typed): T::SIG against the port's metadata type, before any device command
/// Checks a host port's type `T` against the SSDlet port `label` of type `port_ty`; `outward`
/// when the SSDlet sends to the host.
fn check_host_type<T: Message>(label: &str, host: &str, port_ty: &str, outward: bool) -> Result<()> {
    let host_ty = ssdlet_sdk::sig_string(&T::SIG);
    if host_ty == port_ty {
        return Ok(());
    }
    let (from, to, from_ty, to_ty) = if outward {
        (label.to_owned(), host.to_owned(), port_ty, host_ty.as_str())
    } else {
        (host.to_owned(), format!("`{label}`"), host_ty.as_str(), port_ty)
    };
    Err(Error::PortType {
        message: format!("it sends `{from_ty}` but {to} expects `{to_ty}`"),
        from,
        to,
    })
}
