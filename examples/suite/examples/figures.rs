//! Prints the suite's figures on `pm1725` with generated data: pointer chasing (100 start
//! nodes), string search with a rare pattern, and wordcount (simulated NDP vs conventional
//! time, and the wall time of the NDP run against a plain single-threaded native count).
//!
//! `cargo run --release -p ndp-examples --example figures -- [--text-mib N] [--graph-mib N]
//! [--hops K] [--seed S]` (defaults: 64 MiB text, 64 MiB graph, 100 hops, seed 42).
//! SSDlet compute is measured (thread CPU time x the profile's `arm_slowdown`), host compute
//! is measured at factor 1, so figures vary a little from run to run.

use std::time::Instant;

use device_runtime::compute::ComputeModel;
use device_runtime::runtime::RuntimeConfig;
use ndp_examples::gen::graph::{start_nodes, Graph, GraphSpec, PAGE};
use ndp_examples::gen::text::{generate_vec, TextSpec};
use ndp_examples::ndp::{self, WordcountPlan};
use ndp_examples::{baseline, conv};
use sim_nvme::{DeviceProfile, SimDuration};
use ssdlet_module_build::{build, Profile};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn secs(d: SimDuration) -> f64 {
    d.as_secs_f64()
}

fn config(profile: &DeviceProfile) -> RuntimeConfig {
    RuntimeConfig {
        compute: ComputeModel::Measured {
            slowdown: profile.arm.arm_slowdown,
        },
        ..RuntimeConfig::default()
    }
}

fn row(what: &str, conv_s: f64, ndp_s: f64, conv_pcie: u64, ndp_pcie: u64) {
    println!(
        "{what:<34} {conv_s:>10.4} {ndp_s:>10.4} {:>8.2}x {:>8.1}% {:>12} {:>12}",
        conv_s / ndp_s,
        100.0 * (conv_s - ndp_s) / conv_s,
        conv_pcie,
        ndp_pcie
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text_mib = arg("--text-mib", 64);
    let graph_mib = arg("--graph-mib", 64);
    let hops = arg("--hops", 100) as u32;
    let seed = arg("--seed", 42);
    let profile = DeviceProfile::pm1725();
    eprintln!("building the SSDlet modules (release) ...");
    let modules = build(Profile::Release)?;
    let wc = ndp::load(&modules.path("ssdlet-wordcount"))?;
    let gr = ndp::load(&modules.path("ssdlet-grep"))?;
    let pc = ndp::load(&modules.path("ssdlet-pointer-chase"))?;
    println!("profile pm1725, seed {seed}; simulated seconds; PCIe bytes device-to-host");
    println!(
        "{:<34} {:>10} {:>10} {:>9} {:>9} {:>12} {:>12}",
        "workload", "conv s", "ndp s", "speed-up", "gain", "conv PCIe", "ndp PCIe"
    );

    // Pointer chasing: 100 start nodes, `hops` data-dependent 4 KiB reads each.
    eprintln!("pointer chasing: generating a {graph_mib} MiB graph ...");
    let g = Graph::new(GraphSpec::with_bytes(graph_mib << 20, seed))?;
    let mut graph = Vec::with_capacity((g.nodes() as usize) * PAGE);
    for node in 0..g.nodes() {
        graph.extend_from_slice(&g.page(node));
    }
    let starts = start_nodes(g.nodes(), 100, seed);
    let c = conv::pointer_chase(profile.clone(), &graph, &starts, hops)?;
    let n = ndp::pointer_chase(profile.clone(), config(&profile), &pc, &graph, &starts, hops)?;
    assert_eq!(c.result, n.result, "conventional and NDP paths differ");
    row(
        &format!("pointer chase 100 x {hops} hops"),
        secs(c.simulated),
        secs(n.report.elapsed),
        c.pcie_bytes_to_host,
        n.report.pcie_bytes_to_host,
    );
    drop(graph);

    // String search: a rare pattern planted in 10 lines.
    eprintln!("string search: generating {text_mib} MiB of text ...");
    let mut text = generate_vec(&TextSpec::new(text_mib << 20, seed));
    let pat = "XYZZY-4242";
    for i in 0..10u64 {
        let at = ((i * 2 + 1) * text.len() as u64 / 20) as usize;
        text[at..at + pat.len()].copy_from_slice(pat.as_bytes());
    }
    let c = conv::grep(profile.clone(), &text, pat.as_bytes())?;
    let n = ndp::grep(profile.clone(), config(&profile), &gr, &text, pat)?;
    assert_eq!(c.result, n.result, "conventional and NDP grep differ");
    row(
        &format!("grep {pat:?} in {text_mib} MiB"),
        secs(c.simulated),
        secs(n.report.elapsed),
        c.pcie_bytes_to_host,
        n.report.pcie_bytes_to_host,
    );
    println!(
        "  grep: {} lines; matcher hinted {} of {} pages; conv I/O {:.4} s, host compute {:.4} s",
        n.result.len(),
        n.report.matcher_pages_hinted,
        n.report.matcher_pages_scanned,
        secs(c.io),
        c.host_compute.as_secs_f64()
    );

    // Wordcount on unmodified generated text.
    let text = generate_vec(&TextSpec::new(text_mib << 20, seed));
    let t = Instant::now();
    let native = baseline::word_count(&text);
    let native_wall = t.elapsed();
    let c = conv::word_count(profile.clone(), &text)?;
    let plan = WordcountPlan {
        mappers: 2,
        reducers: 2,
    };
    let n = ndp::word_count(profile.clone(), config(&profile), &wc, &text, plan)?;
    assert_eq!(n.result, native, "NDP wordcount differs from the native count");
    assert_eq!(
        c.result, native,
        "conventional wordcount differs from the native count"
    );
    row(
        &format!("wordcount {text_mib} MiB (2 map, 2 red)"),
        secs(c.simulated),
        secs(n.report.elapsed),
        c.pcie_bytes_to_host,
        n.report.pcie_bytes_to_host,
    );
    println!(
        "  wordcount wall time: NDP run {:.3} s, native single-threaded {:.3} s, ratio {:.2}x ({} words, {} distinct)",
        n.wall.as_secs_f64(),
        native_wall.as_secs_f64(),
        n.wall.as_secs_f64() / native_wall.as_secs_f64(),
        native.values().sum::<u64>(),
        native.len()
    );
    println!(
        "  wordcount: conv I/O {:.4} s, host compute {:.4} s; NDP core busy {:?}",
        secs(c.io),
        c.host_compute.as_secs_f64(),
        n.report.core_busy.iter().map(|d| secs(*d)).collect::<Vec<_>>()
    );
    Ok(())
}
