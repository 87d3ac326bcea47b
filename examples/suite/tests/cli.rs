//! The `suite` program run as a user runs it, with `--json`: one object with all three workloads, each with both runs, and a typed error naming a bad mode. Small
//! sizes on the `tiny` device with the debug modules (the ones the other tests build).

use app_support::testing::{check_both, fails_naming, figures, json_of, SMALL_SUITE};

/// `suite paper` at small sizes (filter query at SF 0.01, a 1 MiB graph, 8 MiB of bandwidth
/// working set).
const SMALL_PAPER: [&str; 7] = [
    "paper",
    "--sf",
    "0.01",
    "--graph-size",
    "1MiB",
    "--working-set",
    "8MiB",
];

#[test]
fn suite_json_has_all_three() {
    let v = json_of(
        env!("CARGO_BIN_EXE_suite"),
        &[&SMALL_SUITE[..], &["--json"]].concat(),
    );
    assert_eq!(v["mode"], "both");
    let w = v["workloads"].as_array().unwrap();
    let names: Vec<&str> = w.iter().map(|o| o["workload"].as_str().unwrap()).collect();
    assert_eq!(names, ["pointer-chase", "grep", "wordcount"]);
    for o in w {
        check_both(o, o["workload"].as_str().unwrap());
        // Energy per path, per component, and the components sum to the total.
        for path in ["conv", "ndp"] {
            let e = &o["energy_j"][path];
            let total = e["total_j"].as_f64().unwrap();
            let parts: f64 = [
                "host_cpu_j",
                "host_dram_j",
                "ssd_controller_j",
                "nand_j",
                "pcie_j",
                "matchers_j",
            ]
            .iter()
            .map(|k| e[*k].as_f64().unwrap_or_else(|| panic!("{k} in {e}")))
            .sum();
            assert!(total > 0.0 && (parts - total).abs() <= 1e-9 * total, "{e}");
        }
    }
}

#[test]
fn bad_input_is_refused_naming_it() {
    fails_naming(
        env!("CARGO_BIN_EXE_suite"),
        &["--mode", "sideways"],
        &["--mode", "sideways", "ndp", "conv", "both"],
    );
}

/// Runs `f` while another thread keeps a core busy.
fn while_busy<R>(f: impl FnOnce() -> R) -> R {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut x = 1u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            x
        })
    };
    let r = f();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    busy.join().unwrap();
    r
}

#[test]
fn paper_rows_have_verdicts_and_repeat_bit_for_bit() {
    let args = [&SMALL_PAPER[..], &["--json"]].concat();
    let quiet = json_of(env!("CARGO_BIN_EXE_suite"), &args);
    let loaded = while_busy(|| json_of(env!("CARGO_BIN_EXE_suite"), &args));
    let rows = quiet["rows"].as_array().unwrap();
    assert!(rows.len() >= 9, "{quiet}");
    for r in rows {
        for k in [
            "figure",
            "source",
            "published",
            "ours",
            "tolerance",
            "verdict",
            "note",
        ] {
            assert!(r.get(k).is_some(), "{k} in {r}");
        }
        let v = r["verdict"].as_str().unwrap();
        assert!(["agrees", "disagrees", "context", "not run"].contains(&v), "{r}");
    }
    let ours = |v: &serde_json::Value| -> Vec<String> {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{} {}", r["figure"], r["ours"]))
            .collect()
    };
    assert_eq!(ours(&quiet), ours(&loaded));
    assert!(!quiet["fitted"].as_array().unwrap().is_empty());
    fails_naming(
        env!("CARGO_BIN_EXE_suite"),
        &["paper", "--sf", "0"],
        &["--sf", "above 0"],
    );
}

#[test]
fn figures_are_identical_on_a_busy_machine() {
    // The default (modeled) compute charges counted work, never the machine's clock: a second
    // run while another thread keeps a core busy gives the same figures, bit for bit.
    let args = [
        "--generate",
        "512KiB",
        "--graph-size",
        "1MiB",
        "--starts",
        "5",
        "--hops",
        "8",
        "--json",
    ];
    let quiet = json_of(env!("CARGO_BIN_EXE_suite"), &args);
    let loaded = while_busy(|| json_of(env!("CARGO_BIN_EXE_suite"), &args));
    let (a, b) = (figures(&quiet), figures(&loaded));
    assert!(a.len() > 12, "{a:?}");
    assert_eq!(a, b);
    assert_eq!(quiet["compute"], "modeled");
}

/// `compare-compute --fit-now` calibrates on held-out data first and shows the shipped
/// calibration's ratio beside its own for every workload and path.
#[test]
fn compare_compute_fits_now_and_shows_the_shipped_ratio() {
    // `compare-compute` has no `--compute` (it runs both), so not through `json_of`.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_suite"))
        .args(["compare-compute", "--profile", "tiny", "--modules", "debug"])
        .args(["--size", "1MiB", "--runs", "1", "--fit-now", "--json"])
        .output()
        .expect("the program starts");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["fit_now"], true);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "{v}");
    for r in rows {
        let measured = r["measured_median_ns"].as_f64().unwrap();
        for (time, ratio) in [
            ("modeled_ns", "ratio"),
            ("reference_modeled_ns", "reference_ratio"),
        ] {
            let t = r[time].as_f64().unwrap_or_else(|| panic!("{time} in {r}"));
            let q = r[ratio].as_f64().unwrap_or_else(|| panic!("{ratio} in {r}"));
            assert!(t > 0.0 && (q - t / measured).abs() < 1e-6 * q.max(1.0), "{r}");
        }
    }
}

/// `suite paper --report DIR` writes the table as a page of the report: every row, the fitted
/// parameters, nothing fetched from a network.
#[test]
fn paper_report_page_has_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("report");
    let more = ["--report", dir.to_str().unwrap(), "--json"];
    let v = json_of(env!("CARGO_BIN_EXE_suite"), &[&SMALL_PAPER[..], &more].concat());
    let page_path = dir.join("paper.html");
    assert_eq!(v["report"].as_str(), page_path.to_str(), "{v}");
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.matches("<table>").count() == 2);
    for r in v["rows"].as_array().unwrap() {
        let figure = r["figure"]
            .as_str()
            .unwrap()
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(page.contains(&figure), "{figure} missing from the page");
    }
    assert!(page.contains("arm.arm_slowdown"));
    assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("<script"));
}
