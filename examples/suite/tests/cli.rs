//! The `suite` program run as a user runs it, with `--json`: one object with all three workloads, each with both runs, and a typed error naming a bad mode. Small
//! sizes on the `tiny` device with the debug modules (the ones the other tests build).

use app_support::testing::{check_both, fails_naming, json_of};

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

#[test]
fn bad_input_is_refused_naming_it() {
    fails_naming(
        env!("CARGO_BIN_EXE_suite"),
        &["--mode", "sideways"],
        &["--mode", "sideways", "ndp", "conv", "both"],
    );
}
