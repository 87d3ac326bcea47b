//! The `wordcount` program run as a user runs it, with `--json`: the JSON object's fields, and a typed error naming a missing input file. Small
//! sizes on the `tiny` device with the debug modules (the ones the other tests build).

use app_support::testing::{check_both, fails_naming, json_of};

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
fn bad_input_is_refused_naming_it() {
    fails_naming(
        env!("CARGO_BIN_EXE_wordcount"),
        &["--input", "/no/such/file.txt", "--json"],
        &["cannot read input file `/no/such/file.txt`"],
    );
}
