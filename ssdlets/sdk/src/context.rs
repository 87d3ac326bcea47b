//! [`Context`]: what an SSDlet can ask of the runtime besides its ports and files.

use std::io;

use ssdlet_abi::{LogLevel, MatcherLimits};

use crate::rt::Rt;

/// Handed to [`crate::Ssdlet::run`]: the SSDlet's id, logging, yielding, matcher limits.
pub struct Context {
    rt: Rt,
    id: &'static str,
}

impl Context {
    pub(crate) fn new(rt: Rt, id: &'static str) -> Self {
        Context { rt, id }
    }

    /// The id this SSDlet was registered under.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// Logs `msg` at `level` through the runtime.
    pub fn log(&self, level: LogLevel, msg: &str) {
        self.rt.log(level, msg)
    }

    /// Logs at error level.
    pub fn error(&self, msg: &str) {
        self.log(LogLevel::ERROR, msg)
    }

    /// Logs at warning level.
    pub fn warn(&self, msg: &str) {
        self.log(LogLevel::WARN, msg)
    }

    /// Logs at info level.
    pub fn info(&self, msg: &str) {
        self.log(LogLevel::INFO, msg)
    }

    /// Logs at debug level.
    pub fn debug(&self, msg: &str) {
        self.log(LogLevel::DEBUG, msg)
    }

    /// Lets other SSDlets run. Long computations without port traffic should call it now and
    /// then: it is also where the runtime's watchdog can stop a runaway SSDlet.
    pub fn yield_now(&self) {
        self.rt.yield_now()
    }

    /// What the pattern matcher accepts (most keys, longest key, page size).
    pub fn matcher_limits(&self) -> io::Result<MatcherLimits> {
        self.rt
            .matcher_limits()
            .map_err(|s| io::Error::other(format!("matcher limits: {}", s.name())))
    }
}
