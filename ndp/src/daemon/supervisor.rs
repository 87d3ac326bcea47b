//! [`supervise`]: `ndp serve` with the device firmware (and every module it loads) in a child
//! process, so a module can crash or hang only the device, never the daemon.
//!
//! The supervisor listens on the public socket; the child is the plain daemon ([`super::Daemon`])
//! on a private socket in a fresh owner-only directory. Each client connection is relayed to
//! its own connection to the child, frame by frame (the length prefix of
//! [`ndp_protocol::daemon`] frames), so the supervisor always knows where a frame ends.
//!
//! **When the child dies** (a module crashed it with a signal; or its device thread was busy
//! without progress for `--firmware-timeout`, an SSDlet that never yields, and its own watchdog
//! stopped it, `ServeConfig::stall_limit`; or its daemon stopped answering a `Status` every
//! second, and it was killed), every session open on it gets a
//! `Closing` frame (`WireErrorKind::Device`) naming what happened, e.g. "the device firmware was
//! killed by signal 11 (SIGSEGV)": its Applications and modules are gone, as after a power loss.
//! The supervisor then starts a new child on the same image, which comes back from its last
//! flush like a real SSD after a power loss, and serves new connections with it.
//!
//! The supervisor itself runs no module code and loads nothing: only the relay and the watch.
//!
//! **Over TCP** (`--listen ADDR:PORT --token-file FILE`, [`TcpServe`]): a connection must first
//! send an [`Auth`] frame with the shared token, within the hello timeout; the supervisor checks
//! it (in constant time) before a single byte reaches the firmware, and refuses anything else
//! with [`Welcome::Rejected`] (kind `Unauthorized`, or `Limit` when too many connections are
//! still authenticating) and closes. An authenticated connection is relayed like a Unix one.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ndp_protocol::daemon::{
    decode, encode, frame_len, Auth, Hello, Relay, Reply, ReplyBody, Request, RequestBody, Welcome,
    WireError, WireErrorKind, RELAY_MAGIC,
};
use ndp_protocol::Tenant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::watch;

use super::server::{bind_owner_only, clear_stale, tenant_of};
use super::DaemonError;

/// How to run the firmware child.
#[derive(Clone, Debug)]
pub struct SuperviseConfig {
    /// The public socket (created owner-only, mode 0600).
    pub socket: PathBuf,
    /// The child's program and its arguments, without the socket: `--socket PATH` is appended.
    pub child: Vec<String>,
    /// Time the firmware has to answer an `Identify` before it is killed and restarted.
    pub liveness: Duration,
    /// A TCP listener beside the socket, if any.
    pub tcp: Option<TcpServe>,
}

/// `ndp serve --listen ADDR:PORT --token-file FILE`: where to listen and the shared secret
/// (module docs).
#[derive(Clone)]
pub struct TcpServe {
    /// Address and port (port 0: any free one; the line printed at start names it).
    pub listen: std::net::SocketAddr,
    /// The token every connection must send first (never empty).
    pub token: String,
    /// Time a connection has to send its token (the hello timeout).
    pub auth_timeout: Duration,
    /// Connections still authenticating at once; the next is refused (`Limit`).
    pub max_authenticating: usize,
}

impl std::fmt::Debug for TcpServe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("TcpServe")
            .field("listen", &self.listen)
            .field("auth_timeout", &self.auth_timeout)
            .field("max_authenticating", &self.max_authenticating)
            .finish_non_exhaustive()
    }
}

/// A fresh owner-only (0700) directory under `$TMPDIR` for the child's socket, never an
/// existing one; removed on drop.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new() -> std::io::Result<PrivateDir> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("ndp-firmware-{}-{nanos}", std::process::id()));
        // `create`, not `create_all`: an existing path (planted or stale) is an error.
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(PrivateDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One generation of the firmware child: its private socket, and how it ended (`None` while it
/// runs).
#[derive(Clone, Debug)]
struct Generation {
    number: u64,
    socket: PathBuf,
    ended: Option<String>,
}

/// What killed or ended a child, in words.
fn describe(status: ExitStatus) -> String {
    match (status.signal(), status.code()) {
        (Some(sig), _) => {
            let name = match sig {
                4 => "SIGILL",
                6 => "SIGABRT",
                7 => "SIGBUS",
                8 => "SIGFPE",
                9 => "SIGKILL",
                11 => "SIGSEGV",
                15 => "SIGTERM",
                _ => "a signal",
            };
            format!("was killed by signal {sig} ({name})")
        }
        (None, Some(super::FIRMWARE_STALLED_EXIT)) => {
            "stopped itself: an SSDlet ran past --firmware-timeout without yielding".to_string()
        }
        (None, Some(code)) => format!("exited with status {code}"),
        (None, None) => "ended".to_string(),
    }
}

/// Starts a child on `socket` and waits until it listens.
fn start_child(config: &SuperviseConfig, socket: &Path) -> Result<Child, DaemonError> {
    let (program, args) = config
        .child
        .split_first()
        .ok_or_else(|| DaemonError::Runtime(std::io::Error::other("no firmware program given")))?;
    let mut child = Command::new(program)
        .args(args)
        .arg("--socket")
        .arg(socket)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(DaemonError::Runtime)?;
    // The child prints one line once its socket listens.
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        use std::io::BufRead;
        let mut r = std::io::BufReader::new(out);
        let _ = r.read_line(&mut line);
        // Keep draining so the child never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut r, &mut std::io::sink()));
    }
    if !line.contains("listening") {
        let status = child.wait().map_err(DaemonError::Runtime)?;
        return Err(DaemonError::Runtime(std::io::Error::other(format!(
            "the device firmware {} before it listened",
            describe(status)
        ))));
    }
    Ok(child)
}

/// Serves `config.socket`, relaying to a supervised firmware child (module docs), until
/// SIGINT or SIGTERM.
pub fn supervise(config: SuperviseConfig) -> Result<(), DaemonError> {
    clear_stale(&config.socket)?;
    let private = PrivateDir::new().map_err(DaemonError::Runtime)?;
    let listener = bind_owner_only(&config.socket)?;
    // The socket's owner is this process's user: its peers are the device owner.
    let owner_uid = std::fs::metadata(&config.socket).ok().map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid()
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ndp-supervisor")
        .build()
        .map_err(DaemonError::Runtime)?;
    let first = private.path().join("fw-1.sock");
    let child = Arc::new(Mutex::new(start_child(&config, &first)?));
    let (gen_tx, gen_rx) = watch::channel(Generation {
        number: 1,
        socket: first,
        ended: None,
    });
    let tcp = match &config.tcp {
        Some(t) => {
            let l = std::net::TcpListener::bind(t.listen).map_err(|e| {
                DaemonError::Runtime(std::io::Error::new(
                    e.kind(),
                    format!("cannot listen on tcp://{}: {e}", t.listen),
                ))
            })?;
            l.set_nonblocking(true).map_err(DaemonError::Runtime)?;
            let at = l.local_addr().map_err(DaemonError::Runtime)?;
            Some((l, at, t.clone()))
        }
        None => None,
    };
    match &tcp {
        Some((_, at, _)) => println!(
            "ndp serve: listening on {} and tcp://{at}",
            config.socket.display()
        ),
        None => println!("ndp serve: listening on {}", config.socket.display()),
    }
    let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = rt.spawn(watch_child(
        config.clone(),
        private.path().to_path_buf(),
        Arc::clone(&child),
        gen_tx,
        Arc::clone(&stopping),
    ));
    let result = rt.block_on(async {
        let listener = tokio::net::UnixListener::from_std(listener).map_err(DaemonError::Runtime)?;
        let tcp = match tcp {
            Some((l, _, t)) => Some((
                tokio::net::TcpListener::from_std(l).map_err(DaemonError::Runtime)?,
                Arc::new(t),
                Arc::new(tokio::sync::Semaphore::new(0)),
            )),
            None => None,
        };
        if let Some((_, t, pending)) = &tcp {
            pending.add_permits(t.max_authenticating.max(1));
        }
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(DaemonError::Runtime)?;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return Ok(()),
                _ = term.recv() => return Ok(()),
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        tokio::spawn(relay_unix(stream, owner_uid, gen_rx.clone()));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                accepted = accept_tcp(tcp.as_ref().map(|t| &t.0)) => match accepted {
                    Ok((stream, peer)) => {
                        if let Some((_, t, pending)) = &tcp {
                            let permit = Arc::clone(pending).try_acquire_owned().ok();
                            tokio::spawn(serve_tcp(stream, peer, Arc::clone(t), permit, gen_rx.clone()));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "tcp accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
    });
    tracing::info!(socket = %config.socket.display(), "shutting down");
    let _ = std::fs::remove_file(&config.socket);
    // The watcher first (it must not start a child while the current one stops), then the child.
    stopping.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), watcher).await });
    let mut c = child.lock().unwrap_or_else(PoisonError::into_inner);
    // SIGTERM: the child stops cleanly (its own clean-up, then the image is closed).
    if let Ok(pid) = libc::pid_t::try_from(c.id()) {
        // INVARIANT(unsafe-listed-modules): kill(2) on our own child, listed here
        // SAFETY: kill(2) on our own child's pid (not yet reaped, so not reused) has no memory
        // effects.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let _ = c.wait();
    drop(c);
    rt.shutdown_timeout(Duration::from_secs(2));
    result
}

/// Watches the child: its death, or no answer to `Identify` within the liveness timeout (then
/// it is killed); each time, the sessions are told (through `gen`) and a new child starts.
async fn watch_child(
    config: SuperviseConfig,
    dir: PathBuf,
    child: Arc<Mutex<Child>>,
    gen: watch::Sender<Generation>,
    stopping: Arc<std::sync::atomic::AtomicBool>,
) {
    let stop = || stopping.load(std::sync::atomic::Ordering::Relaxed);
    loop {
        let socket = gen.borrow().socket.clone();
        let mut tick = 0u64;
        let ended = loop {
            // A death is seen within a quarter second; the daemon is asked for its status once
            // a second.
            tokio::time::sleep(Duration::from_millis(250)).await;
            if stop() {
                return;
            }
            tick += 1;
            let exited = child
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .try_wait()
                .ok()
                .flatten();
            if let Some(status) = exited {
                break format!("the device firmware {}", describe(status));
            }
            if tick % 4 == 0 && !alive(&socket, config.liveness).await {
                let mut c = child.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = c.kill();
                let status = c.wait().ok();
                break format!(
                    "the device firmware's daemon did not answer a status request within {:?} and was stopped{}",
                    config.liveness,
                    status.map_or(String::new(), |s| format!(": it {}", describe(s)))
                );
            }
        };
        tracing::error!(reason = %ended, "restarting the device firmware");
        let number = gen.borrow().number + 1;
        gen.send_modify(|g| g.ended = Some(ended.clone()));
        let next = dir.join(format!("fw-{number}.sock"));
        loop {
            let (cfg, path) = (config.clone(), next.clone());
            let started = tokio::task::spawn_blocking(move || start_child(&cfg, &path))
                .await
                .unwrap_or_else(|e| Err(DaemonError::Runtime(std::io::Error::other(e.to_string()))));
            match started {
                Ok(mut c) if stop() => {
                    let _ = c.kill();
                    let _ = c.wait();
                    return;
                }
                Ok(c) => {
                    *child.lock().unwrap_or_else(PoisonError::into_inner) = c;
                    break;
                }
                Err(_) if stop() => return,
                Err(e) => {
                    tracing::error!(error = %e, "the device firmware did not start; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        let _ = gen.send(Generation {
            number,
            socket: next,
            ended: None,
        });
    }
}

/// Whether the firmware's daemon at `socket` answers a `Status` within `limit` (its tokio side;
/// a stuck device thread is the child's own watchdog's business: `ServeConfig::stall_limit`).
async fn alive(socket: &Path, limit: Duration) -> bool {
    let probe = async {
        let mut s = UnixStream::connect(socket).await.ok()?;
        write_msg(&mut s, &Hello::current()).await.ok()?;
        let welcome = read_frame(&mut s).await.ok()?;
        match ndp_protocol::daemon::decode::<Welcome>(&welcome).ok()? {
            Welcome::Accepted { .. } => {}
            Welcome::Rejected(_) => return Some(()), // at its session limit, but answering
        }
        write_msg(
            &mut s,
            &Request {
                id: 1,
                body: RequestBody::Status,
            },
        )
        .await
        .ok()?;
        read_frame(&mut s).await.ok()?;
        Some(())
    };
    matches!(tokio::time::timeout(limit, probe).await, Ok(Some(())))
}

async fn write_msg<T: serde::Serialize>(s: &mut UnixStream, msg: &T) -> std::io::Result<()> {
    let bytes = encode(msg).map_err(|e| std::io::Error::other(e.to_string()))?;
    s.write_all(&bytes).await
}

/// One whole frame's body.
async fn read_frame<R: AsyncReadExt + Unpin>(r: &mut R) -> std::io::Result<Vec<u8>> {
    let mut header = [0u8; 4];
    r.read_exact(&mut header).await?;
    let len = frame_len(header).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body).await?;
    Ok(body)
}

/// Relays one client to the current firmware child, frame by frame; if the child ends first,
/// tells the client why.
async fn relay<S>(client: S, tenant: Option<Tenant>, mut gen: watch::Receiver<Generation>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (socket, number) = {
        let g = gen.borrow_and_update();
        (g.socket.clone(), g.number)
    };
    let mut upstream = match UnixStream::connect(&socket).await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(firmware = %socket.display(), error = %e, "cannot reach the device firmware");
            return;
        }
    };
    // INVARIANT(files-belong-to-tenants): the firmware learns the client's tenant from the
    // supervisor, before any byte of the client's
    let relay = Relay {
        magic: RELAY_MAGIC,
        tenant,
    };
    if let Err(e) = write_msg(&mut upstream, &relay).await {
        tracing::warn!(firmware = %socket.display(), error = %e, "cannot reach the device firmware");
        return;
    }
    let (mut cr, mut cw) = tokio::io::split(client);
    let (mut ur, mut uw) = upstream.into_split();
    let client_done = std::sync::atomic::AtomicBool::new(false);
    let up = async {
        // Client -> firmware: the bytes as they come (the firmware judges them, garbage too).
        // Only the client's own end (end of stream, or a failed read) makes it done: a write
        // that fails because the firmware died leaves the session to hear the watcher's why
        // (a request sent just after a crash made it close with no reason, 1 run in 10).
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    client_done.store(true, std::sync::atomic::Ordering::Relaxed);
                    break;
                }
                Ok(n) => n,
            };
            if uw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = uw.shutdown().await;
    };
    let down = async {
        // Whether the firmware's last frame ended the session on purpose (a `Closing` reply, or
        // a rejected hello): then its close is its own decision, not a death.
        let mut said_goodbye = false;
        let mut first = true;
        loop {
            tokio::select! {
                frame = read_frame(&mut ur) => match frame {
                    Ok(body) => {
                        said_goodbye = matches!(
                            ndp_protocol::daemon::decode::<Reply>(&body),
                            Ok(Reply { body: ReplyBody::Closing(_), .. })
                        ) || (first
                            && matches!(ndp_protocol::daemon::decode::<Welcome>(&body), Ok(Welcome::Rejected(_))));
                        first = false;
                        let len = (body.len() as u32).to_le_bytes();
                        if cw.write_all(&len).await.is_err() || cw.write_all(&body).await.is_err() {
                            return;
                        }
                    }
                    Err(_) => {
                        if said_goodbye || client_done.load(std::sync::atomic::Ordering::Relaxed) {
                            break;
                        }
                        // An unexpected close: if the firmware died, the watcher says so once
                        // the process has exited (a core dump can take a while).
                        let wait = async {
                            while gen.borrow().ended.is_none() && gen.borrow().number == number {
                                if gen.changed().await.is_err() {
                                    break;
                                }
                            }
                        };
                        let _ = tokio::time::timeout(Duration::from_secs(10), wait).await;
                        break;
                    }
                },
                changed = gen.changed() => {
                    let ended = gen.borrow().ended.clone();
                    if changed.is_err() || (ended.is_some() && gen.borrow().number == number) {
                        break;
                    }
                }
            }
        }
        // The firmware went away under this session: say why, then close.
        let why = gen
            .borrow()
            .ended
            .clone()
            .filter(|_| gen.borrow().number == number);
        if let Some(message) = why {
            let reply = Reply {
                id: 0,
                body: ReplyBody::Closing(WireError {
                    kind: WireErrorKind::Device,
                    message: format!(
                        "{message}; this session's Applications and modules are gone, and the device restarts from its image"
                    ),
                }),
            };
            if let Ok(bytes) = encode(&reply) {
                let _ = cw.write_all(&bytes).await;
            }
        }
        let _ = cw.shutdown().await;
    };
    tokio::pin!(up, down);
    tokio::select! {
        _ = &mut down => {}
        // The client finished sending: its replies may still come.
        _ = &mut up => down.await,
    }
}

/// The next TCP connection, or never when there is no TCP listener.
async fn accept_tcp(
    l: Option<&tokio::net::TcpListener>,
) -> std::io::Result<(TcpStream, std::net::SocketAddr)> {
    match l {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Whether `a` and `b` are equal, in time that depends on their lengths only.
fn same_token(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Most bytes of an `Auth` frame.
const MAX_AUTH: u32 = 4096;

/// Checks a TCP connection's [`Auth`] (module docs), then relays it; refuses it otherwise.
async fn serve_tcp(
    mut stream: TcpStream,
    peer: std::net::SocketAddr,
    tcp: Arc<TcpServe>,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    gen: watch::Receiver<Generation>,
) {
    let _ = stream.set_nodelay(true);
    let refusal = match &permit {
        None => Some(WireError {
            kind: WireErrorKind::Limit,
            message: format!(
                "{} connections are already authenticating; expected fewer at once",
                tcp.max_authenticating
            ),
        }),
        Some(_) => {
            let auth = tokio::time::timeout(tcp.auth_timeout, async {
                let mut header = [0u8; 4];
                stream.read_exact(&mut header).await.ok()?;
                let len = frame_len(header).ok()?;
                if len > MAX_AUTH {
                    return None;
                }
                let mut body = vec![0u8; len as usize];
                stream.read_exact(&mut body).await.ok()?;
                decode::<Auth>(&body).ok()
            })
            .await;
            match auth {
                Err(_) => Some(WireError {
                    kind: WireErrorKind::Unauthorized,
                    message: format!(
                        "no token within {:?}; expected an `Auth` frame with the daemon's token first",
                        tcp.auth_timeout
                    ),
                }),
                Ok(Some(a))
                    if a.magic == ndp_protocol::daemon::AUTH_MAGIC
                        && same_token(a.token.as_bytes(), tcp.token.as_bytes()) =>
                {
                    None
                }
                Ok(Some(_)) => Some(WireError {
                    kind: WireErrorKind::Unauthorized,
                    message: "wrong token; expected the one in this daemon's --token-file".into(),
                }),
                Ok(None) => Some(WireError {
                    kind: WireErrorKind::Unauthorized,
                    message: "the first frame is not an `Auth` with a token; expected the daemon's token first (ndp serve --token-file)".into(),
                }),
            }
        }
    };
    // The permit covers authentication only, not the session.
    drop(permit);
    if let Some(e) = refusal {
        tracing::warn!(peer = %peer, error = %e, "refused a tcp connection");
        if let Ok(bytes) = encode(&Welcome::Rejected(e)) {
            let _ = stream.write_all(&bytes).await;
        }
        let _ = stream.shutdown().await;
        return;
    }
    tracing::info!(peer = %peer, "tcp connection authenticated");
    relay(stream, Some(Tenant::Token), gen).await;
}

/// Relays a Unix-socket client as the tenant its peer credentials name (module docs).
async fn relay_unix(mut stream: UnixStream, owner_uid: Option<u32>, gen: watch::Receiver<Generation>) {
    let peer = stream.peer_cred().ok().map(|c| c.uid());
    match tenant_of(peer, owner_uid, None) {
        Ok(tenant) => relay(stream, tenant, gen).await,
        Err(e) => {
            tracing::warn!(error = %e, "refused a connection");
            if let Ok(bytes) = encode(&Welcome::Rejected(e)) {
                let _ = stream.write_all(&bytes).await;
            }
        }
    }
}
