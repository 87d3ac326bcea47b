//! `ndp serve --image FILE --socket PATH [--profile NAME|FILE] [--listen ADDR:PORT --token-file
//! FILE]`: serves one device image to many host processes over a Unix socket, and over TCP to
//! hosts that give the token ([`ndp::daemon`]), until SIGINT or SIGTERM.
//!
//! `--trace FILE.json`: the firmware child records the device's simulated timeline
//! ([`sim_nvme::trace`]: hardware, SSDlet cores, DRAM and queue counters, messages) and writes
//! it when it stops cleanly (SIGINT or SIGTERM to `ndp serve`); a child restarted after a crash
//! starts a new trace in the same file. The hosts' threads are in their own processes, so
//! there are no host-thread tracks.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use host_sdk::{DeviceProfile, RuntimeConfig};
use ndp::daemon::{Daemon, Limits, ServeConfig, SuperviseConfig, TcpServe};
use sim_nvme::trace::{self, TraceConfig, TraceError};

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
    /// Seconds the device firmware (a child process) has to answer a health check before it is
    /// killed and restarted from the image.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    firmware_timeout: f64,
    /// Serve in this process (no firmware child): a crashing module then takes the daemon down.
    /// `ndp serve` uses it for its own firmware child.
    #[arg(long, hide = true)]
    in_process: bool,
    /// With --in-process: install the firmware's system-call filter once listening
    /// (`ndp::daemon::confine`), and stop when the parent process is gone. `ndp serve` gives it
    /// to its firmware child.
    #[arg(long, hide = true, requires = "in_process")]
    confine: bool,
    /// Seconds a session with nothing outstanding may stay silent before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().idle_timeout.as_secs_f64())]
    idle_timeout: f64,
    /// Bytes of one request frame; a longer one closes the session.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_request_bytes)]
    max_request_bytes: u32,
    /// Let tenants (other local users, TCP clients) load modules. A module is native code in
    /// the firmware's process: a tenant that may load one can read every file on the device.
    #[arg(long)]
    tenant_modules: bool,
    /// Also listen on TCP at ADDR:PORT (e.g. 0.0.0.0:7420; port 0: any free port, printed at
    /// start), for hosts on other machines; needs --token-file.
    #[arg(long, value_name = "ADDR:PORT", requires = "token_file")]
    listen: Option<std::net::SocketAddr>,
    /// The shared secret TCP clients must give first: the file's text without its trailing
    /// newline; the file must not be readable by group or others (chmod 600).
    #[arg(long, value_name = "FILE", requires = "listen")]
    token_file: Option<PathBuf>,
    /// Write the device's simulated timeline here as Chrome trace-event JSON when the daemon
    /// stops (open it in https://ui.perfetto.dev or chrome://tracing).
    #[arg(long, value_name = "FILE.json")]
    trace: Option<PathBuf>,
    /// Events the trace records at most; later ones are dropped and the file says how many.
    #[arg(long, value_name = "N", default_value_t = trace::DEFAULT_MAX_EVENTS)]
    trace_max_events: u64,
}

/// The token in `path`, checked: owner-only, UTF-8, not empty.
fn read_token(path: &std::path::Path) -> anyhow::Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta =
        std::fs::metadata(path).with_context(|| format!("reading the token file {}", path.display()))?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "the token file {} is readable by group or others (mode {:o}); expected mode 600 (chmod 600 {})",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading the token file {}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!(
            "the token file {} is not UTF-8 text; expected a text token",
            path.display()
        )
    })?;
    let token = text.trim_end_matches(['\n', '\r']).to_owned();
    if token.trim().is_empty() {
        anyhow::bail!(
            "the token file {} is empty; expected a secret token",
            path.display()
        );
    }
    Ok(token)
}

/// Creates the trace file (so a bad path fails at once, naming it).
fn trace_file(path: &Path) -> Result<File, TraceError> {
    File::create(path).map_err(|source| TraceError::Write {
        path: path.to_owned(),
        source,
    })
}

fn seconds(flag: &str, v: f64) -> anyhow::Result<std::time::Duration> {
    if !(v.is_finite() && v > 0.0 && v <= 1e9) {
        anyhow::bail!("--{flag} {v}: expected a positive number of seconds");
    }
    Ok(std::time::Duration::from_secs_f64(v))
}

/// Runs `ndp serve`: a supervisor relaying to a firmware child that runs this same command
/// `--in-process` on a private socket ([`ndp::daemon::supervise`]).
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
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
        max_request_bytes: args.max_request_bytes.max(1),
        tenant_modules: args.tenant_modules,
    };
    if args.in_process && args.listen.is_some() {
        anyhow::bail!("--listen needs the supervised daemon; expected it without --in-process");
    }
    if args.trace_max_events == 0 {
        anyhow::bail!("--trace-max-events 0: expected at least 1 event");
    }
    if !args.in_process {
        if let Some(path) = &args.trace {
            trace_file(path)?;
        }
        let tcp = match (&args.listen, &args.token_file) {
            (Some(listen), Some(file)) => Some(TcpServe {
                listen: *listen,
                token: read_token(file)?,
                auth_timeout: limits.hello_timeout,
                max_authenticating: args.max_sessions,
            }),
            _ => None,
        };
        let liveness = seconds("firmware-timeout", args.firmware_timeout)?;
        // Fail early on a bad profile, in this process, with the usual error (limits are checked
        // above; a bad image is reported by the firmware child, on stderr, before it listens).
        DeviceProfile::load_with(&args.profile, &args.set).context("loading the device profile")?;
        let exe = std::env::current_exe().context("finding the ndp program for the firmware child")?;
        let mut child = vec![
            exe.display().to_string(),
            "serve".into(),
            "--in-process".into(),
            "--confine".into(),
        ];
        let image = args.image.display().to_string();
        child.extend([
            "--image".to_string(),
            image,
            "--profile".into(),
            args.profile.clone(),
        ]);
        for s in &args.set {
            child.extend(["--set".to_string(), s.clone()]);
        }
        for (flag, v) in [
            ("--firmware-timeout", args.firmware_timeout.to_string()),
            ("--max-sessions", args.max_sessions.to_string()),
            ("--hello-timeout", args.hello_timeout.to_string()),
            ("--max-outstanding", args.max_outstanding.to_string()),
            ("--max-reply-bytes", args.max_reply_bytes.to_string()),
            ("--idle-timeout", args.idle_timeout.to_string()),
            ("--max-request-bytes", args.max_request_bytes.to_string()),
            ("--trace-max-events", args.trace_max_events.to_string()),
        ] {
            child.extend([flag.to_string(), v]);
        }
        if let Some(path) = &args.trace {
            child.extend(["--trace".to_string(), path.display().to_string()]);
        }
        if args.tenant_modules {
            child.push("--tenant-modules".into());
        }
        tracing::info!(socket = %args.socket.display(), image = %args.image.display(), "supervising the device firmware");
        ndp::daemon::supervise(SuperviseConfig {
            socket: args.socket.clone(),
            child,
            liveness,
            tcp,
        })?;
        return Ok(());
    }
    let profile = DeviceProfile::load_with(&args.profile, &args.set).context("loading the device profile")?;
    let daemon = Daemon::bind(ServeConfig {
        image: args.image.clone(),
        socket: args.socket.clone(),
        profile,
        runtime: RuntimeConfig::default(),
        limits,
        stall_limit: Some(seconds("firmware-timeout", args.firmware_timeout)?),
    })?;
    tracing::info!(
        socket = %args.socket.display(),
        image = %args.image.display(),
        profile = %args.profile,
        "listening"
    );
    let traced = match &args.trace {
        Some(path) => {
            let file = trace_file(path)?;
            trace::start(TraceConfig {
                max_events: args.trace_max_events,
            });
            Some((path, file))
        }
        None => None,
    };
    if args.confine {
        // `ndp serve`'s firmware child: filtered (before it says it listens, so a kernel
        // without seccomp fails the start), and it stops with its supervisor (whose pid is
        // taken now, while it surely waits for the line below).
        let orphaned = ndp::daemon::orphaned();
        ndp::daemon::confine()?;
        tracing::info!("system-call filter installed");
        println!("ndp serve: listening on {}", args.socket.display());
        daemon.run_until(async {
            tokio::select! {
                _ = ndp::daemon::terminated() => {}
                _ = orphaned => tracing::warn!("the supervisor is gone; stopping"),
            }
        })?;
    } else {
        println!("ndp serve: listening on {}", args.socket.display());
        daemon.run()?;
    }
    if let Some((path, file)) = traced {
        let t = trace::finish().unwrap_or_default();
        let mut meta = serde_json::Map::new();
        meta.insert("program".into(), "ndp serve".into());
        t.write_chrome(&file, &meta).map_err(|source| TraceError::Write {
            path: path.clone(),
            source,
        })?;
        tracing::info!(trace = %path.display(), events = t.recorded, dropped = t.dropped, "trace written");
    }
    Ok(())
}
