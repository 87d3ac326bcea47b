//! `ndp serve --image FILE --socket PATH [--profile NAME|FILE]`: serves one device image to
//! many host processes over a Unix socket ([`ndp::daemon`]) until SIGINT or SIGTERM.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use host_sdk::{DeviceProfile, RuntimeConfig};
use ndp::daemon::{Daemon, Limits, ServeConfig};

/// Arguments of `ndp serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// The device image file (created for the profile if missing).
    #[arg(long)]
    image: PathBuf,
    /// The Unix socket to listen on (created with mode 0600; a stale one is replaced).
    #[arg(long)]
    socket: PathBuf,
    /// Device profile: a built-in name (pm1725, tiny) or a TOML file; must be the image's.
    #[arg(long, default_value = "pm1725")]
    profile: String,
    /// Sets one device profile field, e.g. `--set arm.arm_slowdown=5` (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    set: Vec<String>,
    /// Connections served at once; the next is refused with a `Limit` error.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_sessions)]
    max_sessions: usize,
    /// Seconds a new connection has to send its hello before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().hello_timeout.as_secs_f64())]
    hello_timeout: f64,
    /// Commands one session may have outstanding (parked ones count); at the limit the daemon
    /// stops reading its requests until one is answered.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_outstanding)]
    max_outstanding: usize,
    /// Reply bytes queued for one session; a client that does not read its replies stops being
    /// read.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_reply_bytes)]
    max_reply_bytes: usize,
    /// Seconds a session with nothing outstanding may stay silent before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().idle_timeout.as_secs_f64())]
    idle_timeout: f64,
}

fn seconds(flag: &str, v: f64) -> anyhow::Result<std::time::Duration> {
    if !(v.is_finite() && v > 0.0 && v <= 1e9) {
        anyhow::bail!("--{flag} {v}: expected a positive number of seconds");
    }
    Ok(std::time::Duration::from_secs_f64(v))
}

/// Runs `ndp serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let profile = DeviceProfile::load_with(&args.profile, &args.set).context("loading the device profile")?;
    for (flag, n) in [
        ("max-sessions", args.max_sessions),
        ("max-outstanding", args.max_outstanding),
        ("max-reply-bytes", args.max_reply_bytes),
    ] {
        if n == 0 {
            anyhow::bail!("--{flag} 0: expected at least 1");
        }
    }
    if args.max_reply_bytes > u32::MAX as usize {
        anyhow::bail!(
            "--max-reply-bytes {}: expected at most {}",
            args.max_reply_bytes,
            u32::MAX
        );
    }
    let limits = Limits {
        max_sessions: args.max_sessions,
        hello_timeout: seconds("hello-timeout", args.hello_timeout)?,
        max_outstanding: args.max_outstanding,
        max_reply_bytes: args.max_reply_bytes,
        idle_timeout: seconds("idle-timeout", args.idle_timeout)?,
    };
    let daemon = Daemon::bind(ServeConfig {
        image: args.image.clone(),
        socket: args.socket.clone(),
        profile,
        runtime: RuntimeConfig::default(),
        limits,
    })?;
    tracing::info!(
        socket = %args.socket.display(),
        image = %args.image.display(),
        profile = %args.profile,
        "listening"
    );
    println!("ndp serve: listening on {}", args.socket.display());
    daemon.run()?;
    Ok(())
}
