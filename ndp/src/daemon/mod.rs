//! `ndp serve`: one simulated device served to many host processes over a Unix socket. The
//! wire format is [`ndp_protocol::daemon`]'s; clients are [`host_sdk::Device::connect`].
//!
//! When a connection closes (the host process exited or died), the daemon aborts the
//! Applications the session created and unloads its modules (`session.rs`); `Status`
//! ([`host_sdk::Device::daemon_status`]) lists open sessions and recent clean-ups with the aborted
//! Applications' reports.
//!
//! The socket is created with mode 0600 (only its owner may connect); a stale socket file
//! (nobody answers on it) is replaced, a live one is refused. What one client may hold of the
//! daemon is bounded ([`Limits`]).
//!
//! `ndp serve --listen ADDR:PORT --token-file FILE` also listens on TCP, for hosts on other
//! machines ([`host_sdk::Device::connect_tcp`]); a connection must give the shared token before
//! anything else ([`TcpServe`]).
//!
//! `ndp serve` runs the device firmware, and every module it loads, in a child process that
//! it supervises ([`supervise`]): a module that crashes or hangs takes down only that child,
//! whose sessions are told why, and a new child serves the image again. The child runs under a
//! system-call filter ([`confine`]): no programs, processes, network or other processes.
//!
//! # In process
//!
//! `ndp serve` is [`Daemon::bind`] then [`Daemon::run`]; a program (or test) can serve a
//! device from a thread of its own and stop it with [`Daemon::run_until`]:
//!
//! ```
//! use ndp::daemon::{Daemon, Limits, ServeConfig};
//! use host_sdk::{Device, DeviceProfile, RuntimeConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tmp = tempfile::tempdir()?;
//! let dir = tmp.path();
//! let daemon = Daemon::bind(ServeConfig {
//!     image: dir.join("dev.img"),
//!     socket: dir.join("ndp.sock"),
//!     profile: DeviceProfile::tiny(),
//!     runtime: RuntimeConfig::default(),
//!     limits: Limits::default(),
//!     stall_limit: None,
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

mod limits;
mod sandbox;
mod server;
mod session;
mod supervisor;

pub use limits::Limits;
pub use sandbox::confine;
pub use server::{orphaned, terminated, Daemon, DaemonError, ServeConfig, FIRMWARE_STALLED_EXIT};
pub use supervisor::{supervise, SuperviseConfig, TcpServe};
