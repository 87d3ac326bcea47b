//! The cluster's simulated figures, pinned in `tests/figures.txt`, and what they must show.
//!
//! `yoursql-cluster tpch` runs Q1, Q6 and Q3 at SF 0.01 in conv and offload on 1, 2 and 4
//! nodes of one device, checking every answer against one process
//! (the command fails otherwise). Debug module, modeled compute: the same bytes on any
//! machine and under any load. A change that moves a figure fails here; a model change
//! re-blesses with `NDP_FIGURES_BLESS=1 cargo test -p yoursql-cluster --test figures`.
//!
//! Then, from the same figures:
//! - the scan-bound Q1 and Q6 take at least 2.5x less simulated time on 4 nodes than on 1 (at
//!   SF 0.01 fixed costs weigh more than at SF 1, where the README's table shows the 3x);
//! - on one node no shuffle crosses the network: only the result reaches the client;
//! - Q3 (joins) shuffles over the network on two or more nodes;
//! - on one node of one device, Q1's and Q6's engine time is one process's (pinned in
//!   `yoursql-filter`'s `tests/figures.txt`) within 0.1 % and 1 us: the cluster charges the
//!   same operators, plus the shuffle writers.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

#[test]
fn cluster_figures_are_pinned_and_scale_out() {
    let out = Command::new(env!("CARGO_BIN_EXE_yoursql-cluster"))
        .args(["tpch", "--debug-module", "--sf", "0.01", "--queries", "1,6,3"])
        .args([
            "--nodes",
            "1,2,4",
            "--devices-per-node",
            "1",
            "--mode",
            "both",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(root["identical"], true, "{root}");

    let mut now = String::new();
    // (layout, query, mode) -> (simulated ns, network bytes, result bytes)
    let mut fig: BTreeMap<(String, String, String), (u64, u64, u64)> = BTreeMap::new();
    for l in root["layouts"].as_array().unwrap() {
        let layout = format!("{}x{}", l["nodes"], l["devices_per_node"]);
        for q in l["queries"].as_array().unwrap() {
            let (query, mode) = (q["query"].as_str().unwrap(), q["mode"].as_str().unwrap());
            assert_eq!(q["matches_one_process"], true, "{layout} {query} {mode}");
            for field in [
                "rows",
                "simulated_ns",
                "scan_ns",
                "engine_ns",
                "network_ns",
                "network_bytes",
                "result_bytes",
                "stages",
                "tasks",
            ] {
                now.push_str(&format!("{layout} {query} {mode} {field} {}\n", q[field]));
            }
            fig.insert(
                (layout.clone(), query.to_string(), mode.to_string()),
                (
                    q["simulated_ns"].as_u64().unwrap(),
                    q["network_bytes"].as_u64().unwrap(),
                    q["result_bytes"].as_u64().unwrap(),
                ),
            );
        }
    }
    app_support::testing::check_pinned(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/figures.txt"),
        &now,
    );

    // (query, mode) -> engine ns in one process.
    let one_process: BTreeMap<(String, String), u64> = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/figures.txt"),
    )
    .unwrap()
    .lines()
    .filter_map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
        [q, mode, "engine_ns", v] => Some(((q.to_string(), mode.to_string()), v.parse().unwrap())),
        _ => None,
    })
    .collect();
    let engine_1x1 = |q: &str, mode: &str| -> u64 {
        now.lines()
            .find_map(|l| l.strip_prefix(&format!("1x1 {q} {mode} engine_ns ")))
            .unwrap()
            .parse()
            .unwrap()
    };
    for q in ["q1", "q6"] {
        for mode in ["conv", "offload"] {
            let one = one_process[&(q.to_string(), mode.to_string())];
            let cluster = engine_1x1(q, mode);
            println!("{q} {mode}: engine {cluster} ns on 1 x 1, {one} ns in one process");
            assert!(
                cluster.abs_diff(one) <= (one / 1000).max(1000),
                "{q} {mode}: engine {cluster} ns on 1 x 1, {one} ns in one process"
            );
        }
    }

    let at = |layout: &str, q: &str, mode: &str| fig[&(layout.to_string(), q.to_string(), mode.to_string())];
    for q in ["q1", "q6"] {
        for mode in ["conv", "offload"] {
            let (one, four) = (at("1x1", q, mode).0, at("4x1", q, mode).0);
            let speedup = one as f64 / four as f64;
            println!("{q} {mode}: 1 node {one} ns, 4 nodes {four} ns: {speedup:.2}x");
            assert!(
                speedup >= 2.5,
                "{q} {mode}: {one} ns on 1 node, {four} ns on 4: {speedup:.2}x"
            );
        }
    }
    for q in ["q1", "q6", "q3"] {
        for mode in ["conv", "offload"] {
            let (_, bytes, result) = at("1x1", q, mode);
            assert_eq!(
                bytes, result,
                "{q} {mode} on one node: {bytes} B over the network, the result {result} B"
            );
            for layout in ["2x1", "4x1"] {
                let (_, bytes, result) = at(layout, q, mode);
                assert!(
                    bytes >= result,
                    "{q} {mode} on {layout}: {bytes} B over the network"
                );
                if q == "q3" {
                    assert!(
                        bytes > 100 * result,
                        "{q} {mode} on {layout}: only {bytes} B over the network (result {result} B)"
                    );
                }
            }
        }
    }
}
