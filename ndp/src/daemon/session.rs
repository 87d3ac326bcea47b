//! What one daemon session owns on the device, and the clean-up when it closes.
//!
//! The daemon reads every ISC command a session submits and its response: an Application it
//! created (`CreateApp`) or a module it loaded (`LoadModule`) is the session's until it
//! unloads the module. When the connection closes (the host process exited or died), the
//! daemon aborts each of the session's Applications (its SSDlets stop, their DRAM and queued
//! messages are released, blocked `Recv`/`Wait` of the session are answered) and unloads its
//! modules. A command still in flight when the session closes is cleaned up as soon as it
//! completes. The clean-ups run on blocking threads (they call the device); a command itself
//! costs no thread while it is parked on the device ([`submit`] hands a callback).

use std::sync::{Mutex, PoisonError};

use device_runtime::device::{DeviceError, DeviceHandle};
use ndp_protocol::{
    response_of, AppId, ArgValue, Envelope, FileId, InstanceId, IscRequest, IscResponse, ModuleId,
    ModuleSource, ReceiverId, SenderId, Tenant,
};
use sim_nvme::nvme::{Command, Completion};
use sim_nvme::SimTime;

use host_sdk::embedded::from_device;
use ndp_protocol::daemon::{Cleanup, ReplyBody, WireError, WireErrorKind};

/// A session's device resources.
#[derive(Debug, Default)]
pub(crate) struct Owned {
    /// Its id.
    pub(crate) session: u64,
    /// Whose files it may use (`None`: the device owner; [`ndp_protocol::tenant`]).
    pub(crate) tenant: Option<Tenant>,
    /// The file handles its `FileOpen`/`FileCreate` commands got: the only ones its SSDlets
    /// may be given.
    pub(crate) files: std::collections::HashSet<FileId>,
    /// Whether it may load modules although it is a tenant ([`super::Limits::tenant_modules`]).
    pub(crate) tenant_modules: bool,
    /// Applications it created.
    pub(crate) apps: Vec<AppId>,
    /// Modules it loaded and has not unloaded.
    pub(crate) modules: Vec<ModuleId>,
    /// SSDlet instances it spawned, and the host ports it opened.
    pub(crate) instances: Vec<InstanceId>,
    pub(crate) senders: Vec<SenderId>,
    pub(crate) receivers: Vec<ReceiverId>,
    /// The latest host instant it used (clean-up commands are issued then).
    pub(crate) now: SimTime,
    /// The connection has closed: what completes from now on is cleaned up at once.
    pub(crate) closed: bool,
}

// INVARIANT(daemon-no-session-state): the daemon learns ownership from the ISC traffic only
/// The ISC request a command carries, if it is one that creates or frees something the session
/// then owns.
fn tracked(cmd: &Command) -> Option<IscRequest> {
    let Command::Vendor { payload, .. } = cmd else {
        return None;
    };
    let env: Envelope = postcard::from_bytes(payload).ok()?;
    match env.request {
        r @ (IscRequest::CreateApp { .. }
        | IscRequest::LoadModule { .. }
        | IscRequest::UnloadModule { .. }
        | IscRequest::Spawn { .. }
        | IscRequest::HostSender { .. }
        | IscRequest::HostReceiver { .. }
        | IscRequest::FileOpen { .. }
        | IscRequest::FileCreate { .. }) => Some(r),
        _ => None,
    }
}

// INVARIANT(sessions-isolated): a session cannot manage queues, write the metadata region, or
// touch another session's Applications or modules
/// Why the daemon refuses `cmd` from the session that owns `owned`, if it does: a module to
/// load by path (a client sends its bytes), queue
/// management (the daemon's queue is shared by every session), a write or deallocation of the
/// device's metadata region (the file table, LBAs `0..DATA_START`), or any request naming an
/// Application, module, SSDlet instance or host port the session did not create (`Abort`,
/// `Wait`, `Report`, `Logs`, `Start`, `Spawn`, `UnloadModule`, `Connect`, `HostSender`,
/// `HostReceiver`, `Send`, `CloseSender`, `Recv`).
pub(crate) fn refusal(cmd: &Command, owned: &Mutex<Owned>) -> Option<WireError> {
    use ndp_protocol::filetable::DATA_START;
    let forbidden = |message: String| {
        Some(WireError {
            kind: WireErrorKind::Forbidden,
            message,
        })
    };
    let metadata = |lba: u64, blocks: u64| lba < DATA_START && blocks > 0;
    match cmd {
        Command::CreateIoQueue { .. } | Command::DeleteIoQueue { .. } => forbidden(
            "queue management belongs to the daemon (every session shares its I/O queue); expected I/O and vendor commands only"
                .into(),
        ),
        Command::Write { lba, data, .. } if metadata(lba.0, (data.len() as u64).div_ceil(4096)) => {
            forbidden(format!(
                "a write of LBAs {}..{} reaches the device's metadata region (the file table, LBAs 0..{DATA_START}); expected LBAs from {DATA_START}",
                lba.0,
                lba.0 + (data.len() as u64).div_ceil(4096)
            ))
        }
        Command::Deallocate { ranges, .. } if ranges.iter().any(|(l, n)| metadata(l.0, u64::from(*n))) => {
            forbidden(format!(
                "a deallocation reaches the device's metadata region (the file table, LBAs 0..{DATA_START}); expected LBAs from {DATA_START}"
            ))
        }
        Command::Vendor { payload, .. } => {
            let env: Envelope = postcard::from_bytes(payload).ok()?;
            let o = owned.lock().unwrap_or_else(PoisonError::into_inner);
            let not_app = |app: AppId| {
                forbidden(format!(
                    "Application {} was not created by this session; expected one of its own",
                    app.0
                ))
            };
            let not_module = |m: ModuleId| {
                forbidden(format!(
                    "module {} was not loaded by this session; expected one of its own",
                    m.0
                ))
            };
            let not_instance = |i: InstanceId| {
                forbidden(format!(
                    "SSDlet instance {} was not spawned by this session; expected one of its own",
                    i.0
                ))
            };
            let not_port = |what: &str, id: u64| {
                forbidden(format!(
                    "host {what} {id} was not opened by this session; expected one of its own"
                ))
            };
            match env.request {
                IscRequest::Abort { app }
                | IscRequest::Wait { app, .. }
                | IscRequest::Report { app }
                | IscRequest::Logs { app, .. }
                | IscRequest::Start { app }
                    if !o.apps.contains(&app) =>
                {
                    not_app(app)
                }
                IscRequest::Spawn { app, .. } if !o.apps.contains(&app) => not_app(app),
                // INVARIANT(files-belong-to-tenants): an SSDlet gets only files its session opened
                IscRequest::Spawn { args, .. }
                    if args.iter().any(|a| matches!(a, ArgValue::File(f) if !o.files.contains(f))) =>
                {
                    forbidden(
                        "a file argument is a handle this session did not open; expected one from its own FileOpen or FileCreate"
                            .into(),
                    )
                }
                IscRequest::Spawn { module, .. } | IscRequest::UnloadModule { module }
                    if !o.modules.contains(&module) =>
                {
                    not_module(module)
                }
                IscRequest::Connect { from, to, .. } => [from, to]
                    .into_iter()
                    .find(|i| !o.instances.contains(i))
                    .and_then(not_instance),
                IscRequest::HostSender { to: i, .. } | IscRequest::HostReceiver { from: i, .. }
                    if !o.instances.contains(&i) =>
                {
                    not_instance(i)
                }
                IscRequest::Send { port, .. } | IscRequest::CloseSender { port } if !o.senders.contains(&port) => {
                    not_port("sender", port.0)
                }
                IscRequest::Recv { port, .. } if !o.receivers.contains(&port) => {
                    not_port("receiver", port.0)
                }
                // A path would make the daemon read any file it can (and say what it found).
                IscRequest::LoadModule {
                    source: ModuleSource::Path(p),
                } => forbidden(format!(
                    "module path `{p}` names a file on the daemon's machine, which a client may not have loaded; expected the module's bytes (`Device::load_module` sends them)"
                )),
                // INVARIANT(files-belong-to-tenants): a module is native code beside every file
                IscRequest::LoadModule { .. } if o.tenant.is_some() && !o.tenant_modules => {
                    let who = ndp_protocol::tenant::owner_name(o.tenant);
                    forbidden(format!(
                        "{who} may not load modules on this daemon: a module runs native code in the firmware, beside every tenant's files; expected the device owner, or a daemon started with `ndp serve --tenant-modules`"
                    ))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Submits a session's command at `at` without waiting: `done` gets the completion on the
/// device thread (it must not block). Returns the request to pass to [`complete`] with it.
pub(crate) fn submit(
    device: &DeviceHandle,
    tenant: Option<Tenant>,
    cmd: Command,
    at: SimTime,
    done: device_runtime::device::Done,
) -> Result<Option<IscRequest>, DeviceError> {
    let req = tracked(&cmd);
    let mut h = device.clone();
    h.advance_to(at);
    h.submit_as_then(cmd, tenant, done)?;
    Ok(req)
}

/// Whether [`complete`] may call the device (a closed session's new Application or module is
/// freed at once), so must run where blocking is allowed.
pub(crate) fn may_block(owned: &Mutex<Owned>) -> bool {
    owned.lock().unwrap_or_else(PoisonError::into_inner).closed
}

/// The reply to a completed command of the session, and what it created recorded (calls the
/// device, blocking, only when the session has closed: [`may_block`]).
pub(crate) fn complete(
    device: &DeviceHandle,
    owned: &Mutex<Owned>,
    req: Option<IscRequest>,
    at: SimTime,
    result: Result<Completion, DeviceError>,
) -> (ReplyBody, Vec<Cleanup>) {
    let c = match result {
        Ok(c) => c,
        Err(e) => return (failed(e), Vec::new()),
    };
    let mut cleanups = Vec::new();
    // Decided under the lock, done after it: the clean-up calls the device.
    let mut o = owned.lock().unwrap_or_else(PoisonError::into_inner);
    o.now = o.now.max(at).max(c.done_at);
    let (session, now, closed) = (o.session, o.now, o.closed);
    let (mut abort_app, mut unload_module) = (None, None);
    match (req, response_of(&c)) {
        (Some(IscRequest::CreateApp { .. }), Ok(IscResponse::App(app))) => {
            if closed {
                abort_app = Some(app);
            } else {
                o.apps.push(app);
            }
        }
        (Some(IscRequest::LoadModule { .. }), Ok(IscResponse::Module(m))) => {
            if closed {
                unload_module = Some(m.id);
            } else {
                o.modules.push(m.id);
            }
        }
        (Some(IscRequest::UnloadModule { module }), Ok(IscResponse::Done)) => {
            o.modules.retain(|&m| m != module);
        }
        (Some(IscRequest::Spawn { .. }), Ok(IscResponse::Instance(i))) => o.instances.push(i),
        (Some(IscRequest::HostSender { .. }), Ok(IscResponse::Sender(p))) => o.senders.push(p),
        (Some(IscRequest::HostReceiver { .. }), Ok(IscResponse::Receiver(p))) => o.receivers.push(p),
        (Some(IscRequest::FileOpen { .. } | IscRequest::FileCreate { .. }), Ok(IscResponse::File(f))) => {
            o.files.insert(f);
        }
        _ => {}
    }
    drop(o);
    if let Some(app) = abort_app {
        cleanups.push(abort(device, session, app, now));
    }
    if let Some(m) = unload_module {
        unload(device, m, now);
    }
    (ReplyBody::Completion(c.into()), cleanups)
}

/// A failed submission as a reply.
pub(crate) fn failed(e: DeviceError) -> ReplyBody {
    let e = from_device(e);
    let kind = match e {
        host_sdk::Error::Stopped => WireErrorKind::Stopped,
        host_sdk::Error::Refused {
            kind: ndp_protocol::ErrorKind::Forbidden,
            ..
        } => WireErrorKind::Forbidden,
        _ => WireErrorKind::Device,
    };
    let message = e.to_string();
    ReplyBody::Failed(WireError { kind, message })
}

// INVARIANT(daemon-no-session-state): clean-up is ordinary Abort, Report and UnloadModule
/// Marks the session closed and frees what it owns (blocking): aborts its Applications,
/// reports them, unloads its modules.
pub(crate) fn close(device: &DeviceHandle, owned: &Mutex<Owned>) -> Vec<Cleanup> {
    // Marked and emptied under the lock; the device is called after it (completions of this
    // session's parked commands take the lock meanwhile).
    let (session, now, apps, modules) = {
        let mut o = owned.lock().unwrap_or_else(PoisonError::into_inner);
        o.closed = true;
        (
            o.session,
            o.now,
            std::mem::take(&mut o.apps),
            std::mem::take(&mut o.modules),
        )
    };
    let cleanups = apps
        .into_iter()
        .map(|app| abort(device, session, app, now))
        .collect();
    for m in modules {
        unload(device, m, now);
    }
    cleanups
}

fn abort(device: &DeviceHandle, session: u64, app: AppId, at: SimTime) -> Cleanup {
    let mut h = device.clone();
    h.advance_to(at);
    let report = match h
        .call(&IscRequest::Abort { app })
        .and_then(|_| h.call(&IscRequest::Report { app }))
    {
        Ok(IscResponse::Report(r)) => {
            tracing::info!(
                session,
                app = %r.app,
                done = r.done,
                dram_held = r.dram_held,
                "cleaned up an application of a closed session"
            );
            Ok(r)
        }
        Ok(other) => {
            let e = format!("unexpected response to Report: {other:?}");
            tracing::warn!(session, error = %e, "cannot clean up an application");
            Err(e)
        }
        Err(e @ DeviceError::Stopped) => {
            // The daemon is shutting down: nothing is left to free.
            tracing::debug!(session, "the device stopped before a clean-up");
            Err(e.to_string())
        }
        Err(e) => {
            tracing::warn!(session, error = %e, "cannot clean up an application");
            Err(e.to_string())
        }
    };
    Cleanup { session, report }
}

fn unload(device: &DeviceHandle, module: ModuleId, at: SimTime) {
    let mut h = device.clone();
    h.advance_to(at);
    if let Err(e) = h.call(&IscRequest::UnloadModule { module }) {
        if matches!(e, DeviceError::Stopped) {
            return;
        }
        tracing::warn!(module = module.0, error = %e, "cannot unload a module of a closed session");
    }
}

#[cfg(test)]
mod tests {
    use device_runtime::device::DeviceThread;
    use device_runtime::runtime::RuntimeConfig;
    use ndp_protocol::AppConfig;
    use sim_nvme::DeviceProfile;

    use super::*;

    /// `submit`, then `complete` once the device thread has called back, as the server does.
    fn submit_wait(
        h: &DeviceHandle,
        owned: &Mutex<Owned>,
        cmd: Command,
        at: SimTime,
    ) -> (ReplyBody, Vec<Cleanup>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let tenant = owned.lock().unwrap().tenant;
        let req = submit(
            h,
            tenant,
            cmd,
            at,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        )
        .unwrap();
        let r = rx.recv().unwrap();
        complete(h, owned, req, at, r)
    }

    #[test]
    fn applications_are_tracked_and_cleaned_up_also_when_created_after_the_close() {
        let dev = DeviceThread::in_memory(DeviceProfile::tiny(), RuntimeConfig::default()).unwrap();
        let h = dev.handle();
        let owned = Mutex::new(Owned {
            session: 1,
            ..Owned::default()
        });
        let create = |name: &str| {
            let config = AppConfig::default();
            IscRequest::CreateApp {
                name: name.into(),
                config,
            }
            .to_command()
            .unwrap()
        };
        let (body, now) = submit_wait(&h, &owned, create("mine"), SimTime::ZERO);
        assert!(matches!(body, ReplyBody::Completion(_)), "{body:?}");
        assert!(now.is_empty());
        assert_eq!(owned.lock().unwrap().apps.len(), 1);
        // Other requests are not tracked.
        let list = IscRequest::FileList.to_command().unwrap();
        submit_wait(&h, &owned, list, SimTime::ZERO);
        assert_eq!(owned.lock().unwrap().apps.len(), 1);

        let cleaned = close(&h, &owned);
        assert_eq!(cleaned.len(), 1);
        assert_eq!(cleaned[0].report.as_ref().unwrap().app, "mine");
        assert!(owned.lock().unwrap().apps.is_empty());

        // A CreateApp still in flight at the close is cleaned up as it completes.
        let (_, late) = submit_wait(&h, &owned, create("late"), SimTime::ZERO);
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].report.as_ref().unwrap().app, "late");
        assert!(owned.lock().unwrap().apps.is_empty());
    }

    #[test]
    fn an_ssdlet_gets_only_file_handles_its_session_opened() {
        let dev = DeviceThread::in_memory(DeviceProfile::tiny(), RuntimeConfig::default()).unwrap();
        let h = dev.handle();
        let owned = Mutex::new(Owned {
            session: 1,
            apps: vec![AppId(0)],
            modules: vec![ModuleId(0)],
            ..Owned::default()
        });
        let create = IscRequest::FileCreate {
            name: "f".into(),
            size: 10,
        };
        let (body, _) = submit_wait(&h, &owned, create.to_command().unwrap(), SimTime::ZERO);
        assert!(matches!(body, ReplyBody::Completion(_)), "{body:?}");
        let mine = *owned
            .lock()
            .unwrap()
            .files
            .iter()
            .next()
            .expect("the handle is recorded");
        let spawn = |f: FileId| {
            IscRequest::Spawn {
                app: AppId(0),
                module: ModuleId(0),
                ssdlet: "s".into(),
                args: vec![ArgValue::U64(1), ArgValue::File(f)],
                placement: Default::default(),
            }
            .to_command()
            .unwrap()
        };
        assert!(refusal(&spawn(mine), &owned).is_none());
        let e = refusal(&spawn(FileId(mine.0 + 1)), &owned).expect("another session's handle is refused");
        assert_eq!(e.kind, WireErrorKind::Forbidden);
        assert!(e.message.contains("file argument"), "{}", e.message);
    }
}
