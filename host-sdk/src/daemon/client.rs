//! [`Remote`]: the [`Transport`] to `ndp serve` behind [`crate::Device::connect`] (its Unix
//! socket) and [`crate::Device::connect_tcp`] (its TCP listener, with the shared token first).
//!
//! Requests are multiplexed on one connection: a caller registers its request id, writes its
//! frame under the writer lock and waits on its own channel; a reader thread hands each
//! reply to the waiter with its id. So a blocking `Recv` or `Wait` of one thread holds no
//! other thread up. If the connection fails, every waiter gets the reason.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use sim_nvme::nvme::{Command, Completion};
use sim_nvme::SimTime;

use crate::error::{Error, Result};
use crate::transport::Transport;
use ndp_protocol::daemon::{
    read_frame, write_frame, Auth, DaemonStatus, FrameError, Hello, Reply, ReplyBody, Request, RequestBody,
    Welcome, WireError, WireErrorKind,
};

/// Waiters by request id, and why the connection ended once it has.
#[derive(Default)]
struct Pending {
    waiting: HashMap<u64, mpsc::Sender<ReplyBody>>,
    ended: Option<WireError>,
}

/// How long a TCP client waits to connect, and then for the daemon's welcome, before it gives
/// up with an error naming the address (a node that never answers), unless told otherwise.
pub const TCP_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection under a [`Remote`]: the daemon's Unix socket or its TCP listener.
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn try_clone(&self) -> std::io::Result<Stream> {
        Ok(match self {
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
        })
    }

    fn shutdown(&self) -> std::io::Result<()> {
        match self {
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
        }
    }

    fn set_read_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_read_timeout(t),
            Stream::Tcp(s) => s.set_read_timeout(t),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Unix(s) => s.flush(),
            Stream::Tcp(s) => s.flush(),
        }
    }
}

/// A connection to `ndp serve`.
pub(crate) struct Remote {
    /// The socket path or `tcp://ADDR`, for errors.
    endpoint: String,
    writer: Mutex<Stream>,
    next: AtomicU64,
    pending: Arc<Mutex<Pending>>,
    reader: Option<JoinHandle<()>>,
    /// The session's tenant, as the welcome said.
    tenant: Option<ndp_protocol::Tenant>,
}

impl Remote {
    /// Connects to the Unix socket `socket` and says hello.
    pub(crate) fn connect(socket: &Path) -> Result<Remote> {
        let endpoint = socket.display().to_string();
        let stream = UnixStream::connect(socket).map_err(|source| Error::Connect {
            endpoint: endpoint.clone(),
            source,
        })?;
        Remote::hello(endpoint, Stream::Unix(stream), None, TCP_TIMEOUT)
    }

    /// Connects to `ndp serve --listen` at `addr` (`HOST:PORT`), gives it `token`, and says
    /// hello; connecting and the welcome each wait at most `timeout`.
    pub(crate) fn connect_tcp(addr: &str, token: &str, timeout: Duration) -> Result<Remote> {
        let endpoint = format!("tcp://{addr}");
        let conn = |source| Error::Connect {
            endpoint: endpoint.clone(),
            source,
        };
        let mut last = None;
        let mut stream = None;
        for a in addr.to_socket_addrs().map_err(conn)? {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let stream = stream.ok_or_else(|| {
            conn(last.unwrap_or_else(|| std::io::Error::other("the address resolves to nothing")))
        })?;
        stream.set_nodelay(true).map_err(conn)?;
        Remote::hello(endpoint, Stream::Tcp(stream), Some(token), timeout)
    }

    /// Says hello on `stream` (after the token, over TCP), waits at most `timeout` for the
    /// welcome, and starts the reader thread.
    fn hello(endpoint: String, mut stream: Stream, token: Option<&str>, timeout: Duration) -> Result<Remote> {
        let conn = |source| Error::Connect {
            endpoint: endpoint.clone(),
            source,
        };
        let wire = |e: FrameError| daemon_error(&endpoint, e.to_wire());
        if let Some(t) = token {
            write_frame(&mut stream, &Auth::new(t)).map_err(wire)?;
        }
        write_frame(&mut stream, &Hello::current()).map_err(wire)?;
        stream.set_read_timeout(Some(timeout)).map_err(conn)?;
        let welcome = read_frame::<Welcome>(&mut stream).map_err(|e| match e {
            FrameError::Io(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                conn(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no welcome from the daemon within {timeout:?}"),
                ))
            }
            e => wire(e),
        })?;
        let (session, tenant) = match welcome {
            Welcome::Accepted { session, tenant, .. } => (session, tenant),
            Welcome::Rejected(e) => return Err(daemon_error(&endpoint, e)),
        };
        stream.set_read_timeout(None).map_err(conn)?;
        let mut rd = stream.try_clone().map_err(conn)?;
        let pending = Arc::new(Mutex::new(Pending::default()));
        let p = Arc::clone(&pending);
        let reader = std::thread::Builder::new()
            .name("ndp-client-reader".into())
            .spawn(move || read_loop(&mut rd, &p))
            .map_err(conn)?;
        tracing::debug!(endpoint = %endpoint, session, "connected to the daemon");
        Ok(Remote {
            endpoint,
            writer: Mutex::new(stream),
            next: AtomicU64::new(1),
            tenant,
            pending,
            reader: Some(reader),
        })
    }

    /// Sends a request and waits for its reply.
    fn request(&self, body: RequestBody) -> Result<ReplyBody> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        {
            let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(e) = &p.ended {
                return Err(daemon_error(&self.endpoint, e.clone()));
            }
            p.waiting.insert(id, tx);
        }
        let sent = {
            let mut w = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            write_frame(&mut *w, &Request { id, body })
        };
        if let Err(e) = sent {
            // The daemon may have said why it closed (a `Closing` frame the reader thread is
            // about to record): prefer its reason to the bare write error.
            for _ in 0..100 {
                if self
                    .pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .ended
                    .is_some()
                {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            p.waiting.remove(&id);
            let e = p.ended.clone().unwrap_or_else(|| e.to_wire());
            return Err(daemon_error(&self.endpoint, e));
        }
        rx.recv().map_err(|_| {
            let p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            let e = p.ended.clone().unwrap_or_else(|| WireError {
                kind: WireErrorKind::Malformed,
                message: "the connection ended without a reply".into(),
            });
            daemon_error(&self.endpoint, e)
        })
    }

    /// The daemon's status.
    pub(crate) fn status(&self) -> Result<DaemonStatus> {
        match self.request(RequestBody::Status)? {
            ReplyBody::Status(s) => Ok(s),
            other => Err(Error::Unexpected {
                request: "Status",
                response: format!("{other:?}"),
            }),
        }
    }
}

impl Transport for Remote {
    fn submit(&self, cmd: Command, at: SimTime) -> Result<Completion> {
        match self.request(RequestBody::Submit { cmd, at })? {
            ReplyBody::Completion(c) => Ok(c.into()),
            ReplyBody::Failed(e) if e.kind == WireErrorKind::Stopped => Err(Error::Stopped),
            ReplyBody::Failed(e) | ReplyBody::Closing(e) => Err(daemon_error(&self.endpoint, e)),
            other => Err(Error::Unexpected {
                request: "Submit",
                response: format!("{other:?}"),
            }),
        }
    }

    fn daemon_status(&self) -> Result<DaemonStatus> {
        self.status()
    }

    fn tenant(&self) -> Option<ndp_protocol::Tenant> {
        self.tenant
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        let w = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = w.shutdown();
        drop(w);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

fn read_loop(rd: &mut Stream, pending: &Mutex<Pending>) {
    let ended = loop {
        match read_frame::<Reply>(rd) {
            Ok(Reply {
                body: ReplyBody::Closing(e),
                ..
            }) => break e,
            Ok(Reply { id, body }) => {
                let tx = pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .waiting
                    .remove(&id);
                if let Some(tx) = tx {
                    let _ = tx.send(body);
                }
            }
            Err(FrameError::Closed) => {
                break WireError {
                    kind: WireErrorKind::Stopped,
                    message: "the daemon closed the connection".into(),
                }
            }
            Err(e) => break e.to_wire(),
        }
    };
    tracing::debug!(reason = %ended, "daemon connection ended");
    let mut p = pending.lock().unwrap_or_else(PoisonError::into_inner);
    p.ended = Some(ended);
    // Dropping the senders wakes every waiter with the reason above.
    p.waiting.clear();
}

fn daemon_error(endpoint: &str, e: WireError) -> Error {
    Error::Daemon {
        endpoint: endpoint.to_owned(),
        kind: e.kind,
        message: e.message,
    }
}
