//! [`SsdletError`]: what an SSDlet's `run` returns when it fails.

use std::fmt;

/// The failure of an SSDlet, reported to the runtime (and the host) as its message.
///
/// Any `std::error::Error` converts into it, so `?` works on I/O errors, [`crate::Closed`]
/// and friends. It deliberately does not implement `std::error::Error` itself (that would
/// conflict with the blanket conversion, as in `anyhow`).
pub struct SsdletError {
    msg: String,
}

impl SsdletError {
    /// An error with the given message.
    pub fn msg(msg: impl fmt::Display) -> Self {
        SsdletError { msg: msg.to_string() }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.msg
    }
}

impl<E: std::error::Error> From<E> for SsdletError {
    fn from(e: E) -> Self {
        SsdletError { msg: e.to_string() }
    }
}

impl fmt::Display for SsdletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl fmt::Debug for SsdletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SsdletError({:?})", self.msg)
    }
}
