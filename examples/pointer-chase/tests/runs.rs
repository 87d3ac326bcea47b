//! Pointer chasing end to end through the host API, on `tiny` and on `pm1725`: the NDP and
//! conventional paths are identical and equal an in-memory walk (`ndp_data::baseline`); a
//! start outside the graph is refused on both. Seeds are fixed and printed. SSDlet compute is
//! modeled (deterministic).

use app_support::baseline;
use app_support::gen::graph::{start_nodes, Graph, GraphSpec, PAGE};
use app_support::setup::Env;
use host_sdk::{DeviceProfile, Module};
use pointer_chase::{conv, ndp};

fn env(profile: DeviceProfile) -> (Env, Module) {
    let e = app_support::testing::env(profile);
    let m = e.load(pointer_chase::MODULE).expect("ssdlet-pointer-chase loads");
    (e, m)
}

fn profiles() -> [DeviceProfile; 2] {
    [DeviceProfile::tiny(), DeviceProfile::pm1725()]
}

fn graph_bytes(g: &Graph) -> Vec<u8> {
    let mut out = Vec::with_capacity(g.nodes() as usize * PAGE);
    for node in 0..g.nodes() {
        out.extend_from_slice(&g.page(node));
    }
    out
}

#[test]
fn pointer_paths_equal_an_in_memory_walk() {
    let seed = 6003;
    println!("seed {seed}");
    let g = Graph::new(GraphSpec::with_bytes(2000 * PAGE as u64, seed)).unwrap();
    let bytes = graph_bytes(&g);
    let starts = start_nodes(g.nodes(), 10, seed);
    let hops = 20;
    let want: Vec<Vec<u64>> = starts
        .iter()
        .map(|&s| baseline::walk(&g, s, hops).unwrap())
        .collect();
    for profile in profiles() {
        let (e, m) = env(profile);
        e.device.put_bytes("graph", &bytes).unwrap();
        let run = ndp::pointer_chase(&e.device, &m, "graph", &starts, hops).unwrap();
        assert_eq!(run.result, want);
        assert_eq!(run.nand_pages, 10 * 20);
        let c = conv::pointer_chase(
            &e.device,
            "graph",
            &starts,
            hops,
            e.host("pointer-chase").unwrap(),
        )
        .unwrap();
        assert_eq!(c.result, want);
        assert_eq!(c.pcie_bytes, 10 * 20 * PAGE as u64);
        assert!(run.pcie_bytes < c.pcie_bytes / 10);
    }
}

#[test]
fn pointer_chase_rejects_a_start_outside_the_graph() {
    let g = Graph::new(GraphSpec::with_bytes(16 * PAGE as u64, 1)).unwrap();
    let (e, m) = env(DeviceProfile::tiny());
    e.device.put_bytes("small", &graph_bytes(&g)).unwrap();
    let err = ndp::pointer_chase(&e.device, &m, "small", &[99], 3).unwrap_err();
    assert!(err.to_string().contains("outside the graph of 16 nodes"), "{err}");
    let err =
        conv::pointer_chase(&e.device, "small", &[99], 3, e.host("pointer-chase").unwrap()).unwrap_err();
    assert!(err.to_string().contains("small"), "{err}");
}
