//! `ndp bench` end to end: the binary's JSON equals what the `tiny` profile's numbers imply,
//! and a bad profile is a clear error, not a panic; `ndp bench crash` kills the daemon mid-put
//! and finds nothing lost, changed or torn.

use std::process::Command;

use sim_nvme::{DeviceProfile, SimDuration, LBA_BYTES};

fn ndp(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ndp"))
        .args(args)
        .output()
        .expect("run ndp")
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "ndp failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ndp --json prints one JSON object")
}

#[test]
fn latency_json_matches_the_profile_derivation() {
    let p = DeviceProfile::tiny();
    let v = json(&ndp(&["bench", "latency", "--profile", "tiny", "--json"]));
    let internal = p.controller.firmware_ns + p.nand.read_ns + p.channel_time(LBA_BYTES).as_nanos();
    let host =
        p.host.io_stack_ns + internal + SimDuration::for_bytes(LBA_BYTES, p.pcie.to_host_mb_per_s).as_nanos();
    assert_eq!(v["host_read_4k_us"].as_f64(), Some(host as f64 / 1e3), "{v}");
    assert_eq!(
        v["internal_read_4k_us"].as_f64(),
        Some(internal as f64 / 1e3),
        "{v}"
    );
    assert_eq!(v["profile"], "tiny");
}

#[test]
fn bandwidth_json_has_the_documented_keys_and_respects_the_link() {
    let v = json(&ndp(&[
        "bench",
        "bandwidth",
        "--profile",
        "tiny",
        "--working-set",
        "16777216",
        "--json",
    ]));
    for key in [
        "host_seq_read_gbps",
        "internal_seq_read_gbps",
        "host_rand_read_kiops",
    ] {
        assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key} missing in {v}");
    }
    // tiny's link is 1000 MB/s: the host path can approach it but never exceed it.
    let host = v["host_seq_read_gbps"].as_f64().unwrap();
    assert!(host <= 1.0 && host > 0.9, "{v}");
    assert!(v["internal_seq_read_gbps"].as_f64().unwrap() > host, "{v}");
}

#[test]
fn unknown_profile_is_a_clear_error() {
    let out = ndp(&["bench", "latency", "--profile", "no-such-profile"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-profile") && err.contains("pm1725"), "{err}");
}

#[test]
fn working_set_beyond_the_device_is_a_clear_error() {
    let out = ndp(&[
        "bench",
        "bandwidth",
        "--profile",
        "tiny",
        "--working-set",
        "1099511627776",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tiny") && err.contains("needs"), "{err}");
}

#[test]
fn out_of_range_parameters_are_errors_without_a_backtrace() {
    for (args, says) in [
        (&["--working-set", "0"][..], "working set 0 is out of range"),
        (&["--queue-depth", "0"][..], "queue depth 0 is out of range"),
        (
            &["--queue-depth", "99999999999"][..],
            "queue depth 99999999999 is out of range",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ndp"))
            .args(["bench", "bandwidth", "--profile", "tiny"])
            .args(args)
            .env("RUST_BACKTRACE", "1")
            .output()
            .expect("run ndp");
        assert!(!out.status.success(), "{args:?} must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            !err.contains("backtrace") && !err.contains("Stack backtrace"),
            "{err}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("NaN"));
    }
}

#[test]
fn set_changes_one_profile_field_and_a_bad_one_is_named() {
    let mut p = DeviceProfile::tiny();
    p.host.io_stack_ns += 7_000;
    let internal = p.controller.firmware_ns + p.nand.read_ns + p.channel_time(LBA_BYTES).as_nanos();
    let host =
        p.host.io_stack_ns + internal + SimDuration::for_bytes(LBA_BYTES, p.pcie.to_host_mb_per_s).as_nanos();
    let v = json(&ndp(&[
        "bench",
        "latency",
        "--profile",
        "tiny",
        "--set",
        "host.io_stack_ns=17000",
        "--json",
    ]));
    assert_eq!(v["host_read_4k_us"].as_f64(), Some(host as f64 / 1e3), "{v}");
    for (bad, needle) in [
        ("host.io_stack", "not an assignment"),
        ("host.io_stak_ns=1", "host.io_stack_ns"),
        ("host.io_stack_ns=fast", "not an integer"),
    ] {
        let out = ndp(&["bench", "latency", "--profile", "tiny", "--set", bad]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
}

#[test]
fn the_daemon_killed_mid_put_loses_changes_and_tears_nothing() {
    // A short loop of the bench (the README's runs 50 cycles in release).
    let out = ndp(&["bench", "crash", "--cycles", "3", "--seed", "7", "--json"]);
    let v = json(&out);
    for field in ["lost", "changed", "torn", "staging_left"] {
        assert_eq!(v[field], 0, "{field}: {v}");
    }
    assert_eq!(v["cycles"], 3);
    // The timing put and the check after each of the 3 kills and the final restart.
    assert!(v["files_checked"].as_u64().unwrap() >= 4, "{v}");
    let zero = ndp(&["bench", "crash", "--cycles", "0"]);
    assert!(!zero.status.success());
    assert!(String::from_utf8_lossy(&zero.stderr).contains("--cycles"));
}
