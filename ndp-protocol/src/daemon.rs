//! The `ndp serve` wire types and their framing: one simulated device served to many host
//! processes over a socket.
//!
//! # Wire format (version [`WIRE_VERSION`])
//!
//! Every message is a **frame**: a 4-byte little-endian length `n` (at most [`MAX_FRAME`]),
//! then `n` bytes of postcard encoding one message, with nothing
//! after it.
//!
//! 1. The client sends a [`Hello`] (`magic` = `b"NDPD"`, `version`); the daemon answers
//!    [`Welcome::Accepted`] (its version, the session id, the profile name, the session's
//!    tenant: [`crate::tenant`]), or
//!    [`Welcome::Rejected`] with a [`WireError`] (kind `Version` or `Malformed`) and closes.
//! 2. The client then sends [`Request`]s, each with an id of its choosing:
//!    `Submit { cmd, at }` (an NVMe command, standard or ISC, issued at host instant `at`) or
//!    `Status`. The daemon answers each with a [`Reply`] of the same id — `Completion` (the
//!    NVMe completion), `Failed` (the command did not reach the device) or `Status` — in the
//!    order they complete, not the order they were sent: a blocking `Recv`/`Wait` does not
//!    hold up later requests of the same connection.
//! 3. A frame that is too long or does not decode gets a [`Reply`] with id 0 and
//!    [`ReplyBody::Closing`] (kind `Oversized` or `Malformed`), and the daemon closes that
//!    connection; other sessions are untouched.
//!
//! Over TCP (`ndp serve --listen`), an [`Auth`] frame with the daemon's shared token comes
//! before the hello; the rest is the same. A relay (`ndp serve`'s supervisor, to its firmware
//! child) sends a [`Relay`] frame naming the client's tenant before the client's own frames.
//!
//! ISC requests travel inside the NVMe commands exactly as on an embedded device
//! ([`crate::isc`]), so the host API behaves the same over both; the host clock
//! stays in the client.
//!

use std::io::{Read, Write};

use crate::report::RunReport;
use crate::tenant::Tenant;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sim_nvme::nvme::{Command, Completion, Payload, QueueId, Status};
use sim_nvme::SimTime;

/// The first bytes of a client's hello.
pub const MAGIC: [u8; 4] = *b"NDPD";
/// Version of this wire protocol; a client of another version is refused.
pub const WIRE_VERSION: u16 = 2;
/// Largest frame either side accepts, in bytes (256 MiB: a debug module travels in one).
pub const MAX_FRAME: u32 = 256 << 20;

/// A client's first frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`MAGIC`].
    pub magic: [u8; 4],
    /// The client's [`WIRE_VERSION`].
    pub version: u16,
}

impl Hello {
    /// This client's hello.
    pub fn current() -> Hello {
        Hello {
            magic: MAGIC,
            version: WIRE_VERSION,
        }
    }
}

/// The first bytes of a TCP client's [`Auth`].
pub const AUTH_MAGIC: [u8; 4] = *b"NDPT";

/// A TCP client's first frame, before its [`Hello`]: the shared secret the daemon was given
/// (`ndp serve --listen ADDR:PORT --token-file FILE`). A wrong or missing token gets
/// [`Welcome::Rejected`] (kind [`WireErrorKind::Unauthorized`]) and the connection closes;
/// nothing else is read from it. Unix-socket clients send none: the socket's owner-only mode
/// is their check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auth {
    /// [`AUTH_MAGIC`].
    pub magic: [u8; 4],
    /// The token.
    pub token: String,
}

impl Auth {
    /// A TCP client's authentication with `token`.
    pub fn new(token: impl Into<String>) -> Auth {
        Auth {
            magic: AUTH_MAGIC,
            token: token.into(),
        }
    }
}

/// The first bytes of a [`Relay`].
pub const RELAY_MAGIC: [u8; 4] = *b"NDPR";

/// A relay's first frame, before the relayed client's own frames: the tenant the connection
/// belongs to ([`crate::tenant`]). `ndp serve`'s supervisor sends it to its firmware child for
/// every client it relays (the peer's uid on its Unix socket, the token on TCP). A daemon
/// honors it only from a peer running as the daemon's own user (who owns every file anyway);
/// from anyone else it is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relay {
    /// [`RELAY_MAGIC`].
    pub magic: [u8; 4],
    /// The relayed client's tenant.
    pub tenant: Option<Tenant>,
}

/// The daemon's answer to a [`Hello`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Welcome {
    /// The session is open.
    Accepted {
        /// The daemon's [`WIRE_VERSION`].
        version: u16,
        /// The session's id (in the daemon's logs and status).
        session: u64,
        /// The device profile's name.
        profile: String,
        /// Whom the session's files belong to (`None`: the device owner; [`crate::tenant`]).
        tenant: Option<Tenant>,
    },
    /// The hello was refused; the daemon closes the connection.
    Rejected(WireError),
}

/// A client request; the reply carries the same `id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Chosen by the client, unique among its outstanding requests.
    pub id: u64,
    /// What to do.
    pub body: RequestBody,
}

/// What a client asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RequestBody {
    /// Submit an NVMe command (standard or ISC) issued at host instant `at`.
    Submit {
        /// The command.
        cmd: Command,
        /// The host's simulated clock when it issues it.
        at: SimTime,
    },
    /// The daemon's sessions and recent clean-ups.
    Status,
}

/// A daemon reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The request's id (0 for [`ReplyBody::Closing`]).
    pub id: u64,
    /// The answer.
    pub body: ReplyBody,
}

/// What the daemon answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ReplyBody {
    /// The command's completion.
    Completion(WireCompletion),
    /// The command did not reach the device.
    Failed(WireError),
    /// The daemon's status.
    Status(DaemonStatus),
    /// The client broke the protocol; the daemon closes the session after this frame.
    Closing(WireError),
}

/// An NVMe completion on the wire (mirrors [`Completion`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireCompletion {
    /// Submission queue id.
    pub qid: u16,
    /// Command id.
    pub cid: u16,
    /// Status.
    pub status: Status,
    /// Dword 0.
    pub result: u32,
    /// Data.
    pub payload: Payload,
    /// When the host issued it.
    pub submitted_at: SimTime,
    /// When the host sees it complete.
    pub done_at: SimTime,
}

impl From<Completion> for WireCompletion {
    fn from(c: Completion) -> Self {
        WireCompletion {
            qid: c.qid.0,
            cid: c.cid,
            status: c.status,
            result: c.result,
            payload: c.payload,
            submitted_at: c.submitted_at,
            done_at: c.done_at,
        }
    }
}

impl From<WireCompletion> for Completion {
    fn from(c: WireCompletion) -> Self {
        Completion {
            qid: QueueId(c.qid),
            cid: c.cid,
            status: c.status,
            result: c.result,
            payload: c.payload,
            submitted_at: c.submitted_at,
            done_at: c.done_at,
        }
    }
}

/// Why the daemon refused a hello, a frame or a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct WireError {
    /// The kind.
    pub kind: WireErrorKind,
    /// What happened, naming what was expected.
    pub message: String,
}

/// What kind of [`WireError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WireErrorKind {
    /// The hello has another wire version.
    Version,
    /// A frame does not decode as the expected message (or the hello lacks [`MAGIC`]).
    Malformed,
    /// A frame is longer than [`MAX_FRAME`].
    Oversized,
    /// The device did not take the command.
    Device,
    /// The device has stopped.
    Stopped,
    /// A limit of the daemon (sessions, idle time, ...); the message names it.
    Limit,
    /// A command the session may not send: queue management, a write to the device's
    /// metadata region, another session's Application or module; the message says which.
    Forbidden,
    /// A TCP client without the daemon's token (or with a wrong one).
    Unauthorized,
}

/// The daemon's sessions and what it cleaned up after closed ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DaemonStatus {
    /// The device profile's name.
    pub profile: String,
    /// Open sessions.
    pub sessions: Vec<SessionInfo>,
    /// The latest clean-ups (at most [`CLEANUPS_KEPT`]), oldest first.
    pub cleanups: Vec<Cleanup>,
}

/// Clean-up records the daemon keeps.
pub const CLEANUPS_KEPT: usize = 256;

/// An open session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Its id.
    pub id: u64,
    /// Whose it is (`None`: the device owner; [`crate::tenant`]).
    pub tenant: Option<Tenant>,
    /// Applications it created and has not been cleaned up.
    pub apps: usize,
    /// Modules it loaded and has not unloaded.
    pub modules: usize,
}

/// An Application of a closed session, aborted and reported by the daemon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cleanup {
    /// The session that created it.
    pub session: u64,
    /// Its report after the abort, or why there is none.
    pub report: Result<RunReport, String>,
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection between frames.
    #[error("the connection is closed")]
    Closed,
    /// Reading or writing failed (also a connection closed inside a frame).
    #[error("socket I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// The length prefix is beyond [`MAX_FRAME`].
    #[error("a frame of {len} bytes is longer than the {MAX_FRAME}-byte limit")]
    Oversized {
        /// The announced length.
        len: u32,
    },
    /// The frame does not decode as the expected message.
    #[error("a {len}-byte frame does not decode as {expected}: {reason}")]
    Decode {
        /// Its length.
        len: usize,
        /// The message type expected.
        expected: &'static str,
        /// Why.
        reason: String,
    },
    /// A message does not encode.
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// The message type.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

impl FrameError {
    /// The [`WireError`] a peer gets for this.
    pub fn to_wire(&self) -> WireError {
        let kind = match self {
            FrameError::Oversized { .. } => WireErrorKind::Oversized,
            _ => WireErrorKind::Malformed,
        };
        WireError {
            kind,
            message: self.to_string(),
        }
    }
}

/// A frame: the length prefix, then `msg` in postcard.
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    let what = std::any::type_name::<T>();
    let mut out = vec![0u8; 4];
    let body = postcard::to_stdvec(msg).map_err(|e| FrameError::Encode {
        what,
        reason: e.to_string(),
    })?;
    let len = u32::try_from(body.len())
        .ok()
        .filter(|&l| l <= MAX_FRAME)
        .ok_or(FrameError::Encode {
            what,
            reason: format!("{} bytes exceed the {MAX_FRAME}-byte frame limit", body.len()),
        })?;
    out[..4].copy_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// The length a frame header announces, checked against [`MAX_FRAME`].
pub fn frame_len(header: [u8; 4]) -> Result<u32, FrameError> {
    let len = u32::from_le_bytes(header);
    if len > MAX_FRAME {
        return Err(FrameError::Oversized { len });
    }
    Ok(len)
}

/// Decodes a frame's body as `T` (nothing may follow the message).
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, FrameError> {
    let expected = std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("message");
    let bad = |reason: String| FrameError::Decode {
        len: body.len(),
        expected,
        reason,
    };
    let (msg, rest) = postcard::take_from_bytes::<T>(body).map_err(|e| bad(e.to_string()))?;
    if !rest.is_empty() {
        return Err(bad(format!("{} stray bytes follow the message", rest.len())));
    }
    Ok(msg)
}

/// Writes one frame (blocking).
pub fn write_frame<T: Serialize>(w: &mut impl Write, msg: &T) -> Result<(), FrameError> {
    w.write_all(&encode(msg)?)?;
    Ok(w.flush()?)
}

/// Reads one frame (blocking); [`FrameError::Closed`] if the peer closed between frames.
pub fn read_frame<T: DeserializeOwned>(r: &mut impl Read) -> Result<T, FrameError> {
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Closed),
            Ok(0) => return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = frame_len(header)?;
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body)?;
    decode(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_bad_frames_are_typed() {
        let req = Request {
            id: 7,
            body: RequestBody::Submit {
                cmd: Command::Vendor {
                    opcode: 0xC1,
                    payload: vec![1, 2, 3],
                },
                at: SimTime(42),
            },
        };
        let bytes = encode(&req).unwrap();
        assert_eq!(read_frame::<Request>(&mut &bytes[..]).unwrap(), req);
        assert!(matches!(
            read_frame::<Request>(&mut &[][..]),
            Err(FrameError::Closed)
        ));
        assert!(matches!(
            read_frame::<Request>(&mut &b"GET / HTTP/1.1\r\n"[..]),
            Err(FrameError::Oversized { .. })
        ));
        let mut junk = 3u32.to_le_bytes().to_vec();
        junk.extend_from_slice(&[0xff, 0xff, 0xff]);
        let e = read_frame::<Request>(&mut &junk[..]).unwrap_err();
        assert_eq!(e.to_wire().kind, WireErrorKind::Malformed, "{e}");
        assert!(matches!(
            read_frame::<Request>(&mut &bytes[..6]),
            Err(FrameError::Io(_))
        ));
    }
}
