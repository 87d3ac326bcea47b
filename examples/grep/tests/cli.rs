//! The `grep` program run as a user runs it, with `--json`: the JSON object's fields (an input file, NDP only; both runs on generated text, lines written to a file), and typed errors naming a bad size or an empty pattern. Small
//! sizes on the `tiny` device with the debug modules (the ones the other tests build).

use app_support::testing::{check_both, fails_naming, json_of};

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
fn bad_input_is_refused_naming_it() {
    fails_naming(
        env!("CARGO_BIN_EXE_grep"),
        &["--generate", "12XB"],
        &["--generate", "12XB", "unknown unit"],
    );
    fails_naming(
        env!("CARGO_BIN_EXE_grep"),
        &["--generate", "64KiB", "--pattern", "", "--json"],
        &["pattern \"\"", "non-empty"],
    );
}
