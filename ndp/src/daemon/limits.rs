//! [`Limits`]: what one client may hold of the daemon, so that no client, careless or hostile,
//! can exhaust it for the others.
//!
//! - **Sessions**: at most [`Limits::max_sessions`] connections at once (a connection counts
//!   from its accept); the next one gets its hello answered with a `Limit` rejection.
//! - **Hello**: a connection must send its hello within [`Limits::hello_timeout`], else it is
//!   closed (an idle connection holds a file descriptor and nothing else).
//! - **Outstanding requests**: a session has at most [`Limits::max_outstanding`] commands
//!   submitted and not yet answered (parked `Recv`s and `Wait`s count); at the limit the daemon
//!   stops reading its requests until one is answered (backpressure, no error).
//! - **Queued replies**: at most [`Limits::max_reply_bytes`] of replies wait for a session's
//!   writer; a client that does not read its replies stops being read itself (its commands
//!   then stay outstanding). A session's memory in the daemon is then at most
//!   `max_reply_bytes` queued plus `max_outstanding` completed replies waiting to be queued
//!   (one each: a host `FileRead` returns at most 4 MiB, a `Recv` batch, a status), plus one
//!   request frame of at most [`Limits::max_request_bytes`] being read, plus the socket's
//!   buffers.
//! - **Idle sessions**: a session with no outstanding command that sends nothing for
//!   [`Limits::idle_timeout`] is closed with a `Limit` error (its Applications are cleaned up).
//! - **Modules from tenants**: a module is native code in the firmware's process, which holds
//!   every file, so a tenant ([`ndp_protocol::tenant`]) may load one only if
//!   [`Limits::tenant_modules`] says so; the device owner always may.

use std::time::Duration;

/// The daemon's per-client bounds (module docs). Defaults are assumed, sized for a shared
/// development machine: generous for real clients, small enough that the worst client's share
/// is a few MiB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once. Unit: connections. Default 256 (assumed).
    pub max_sessions: usize,
    /// Time a new connection has to send its hello. Default 10 s (assumed).
    pub hello_timeout: Duration,
    /// Commands a session may have outstanding. Unit: commands. Default 1024 (assumed; a
    /// host program keeps a few per thread, a prefetcher 64).
    pub max_outstanding: usize,
    /// Reply bytes queued for one session's writer. Unit: bytes. Default 8 MiB (assumed; a
    /// reply carries at most one 128 KiB read or one `Recv` batch).
    pub max_reply_bytes: usize,
    /// Time a session with nothing outstanding may stay silent. Default 15 min (assumed).
    pub idle_timeout: Duration,
    /// Bytes of one request frame (a hello: at most 4 KiB). Unit: bytes. Default 16 MiB
    /// (assumed; a put sends 1 MiB per command, a `Send` a batch of messages).
    pub max_request_bytes: u32,
    /// Whether tenants (other local users, TCP token holders) may load modules. A module runs
    /// native code in the firmware's process, so a tenant that may load one can read every
    /// file on the device: file ownership then guards against mistakes, not against that
    /// tenant. Default off.
    pub tenant_modules: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 256,
            hello_timeout: Duration::from_secs(10),
            max_outstanding: 1024,
            max_reply_bytes: 8 << 20,
            idle_timeout: Duration::from_secs(15 * 60),
            max_request_bytes: 16 << 20,
            tenant_modules: false,
        }
    }
}
