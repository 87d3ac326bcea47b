//! What SSDlets log (`ctx.error/warn/info/debug`), read on the host: [`LogLine`]s of one
//! Application through [`crate::Application::logs`] (all lines kept) or
//! [`crate::Application::logs_from`] (in turns, for a host that follows a running
//! Application), filtered by a [`LogLevel`] given like `RUST_LOG` (`error`, `warn`, `info`,
//! `debug`). The device keeps the most recent 10,000 lines of each Application, each cut at
//! 4 KiB, and counts what it dropped.

use std::fmt;
use std::str::FromStr;

use ndp_protocol::LogEntry;
use sim_nvme::SimTime;

/// A log line's severity; a filter keeps lines at or above its level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Something failed.
    Error = 1,
    /// Something looks wrong.
    Warn = 2,
    /// Progress worth telling the user.
    Info = 3,
    /// Detail for developers.
    Debug = 4,
}

impl LogLevel {
    /// The level of a wire number (unknown numbers: `Debug`).
    pub fn from_wire(n: u32) -> LogLevel {
        match n {
            1 => LogLevel::Error,
            2 => LogLevel::Warn,
            3 => LogLevel::Info,
            _ => LogLevel::Debug,
        }
    }

    /// Whether a line at `level` passes a filter at `self` (`Info` keeps error, warn, info).
    pub fn admits(self, level: LogLevel) -> bool {
        level <= self
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        })
    }
}

/// A level name that is not one of `error`, `warn`, `info`, `debug`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("log level `{0}` is not known; expected one of error, warn, info, debug")]
pub struct UnknownLogLevel(pub String);

impl FromStr for LogLevel {
    type Err = UnknownLogLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "error" => Ok(LogLevel::Error),
            "warn" | "warning" => Ok(LogLevel::Warn),
            "info" => Ok(LogLevel::Info),
            "debug" | "trace" => Ok(LogLevel::Debug),
            _ => Err(UnknownLogLevel(s.to_owned())),
        }
    }
}

/// One line an SSDlet logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// The SSDlet's id.
    pub ssdlet: String,
    /// Its severity.
    pub level: LogLevel,
    /// The text.
    pub text: String,
    /// The SSDlet's simulated clock when it logged.
    pub at: SimTime,
}

impl From<LogEntry> for LogLine {
    fn from(e: LogEntry) -> LogLine {
        LogLine {
            ssdlet: e.ssdlet,
            level: LogLevel::from_wire(e.level),
            text: e.text,
            at: e.at,
        }
    }
}

impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:>12.6} ms] {:<5} {}: {}",
            self.at.0 as f64 / 1e6,
            self.level.to_string().to_uppercase(),
            self.ssdlet,
            self.text
        )
    }
}

/// One read of an Application's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogBatch {
    /// The lines that passed the filter, oldest first.
    pub lines: Vec<LogLine>,
    /// The number to read from next.
    pub next: u64,
    /// Lines the device dropped so far (it keeps the most recent 10,000).
    pub dropped: u64,
}
