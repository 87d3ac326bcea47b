//! Resident memory per idle SSDlet: starts `N` (default 10,000) `echo` instances in a chain fed
//! by an open host sender, runs the device until every instance is blocked on its input, and
//! prints the resident set growth (from `/proc/self/statm`) divided by `N`.
//!
//! Run: `cargo run --release -p device-runtime --example idle_memory [-- N]`.

use device_runtime::loader::Loader;
use device_runtime::runtime::{AppConfig, Runtime, RuntimeConfig};
use sim_nvme::DeviceProfile;
use ssdlet_module_build::{build, Profile};

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let modules = build(Profile::Release)?;
    let loader = Loader::with_temp_staging()?;
    let module = loader.load(&modules.testkit())?;
    let echo = module.ssdlet("echo")?;
    let config = RuntimeConfig {
        stack_size: 64 * 1024,
        ..RuntimeConfig::default()
    };
    let mut rt = Runtime::in_memory(DeviceProfile::tiny(), config)?;
    let app = rt.create_app("idle", AppConfig::default());
    let before = rss_bytes();
    let first = rt.spawn(app, &echo, &[])?;
    let tx = rt.host_sender(first, "in")?;
    let mut prev = first;
    for _ in 1..n {
        let e = rt.spawn(app, &echo, &[])?;
        rt.connect(prev, "out", e, "in")?;
        prev = e;
    }
    let rx = rt.host_receiver(prev, "out")?;
    rt.start(app)?;
    rt.run()?; // every instance runs once and blocks on its input
    let after = rss_bytes();
    println!(
        "{n} idle SSDlets: resident set grew {} KiB, {:.1} KiB per SSDlet (stack {} KiB each, virtual)",
        (after - before) / 1024,
        (after - before) as f64 / n as f64 / 1024.0,
        64
    );
    rt.send(tx, &42u64)?;
    rt.close_sender(tx)?;
    let report = rt.wait(app)?;
    println!(
        "then one message through all of them: {:?} back after {:.1} us simulated",
        rt.recv::<u64>(rx)?,
        report.elapsed.as_micros_f64()
    );
    Ok(())
}
