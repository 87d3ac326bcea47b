//! Biscuit's pointer-chasing figure on `pm1725`, at a modest size, in simulated time (compute
//! modeled with the shipped calibration, host and device): pointer chasing near the data is 5-20% faster than from the host (Biscuit: 11%).
//! The seed is fixed and printed.

use app_support::gen::graph::{start_nodes, Graph, GraphSpec};
use app_support::setup::Env;
use host_sdk::{DeviceProfile, Module};
use pointer_chase::{conv, ndp};

fn pm1725() -> (Env, Module) {
    let e = app_support::testing::env(DeviceProfile::pm1725());
    let m = e.load(pointer_chase::MODULE).expect("ssdlet-pointer-chase loads");
    (e, m)
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
    let (e, m) = pm1725();
    e.device.put_bytes("graph", &bytes).unwrap();
    let c = conv::pointer_chase(&e.device, "graph", &starts, 20, e.host("pointer-chase").unwrap()).unwrap();
    let n = ndp::pointer_chase(&e.device, &m, "graph", &starts, 20).unwrap();
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
