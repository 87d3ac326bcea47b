//! The simulated figures of TPC-H Q1, Q6 and Q14 at SF 0.01 in every mode, pinned in
//! `tests/figures.txt`: a change to the simulator, the matchers, the runtime, the filter module
//! or the engine's charges that moves any of them fails here. Either it is a bug, or a model
//! change that says so and rewrites the file with `NDP_FIGURES_BLESS=1 cargo test -p
//! yoursql-filter --test figures` (a speed-up of the simulator must never need that).
//! Debug module, modeled compute: the same bytes on any machine.

use std::process::Command;

use serde_json::Value;

#[test]
fn tpch_queries_give_the_pinned_figures() {
    let out = Command::new(env!("CARGO_BIN_EXE_yoursql-filter"))
        .args(["tpch", "--debug-module", "--sf", "0.01", "--queries", "1,6,14"])
        .args(["--mode", "all", "--runs", "1", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut now = String::new();
    for q in root["runs_by_host_memory"][0]["queries"].as_array().unwrap() {
        for (mode, f) in q["modes"].as_object().unwrap() {
            for field in [
                "simulated_ns",
                "scan_ns",
                "engine_ns",
                "pages_read",
                "pcie_bytes",
                "offloaded_scans",
            ] {
                now.push_str(&format!(
                    "{} {mode} {field} {}\n",
                    q["query"].as_str().unwrap(),
                    f[field]
                ));
            }
        }
    }
    app_support::testing::check_pinned(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/figures.txt"),
        &now,
    );
}
