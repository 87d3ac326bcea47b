//! `ndp serve --trace FILE.json`: the firmware child writes the device's timeline when the
//! daemon stops on SIGTERM (hardware tracks of the commands a client sent), and a bad path is
//! refused at once, naming it.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn ndp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ndp"))
        .args(args)
        .output()
        .expect("ndp runs")
}

fn wait_for(path: &Path) {
    let t = Instant::now();
    while !path.exists() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_writes_the_device_trace_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let (image, socket, trace) = (
        dir.path().join("d.img"),
        dir.path().join("s"),
        dir.path().join("t.json"),
    );
    let mut serve = Command::new(env!("CARGO_BIN_EXE_ndp"))
        .args(["serve", "--profile", "tiny", "--image"])
        .arg(&image)
        .arg("--socket")
        .arg(&socket)
        .arg("--trace")
        .arg(&trace)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ndp serve starts");
    wait_for(&socket);
    let data = dir.path().join("data");
    std::fs::write(&data, vec![7u8; 100_000]).unwrap();
    let s = socket.to_str().unwrap();
    let put = ndp(&["put", "--socket", s, data.to_str().unwrap(), "data"]);
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));
    let kill = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert!(serve.wait().unwrap().success());
    let t: serde_json::Value = serde_json::from_slice(&std::fs::read(&trace).unwrap()).expect("JSON");
    let events = t["traceEvents"].as_array().unwrap();
    for e in events {
        for k in ["ph", "ts", "pid", "tid"] {
            assert!(e.get(k).is_some(), "{k} missing in {e}");
        }
    }
    let tracks: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    for kind in ["firmware core ", "NAND channel ", "NAND die ", "PCIe to device"] {
        assert!(
            tracks.iter().any(|n| n.starts_with(kind)),
            "no {kind:?} in {tracks:?}"
        );
    }
    assert!(events.iter().any(|e| e["ph"] == "X" && e["name"] == "program"));
    assert_eq!(t["metadata"]["program"], "ndp serve");
}

#[test]
fn a_bad_trace_path_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("d.img");
    let socket = dir.path().join("s");
    let o = ndp(&[
        "serve",
        "--image",
        image.to_str().unwrap(),
        "--socket",
        socket.to_str().unwrap(),
        "--trace",
        "/nonexistent-dir/t.json",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("trace file /nonexistent-dir/t.json"), "{err}");
    assert!(!socket.exists());
}
