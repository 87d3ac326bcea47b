//! What the applications' tests share (each crate's `tests/`): a device with the debug build of
//! the modules, and running a program as a user runs it, with `--json`, on the `tiny` device.
//! The helpers panic with a message naming what failed, as tests do.

use std::process::{Command, Output};

use std::sync::Arc;

use host_sdk::DeviceProfile;
use serde_json::Value;
use ssdlet_module_build::{build, Profile};

use crate::setup::Env;

/// A device of `profile` (compute modeled with the shipped calibration: deterministic) with the
/// debug modules built.
pub fn env(profile: DeviceProfile) -> Env {
    let modules = match build(Profile::Debug) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    let calibration = Arc::new(crate::calibration::Calibration::shipped());
    Env::with_modules(profile, crate::cli::Compute::Modeled, calibration, modules)
        .expect("an embedded device")
}

/// A small `suite` pass's sizes (200 KiB of text, a 1 MiB graph, 3 starts of 4 hops): the
/// tests' quick run of all three workloads.
pub const SMALL_SUITE: [&str; 8] = [
    "--generate",
    "200KiB",
    "--graph-size",
    "1MiB",
    "--starts",
    "3",
    "--hops",
    "4",
];

/// Runs program `bin` with `args` on `tiny`, the debug modules, compute modeled.
pub fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .args(["--profile", "tiny", "--modules", "debug", "--compute", "modeled"])
        .output()
        .expect("the program starts")
}

/// The JSON object `bin` prints for `args` (it must succeed).
pub fn json_of(bin: &str, args: &[&str]) -> Value {
    let out = run(bin, args);
    assert!(
        out.status.success(),
        "{bin} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

/// Checks the fields every workload's object has, with both runs.
pub fn check_both(v: &Value, workload: &str) {
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

/// Checks that `bin` fails for `args` with every one of `needles` on standard error.
pub fn fails_naming(bin: &str, args: &[&str], needles: &[&str]) {
    let out = run(bin, args);
    assert!(!out.status.success(), "{bin} {args:?} succeeded");
    let err = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
}

/// The simulated figures of every workload and path in a `suite --json` object.
pub fn figures(v: &serde_json::Value) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    for o in v["workloads"].as_array().unwrap() {
        for r in o["runs"].as_array().unwrap() {
            for field in ["simulated_ns", "host_compute_ns", "pcie_bytes", "nand_pages"] {
                out.push((
                    format!("{} {}", o["workload"], r["path"]),
                    field.to_owned(),
                    r[field].as_u64().unwrap(),
                ));
            }
            for s in r["ssdlets"].as_array().into_iter().flatten() {
                out.push((
                    format!("{} {}", o["workload"], s["ssdlet"]),
                    "compute".to_owned(),
                    s["compute"].as_u64().unwrap(),
                ));
            }
        }
    }
    out
}

/// Checks figures `now` (one per line) against the file of pinned figures at `path`, after
/// rewriting it with `now` when `NDP_FIGURES_BLESS` is set; a difference fails naming every
/// line that moved.
pub fn check_pinned(path: &std::path::Path, now: &str) {
    if std::env::var_os("NDP_FIGURES_BLESS").is_some() {
        std::fs::write(path, now).expect("write the pinned figures");
    }
    let pinned = std::fs::read_to_string(path).expect("the pinned figures file exists");
    let changed: Vec<String> = (pinned.lines().zip(now.lines()))
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("pinned `{a}`, now `{b}`"))
        .collect();
    assert!(
        changed.is_empty() && pinned.lines().count() == now.lines().count(),
        "simulated figures moved ({} lines pinned, {} now):\n{}",
        pinned.lines().count(),
        now.lines().count(),
        changed.join("\n")
    );
}
