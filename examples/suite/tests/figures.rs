//! Biscuit's two headline figures on `pm1725`, at modest sizes, in simulated time (SSDlet
//! compute modeled; the conventional side's host compute is measured but tiny next to its
//! I/O here): pointer chasing near the data is 5-20% faster than from the host (Biscuit: 11%),
//! and searching for a rare pattern is at least 2x faster. Seeds are fixed and printed.

use host_sdk::{DeviceProfile, RuntimeConfig};
use ndp_examples::gen::graph::{start_nodes, Graph, GraphSpec};
use ndp_examples::gen::text::{generate_vec, plant, TextSpec};
use ndp_examples::setup::Env;
use ndp_examples::{conv, ndp};
use ssdlet_module_build::{build, Profile};

fn pm1725() -> Env {
    let modules = match build(Profile::Debug) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    Env::with_modules(DeviceProfile::pm1725(), RuntimeConfig::default(), modules).expect("device")
}

#[test]
fn pointer_chase_on_pm1725_is_5_to_20_percent_faster_near_the_data() {
    let seed = 6101;
    println!("seed {seed}");
    let g = Graph::new(GraphSpec::with_bytes(8 << 20, seed)).unwrap();
    let mut bytes = Vec::with_capacity(8 << 20);
    for node in 0..g.nodes() {
        bytes.extend_from_slice(&g.page(node));
    }
    let starts = start_nodes(g.nodes(), 100, seed);
    let e = pm1725();
    e.device.put_bytes("graph", &bytes).unwrap();
    let c = conv::pointer_chase(&e.device, "graph", &starts, 20).unwrap();
    let n = ndp::pointer_chase(&e.device, &e.chase, "graph", &starts, 20).unwrap();
    assert_eq!(c.result, n.result);
    let gain = 1.0 - n.simulated.0 as f64 / c.simulated.0 as f64;
    println!(
        "conv {:?}, NDP {:?}, gain {:.1}%",
        c.simulated,
        n.simulated,
        100.0 * gain
    );
    assert!(
        (0.05..=0.20).contains(&gain),
        "NDP gain {gain:.3}, expected 0.05..=0.20"
    );
}

#[test]
fn rare_pattern_search_on_pm1725_is_at_least_2x_faster_near_the_data() {
    let seed = 6102;
    println!("seed {seed}");
    let mut text = generate_vec(&TextSpec::new(32 << 20, seed));
    let pat = "XYZZY-4242";
    assert_eq!(plant(&mut text, pat.as_bytes(), 10).len(), 10);
    let e = pm1725();
    e.device.put_bytes("text", &text).unwrap();
    let c = conv::grep(&e.device, "text", pat.as_bytes(), e.page_bytes()).unwrap();
    let n = ndp::grep(&e.device, &e.grep, "text", pat).unwrap();
    assert_eq!(c.result, n.result);
    assert_eq!(n.result.len(), 10);
    let x = c.simulated.0 as f64 / n.simulated.0 as f64;
    println!("conv {:?}, NDP {:?}, speed-up {x:.2}x", c.simulated, n.simulated);
    assert!(x >= 2.0, "speed-up {x:.2}, expected at least 2");
    assert!(n.pcie_bytes < c.pcie_bytes / 100);
}
