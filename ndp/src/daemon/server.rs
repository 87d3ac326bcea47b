//! [`Daemon`]: `ndp serve` — one device, served to many host processes over a Unix socket.
//!
//! A tokio task per session reads its frames; each command is handed to the device thread with
//! a callback (`DeviceHandle::submit_then`) that wakes a task when it completes, so a parked
//! `Recv` or `Wait` costs no thread and holds no other session up; replies go back through the session's writer task in the order
//! they complete, tagged with their request ids. A protocol error closes only that session
//! (after a [`ReplyBody::Closing`] frame saying why); a closed session's Applications are
//! aborted and its modules unloaded ([`super::session`]). What one client may hold (sessions,
//! outstanding commands, queued reply bytes, time to say hello, idle time) is bounded by
//! [`Limits`].
//!
//! **Tenants.** Each session belongs to a tenant ([`ndp_protocol::tenant`]): none (the device
//! owner) for a peer running as the daemon's own user, `Uid(uid)` for any other local user (who
//! can connect only if the socket's mode lets them: the socket is created 0600), or what a relay
//! names in its [`Relay`] frame (honored from the daemon's own user only: `ndp serve`'s
//! supervisor). Every command goes to the firmware with its tenant, which serves files by owner
//! (INVARIANT(files-belong-to-tenants)).

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use device_runtime::device::{DeviceError, DeviceHandle, DeviceThread};
use device_runtime::runtime::RuntimeConfig;
use serde::de::DeserializeOwned;
use sim_nvme::DeviceProfile;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use super::limits::Limits;
use super::session::{self, Owned};
use host_sdk::embedded::{start_device, ImageLock, ImageSpec};
use ndp_protocol::daemon::{
    decode, encode, frame_len, Cleanup, DaemonStatus, FrameError, Hello, Relay, Reply, ReplyBody, Request,
    RequestBody, SessionInfo, Welcome, WireError, WireErrorKind, CLEANUPS_KEPT, MAGIC, RELAY_MAGIC,
    WIRE_VERSION,
};
use ndp_protocol::Tenant;

/// What `ndp serve` serves.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The device image file (created if missing).
    pub image: PathBuf,
    /// The Unix socket path to listen on (created owner-only, mode 0600).
    pub socket: PathBuf,
    /// The device profile (must be the image's).
    pub profile: DeviceProfile,
    /// The device runtime's configuration.
    pub runtime: RuntimeConfig,
    /// What one client may hold ([`Limits`]).
    pub limits: Limits,
    /// Exit the process with [`FIRMWARE_STALLED_EXIT`] when the device thread runs this long
    /// without progress (an SSDlet that never yields: nothing else can take the core back);
    /// `None`: never. `ndp serve`'s firmware child sets it, so its supervisor restarts it.
    pub stall_limit: Option<Duration>,
}

/// The exit status of a daemon that stopped itself because its device thread stalled
/// ([`ServeConfig::stall_limit`]).
pub const FIRMWARE_STALLED_EXIT: i32 = 86;

/// Watches the device thread's heartbeat; exits the process if it is busy without progress for
/// `limit` (ServeConfig::stall_limit).
fn stall_watchdog(
    hb: device_runtime::device::Heartbeat,
    limit: Duration,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    let tick = Duration::from_millis(100);
    let (mut last, mut stalled) = (hb.beats(), Duration::ZERO);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(tick);
        let now = hb.beats();
        if hb.is_idle() || now != last {
            stalled = Duration::ZERO;
        } else {
            stalled += tick;
        }
        last = now;
        if stalled >= limit {
            tracing::error!(
                "the device thread made no progress for {limit:?} (an SSDlet that never yields); stopping"
            );
            std::process::exit(FIRMWARE_STALLED_EXIT);
        }
    }
}

/// Why the daemon could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Another daemon answers on the socket path.
    #[error("a daemon is already serving at `{0}`; expected a free socket path")]
    InUse(PathBuf),
    /// The socket path is taken by something that is not a socket.
    #[error("`{0}` exists and is not a socket; expected a free path (or a stale socket to replace)")]
    NotASocket(PathBuf),
    /// The socket could not be created.
    #[error("cannot listen on `{path}`: {source}")]
    Bind {
        /// The socket path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The device could not be opened.
    #[error("cannot open device image `{image}`: {source}")]
    Device {
        /// The image path.
        image: PathBuf,
        /// Why.
        source: host_sdk::Error,
    },
    /// The async runtime or a signal handler could not be set up.
    #[error("cannot start the daemon's async runtime: {0}")]
    Runtime(std::io::Error),
}

/// A bound daemon: the device is open and the socket listens.
pub struct Daemon {
    socket: PathBuf,
    limits: Limits,
    stall_limit: Option<Duration>,
    listener: std::os::unix::net::UnixListener,
    device: DeviceThread,
    profile: String,
    /// The image's lock, released after the device thread has stopped.
    _lock: Option<ImageLock>,
}

impl Daemon {
    /// Checks the socket path, opens the device, then creates the socket (owner-only). A
    /// stale socket (nobody answers on it) is replaced; a live one or a non-socket file is an
    /// error (and the image is not opened).
    pub fn bind(config: ServeConfig) -> Result<Daemon, DaemonError> {
        let socket = config.socket;
        // The socket first: a daemon already serving there keeps its image to itself.
        clear_stale(&socket)?;
        let profile = config.profile.name.clone();
        let image = ImageSpec::File(config.image.clone());
        let (device, lock) =
            start_device(config.profile, image, config.runtime).map_err(|source| DaemonError::Device {
                image: config.image.clone(),
                source,
            })?;
        let listener = bind_owner_only(&socket)?;
        Ok(Daemon {
            socket,
            limits: config.limits,
            stall_limit: config.stall_limit,
            listener,
            device,
            profile,
            _lock: lock,
        })
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Serves until SIGINT or SIGTERM, then removes the socket.
    pub fn run(self) -> Result<(), DaemonError> {
        self.run_until(terminated())
    }

    /// Serves until `shutdown` completes, then removes the socket.
    pub fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), DaemonError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("ndp-serve")
            .build()
            .map_err(DaemonError::Runtime)?;
        let shared = Arc::new(Shared {
            device: self.device.handle(),
            profile: self.profile.clone(),
            sessions: Mutex::new(BTreeMap::new()),
            cleanups: Mutex::new(VecDeque::new()),
            limits: self.limits.clone(),
            open: AtomicUsize::new(0),
            owner_uid: std::fs::metadata(&self.socket).ok().map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.uid()
            }),
        });
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Some(limit) = self.stall_limit {
            let (hb, stop) = (self.device.heartbeat(), Arc::clone(&stop));
            std::thread::spawn(move || stall_watchdog(hb, limit, stop));
        }
        let result = rt.block_on(accept_loop(self.listener, Arc::clone(&shared), shutdown));
        stop.store(true, Ordering::Relaxed);
        tracing::info!(socket = %self.socket.display(), "shutting down");
        let _ = std::fs::remove_file(&self.socket);
        // Stopping the device answers parked commands (Stopped), so blocking tasks end.
        drop(self.device);
        rt.shutdown_timeout(Duration::from_secs(2));
        result
    }
}

/// A listening Unix socket at `socket`, created owner-only (0600) and non-blocking.
pub(crate) fn bind_owner_only(socket: &Path) -> Result<std::os::unix::net::UnixListener, DaemonError> {
    let bind_err = |source| DaemonError::Bind {
        path: socket.to_path_buf(),
        source,
    };
    // INVARIANT(unsafe-listed-modules): single, listed libc calls (set, then restore)
    // SAFETY: umask only swaps this process's file-mode creation mask and cannot fail; the
    // socket is created 0600 (no window in which others may connect).
    let old = unsafe { libc::umask(0o177) };
    let listener = std::os::unix::net::UnixListener::bind(socket);
    // SAFETY: as above, restoring the previous mask.
    unsafe { libc::umask(old) };
    let listener = listener.map_err(bind_err)?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600)).map_err(bind_err)?;
    listener.set_nonblocking(true).map_err(bind_err)?;
    Ok(listener)
}

/// Removes a stale socket at `path`; refuses a live one or another kind of file.
pub(crate) fn clear_stale(path: &Path) -> Result<(), DaemonError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(DaemonError::Bind {
            path: path.to_path_buf(),
            source,
        }),
        Ok(m) if !m.file_type().is_socket() => Err(DaemonError::NotASocket(path.to_path_buf())),
        Ok(_) => match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => Err(DaemonError::InUse(path.to_path_buf())),
            Err(_) => {
                tracing::info!(socket = %path.display(), "replacing a stale socket");
                std::fs::remove_file(path).map_err(|source| DaemonError::Bind {
                    path: path.to_path_buf(),
                    source,
                })
            }
        },
    }
}

/// State every session shares.
struct Shared {
    device: DeviceHandle,
    profile: String,
    sessions: Mutex<BTreeMap<u64, Arc<Mutex<Owned>>>>,
    cleanups: Mutex<VecDeque<Cleanup>>,
    limits: Limits,
    /// Connections open now (from accept to close).
    open: AtomicUsize,
    /// The daemon's own user (the socket's owner): its peers are the device owner.
    owner_uid: Option<u32>,
}

/// Counts a connection as open while it lives.
struct OpenConnection(Arc<Shared>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

fn limit_error(message: String) -> WireError {
    WireError {
        kind: WireErrorKind::Limit,
        message,
    }
}

impl Shared {
    fn record(&self, cleanups: Vec<Cleanup>) {
        if cleanups.is_empty() {
            return;
        }
        let mut c = self.cleanups.lock().unwrap_or_else(PoisonError::into_inner);
        c.extend(cleanups);
        while c.len() > CLEANUPS_KEPT {
            c.pop_front();
        }
    }

    fn status(&self) -> DaemonStatus {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let sessions = sessions
            .values()
            .map(|o| {
                let o = o.lock().unwrap_or_else(PoisonError::into_inner);
                SessionInfo {
                    id: o.session,
                    tenant: o.tenant,
                    apps: o.apps.len(),
                    modules: o.modules.len(),
                }
            })
            .collect();
        let cleanups = self.cleanups.lock().unwrap_or_else(PoisonError::into_inner);
        DaemonStatus {
            profile: self.profile.clone(),
            sessions,
            cleanups: cleanups.iter().cloned().collect(),
        }
    }
}

async fn accept_loop(
    listener: std::os::unix::net::UnixListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    let listener = UnixListener::from_std(listener).map_err(DaemonError::Runtime)?;
    tracing::info!(profile = %shared.profile, "serving");
    let next = AtomicU64::new(1);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let id = next.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(serve_session(stream, id, Arc::clone(&shared)));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// A frame for the session's writer, with its share of the session's reply bytes (released
/// once written); `Last` closes the connection after it.
enum Out {
    Frame(Vec<u8>, Option<OwnedSemaphorePermit>),
    Last(Vec<u8>),
}

/// `frame` queued for the writer once the session's reply bytes allow it (module docs of
/// [`super::limits`]).
async fn queue(tx: &mpsc::UnboundedSender<Out>, bytes: &Arc<Semaphore>, frame: Vec<u8>, max: usize) {
    let n = u32::try_from(frame.len().min(max).max(1)).unwrap_or(u32::MAX);
    let permit = Arc::clone(bytes).acquire_many_owned(n).await.ok();
    let _ = tx.send(Out::Frame(frame, permit));
}

fn reply_frame(id: u64, body: ReplyBody) -> Vec<u8> {
    encode(&Reply { id, body }).unwrap_or_else(|e| {
        let body = ReplyBody::Failed(WireError {
            kind: WireErrorKind::Device,
            message: e.to_string(),
        });
        encode(&Reply { id, body }).unwrap_or_default()
    })
}

async fn write_loop(mut wr: OwnedWriteHalf, mut rx: mpsc::UnboundedReceiver<Out>, session: u64) {
    while let Some(out) = rx.recv().await {
        // The permit is released when this iteration ends, after the write.
        let (bytes, last, _permit) = match out {
            Out::Frame(b, p) => (b, false, p),
            Out::Last(b) => (b, true, None),
        };
        if let Err(e) = wr.write_all(&bytes).await {
            tracing::debug!(session, error = %e, "cannot write to the client");
            return;
        }
        if last {
            let _ = wr.shutdown().await;
            return;
        }
    }
}

/// Completes on SIGINT or SIGTERM (what [`Daemon::run`] waits for).
pub async fn terminated() {
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    match term {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "no SIGTERM handler; stop with SIGINT");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Completes once this process's parent, as it is when this is called (not when first
/// polled), has gone (the process is re-parented): a firmware child whose supervisor was killed
/// stops cleanly instead of serving a socket nobody relays to.
pub fn orphaned() -> impl Future<Output = ()> {
    let parent = std::os::unix::process::parent_id();
    async move {
        while std::os::unix::process::parent_id() == parent {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
}

/// Most bytes of a hello frame.
const MAX_HELLO: u32 = 4096;

/// One frame of at most `max` bytes (a longer one is refused before it is read).
async fn read_frame<T: DeserializeOwned>(r: &mut OwnedReadHalf, max: u32) -> Result<T, FrameError> {
    decode(&read_body(r, max).await?)
}

/// The body of one frame of at most `max` bytes.
async fn read_body(r: &mut OwnedReadHalf, max: u32) -> Result<Vec<u8>, FrameError> {
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut header[got..]).await? {
            0 if got == 0 => return Err(FrameError::Closed),
            0 => return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into()),
            n => got += n,
        }
    }
    let len = frame_len(header)?;
    if len > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes is longer than this daemon takes ({max} bytes; ndp serve --max-request-bytes)"),
        )
        .into());
    }
    let mut body = Vec::new();
    (&mut *r).take(u64::from(len)).read_to_end(&mut body).await?;
    if body.len() != len as usize {
        return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
    }
    Ok(body)
}

/// A connection's opening: a [`Relay`] frame if a relay sends one, then the [`Hello`].
async fn read_opening(r: &mut OwnedReadHalf) -> Result<(Option<Relay>, Hello), FrameError> {
    let body = read_body(r, MAX_HELLO).await?;
    if body.starts_with(&RELAY_MAGIC) {
        let relay: Relay = decode(&body)?;
        let hello = read_frame(r, MAX_HELLO).await?;
        return Ok((Some(relay), hello));
    }
    Ok((None, decode(&body)?))
}

// INVARIANT(files-belong-to-tenants): a session's tenant comes from the kernel (peer
// credentials) or from a relay running as the daemon's own user, never from a client's word
/// The tenant of a connection from a peer with uid `peer` that opened with `relay`.
pub(crate) fn tenant_of(
    peer: Option<u32>,
    owner: Option<u32>,
    relay: Option<Relay>,
) -> Result<Option<Tenant>, WireError> {
    let forbidden = |message: String| WireError {
        kind: WireErrorKind::Forbidden,
        message,
    };
    let Some(peer) = peer else {
        return Err(forbidden(
            "the daemon cannot tell who is connecting (no peer credentials on the socket); expected a Unix-socket peer".into(),
        ));
    };
    let is_owner = Some(peer) == owner;
    match relay {
        Some(r) if is_owner => Ok(r.tenant),
        Some(_) => Err(forbidden(format!(
            "uid {peer} sent a relay frame; only the daemon's own user may relay for others"
        ))),
        None if is_owner => Ok(None),
        None => Ok(Some(Tenant::Uid(peer))),
    }
}

fn check_hello(hello: Result<Hello, FrameError>) -> Result<(), WireError> {
    let hello = hello.map_err(|e| e.to_wire())?;
    if hello.magic != MAGIC {
        return Err(WireError {
            kind: WireErrorKind::Malformed,
            message: format!("the hello starts with {:?}; expected {MAGIC:?}", hello.magic),
        });
    }
    if hello.version != WIRE_VERSION {
        return Err(WireError {
            kind: WireErrorKind::Version,
            message: format!(
                "wire version {} is not supported: this daemon speaks version {WIRE_VERSION}",
                hello.version
            ),
        });
    }
    Ok(())
}

async fn serve_session(stream: UnixStream, id: u64, shared: Arc<Shared>) {
    let open = shared.open.fetch_add(1, Ordering::Relaxed) + 1;
    let _open = OpenConnection(Arc::clone(&shared));
    let limits = shared.limits.clone();
    let peer = stream.peer_cred().ok().map(|c| c.uid());
    let (mut rd, wr) = stream.into_split();
    let (tx, rx) = mpsc::unbounded_channel::<Out>();
    tokio::spawn(write_loop(wr, rx, id));

    let Ok(opening) = tokio::time::timeout(limits.hello_timeout, read_opening(&mut rd)).await else {
        tracing::info!(session = id, "no hello in {:?}; closing", limits.hello_timeout);
        let e = limit_error(format!(
            "no hello within {:?} (ndp serve --hello-timeout); expected a hello first",
            limits.hello_timeout
        ));
        let _ = tx.send(Out::Last(encode(&Welcome::Rejected(e)).unwrap_or_default()));
        return;
    };
    if matches!(opening, Err(FrameError::Closed)) {
        return;
    }
    let mut tenant = None;
    let checked = (opening.map_err(|e| e.to_wire()))
        .and_then(|(relay, hello)| {
            check_hello(Ok(hello))?;
            tenant = tenant_of(peer, shared.owner_uid, relay)?;
            Ok(())
        })
        .and_then(|()| {
        if open > limits.max_sessions {
            Err(limit_error(format!(
                "the daemon serves at most {} sessions at once (ndp serve --max-sessions); expected fewer open connections",
                limits.max_sessions
            )))
        } else {
            Ok(())
        }
    });
    if let Err(e) = checked {
        tracing::warn!(session = id, error = %e, "refused a hello");
        let _ = tx.send(Out::Last(encode(&Welcome::Rejected(e)).unwrap_or_default()));
        return;
    }
    let welcome = Welcome::Accepted {
        version: WIRE_VERSION,
        session: id,
        profile: shared.profile.clone(),
        tenant,
    };
    let _ = tx.send(Out::Frame(encode(&welcome).unwrap_or_default(), None));
    let outstanding = Arc::new(Semaphore::new(limits.max_outstanding.max(1)));
    let reply_bytes = Arc::new(Semaphore::new(limits.max_reply_bytes.max(1)));
    let owned = Arc::new(Mutex::new(Owned {
        session: id,
        tenant,
        tenant_modules: limits.tenant_modules,
        ..Owned::default()
    }));
    shared
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(id, Arc::clone(&owned));
    tracing::info!(session = id, "session opened");

    // Idle watch: nothing outstanding and no frame for `idle_timeout` closes the session.
    let activity = Arc::new(Mutex::new(std::time::Instant::now()));
    let idle = Arc::new(tokio::sync::Notify::new());
    let watch = {
        let (outstanding, activity, idle) =
            (Arc::clone(&outstanding), Arc::clone(&activity), Arc::clone(&idle));
        let (max, limit) = (limits.max_outstanding.max(1), limits.idle_timeout);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep((limit / 4).min(Duration::from_secs(1))).await;
                // The reader holds one slot while it waits for the next frame.
                let quiet = outstanding.available_permits() + 1 >= max;
                let since = activity.lock().unwrap_or_else(PoisonError::into_inner).elapsed();
                if quiet && since >= limit {
                    idle.notify_one();
                    return;
                }
            }
        })
    };
    loop {
        // Backpressure: a request is read only with an outstanding slot free.
        let Ok(slot) = Arc::clone(&outstanding).acquire_owned().await else {
            break;
        };
        let frame = tokio::select! {
            f = read_frame::<Request>(&mut rd, limits.max_request_bytes) => f,
            () = idle.notified() => {
                let e = limit_error(format!(
                    "the session sent nothing for {:?} with nothing outstanding (ndp serve --idle-timeout)",
                    limits.idle_timeout
                ));
                tracing::info!(session = id, "idle; closing");
                let _ = tx.send(Out::Last(reply_frame(0, ReplyBody::Closing(e))));
                break;
            }
        };
        *activity.lock().unwrap_or_else(PoisonError::into_inner) = std::time::Instant::now();
        match frame {
            Ok(Request {
                id: rid,
                body: RequestBody::Submit { cmd, at },
            }) => {
                let (shared, owned, tx) = (Arc::clone(&shared), Arc::clone(&owned), tx.clone());
                let (bytes, max) = (Arc::clone(&reply_bytes), limits.max_reply_bytes);
                let activity = Arc::clone(&activity);
                if let Some(e) = session::refusal(&cmd, &owned) {
                    tracing::warn!(session = id, error = %e, "refused a command");
                    queue(&tx, &bytes, reply_frame(rid, ReplyBody::Failed(e)), max).await;
                    drop(slot);
                    continue;
                }
                // INVARIANT(parked-costs-no-thread): the device thread completes a parked
                // command through this callback; nothing waits on a thread meanwhile.
                let (done_tx, done_rx) = tokio::sync::oneshot::channel();
                let done: device_runtime::device::Done = Box::new(move |r| {
                    let _ = done_tx.send(r);
                });
                match session::submit(&shared.device, tenant, cmd, at, done) {
                    Err(e) => {
                        queue(&tx, &bytes, reply_frame(rid, session::failed(e)), max).await;
                    }
                    Ok(req) => {
                        tokio::spawn(async move {
                            // Dropped uncalled: the device stopped.
                            let r = done_rx.await.unwrap_or(Err(DeviceError::Stopped));
                            let finish = {
                                let (shared, owned) = (Arc::clone(&shared), Arc::clone(&owned));
                                move || session::complete(&shared.device, &owned, req, at, r)
                            };
                            let (body, cleanups) = if session::may_block(&owned) {
                                tokio::task::spawn_blocking(finish).await.unwrap_or_else(|e| {
                                    (session::failed(DeviceError::Submit(e.to_string())), Vec::new())
                                })
                            } else {
                                finish()
                            };
                            shared.record(cleanups);
                            queue(&tx, &bytes, reply_frame(rid, body), max).await;
                            *activity.lock().unwrap_or_else(PoisonError::into_inner) =
                                std::time::Instant::now();
                            drop(slot);
                        });
                    }
                }
            }
            Ok(Request {
                id: rid,
                body: RequestBody::Status,
            }) => {
                let frame = reply_frame(rid, ReplyBody::Status(shared.status()));
                queue(&tx, &reply_bytes, frame, limits.max_reply_bytes).await;
                drop(slot);
            }
            Err(FrameError::Closed) => {
                tracing::info!(session = id, "session closed by the client");
                break;
            }
            Err(FrameError::Io(e)) => {
                tracing::info!(session = id, error = %e, "session connection lost");
                break;
            }
            Err(e) => {
                tracing::warn!(session = id, error = %e, "protocol error; closing the session");
                let _ = tx.send(Out::Last(reply_frame(0, ReplyBody::Closing(e.to_wire()))));
                break;
            }
        }
    }
    watch.abort();
    drop(rd);
    shared
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&id);
    let sh = Arc::clone(&shared);
    let cleanups = tokio::task::spawn_blocking(move || session::close(&sh.device, &owned)).await;
    let n = cleanups.as_ref().map_or(0, Vec::len);
    shared.record(cleanups.unwrap_or_default());
    tracing::info!(session = id, applications_aborted = n, "session cleaned up");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_sockets_are_replaced_and_live_ones_or_files_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let path = dir.join("s.sock");
        assert!(clear_stale(&path).is_ok(), "a free path is fine");

        let live = std::os::unix::net::UnixListener::bind(&path).unwrap();
        assert!(matches!(clear_stale(&path), Err(DaemonError::InUse(_))));
        drop(live);
        // The file stays behind with nobody listening: stale.
        assert!(path.exists());
        clear_stale(&path).unwrap();
        assert!(!path.exists());

        let file = dir.join("plain");
        std::fs::write(&file, b"not a socket").unwrap();
        let e = clear_stale(&file).unwrap_err();
        assert!(matches!(e, DaemonError::NotASocket(_)), "{e}");
        assert!(e.to_string().contains("not a socket"), "{e}");
    }

    #[test]
    fn a_tenant_comes_from_the_peer_uid_or_from_a_relay_run_by_the_owner() {
        let relay = |tenant| {
            Some(Relay {
                magic: RELAY_MAGIC,
                tenant,
            })
        };
        let owner = Some(0);
        assert_eq!(
            tenant_of(Some(0), owner, None).unwrap(),
            None,
            "the daemon's own user"
        );
        assert_eq!(
            tenant_of(Some(1000), owner, None).unwrap(),
            Some(Tenant::Uid(1000)),
            "another local user"
        );
        assert_eq!(
            tenant_of(Some(0), owner, relay(Some(Tenant::Token))).unwrap(),
            Some(Tenant::Token),
            "the supervisor relaying a TCP client"
        );
        let e = tenant_of(Some(1000), owner, relay(None)).unwrap_err();
        assert_eq!(e.kind, WireErrorKind::Forbidden);
        assert!(
            e.message.contains("uid 1000") && e.message.contains("relay"),
            "{}",
            e.message
        );
        let e = tenant_of(None, owner, None).unwrap_err();
        assert!(e.message.contains("peer credentials"), "{}", e.message);
    }
}
