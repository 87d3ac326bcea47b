//! [`Remote`]: the [`Transport`] to `ndp serve` behind [`crate::Device::connect`].
//!
//! Requests are multiplexed on one connection: a caller registers its request id, writes its
//! frame under the writer lock and waits on its own channel; a reader thread hands each
//! reply to the waiter with its id. So a blocking `Recv` or `Wait` of one thread holds no
//! other thread up. If the connection fails, every waiter gets the reason.

use std::collections::HashMap;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use sim_nvme::nvme::{Command, Completion};
use sim_nvme::SimTime;

use crate::error::{Error, Result};
use crate::transport::Transport;
use ndp_protocol::daemon::{
    read_frame, write_frame, DaemonStatus, FrameError, Hello, Reply, ReplyBody, Request, RequestBody,
    Welcome, WireError, WireErrorKind,
};

/// Waiters by request id, and why the connection ended once it has.
#[derive(Default)]
struct Pending {
    waiting: HashMap<u64, mpsc::Sender<ReplyBody>>,
    ended: Option<WireError>,
}

/// A connection to `ndp serve`.
pub(crate) struct Remote {
    socket: PathBuf,
    writer: Mutex<UnixStream>,
    next: AtomicU64,
    pending: Arc<Mutex<Pending>>,
    reader: Option<JoinHandle<()>>,
}

impl Remote {
    /// Connects and says hello.
    pub(crate) fn connect(socket: &Path) -> Result<Remote> {
        let conn = |source| Error::Connect {
            socket: socket.to_path_buf(),
            source,
        };
        let mut stream = UnixStream::connect(socket).map_err(conn)?;
        let wire = |e: FrameError| daemon_error(socket, e.to_wire());
        write_frame(&mut stream, &Hello::current()).map_err(wire)?;
        let session = match read_frame::<Welcome>(&mut stream).map_err(wire)? {
            Welcome::Accepted { session, .. } => session,
            Welcome::Rejected(e) => return Err(daemon_error(socket, e)),
        };
        let mut rd = stream.try_clone().map_err(conn)?;
        let pending = Arc::new(Mutex::new(Pending::default()));
        let p = Arc::clone(&pending);
        let reader = std::thread::Builder::new()
            .name("ndp-client-reader".into())
            .spawn(move || read_loop(&mut rd, &p))
            .map_err(conn)?;
        tracing::debug!(socket = %socket.display(), session, "connected to the daemon");
        Ok(Remote {
            socket: socket.to_path_buf(),
            writer: Mutex::new(stream),
            next: AtomicU64::new(1),
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
                return Err(daemon_error(&self.socket, e.clone()));
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
            return Err(daemon_error(&self.socket, e));
        }
        rx.recv().map_err(|_| {
            let p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            let e = p.ended.clone().unwrap_or_else(|| WireError {
                kind: WireErrorKind::Malformed,
                message: "the connection ended without a reply".into(),
            });
            daemon_error(&self.socket, e)
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
            ReplyBody::Failed(e) | ReplyBody::Closing(e) => Err(daemon_error(&self.socket, e)),
            other => Err(Error::Unexpected {
                request: "Submit",
                response: format!("{other:?}"),
            }),
        }
    }

    fn daemon_status(&self) -> Result<DaemonStatus> {
        self.status()
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        let w = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = w.shutdown(std::net::Shutdown::Both);
        drop(w);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

fn read_loop(rd: &mut UnixStream, pending: &Mutex<Pending>) {
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

fn daemon_error(socket: &Path, e: WireError) -> Error {
    Error::Daemon {
        socket: socket.to_path_buf(),
        kind: e.kind,
        message: e.message,
    }
}
