//! `ndp bench latency|bandwidth`: simulated device figures, as a table or JSON; `ndp bench
//! crash`: the daemon killed mid-put in a loop ([`crate::crash`]).

use anyhow::Context;
use clap::{Args, ValueEnum};
use sim_nvme::bench;
use sim_nvme::DeviceProfile;

/// Arguments of `ndp bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// What to measure.
    what: What,
    /// Device profile: a built-in name (pm1725, tiny) or a TOML file (default pm1725; tiny for
    /// crash).
    #[arg(long)]
    profile: Option<String>,
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
    /// Crash only: kill cycles (at least 1).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    cycles: u32,
    /// Crash only: the seed of the kill moments.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum What {
    /// 4 KiB read latency at queue depth 1, host and internal paths.
    Latency,
    /// Sequential GB/s and random KIOPS at a deep queue, host and internal paths.
    Bandwidth,
    /// `kill -9` of `ndp serve` during puts, `--cycles` times: files lost, changed or torn.
    Crash,
}

/// Runs the benchmark and prints its figures.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    if let What::Crash = args.what {
        return crash(&args);
    }
    let name = args.profile.as_deref().unwrap_or("pm1725");
    let profile = DeviceProfile::load_with(name, &args.set).context("loading the device profile")?;
    match args.what {
        What::Crash => unreachable!("handled above"),
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

/// Runs `ndp bench crash` and prints its report; fails if anything was lost, changed or torn.
fn crash(args: &BenchArgs) -> anyhow::Result<()> {
    let profile = args.profile.as_deref().unwrap_or("tiny");
    // Checked here, so a bad profile is not a daemon that fails to start 50 times.
    DeviceProfile::load_with(profile, &args.set).context("loading the device profile")?;
    let r = crate::crash::run(profile, &args.set, args.cycles, args.seed)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "profile {profile}: {} kill -9 cycles of ndp serve during puts (seed {}), {:.1} s; one put {:.0} ms",
            r.cycles, r.seed, r.wall_s, r.one_put_ms
        );
        println!("  puts acknowledged                 {:>6}", r.puts_acknowledged);
        println!(
            "  puts done on the device, no reply {:>6}",
            r.puts_unacknowledged_whole
        );
        println!("  files checked byte for byte       {:>6}", r.files_checked);
        println!("  lost                              {:>6}", r.lost);
        println!("  changed                           {:>6}", r.changed);
        println!("  torn files visible                {:>6}", r.torn);
        println!("  staging files left                {:>6}", r.staging_left);
    }
    if r.lost + r.changed + r.torn + r.staging_left > 0 {
        anyhow::bail!("the daemon lost, changed or tore files (see above)");
    }
    Ok(())
}
