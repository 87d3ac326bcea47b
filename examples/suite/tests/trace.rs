//! `suite --trace FILE.json`: the trace of a small run is valid Chrome trace-event JSON with
//! every track the issue names, the cap is stated in the file when it applies, the figures
//! are the same with the trace on and off, the file is the same run after run, and a bad path
//! is refused naming it. `tiny` device, debug modules, modeled compute.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use app_support::testing::{fails_naming, figures, json_of, SMALL_SUITE};
use serde_json::Value;

/// A small suite run's arguments, JSON out.
fn small() -> Vec<&'static str> {
    [&SMALL_SUITE[..], &["--json"]].concat()
}

/// Runs the small suite with `--trace` into `dir` (and `more` arguments); its JSON and trace.
fn traced_run(dir: &Path, name: &str, more: &[&str]) -> (Value, Value, String) {
    let path = dir.join(name);
    let p = path.to_str().unwrap();
    let mut args = small();
    args.extend(["--trace", p]);
    args.extend(more);
    let v = json_of(env!("CARGO_BIN_EXE_suite"), &args);
    let text = std::fs::read_to_string(&path).expect("the trace file was written");
    let t: Value = serde_json::from_str(&text).expect("the trace is JSON");
    (v, t, text)
}

/// Microseconds as integer nanoseconds (the trace's times are whole nanoseconds).
fn ns(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 1000.0).round() as i64
}

/// Checks what the issue asks of every trace: every event has `ph`, `ts`, `pid`, `tid`;
/// slices on one track never overlap; every flow start has its end (and each end sits in a
/// slice of its track, where the viewers bind it). Returns the track names by `(pid, tid)`.
fn check_valid(t: &Value) -> BTreeMap<(i64, i64), String> {
    let events = t["traceEvents"].as_array().expect("traceEvents");
    let mut names = BTreeMap::new();
    let mut slices: HashMap<(i64, i64), Vec<(i64, i64)>> = HashMap::new();
    let mut flows: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for e in events {
        for k in ["ph", "ts", "pid", "tid"] {
            assert!(e.get(k).is_some(), "{k} missing in {e}");
        }
        let track = (e["pid"].as_i64().unwrap(), e["tid"].as_i64().unwrap());
        match e["ph"].as_str().unwrap() {
            "M" if e["name"] == "thread_name" => {
                names.insert(track, e["args"]["name"].as_str().unwrap().to_owned());
            }
            "X" => {
                let (ts, dur) = (ns(&e["ts"]), ns(&e["dur"]));
                assert!(dur >= 0, "{e}");
                slices.entry(track).or_default().push((ts, ts + dur));
            }
            "s" | "f" => flows
                .entry(e["id"].as_u64().unwrap())
                .or_default()
                .push(e["ph"].as_str().unwrap()),
            "M" | "C" => {}
            other => panic!("unexpected ph {other} in {e}"),
        }
    }
    for (track, s) in &mut slices {
        s.sort();
        for w in s.windows(2) {
            assert!(
                w[1].0 >= w[0].1,
                "slices overlap on {:?}: {:?} and {:?}",
                names.get(track),
                w[0],
                w[1]
            );
        }
    }
    for (id, ends) in &flows {
        assert_eq!(ends, &["s", "f"], "flow {id}");
    }
    for e in events.iter().filter(|e| e["ph"] == "s" || e["ph"] == "f") {
        let track = (e["pid"].as_i64().unwrap(), e["tid"].as_i64().unwrap());
        let at = ns(&e["ts"]);
        let inside = slices
            .get(&track)
            .is_some_and(|s| s.iter().any(|&(a, b)| a <= at && at <= b));
        assert!(inside, "flow end {e} is in no slice of {:?}", names.get(&track));
    }
    for (track, name) in &names {
        assert!(slices.contains_key(track), "track {name} has no slice");
    }
    names
}

#[test]
fn a_small_suite_trace_is_valid_and_has_every_track() {
    let dir = tempfile::tempdir().unwrap();
    let (_, t, _) = traced_run(dir.path(), "suite.json", &[]);
    let names = check_valid(&t);
    let names: BTreeSet<&str> = names.values().map(String::as_str).collect();
    for kind in [
        "ARM core ",
        "firmware core ",
        "NAND channel ",
        "NAND die ",
        "PCIe to host",
        "PCIe to device",
        "host thread ",
        "host ports",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(kind)),
            "no {kind:?} track in {names:?}"
        );
    }
    let events = t["traceEvents"].as_array().unwrap();
    let with = |ph: &str, f: &dyn Fn(&Value) -> bool| events.iter().filter(|e| e["ph"] == ph).any(f);
    assert!(with("C", &|e| e["name"] == "DRAM in use"
        && e["args"]["bytes"].as_i64().unwrap() > 0));
    assert!(with("C", &|e| e["name"].as_str().unwrap().starts_with("queue ")));
    assert!(with("s", &|_| true), "no message flows");
    // Slices by what they are: SSDlet instances on ARM cores, NAND operations, host work.
    let slice_names: BTreeSet<&str> = events
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for n in [
        "read",
        "program",
        "read data",
        "matcher scan",
        "compute",
        "I/O wait",
        "command",
    ] {
        assert!(slice_names.contains(n), "no {n:?} slice in {slice_names:?}");
    }
    assert!(
        slice_names.iter().any(|n| n.starts_with("mapper")),
        "{slice_names:?}"
    );
    for pid in [1, 2, 3] {
        assert!(events
            .iter()
            .any(|e| e["ph"] == "M" && e["name"] == "process_name" && e["pid"] == pid));
    }
    let m = &t["metadata"];
    assert_eq!(m["capped"], false, "{m}");
    assert_eq!(m["events_dropped"], 0, "{m}");
    assert_eq!(m["clock"], "simulated", "{m}");
}

#[test]
fn a_capped_trace_says_so_and_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (_, t, _) = traced_run(dir.path(), "capped.json", &["--trace-max-events", "300"]);
    check_valid(&t);
    let m = &t["metadata"];
    assert_eq!(m["capped"], true, "{m}");
    assert_eq!(m["max_events"], 300, "{m}");
    assert!(m["events_dropped"].as_u64().unwrap() > 0, "{m}");
    assert!(
        m["cap_rule"].as_str().unwrap().contains("first 300 events"),
        "{m}"
    );
    let n = t["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] != "M")
        .count();
    assert!(n <= 300, "{n} events");
}

/// `v` without its wall times (`wall_ns`), the only figures measured on this machine.
fn simulated(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != "wall_ns")
                .map(|(k, v)| (k.clone(), simulated(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(simulated).collect()),
        other => other.clone(),
    }
}

#[test]
fn figures_are_the_same_with_the_trace_on_and_the_file_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let off = json_of(env!("CARGO_BIN_EXE_suite"), &small());
    let (on, _, first) = traced_run(dir.path(), "a.json", &[]);
    let (again, _, second) = traced_run(dir.path(), "b.json", &[]);
    assert!(figures(&off).len() > 12);
    assert_eq!(figures(&off), figures(&on));
    // Everything the program prints (energy, speed-ups, results) but wall times is the same,
    // bit for bit.
    assert!(simulated(&off) == simulated(&on), "the trace changed a figure");
    assert!(simulated(&on) == simulated(&again), "two traced runs differ");
    assert!(first == second, "two traces of one run differ");
}

#[test]
fn a_bad_trace_path_is_refused_naming_it() {
    fails_naming(
        env!("CARGO_BIN_EXE_suite"),
        &["--trace", "/nonexistent-dir/t.json"],
        &["trace file", "/nonexistent-dir/t.json"],
    );
    fails_naming(
        env!("CARGO_BIN_EXE_suite"),
        &["--trace", "t.json", "--trace-max-events", "0"],
        &["--trace-max-events 0"],
    );
}
