//! `ndp serve --image FILE --socket PATH [--profile NAME|FILE]`: serves one device image to
//! many host processes over a Unix socket ([`ndp::daemon`]) until SIGINT or SIGTERM.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use host_sdk::{DeviceProfile, RuntimeConfig};
use ndp::daemon::{Daemon, ServeConfig};

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
}

/// Runs `ndp serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let profile = DeviceProfile::load_with(&args.profile, &args.set).context("loading the device profile")?;
    let daemon = Daemon::bind(ServeConfig {
        image: args.image.clone(),
        socket: args.socket.clone(),
        profile,
        runtime: RuntimeConfig::default(),
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
