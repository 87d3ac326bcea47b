//! The client side of `ndp serve` behind [`crate::Device::connect`]: one connection per
//! `Device` (shared by its clones), requests tagged with ids, replies dispatched by a reader
//! thread. The frames are the protocol crate's ([`ndp_protocol::daemon`], re-exported here);
//! the server is the `ndp` crate's.

mod client;

pub(crate) use client::Remote;
pub use client::TCP_TIMEOUT;
pub use ndp_protocol::daemon::{
    Auth, Cleanup, DaemonStatus, Hello, Reply, ReplyBody, Request, RequestBody, SessionInfo, Welcome,
    WireError, WireErrorKind, MAX_FRAME, WIRE_VERSION,
};
