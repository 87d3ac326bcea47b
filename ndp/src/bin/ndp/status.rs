//! `ndp status --socket PATH [--json]`: an `ndp serve` daemon's open sessions and the
//! Applications it aborted after their host processes went away.

use std::path::PathBuf;

use clap::Args;
use host_sdk::Device;

/// Arguments of `ndp status`.
#[derive(Args)]
pub struct StatusArgs {
    /// The socket of an `ndp serve` daemon.
    #[arg(long)]
    socket: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `ndp status`.
pub fn run(args: StatusArgs) -> anyhow::Result<()> {
    let status = Device::connect(&args.socket)?.daemon_status()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    println!("profile {}", status.profile);
    println!("{} open sessions (this one included)", status.sessions.len());
    for s in &status.sessions {
        println!(
            "  session {}: {} applications, {} modules",
            s.id, s.apps, s.modules
        );
    }
    println!(
        "{} cleaned-up applications of closed sessions",
        status.cleanups.len()
    );
    for c in &status.cleanups {
        match &c.report {
            Ok(r) => println!(
                "  session {}: `{}` done={} dram_held={} {}",
                c.session,
                r.app,
                r.done,
                r.dram_held,
                r.error.as_deref().unwrap_or("")
            ),
            Err(e) => println!("  session {}: not cleaned up: {e}", c.session),
        }
    }
    Ok(())
}
