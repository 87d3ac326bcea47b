//! `yoursql-filter --runs N`: each mode runs N times; the JSON has every run's simulated time
//! with its median, min and max, and `--runs 0` is refused naming it.

use std::process::Command;

fn yf(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_yoursql-filter"))
        .args(args)
        .output()
        .expect("yoursql-filter runs")
}

#[test]
fn every_mode_runs_n_times_with_median_min_max() {
    let out = yf(&[
        "--sf",
        "0.01",
        "--query",
        "filter",
        "--mode",
        "both",
        "--runs",
        "3",
        "--debug-module",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs = v["runs"].as_array().unwrap();
    let modes: Vec<&str> = runs.iter().map(|r| r["mode"].as_str().unwrap()).collect();
    assert_eq!(modes, ["conv", "offload"]);
    for r in runs {
        let t: Vec<u64> = r["simulated_ns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(t.len(), 3, "{r}");
        assert!(t.windows(2).all(|w| w[0] <= w[1]), "{r}");
        assert_eq!(r["median_ns"].as_u64(), Some(t[1]));
        assert_eq!(
            (r["min_ns"].as_u64(), r["max_ns"].as_u64()),
            (Some(t[0]), Some(t[2]))
        );
    }
    let bad = yf(&["--sf", "0.01", "--runs", "0", "--debug-module"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--runs 0"));
}
