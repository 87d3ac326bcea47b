//! `yoursql-filter tpch`'s report at SF 0.01 over a few queries (1, 6, 14): the JSON has the
//! per-query rows, the totals are the sums of the per-query medians, the top five are the
//! largest conventional times with their average speed-ups, the comparison rows hold YourSQL's
//! published figures; runs are identical (modeled compute); a query's time is its scans plus
//! the engine; the text says what the simulated time covers; the host memory sweep moves in
//! YourSQL's direction; an image is reused; bad inputs fail naming the thing.

use std::process::{Command, Output};

use serde_json::Value;

/// `yoursql-filter tpch --debug-module ARGS`, at SF 0.01 unless `args` give `--sf`.
fn tpch(args: &[&str]) -> Output {
    let sf: &[&str] = if args.contains(&"--sf") {
        &[]
    } else {
        &["--sf", "0.01"]
    };
    Command::new(env!("CARGO_BIN_EXE_yoursql-filter"))
        .arg("tpch")
        .arg("--debug-module")
        .args(sf)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn json_report_has_per_query_rows_totals_top_five_and_the_comparison() {
    let text = ok(&tpch(&[
        "--queries",
        "14,1,6",
        "--mode",
        "all",
        "--runs",
        "2",
        "--json",
    ]));
    let root: Value = serde_json::from_str(&text).unwrap();
    let j = &root["runs_by_host_memory"][0];
    assert_eq!(j["runs"], 2);
    assert_eq!(j["compute"], "modeled");
    assert_eq!(j["host_cores"], 1);
    assert_eq!(j["modes"], serde_json::json!(["conv", "offload", "auto"]));
    assert!(j["note"].as_str().unwrap().contains("engine's operators"));
    let qs = j["queries"].as_array().unwrap();
    let names: Vec<&str> = qs.iter().map(|q| q["query"].as_str().unwrap()).collect();
    assert_eq!(names, ["q14", "q1", "q6"]);
    for q in qs {
        assert!(u(&q["rows"]) > 0 && q["identical"] == true, "{q}");
        for m in ["conv", "offload", "auto"] {
            let f = &q["modes"][m];
            let runs: Vec<u64> = f["simulated_ns_runs"].as_array().unwrap().iter().map(u).collect();
            assert_eq!(runs.len(), 2, "{f}");
            let (min, med, max) = (
                u(&f["simulated_ns_min"]),
                u(&f["simulated_ns"]),
                u(&f["simulated_ns_max"]),
            );
            assert_eq!(min, *runs.iter().min().unwrap());
            assert_eq!(max, *runs.iter().max().unwrap());
            assert_eq!(med, (runs[0] + runs[1]) / 2, "median of two runs is their mean");
            assert!(min > 0 && min <= med && med <= max);
            // Modeled compute: both runs give the same time, bit for bit.
            assert_eq!(runs[0], runs[1], "{} {m}: {runs:?}", q["query"]);
            assert_eq!(u(&f["scan_ns"]) + u(&f["engine_ns"]), med, "{f}");
            assert!(u(&f["engine_ns"]) > 0, "the engine's work is charged: {f}");
            assert!(f["energy_j"].as_f64().unwrap() > 0.0, "{f}");
            assert!(u(&f["pages_read"]) > 0 && u(&f["pcie_bytes"]) > 0, "{f}");
            let ds = f["decisions"].as_array().unwrap();
            assert!(!ds.is_empty(), "{f}");
            for d in ds {
                assert!(d["table"].is_string() && d["offloaded"].is_boolean(), "{d}");
                assert!(!d["reason"].as_str().unwrap().is_empty(), "{d}");
                if m == "conv" {
                    assert_eq!(d["offloaded"], false);
                }
            }
            let offloaded = ds.iter().filter(|d| d["offloaded"] == true).count() as u64;
            assert_eq!(u(&f["offloaded_scans"]), offloaded);
        }
    }
    // Totals: the sums of the per-query medians (and of pages and PCIe bytes).
    for m in ["conv", "offload", "auto"] {
        for k in [
            "simulated_ns",
            "engine_ns",
            "pages_read",
            "pages_from_pool",
            "pcie_bytes",
        ] {
            let sum: u64 = qs.iter().map(|q| u(&q["modes"][m][k])).sum();
            assert_eq!(u(&j["totals"][m][k]), sum, "{m} {k}");
        }
    }
    let conv = |q: &Value| u(&q["modes"]["conv"]["simulated_ns"]) as f64;
    let med = |q: &Value, m: &str| u(&q["modes"][m]["simulated_ns"]) as f64;
    let total = |m: &str| u(&j["totals"][m]["simulated_ns"]) as f64;
    let close = |a: &Value, b: f64| (a.as_f64().unwrap() - b).abs() < 1e-9 * b.max(1.0);
    assert!(close(
        &j["total_speedup_offload"],
        total("conv") / total("offload")
    ));
    assert!(close(&j["total_speedup_auto"], total("conv") / total("auto")));
    // Top five (all three here): largest conventional time first.
    let mut by_conv: Vec<&Value> = qs.iter().collect();
    by_conv.sort_by(|a, b| conv(b).total_cmp(&conv(a)));
    let top: Vec<&str> = by_conv.iter().map(|q| q["query"].as_str().unwrap()).collect();
    assert_eq!(j["top_five"]["queries"], serde_json::json!(top));
    for (m, key) in [("offload", "speedup_offload_avg"), ("auto", "speedup_auto_avg")] {
        let mean = by_conv.iter().map(|q| conv(q) / med(q, m)).sum::<f64>() / 3.0;
        assert!(
            close(&j["top_five"][key], mean),
            "{key}: {} vs {mean}",
            j["top_five"][key]
        );
    }
    let offloaded = qs
        .iter()
        .filter(|q| u(&q["modes"]["auto"]["offloaded_scans"]) > 0)
        .count();
    assert_eq!(u(&j["offloaded_queries_auto"]), offloaded as u64);
    let worst = qs
        .iter()
        .map(|q| med(q, "auto") / conv(q) - 1.0)
        .fold(f64::MIN, f64::max);
    let reported = j["worst_auto_vs_conv"]["slower_by"].as_f64().unwrap();
    assert!((reported - worst).abs() < 1e-9, "{reported} vs {worst}");
    let cmp = j["comparison"].as_array().unwrap();
    let published: Vec<&str> = cmp.iter().map(|r| r["published"].as_str().unwrap()).collect();
    assert_eq!(published, ["3.6x", "3.6x", "15x", "15x", "8 of 22"]);
    assert!(close(&cmp[1]["ours_value"], total("conv") / total("auto")));
    assert_eq!(cmp[4]["ours"], format!("{offloaded} of 3"));
}

#[test]
fn text_report_has_rows_decisions_and_the_published_table() {
    let text = ok(&tpch(&["--queries", "6", "--mode", "both"]));
    for want in [
        "engine's operators",
        "host buffer pool",
        "q6",
        "offload  lineitem",
        "totals over 1 queries",
        "published",
        "ours",
        "3.6x",
        "8 of 22",
    ] {
        assert!(text.contains(want), "no `{want}` in\n{text}");
    }
    // Without auto the auto figures are not made up.
    let auto_row = text
        .lines()
        .find(|l| l.contains("offloaded scan (auto)"))
        .unwrap();
    assert!(auto_row.trim_end().ends_with("n/a"), "{auto_row}");
}

#[test]
fn bad_inputs_fail_naming_the_thing() {
    for (args, want) in [
        (&["--runs", "0"][..], "--runs 0"),
        (&["--queries", "1,23"][..], "no TPC-H query `23`"),
        (&["--queries", "6,x"][..], "no TPC-H query `x`"),
        (&["--queries", "6,6"][..], "q6 twice"),
        (&["--sf", "0"][..], "--sf 0 is not usable"),
        (&["--sf", "-1"][..], "--sf -1 is not usable"),
        (&["--host-cores", "0"][..], "--host-cores 0"),
        (&["--host-memory", "12XB"][..], "12XB"),
        (&["--nodes", "4"][..], "yoursql-cluster -- tpch --nodes N"),
    ] {
        let out = tpch(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want) && err.contains("expected"), "{args:?}: {err}");
    }
}

/// Conventional scans find pages in a host buffer pool that holds the tables; with none, every
/// page comes from the device: offload's advantage grows as memory shrinks (YourSQL's trend).
#[test]
fn host_memory_sweep_moves_in_yoursqls_direction() {
    let text = ok(&tpch(&[
        "--queries",
        "1,6",
        "--mode",
        "both",
        "--host-memory",
        "0,64MiB",
        "--json",
    ]));
    let root: Value = serde_json::from_str(&text).unwrap();
    let sweep = root["sweep"].as_array().unwrap();
    assert_eq!(sweep.len(), 2);
    assert_eq!(sweep[0]["host_memory"], "no buffer pool");
    assert_eq!(u(&sweep[1]["host_memory_bytes"]), 64 << 20);
    let runs = root["runs_by_host_memory"].as_array().unwrap();
    let pool_pages = |i: usize| u(&runs[i]["totals"]["conv"]["pages_from_pool"]);
    assert_eq!(pool_pages(0), 0);
    // q6 reads lineitem again after q1: from the pool.
    assert!(pool_pages(1) > 0);
    let conv = |i: usize| u(&sweep[i]["total_ns"]["conv"]);
    assert!(conv(1) < conv(0), "{sweep:?}");
    let speedup = |i: usize| sweep[i]["total_speedup_offload"].as_f64().unwrap();
    assert!(speedup(0) > speedup(1), "{sweep:?}");
}

/// `--image` keeps the tables: the second run loads nothing; `--no-load` refuses another scale
/// factor and a missing table, naming them.
#[test]
fn an_image_is_reused_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("tpch.img");
    let image = image.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["--queries", "6", "--mode", "conv", "--image", image];
        args.extend_from_slice(extra);
        tpch(&args)
    };
    let first = run(&[]);
    ok(&first);
    assert!(String::from_utf8_lossy(&first.stderr).contains("loaded the tables"));
    let second = run(&[]);
    ok(&second);
    assert!(!String::from_utf8_lossy(&second.stderr).contains("loaded the tables"));
    ok(&run(&["--no-load"]));
    let other = run(&["--no-load", "--sf", "0.02"]);
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(
        !other.status.success()
            && err.contains("scale factor 0.01")
            && err.contains("expected scale factor 0.02"),
        "{err}"
    );
    // A device holding only lineitem (loaded by a single-table query) lacks the others.
    let single = dir.path().join("one.img");
    let out = Command::new(env!("CARGO_BIN_EXE_yoursql-filter"))
        .args([
            "--query",
            "q6",
            "--mode",
            "conv",
            "--runs",
            "1",
            "--debug-module",
            "--image",
        ])
        .arg(&single)
        .output()
        .unwrap();
    ok(&out);
    let missing = tpch(&["--queries", "6", "--no-load", "--image", single.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        !missing.status.success() && err.contains("table `region` is not on the device"),
        "{err}"
    );
}
