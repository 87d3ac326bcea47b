//! `ndp serve`: one simulated device served to many host processes over a Unix socket, and
//! the client side behind [`crate::Device::connect`].
//!
//! # Wire format (version [`WIRE_VERSION`])
//!
//! Every message is a **frame**: a 4-byte little-endian length `n` (at most [`MAX_FRAME`]),
//! then `n` bytes of [postcard](https://docs.rs/postcard) encoding one message, with nothing
//! after it.
//!
//! 1. The client sends a [`Hello`] (`magic` = `b"NDPD"`, `version`); the daemon answers
//!    [`Welcome::Accepted`] (its version, the session id, the profile name), or
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
//! ISC requests travel inside the NVMe commands exactly as on an embedded device
//! ([`device_runtime::isc`]), so the host API behaves the same over both; the host clock
//! stays in the client's [`crate::Device`].
//!
//! When a connection closes (the host process exited or died), the daemon aborts the
//! Applications the session created and unloads its modules ([`session`]); `Status`
//! ([`crate::Device::daemon_status`]) lists open sessions and recent clean-ups with the aborted
//! Applications' reports.
//!
//! The socket is created with mode 0600 (only its owner may connect); a stale socket file
//! (nobody answers on it) is replaced, a live one is refused.
//!
//! # In process
//!
//! `ndp serve` is [`Daemon::bind`] then [`Daemon::run`]; a program (or test) can serve a
//! device from a thread of its own and stop it with [`Daemon::run_until`]:
//!
//! ```
//! use host_sdk::daemon::{Daemon, ServeConfig};
//! use host_sdk::{Device, DeviceProfile, RuntimeConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tmp = tempfile::tempdir()?;
//! let dir = tmp.path();
//! let daemon = Daemon::bind(ServeConfig {
//!     image: dir.join("dev.img"),
//!     socket: dir.join("ndp.sock"),
//!     profile: DeviceProfile::tiny(),
//!     runtime: RuntimeConfig::default(),
//! })?;
//! let socket = daemon.socket().to_path_buf();
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = std::thread::spawn(move || daemon.run_until(async { let _ = stopped.await; }));
//!
//! let ssd = Device::connect(&socket)?;
//! ssd.put_bytes("hello.txt", b"near data\n")?;
//! assert_eq!(ssd.get_bytes("hello.txt")?, b"near data\n");
//! assert_eq!(ssd.daemon_status()?.sessions.len(), 1);
//! drop(ssd);
//!
//! let _ = stop.send(());
//! server.join().expect("the daemon thread")?;
//! assert!(!socket.exists());
//! # Ok(()) }
//! ```

mod client;
mod server;
mod session;
pub mod wire;

pub(crate) use client::Remote;
pub use server::{Daemon, DaemonError, ServeConfig};
pub use wire::{
    Cleanup, DaemonStatus, Hello, Reply, ReplyBody, Request, RequestBody, SessionInfo, Welcome, WireError,
    WireErrorKind, MAX_FRAME, WIRE_VERSION,
};
