//! `ndp new` makes a crate that builds and passes its test as generated; `ndp run` runs its
//! module with no host program and prints what it sent, logged and cost.

use std::path::Path;
use std::process::Command;

fn ndp(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ndp"))
        .args(args)
        .output()
        .expect("ndp starts")
}

fn cargo(dir: &Path, target: &Path, args: &[&str]) {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("cargo starts");
    assert!(
        out.status.success(),
        "cargo {args:?} in the new crate failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_new_crate_builds_tests_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("first-ssdlet");
    let out = ndp(&["new", "first-ssdlet", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Its dependencies build once per workspace target directory, not once per run.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ndp-new-test");
    cargo(&dir, &target, &["test", "--quiet"]);
    cargo(&dir, &target, &["build", "--release", "--quiet"]);
    let module = target.join("release/libfirst_ssdlet.so");
    assert!(module.is_file(), "{} was not built", module.display());

    let input = tmp.path().join("in.txt");
    std::fs::write(&input, "the quick brown fox\njumps over\nthe lazy dog\n").unwrap();
    let file = format!("file=@{}", input.display());
    let m = module.to_str().unwrap();
    let out = ndp(&[
        "run",
        m,
        "count_lines",
        "--arg",
        &file,
        "--arg",
        "needle=the",
        "--profile",
        "tiny",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["outputs"]["hits"],
        serde_json::json!([{"line": 1, "len": 19}, {"line": 3, "len": 12}])
    );
    assert_eq!(v["logs"][0]["text"], "2 of 3 lines hold `the`");
    assert!(v["report"]["simulated_ns"].as_u64().unwrap() > 0, "{v}");

    // Bad input is named: a missing argument, an unknown one, a wrong SSDlet id.
    let out = ndp(&["run", m, "count_lines", "--arg", &file, "--profile", "tiny"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--arg needle is missing"));
    let out = ndp(&[
        "run",
        m,
        "count_lines",
        "--arg",
        &file,
        "--arg",
        "needle=x",
        "--arg",
        "n=3",
        "--profile",
        "tiny",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no argument `n`"));
    let out = ndp(&["run", m, "nope", "--profile", "tiny"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no SSDlet `nope`"));
    // The crate exists now: a second `ndp new` into it is refused.
    let out = ndp(&["new", "first-ssdlet", "--dir", dir.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}
