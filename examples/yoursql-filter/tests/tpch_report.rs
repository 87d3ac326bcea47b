//! `yoursql-filter tpch`'s report at SF 0.01 over a few queries (1, 6, 14): the JSON has the
//! per-query rows, the totals are the sums of the per-query medians, the top five are the
//! largest conventional times with their average speed-ups, the comparison rows hold YourSQL's
//! published figures; the text says what the simulated time leaves out; bad inputs fail naming
//! the thing.

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
    let j: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(j["runs"], 2);
    assert_eq!(j["modes"], serde_json::json!(["conv", "offload", "auto"]));
    assert!(j["note"].as_str().unwrap().contains("DataFusion's own operators"));
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
        for k in ["simulated_ns", "pages_read", "pcie_bytes"] {
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
        "DataFusion's own operators",
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
    ] {
        let out = tpch(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want) && err.contains("expected"), "{args:?}: {err}");
    }
}
