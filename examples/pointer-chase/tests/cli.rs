//! The `pointer-chase` program run as a user runs it, with `--json`: the JSON object's fields, and a typed error naming a graph too small to walk. Small
//! sizes on the `tiny` device with the debug modules (the ones the other tests build).

use app_support::testing::{check_both, fails_naming, json_of};

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
fn bad_input_is_refused_naming_it() {
    fails_naming(
        env!("CARGO_BIN_EXE_pointer-chase"),
        &["--generate", "4KiB", "--json"],
        &["graph of 4096 bytes", "expected 2 to 2^32 - 1 nodes"],
    );
}
