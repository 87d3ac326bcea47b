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

/// `ndp run MODULE ID ARGS... --profile tiny --json`, which must succeed: its JSON and stderr.
fn run_json(module: &str, id: &str, args: &[&str]) -> (serde_json::Value, String) {
    let mut all = vec!["run", module, id];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--profile", "tiny", "--json"]);
    let out = ndp(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
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
    let (v, _) = run_json(m, "count_lines", &["--arg", &file, "--arg", "needle=the"]);
    assert_eq!(
        v["outputs"]["hits"],
        serde_json::json!([{"line": 1, "len": 19}, {"line": 3, "len": 12}])
    );
    assert_eq!(v["logs"][0]["text"], "2 of 3 lines hold `the`");
    assert!(v["report"]["simulated_ns"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(
        v["warnings"],
        serde_json::json!([]),
        "a release build gets no warning"
    );

    // The debug build of the same crate runs too, with a warning that it is one.
    cargo(&dir, &target, &["build", "--quiet"]);
    let debug = target.join("debug/libfirst_ssdlet.so");
    let debug = debug.to_str().unwrap();
    let (v, stderr) = run_json(debug, "count_lines", &["--arg", &file, "--arg", "needle=the"]);
    let warned = v["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warned.contains("debug build") && warned.contains("first_ssdlet"),
        "{v}"
    );
    assert!(stderr.contains("debug build"));

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

#[test]
fn ndp_run_takes_any_message_type_as_json() {
    let modules =
        ssdlet_module_build::build(ssdlet_module_build::Profile::Debug).unwrap_or_else(|e| panic!("{e}"));
    let kit = modules.testkit();
    let kit = kit.to_str().unwrap();
    let words = r#"words=[{"word":"fox","count":2},{"word":"dog","count":5}]"#;
    let (v, _) = run_json(kit, "scaled", &["--arg", words, "--arg", "factor=3"]);
    assert_eq!(
        v["outputs"]["out"],
        serde_json::json!([{"word": "fox", "count": 6}, {"word": "dog", "count": 15}])
    );
    // A value of the wrong shape is named with the type it should have.
    let out = ndp(&[
        "run",
        kit,
        "scaled",
        "--arg",
        "words=[1,2]",
        "--arg",
        "factor=3",
        "--profile",
        "tiny",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--arg words=[1,2]") && err.contains("WordCount"),
        "{err}"
    );
}

#[test]
fn ndp_run_feeds_inputs_from_json_and_json_lines() {
    let modules =
        ssdlet_module_build::build(ssdlet_module_build::Profile::Debug).unwrap_or_else(|e| panic!("{e}"));
    let kit = modules.testkit();
    let kit = kit.to_str().unwrap();
    let run = |input: &str| run_json(kit, "sum", &["--input", input]).0["outputs"]["total"].clone();
    assert_eq!(run("in=[1,2,3,400]"), serde_json::json!([406]));
    let tmp = tempfile::tempdir().unwrap();
    let lines = tmp.path().join("values.jsonl");
    std::fs::write(&lines, "5\n6\n\n7\n").unwrap();
    assert_eq!(run(&format!("in=@{}", lines.display())), serde_json::json!([18]));
    // An input not given is closed empty.
    let (v, _) = run_json(kit, "sum", &[]);
    assert_eq!(v["outputs"]["total"], serde_json::json!([0]));
    // A message of the wrong type, and an input the SSDlet does not have, are named.
    let out = ndp(&["run", kit, "sum", "--input", r#"in=[1,"x"]"#, "--profile", "tiny"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("message 1") && err.contains("`u64`"),
        "{err}"
    );
    let out = ndp(&["run", kit, "sum", "--input", "zz=[1]", "--profile", "tiny"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no input `zz`"), "{err}");
}

#[test]
fn ndp_run_runs_a_graph_from_a_toml_file() {
    let modules =
        ssdlet_module_build::build(ssdlet_module_build::Profile::Debug).unwrap_or_else(|e| panic!("{e}"));
    let kit = modules.testkit();
    let tmp = tempfile::tempdir().unwrap();
    // The module path is relative to the graph file's directory.
    std::fs::copy(&kit, tmp.path().join("kit.so")).unwrap();
    let graph = tmp.path().join("graph.toml");
    std::fs::write(
        &graph,
        r#"
[ssdlets.numbers]
module = "kit.so"
id = "count"
args = { n = 5 }

[ssdlets.total]
module = "kit.so"
id = "sum"

[ssdlets.relay]
module = "kit.so"
id = "echo"

[[connect]]
from = "numbers.out"
to = "total.0"

[inputs]
"relay.in" = [7, 8]
"#,
    )
    .unwrap();
    let g = graph.to_str().unwrap();
    let out = ndp(&["run", "--graph", g, "--profile", "tiny", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["outputs"],
        serde_json::json!({"relay.out": [7, 8], "total.total": [10]})
    );
    assert_eq!(v["ssdlets"][0]["name"], "numbers");
    // An input wired inside the graph cannot be fed; an unknown instance is named.
    let out = ndp(&[
        "run",
        "--graph",
        g,
        "--profile",
        "tiny",
        "--input",
        "total.in=[1]",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--input total.in"));
    std::fs::write(
        &graph,
        "[ssdlets.a]\nmodule = \"kit.so\"\nid = \"count\"\nargs = { n = 1 }\n[[connect]]\nfrom = \"a.out\"\nto = \"b.in\"\n",
    )
    .unwrap();
    let out = ndp(&["run", "--graph", g, "--profile", "tiny"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no SSDlet `b`"), "{err}");
}

#[test]
fn ndp_run_compares_the_near_data_run_with_the_conventional_one() {
    let modules =
        ssdlet_module_build::build(ssdlet_module_build::Profile::Debug).unwrap_or_else(|e| panic!("{e}"));
    let kit = modules.testkit();
    let kit = kit.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let hay = tmp.path().join("hay.txt");
    let mut text = String::new();
    for i in 0..40_000 {
        text.push_str(if i % 9_000 == 5 {
            "a needle\n"
        } else {
            "plain hay on this line\n"
        });
    }
    std::fs::write(&hay, &text).unwrap();
    let file = format!("file=@{}", hay.display());
    let (v, _) = run_json(
        kit,
        "grep",
        &["--arg", &file, "--arg", "key=needle", "--mode", "both"],
    );
    assert_eq!(v["mode"], "both");
    assert_eq!(v["outputs_equal"], true, "{v}");
    let (ndp, conv) = (&v["runs"]["ndp"], &v["runs"]["conv"]);
    assert_eq!(ndp["outputs"]["pages"].as_array().unwrap().len(), 5, "{v}");
    assert_eq!(ndp["outputs"], conv["outputs"]);
    // Near data, only the page numbers cross PCIe; conventionally the whole file does, and
    // the matchers' work is done in host software over it.
    let to_host = |r: &serde_json::Value| r["report"]["pcie_bytes_to_host"].as_u64().unwrap();
    assert!(to_host(ndp) < 100, "{v}");
    assert!(to_host(conv) >= text.len() as u64, "{v}");
    let time = |r: &serde_json::Value| r["report"]["simulated_ns"].as_u64().unwrap();
    assert!(time(conv) > time(ndp), "{v}");
    let speedup = v["speedup"].as_f64().unwrap();
    assert!(
        (speedup - time(conv) as f64 / time(ndp) as f64).abs() < 1e-9,
        "{v}"
    );
    // `--mode conv` alone prints the conventional run in the single-run shape.
    let (c, _) = run_json(
        kit,
        "grep",
        &["--arg", &file, "--arg", "key=needle", "--mode", "conv"],
    );
    assert_eq!(c["mode"], "conv");
    assert_eq!(c["outputs"], conv["outputs"], "{c}");
}
