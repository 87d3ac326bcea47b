//! A cluster of separate processes on loopback, as the README spells it out: the tables stored
//! on two device images (`PATH.dev0`, `PATH.dev1`), one `ndp serve` per device, a `scheduler`,
//! one `executor` per node over its node's daemon, and `tpch --scheduler` as the client. Q1 and
//! Q3 in conv and offload give the rows of one process over the same tables; devices out of
//! order are refused; a node's daemon stopped mid-run fails the run naming the node and the
//! daemon's socket, and the next query fails at once naming the socket.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use host_sdk::DeviceProfile;
use yoursql_core::{ScanMode, TpchTable};
use yoursql_filter::session::{run_query, Setup, SetupOptions};
use yoursql_filter::tpch_queries::TPCH;

/// Stops its processes when dropped; keeps their output pipes open until then.
#[derive(Default)]
struct Processes(Vec<Child>, Vec<BufReader<ChildStdout>>);

/// SIGTERM to `c` (it stops cleanly, removing its sockets and work directories); SIGKILL if it
/// still runs after 10 s.
fn stop(c: &mut Child) {
    let pid = c.id() as libc::pid_t;
    // SAFETY: kill(2) on our own child's pid, not yet reaped (so not reused); no memory is
    // involved.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = c.kill();
    let _ = c.wait();
}

impl Drop for Processes {
    /// Stops each, in reverse order of start.
    fn drop(&mut self) {
        for c in self.0.iter_mut().rev() {
            stop(c);
        }
    }
}

impl Processes {
    /// Stops the `i`-th process started (and forgets it).
    fn stop(&mut self, i: usize) {
        stop(&mut self.0.remove(i));
    }

    /// Starts `cmd`, its output ignored.
    fn start(&mut self, cmd: &mut Command) {
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        self.0.push(child);
    }

    /// Starts `cmd` and returns the first line it prints (it prints one when it serves).
    fn start_and_read_line(&mut self, cmd: &mut Command) -> String {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let mut out = BufReader::new(child.stdout.take().unwrap());
        self.0.push(child);
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        self.1.push(out);
        line
    }
}

/// `ndp`, built beside this test's binary (`cargo test --workspace` builds it; built here
/// when only this package's tests were built).
fn ndp() -> PathBuf {
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let ndp = dir.join("ndp");
    if !ndp.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "ndp", "--bin", "ndp"])
            .status()
            .unwrap();
        assert!(status.success(), "building ndp");
    }
    assert!(ndp.exists(), "no ndp at {}", ndp.display());
    ndp
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} did not appear", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `yoursql-cluster tpch` as the client of the two-node cluster at `addr`, given `devices` in
/// this order.
fn client(addr: &str, devices: [&PathBuf; 2]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yoursql-cluster"));
    c.args([
        "tpch",
        "--scheduler",
        addr,
        "--nodes",
        "2",
        "--devices-per-node",
        "1",
    ]);
    for d in devices {
        c.arg("--device").arg(d);
    }
    c
}

#[test]
fn a_cluster_of_processes_answers_as_one_process() {
    let dir = tempfile::TempDir::new().unwrap();
    let image = dir.path().join("tpch.img");
    let module = yoursql_core::build_filter_module(false).unwrap();
    let queries: Vec<_> = TPCH.iter().filter(|q| q.name == "q1" || q.name == "q3").collect();

    // The tables on two images, and one process's answers over them.
    let mut reference = Vec::new();
    {
        let mut o = SetupOptions::new(DeviceProfile::pm1725(), 0.01, &TpchTable::ALL);
        o.module = Some(module);
        o.devices = 2;
        o.image = Some(image.clone());
        let setup = Setup::open(&o).unwrap();
        let rt = yoursql_filter::session::runtime().unwrap();
        for q in &queries {
            for mode in [ScanMode::Conv, ScanMode::Offload] {
                let run = rt.block_on(run_query(&setup, q.sql, mode)).unwrap();
                reference.push((q.name.to_string(), mode.name().to_string(), run.rows));
            }
        }
    }

    let mut procs = Processes::default();
    let ndp = ndp();
    let sockets: Vec<PathBuf> = (0..2).map(|i| dir.path().join(format!("dev{i}.sock"))).collect();
    for (i, socket) in sockets.iter().enumerate() {
        let img = dir.path().join(format!("tpch.img.dev{i}"));
        procs.start(
            Command::new(&ndp)
                .arg("serve")
                .arg("--image")
                .arg(&img)
                .arg("--socket")
                .arg(socket),
        );
    }
    for s in &sockets {
        wait_for(s);
    }
    let bin = env!("CARGO_BIN_EXE_yoursql-cluster");
    let line = procs.start_and_read_line(Command::new(bin).args([
        "scheduler",
        "--listen",
        "127.0.0.1:0",
        "--nodes",
        "2",
    ]));
    let addr = line
        .strip_prefix("scheduler listening on ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected scheduler line: {line}"))
        .to_string();
    for (node, socket) in sockets.iter().enumerate() {
        let line = procs.start_and_read_line(
            Command::new(bin)
                .args([
                    "executor",
                    "--debug-module",
                    "--scheduler",
                    &addr,
                    "--node",
                    &node.to_string(),
                ])
                .arg("--device")
                .arg(socket),
        );
        assert!(
            line.starts_with(&format!("node {node} serving 1 device(s)")),
            "{line}"
        );
    }

    let out = client(&addr, [&sockets[0], &sockets[1]])
        .args(["--queries", "1,3", "--mode", "both", "--json", "--timeout", "300"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), reference.len());
    for (run, (query, mode, rows)) in runs.iter().zip(&reference) {
        assert_eq!(run["query"], query.as_str());
        assert_eq!(run["mode"], mode.as_str());
        let answer: Vec<Vec<String>> = serde_json::from_value(run["answer"].clone()).unwrap();
        assert_eq!(&answer, rows, "{query} {mode}: answers differ from one process's");
        assert!(!answer.is_empty(), "{query} {mode}: no rows");
    }

    // Devices given in the wrong order are refused, naming the part found.
    let out = client(&addr, [&sockets[1], &sockets[0]])
        .args(["--queries", "6"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("holds part 1 of 2") && err.contains("expected part 0 of 2"),
        "{err}"
    );

    // Node 1's daemon stopped while a run of queries is under way: the run fails within a
    // bounded time, naming the node and the device's socket.
    let mut run = client(&addr, [&sockets[0], &sockets[1]])
        .args([
            "--queries",
            "1,3,5,6,9,10,12,14,18,21",
            "--mode",
            "conv",
            "--timeout",
            "120",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(run.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("q1 "), "{first}");
    // The rest of its output is read to the end, so a query that finishes before the daemon
    // stops is printed as usual (a closed pipe would fail the client on its own).
    let rest = std::thread::spawn(move || std::io::read_to_string(stdout));
    let t = Instant::now();
    procs.stop(1);
    let out = run.wait_with_output().unwrap();
    let rest = rest.join().unwrap().unwrap();
    println!("its output after q1: {rest:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    println!(
        "after node 1's daemon stopped mid-run ({:.1} s): {err}",
        t.elapsed().as_secs_f64()
    );
    assert!(!out.status.success(), "the run survived node 1's daemon");
    assert!(err.contains("node 1") && err.contains("dev1.sock"), "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(130),
        "the failure took {:?}",
        t.elapsed()
    );

    // With node 1's daemon gone, the next query fails at once, naming its socket.
    let t = Instant::now();
    let out = client(&addr, [&sockets[0], &sockets[1]])
        .args(["--queries", "6", "--timeout", "60"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a query with node 1's daemon gone succeeded"
    );
    assert!(err.contains("dev1.sock"), "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(60),
        "the failure took {:?}",
        t.elapsed()
    );
}
