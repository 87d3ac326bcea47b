//! `ndp bench latency|bandwidth`: simulated device figures, as a table or JSON.

use anyhow::Context;
use clap::{Args, ValueEnum};
use sim_nvme::bench;
use sim_nvme::DeviceProfile;

/// Arguments of `ndp bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// What to measure.
    what: What,
    /// Device profile: a built-in name (pm1725, tiny) or a TOML file.
    #[arg(long, default_value = "pm1725")]
    profile: String,
    /// Sets one device profile field, e.g. `--set arm.arm_slowdown=5` (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    set: Vec<String>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Bandwidth only: bytes written and then read (default 1 GiB).
    #[arg(long, default_value_t = 1 << 30)]
    working_set: u64,
    /// Bandwidth only: outstanding requests, 1 to the profile's `controller.max_queue_depth`
    /// (default 128, or that maximum if it is lower).
    #[arg(long)]
    queue_depth: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
enum What {
    /// 4 KiB read latency at queue depth 1, host and internal paths.
    Latency,
    /// Sequential GB/s and random KIOPS at a deep queue, host and internal paths.
    Bandwidth,
}

/// Runs the benchmark and prints its figures.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let profile = DeviceProfile::load_with(&args.profile, &args.set).context("loading the device profile")?;
    match args.what {
        What::Latency => {
            let r = bench::latency(profile)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "profile {}: 4 KiB read latency, queue depth 1 (median of {} reads)",
                    r.profile, r.samples
                );
                println!("  host (pread path)  {:>8.2} us", r.host_read_4k_us);
                println!("  internal           {:>8.2} us", r.internal_read_4k_us);
            }
        }
        What::Bandwidth => {
            let depth = args
                .queue_depth
                .unwrap_or_else(|| usize::from(profile.controller.max_queue_depth.min(128)));
            let r = bench::bandwidth(profile, args.working_set, depth)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "profile {}: {} MiB working set, queue depth {}",
                    r.profile,
                    r.working_set_bytes >> 20,
                    r.queue_depth
                );
                println!("                     host        internal");
                println!(
                    "  seq read 128 KiB   {:>6.2} GB/s  {:>6.2} GB/s",
                    r.host_seq_read_gbps, r.internal_seq_read_gbps
                );
                println!(
                    "  rand read 4 KiB    {:>6.0} KIOPS {:>6.0} KIOPS",
                    r.host_rand_read_kiops, r.internal_rand_read_kiops
                );
            }
        }
    }
    Ok(())
}
