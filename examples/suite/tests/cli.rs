//! The programs run as a user runs them, with `--json`: the JSON object's fields, and typed
//! errors naming the thing for bad input (missing file, bad size, bad mode). Small sizes on
//! the `tiny` device with the debug modules (the ones the other tests build).

use std::process::{Command, Output};

use serde_json::Value;

fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .args(["--profile", "tiny", "--modules", "debug", "--compute", "modeled"])
        .output()
        .expect("the program starts")
}

fn json_of(bin: &str, args: &[&str]) -> Value {
    let out = run(bin, args);
    assert!(
        out.status.success(),
        "{bin} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

/// The fields every workload's object has, with both runs.
fn check_both(v: &Value, workload: &str) {
    assert_eq!(v["workload"], workload, "{v}");
    assert_eq!(v["mode"], "both");
    assert_eq!(v["profile"], "tiny");
    for field in ["simulated_ns", "pcie_bytes", "nand_pages"] {
        for path in ["conv", "ndp"] {
            assert!(
                v[field][path].as_u64().is_some_and(|n| n > 0),
                "{field}.{path} in {v}"
            );
        }
    }
    assert!(v["speedup"].as_f64().is_some_and(|x| x > 0.0), "{v}");
    assert_eq!(v["identical"], true);
    assert!(v["result"].is_object());
}

#[test]
fn wordcount_json() {
    let v = json_of(
        env!("CARGO_BIN_EXE_wordcount"),
        &["--generate", "200KiB", "--top", "3", "--json"],
    );
    check_both(&v, "wordcount");
    assert_eq!(v["result"]["top"].as_array().map(Vec::len), Some(3));
    assert!(v["result"]["words"].as_u64().unwrap() > 10_000);
    assert_eq!(v["data"]["source"], "generated");
    assert_eq!(v["data"]["bytes"], 200 << 10);
}

#[test]
fn grep_json_with_an_input_file_and_ndp_only() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "alpha\nneedle here\nbeta\nanother needle\n").unwrap();
    let p = input.to_str().unwrap();
    let v = json_of(
        env!("CARGO_BIN_EXE_grep"),
        &["--input", p, "--pattern", "needle", "--json", "--mode", "ndp"],
    );
    assert_eq!(v["mode"], "ndp");
    assert!(v["simulated_ns"]["conv"].is_null() && v["simulated_ns"]["ndp"].as_u64().is_some());
    assert!(v["speedup"].is_null());
    assert_eq!(v["result"]["lines"], 2);
    assert_eq!(v["result"]["matches"][1]["offset"], 23);
    assert_eq!(v["result"]["matches"][1]["line"], "another needle");

    // Both modes on generated text, the lines written to a file.
    let out = dir.path().join("lines.txt");
    let v = json_of(
        env!("CARGO_BIN_EXE_grep"),
        &[
            "--generate",
            "300KiB",
            "--json",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    check_both(&v, "grep");
    assert_eq!(v["result"]["lines"], 10);
    assert!(v["result"]["matches"].is_null());
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written.lines().count(), 10);
    assert!(written.lines().all(|l| l.contains("XYZZY-4242")));
}

#[test]
fn pointer_chase_json() {
    let v = json_of(
        env!("CARGO_BIN_EXE_pointer-chase"),
        &["--generate", "1MiB", "--starts", "4", "--hops", "6", "--json"],
    );
    check_both(&v, "pointer-chase");
    let paths = v["result"]["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 4);
    assert!(paths.iter().all(|p| p.as_array().map(Vec::len) == Some(7)));
    assert_eq!(v["nand_pages"]["conv"], 24);
}

#[test]
fn suite_json_has_all_three() {
    let v = json_of(
        env!("CARGO_BIN_EXE_suite"),
        &[
            "--generate",
            "200KiB",
            "--graph-size",
            "1MiB",
            "--starts",
            "3",
            "--hops",
            "4",
            "--json",
        ],
    );
    assert_eq!(v["mode"], "both");
    let w = v["workloads"].as_array().unwrap();
    let names: Vec<&str> = w.iter().map(|o| o["workload"].as_str().unwrap()).collect();
    assert_eq!(names, ["pointer-chase", "grep", "wordcount"]);
    for o in w {
        check_both(o, o["workload"].as_str().unwrap());
    }
}

fn fails_naming(bin: &str, args: &[&str], needles: &[&str]) {
    let out = run(bin, args);
    assert!(!out.status.success(), "{bin} {args:?} succeeded");
    let err = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
}

#[test]
fn bad_input_is_refused_naming_it() {
    fails_naming(
        env!("CARGO_BIN_EXE_wordcount"),
        &["--input", "/no/such/file.txt", "--json"],
        &["cannot read input file `/no/such/file.txt`"],
    );
    fails_naming(
        env!("CARGO_BIN_EXE_grep"),
        &["--generate", "12XB"],
        &["--generate", "12XB", "unknown unit"],
    );
    fails_naming(
        env!("CARGO_BIN_EXE_suite"),
        &["--mode", "sideways"],
        &["--mode", "sideways", "ndp", "conv", "both"],
    );
    fails_naming(
        env!("CARGO_BIN_EXE_pointer-chase"),
        &["--generate", "4KiB", "--json"],
        &["graph of 4096 bytes", "expected 2 to 2^32 - 1 nodes"],
    );
    fails_naming(
        env!("CARGO_BIN_EXE_grep"),
        &["--generate", "64KiB", "--pattern", "", "--json"],
        &["pattern \"\"", "non-empty"],
    );
}
