//! The host API suite (`suite/`) against `ndp serve` in a child process, plus what only a
//! daemon has: 16 host processes at once, each with its own Application; clients that send
//! garbage; a client killed mid-run (its Application aborted and freed); the socket's
//! permissions and a second daemon refused on a live socket.
//!
//! `harness = false`: this binary is also the host process the tests start (the role is in
//! `NDP_DAEMON_CHILD`), so it runs its checks itself, in order, against one daemon. Filter
//! arguments run only the checks whose names contain one of them, `--skip` leaves some out;
//! `--list` lists them.

mod common;
#[path = "../../host-sdk/tests/suite/mod.rs"]
mod suite;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use host_sdk::{Application, Device};
use ndp_data::baseline;
use ndp_data::gen::text::{generate_vec, TextSpec};
use ndp_protocol::daemon::{self as wire, Hello, Reply, ReplyBody, Welcome, WireErrorKind};

/// The role of a child process: `wordcount:N` or `victim`.
const CHILD_ENV: &str = "NDP_DAEMON_CHILD";
const SOCKET_ENV: &str = "NDP_DAEMON_SOCKET";
const WORDCOUNT_ENV: &str = "NDP_WORDCOUNT_MODULE";
const TESTKIT_ENV: &str = "NDP_TESTKIT_MODULE";
/// Host processes at once.
const CLIENTS: usize = 16;

/// `ndp serve` on a tiny image in a temporary directory; killed on drop.
struct Served {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
    /// Holds `dir` (and the daemon's own temporary files, `TMPDIR` being `dir`) until dropped.
    _tmp: tempfile::TempDir,
}

fn serve(dir: &Path, socket: &Path) -> (Child, ChildStdout) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ndp"))
        .arg("serve")
        .arg("--image")
        .arg(dir.join("dev.img"))
        .arg("--socket")
        .arg(socket)
        .args(["--profile", "tiny"])
        // Small limits, so the limit checks run quickly.
        .args([
            "--hello-timeout",
            "2",
            "--max-reply-bytes",
            "65536",
            "--max-sessions",
            "40",
            "--firmware-timeout",
            "2",
        ])
        // Its staging directory lands in `dir` too, so a killed daemon leaves nothing behind.
        .env("TMPDIR", dir)
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ndp serve starts");
    let stdout = child.stdout.take().expect("piped stdout");
    (child, stdout)
}

impl Served {
    fn start() -> Served {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let socket = dir.join("ndp.sock");
        let (mut child, stdout) = serve(&dir, &socket);
        // The daemon prints its first line once the socket listens.
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        if !line.contains("listening") {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("ndp serve did not start: {line}{err}");
        }
        // Logs go to this process's stderr.
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::stderr()));
        Served {
            child,
            dir,
            socket,
            _tmp: tmp,
        }
    }

    fn device(&self) -> Device {
        Device::connect(&self.socket).expect("connects to ndp serve")
    }

    /// SIGTERM: the daemon stops cleanly and removes its socket.
    fn stop(mut self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child's pid (not yet reaped, so not reused) has no
        // memory effects.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "ndp serve exited with {status} on SIGTERM");
        assert!(!self.socket.exists(), "the socket is left behind");
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn client(&self, role: &str) -> Command {
        let mut c = Command::new(std::env::current_exe().unwrap());
        c.env(CHILD_ENV, role)
            .env(SOCKET_ENV, &self.socket)
            .env(WORDCOUNT_ENV, suite::modules().path("ssdlet-wordcount"))
            .env(TESTKIT_ENV, suite::modules().testkit());
        c
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Check = fn(&mut Served);

const CHECKS: &[(&str, Check)] = &[
    ("socket_is_owner_only", socket_is_owner_only),
    ("wordcount_matches_baseline", |s| {
        suite::wordcount_matches_baseline(&s.device())
    }),
    ("files_round_trip", |s| suite::files_round_trip(&s.device())),
    ("bad_input_typed_errors", |s| {
        suite::bad_input_typed_errors(&s.device())
    }),
    ("host_ports_and_inter_application", |s| {
        suite::host_ports_and_inter_application(&s.device())
    }),
    ("two_threads", |s| suite::two_threads(&s.device())),
    ("conventional_reads", |s| suite::conventional_reads(&s.device())),
    ("logs_reach_the_host", |s| suite::logs_reach_the_host(&s.device())),
    ("a_failure_reaches_the_host_receiver", |s| {
        suite::a_failure_reaches_the_host_receiver(&s.device())
    }),
    ("message_arguments", |s| suite::message_arguments(&s.device())),
    (
        "blocked_recv_holds_no_other_thread_up",
        blocked_recv_holds_no_other_thread_up,
    ),
    ("sixteen_host_processes", sixteen_host_processes),
    (
        "parked_requests_cost_the_daemon_no_thread",
        parked_requests_cost_the_daemon_no_thread,
    ),
    ("a_silent_connection_is_closed", a_silent_connection_is_closed),
    (
        "sessions_beyond_the_limit_are_refused",
        sessions_beyond_the_limit_are_refused,
    ),
    ("sessions_are_isolated", sessions_are_isolated),
    (
        "a_crashing_module_takes_down_only_the_firmware",
        a_crashing_module_takes_down_only_the_firmware,
    ),
    (
        "a_hanging_module_is_stopped_and_the_firmware_restarted",
        a_hanging_module_is_stopped_and_the_firmware_restarted,
    ),
    (
        "a_module_cannot_escape_the_firmware_filter",
        a_module_cannot_escape_the_firmware_filter,
    ),
    (
        "unread_replies_keep_the_daemon_bounded",
        unread_replies_keep_the_daemon_bounded,
    ),
    (
        "garbage_clients_get_typed_errors",
        garbage_clients_get_typed_errors,
    ),
    ("killed_client_is_cleaned_up", killed_client_is_cleaned_up),
    (
        "second_daemon_on_a_live_socket_is_refused",
        second_daemon_on_a_live_socket_is_refused,
    ),
    ("ndp_commands_over_the_socket", ndp_commands_over_the_socket),
    ("round_trip_figures", round_trip_figures),
];

fn main() {
    if let Ok(role) = std::env::var(CHILD_ENV) {
        child(&role);
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    // libtest's arguments as cargo test and cargo nextest pass them: filters, `--skip
    // PATTERN`, `--exact`, `--list`, `--ignored` (no check here is ignored); other options
    // (and their values) are accepted and ignored.
    let (mut filters, mut skips) = (Vec::new(), Vec::new());
    let (mut list, mut exact, mut ignored_only) = (false, false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--skip" => skips.extend(it.next()),
            "--list" => list = true,
            "--exact" => exact = true,
            "--ignored" => ignored_only = true,
            "--test-threads" | "--format" | "--color" | "--logfile" | "--shuffle-seed" | "-Z" => {
                it.next();
            }
            _ if a.starts_with('-') => {}
            _ => filters.push(a),
        }
    }
    let matches = |name: &str, pattern: &str| {
        if exact {
            name == pattern
        } else {
            name.contains(pattern)
        }
    };
    let chosen: Vec<_> = CHECKS
        .iter()
        .filter(|_| !ignored_only)
        .filter(|(n, _)| filters.is_empty() || filters.iter().any(|f| matches(n, f)))
        .filter(|(n, _)| !skips.iter().any(|s| matches(n, s)))
        .collect();
    if list {
        for (name, _) in &chosen {
            println!("{name}: test");
        }
        return;
    }
    if chosen.is_empty() {
        println!("running 0 tests");
        return;
    }
    suite::modules();
    let mut served = Served::start();
    println!("running {} tests against ndp serve", chosen.len());
    for (name, check) in &chosen {
        println!("test {name} ...");
        check(&mut served);
        assert!(served.alive(), "the daemon died during {name}");
        println!("test {name} ... ok");
    }
    suite::still_serving(&served.device(), 10);
    served.stop();
    println!("test result: ok. {} passed", chosen.len());
}

/// A client process.
fn child(role: &str) {
    let socket = std::env::var(SOCKET_ENV).expect("socket in the environment");
    let dev = Device::connect(&socket).expect("connects to ndp serve");
    match role.split_once(':') {
        Some(("wordcount", n)) => {
            let n: u64 = n.parse().expect("client number");
            let text = generate_vec(&TextSpec::new(30_000, 1000 + n));
            let name = format!("proc-{n}.txt");
            dev.put_bytes(&name, &text).unwrap();
            let module = PathBuf::from(std::env::var(WORDCOUNT_ENV).unwrap());
            let got = suite::device_word_count_with(&dev, &module, &name).unwrap();
            assert_eq!(got, baseline::word_count(&text), "client {n}: wrong word counts");
            dev.remove_file(&name).unwrap();
            println!("client {n}: {} distinct words, correct", got.len());
        }
        _ if role == "victim" => {
            let m = dev.load_module(std::env::var(TESTKIT_ENV).unwrap()).unwrap();
            let app = Application::with_config(&dev, "victim", Default::default());
            let echo = app.ssdlet(&m, "echo", ()).unwrap();
            let tx = app.connect_from::<u64>(echo.input(0)).unwrap();
            let mut rx = app.connect_to::<u64>(echo.out(0)).unwrap();
            app.start().unwrap();
            tx.put(&7).unwrap();
            assert_eq!(rx.get(), Some(7));
            println!("READY");
            std::io::stdout().flush().unwrap();
            // Parked in a blocking Recv until the parent kills this process.
            let next = rx.get();
            panic!("the victim was not killed (got {next:?})");
        }
        _ => panic!("unknown child role `{role}`"),
    }
}

fn socket_is_owner_only(s: &mut Served) {
    let mode = std::fs::metadata(&s.socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");
}

/// One thread parks in a `Recv` on a clone of the device; another uses the same connection
/// meanwhile, then feeds the first.
fn blocked_recv_holds_no_other_thread_up(s: &mut Served) {
    let dev = s.device();
    let m = dev.load_module(suite::modules().testkit()).unwrap();
    let app = Application::new(&dev);
    let echo = app.ssdlet(&m, "echo", ()).unwrap();
    let tx = app.connect_from::<u64>(echo.input(0)).unwrap();
    let mut rx = app.connect_to::<u64>(echo.out(0)).unwrap();
    app.start().unwrap();
    let waiter = std::thread::spawn(move || rx.by_ref().collect::<Vec<u64>>());
    let other = dev.with_own_clock();
    other
        .put_bytes("blocked-side.txt", b"while another thread waits\n")
        .unwrap();
    assert_eq!(
        other.get_bytes("blocked-side.txt").unwrap(),
        b"while another thread waits\n"
    );
    other.remove_file("blocked-side.txt").unwrap();
    tx.put_all(&[5, 6]).unwrap();
    tx.close().unwrap();
    assert_eq!(waiter.join().unwrap(), vec![5, 6]);
    app.wait().unwrap();
    dev.unload_module(m).unwrap();
}

/// A client parks 600 blocking `Recv`s (more than tokio's 512 blocking threads), each from a
/// thread of its own on one session: another session's file commands are still answered at once,
/// and the parked ones end with the stream.
fn parked_requests_cost_the_daemon_no_thread(s: &mut Served) {
    const PARKED: usize = 600;
    let dev = s.device();
    let m = dev.load_module(suite::modules().testkit()).unwrap();
    let app = Application::new(&dev);
    let echo = app.ssdlet(&m, "echo", ()).unwrap();
    let tx = app.connect_from::<u64>(echo.input(0)).unwrap();
    let rx = app.connect_to::<u64>(echo.out(0)).unwrap();
    app.start().unwrap();
    let recv = ndp_protocol::IscRequest::Recv {
        port: rx.port(),
        max: 1,
        block: true,
    }
    .to_command()
    .unwrap();
    let parked: Vec<_> = (0..PARKED)
        .map(|_| {
            let (d, cmd) = (dev.clone(), recv.clone());
            std::thread::Builder::new()
                .stack_size(64 << 10)
                .spawn(move || d.submit(cmd))
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    served_at_once(s, "parked-side.txt");
    // The stream ends: every parked Recv is answered (ended).
    tx.close().unwrap();
    for p in parked {
        p.join().unwrap().unwrap();
    }
    drop(rx);
    app.wait().unwrap();
    dev.unload_module(m).unwrap();
}

/// A connection that never says hello is refused (`Limit`) and closed after `--hello-timeout`
/// (2 s here).
fn a_silent_connection_is_closed(s: &mut Served) {
    let t = Instant::now();
    let mut c = raw(s);
    assert_eq!(rejected(&mut c), WireErrorKind::Limit);
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(30),
        "closed after {waited:?}"
    );
}

/// 45 connections against `--max-sessions 40`: the ones past the limit get a `Limit` rejection
/// naming it; once they close, a new session is served.
fn sessions_beyond_the_limit_are_refused(s: &mut Served) {
    let (mut accepted, mut refused) = (Vec::new(), 0);
    for _ in 0..45 {
        let mut c = raw(s);
        wire::write_frame(&mut c, &Hello::current()).unwrap();
        match wire::read_frame::<Welcome>(&mut c).unwrap() {
            Welcome::Accepted { .. } => accepted.push(c),
            Welcome::Rejected(e) => {
                assert_eq!(e.kind, WireErrorKind::Limit, "{e:?}");
                assert!(e.message.contains("at most 40 sessions"), "{}", e.message);
                refused += 1;
            }
        }
    }
    assert!(
        accepted.len() <= 40 && refused >= 5,
        "{} accepted, {refused} refused",
        accepted.len()
    );
    drop(accepted);
    std::thread::sleep(Duration::from_millis(300));
    s.device().list_files().unwrap();
}

/// One raw command on a raw session: its reply.
fn submit_raw(c: &mut UnixStream, id: u64, cmd: sim_nvme::nvme::Command) -> ReplyBody {
    let body = wire::RequestBody::Submit {
        cmd,
        at: sim_nvme::SimTime::ZERO,
    };
    wire::write_frame(c, &wire::Request { id, body }).unwrap();
    let reply = wire::read_frame::<Reply>(c).unwrap();
    assert_eq!(reply.id, id);
    reply.body
}

fn forbidden(body: ReplyBody, want: &str) {
    match body {
        ReplyBody::Failed(e) => {
            assert_eq!(e.kind, WireErrorKind::Forbidden, "{e:?}");
            assert!(
                e.message.contains(want) && e.message.contains("expected"),
                "{}",
                e.message
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Session B cannot abort, wait for or report session A's Application, unload its module, delete
/// the shared I/O queue, write the file table or load a module by path; A and everyone else
/// keep working.
fn sessions_are_isolated(s: &mut Served) {
    use ndp_protocol::{IscRequest, IscResponse};
    use sim_nvme::nvme::Command as Nvme;
    let (mut a, mut b) = (raw(s), raw(s));
    hello(&mut a);
    hello(&mut b);
    let create = IscRequest::CreateApp {
        name: "a's".into(),
        config: Default::default(),
    };
    let app = match submit_raw(&mut a, 1, create.to_command().unwrap()) {
        ReplyBody::Completion(c) => match ndp_protocol::response_of(&c.into()).unwrap() {
            IscResponse::App(app) => app,
            other => panic!("expected an Application, got {other:?}"),
        },
        other => panic!("expected a completion, got {other:?}"),
    };
    let not_b = "was not created by this session";
    forbidden(
        submit_raw(&mut b, 7, IscRequest::Start { app }.to_command().unwrap()),
        not_b,
    );
    let recv = IscRequest::Recv {
        port: ndp_protocol::ReceiverId(1),
        max: 1,
        block: false,
    };
    forbidden(
        submit_raw(&mut b, 8, recv.to_command().unwrap()),
        "was not opened by this session",
    );
    forbidden(
        submit_raw(&mut b, 1, IscRequest::Abort { app }.to_command().unwrap()),
        not_b,
    );
    forbidden(
        submit_raw(&mut b, 2, IscRequest::Report { app }.to_command().unwrap()),
        not_b,
    );
    let wait = IscRequest::Wait { app, block: false };
    forbidden(submit_raw(&mut b, 3, wait.to_command().unwrap()), not_b);
    let unload = IscRequest::UnloadModule {
        module: ndp_protocol::ModuleId(1),
    };
    forbidden(
        submit_raw(&mut b, 4, unload.to_command().unwrap()),
        "was not loaded by this session",
    );
    forbidden(
        submit_raw(&mut b, 5, Nvme::DeleteIoQueue { qid: 1 }),
        "queue management",
    );
    let table = Nvme::Write {
        nsid: 1,
        lba: sim_nvme::Lba(64),
        data: vec![0; 4096],
    };
    forbidden(submit_raw(&mut b, 6, table), "metadata region");
    // No file of the daemon's machine is read as a module (nor its first bytes told).
    let by_path = IscRequest::LoadModule {
        source: ndp_protocol::ModuleSource::Path("/etc/passwd".into()),
    };
    forbidden(
        submit_raw(&mut b, 9, by_path.to_command().unwrap()),
        "module path `/etc/passwd`",
    );
    // A still owns its Application; everyone else is still served.
    match submit_raw(&mut a, 2, IscRequest::Abort { app }.to_command().unwrap()) {
        ReplyBody::Completion(_) => {}
        other => panic!("A could not abort its own Application: {other:?}"),
    }
    suite::files_round_trip(&s.device());
}

/// A new session puts, reads back and removes file `name` within 5 s: the daemon is not held up.
fn served_at_once(s: &Served, name: &str) {
    let t = Instant::now();
    let other = s.device();
    other.put_bytes(name, b"served\n").unwrap();
    assert_eq!(other.get_bytes(name).unwrap(), b"served\n");
    other.remove_file(name).unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "took {:?}", t.elapsed());
}

/// A new session lists files within `limit` (the firmware may be restarting).
fn served_again_within(s: &Served, limit: Duration) {
    let t = Instant::now();
    loop {
        match Device::connect(&s.socket).and_then(|d| d.list_files()) {
            Ok(_) => return,
            Err(e) if t.elapsed() < limit => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("not served again within {limit:?}: {e}"),
        }
    }
}

/// Runs SSDlet `id` of the testkit in a new Application of `dev`, which never ends well: the
/// error its start or its wait gets.
fn run_testkit_to_failure(dev: &Device, id: &str) -> String {
    let m = dev.load_module(suite::modules().testkit()).unwrap();
    let app = Application::new(dev);
    app.ssdlet(&m, id, ()).unwrap();
    match app.start() {
        Err(e) => e.to_string(),
        Ok(()) => app.wait().unwrap_err().to_string(),
    }
}

/// A module that aborts kills only the firmware child: its session and another open one are
/// told the signal, the daemon keeps serving, a new session is served from the image again.
fn a_crashing_module_takes_down_only_the_firmware(s: &mut Served) {
    let other = s.device();
    other.put_bytes("before-crash.txt", b"flushed\n").unwrap();
    let dev = s.device();
    let err = run_testkit_to_failure(&dev, "crash");
    assert!(err.contains("signal 6 (SIGABRT)"), "{err}");
    let err = other.list_files().unwrap_err().to_string();
    assert!(
        err.contains("signal 6 (SIGABRT)") && err.contains("restarts from its image"),
        "{err}"
    );
    served_again_within(s, Duration::from_secs(10));
    assert_eq!(s.device().get_bytes("before-crash.txt").unwrap(), b"flushed\n");
    s.device().remove_file("before-crash.txt").unwrap();
}

/// A module that spins without yielding hangs the firmware: the health check stops it after
/// `--firmware-timeout` (2 s here) without progress, the firmware stops itself, the sessions
/// are told, the daemon serves again.
fn a_hanging_module_is_stopped_and_the_firmware_restarted(s: &mut Served) {
    let t = Instant::now();
    let dev = s.device();
    let err = run_testkit_to_failure(&dev, "spin");
    assert!(err.contains("without yielding"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(30), "took {:?}", t.elapsed());
    served_again_within(s, Duration::from_secs(10));
}

/// A module's attempts at what the firmware's system-call filter refuses (programs, processes,
/// network, signals to others, tracing) all fail with EPERM under `ndp serve`, and the daemon
/// keeps serving; the same module on an embedded device (no filter) gets each call's own answer,
/// so the check can tell.
fn a_module_cannot_escape_the_firmware_filter(s: &mut Served) {
    let under = run_testkit_to_failure(&s.device(), "escape");
    for probe in ["execve", "clone", "socket(AF_INET)", "kill(parent)", "ptrace"] {
        let got = under
            .split(&format!("{probe}: "))
            .nth(1)
            .unwrap_or_else(|| panic!("no {probe} in {under}"));
        assert!(
            got.starts_with("Operation not permitted (os error 1)"),
            "{probe}: {under}"
        );
    }
    let embedded = Device::embedded(host_sdk::DeviceProfile::tiny(), host_sdk::ImageSpec::Memory).unwrap();
    let free = run_testkit_to_failure(&embedded, "escape");
    assert!(free.contains("execve: No such file or directory"), "{free}");
    assert!(free.contains("clone: Invalid argument"), "{free}");
    suite::still_serving(&s.device(), 3);
}

/// The firmware child's resident memory, in KiB (the supervisor only relays bytes).
fn rss_kib(s: &Served) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", common::firmware_pid(s.child.id()))).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A client floods `Status` requests and never reads a reply: the daemon stops reading it once
/// its queued replies and outstanding commands reach their limits, its memory stays bounded,
/// and another session is served at once meanwhile.
fn unread_replies_keep_the_daemon_bounded(s: &mut Served) {
    // Some clean-up records make each status reply a few KiB.
    for _ in 0..3 {
        let d = s.device();
        let m = d.load_module(suite::modules().testkit()).unwrap();
        let app = Application::new(&d);
        app.ssdlet(&m, "echo", ()).unwrap();
        drop(d);
    }
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_kib(s);
    let mut c = raw(s);
    hello(&mut c);
    let mut w = c.try_clone().unwrap();
    let flood = std::thread::spawn(move || {
        let mut sent = 0u64;
        for id in 1..=200_000u64 {
            let req = wire::Request {
                id,
                body: wire::RequestBody::Status,
            };
            if wire::write_frame(&mut w, &req).is_err() {
                break;
            }
            sent += 1;
        }
        sent
    });
    std::thread::sleep(Duration::from_secs(2));
    served_at_once(s, "flood-side.txt");
    let grown = rss_kib(s).saturating_sub(before);
    // 64 KiB of queued replies, 1024 outstanding replies of a few KiB, the socket buffers.
    assert!(grown < 64 * 1024, "the daemon grew by {grown} KiB");
    c.shutdown(std::net::Shutdown::Both).unwrap();
    let sent = flood.join().unwrap();
    assert!(
        sent < 200_000,
        "the daemon read every request of a client that reads nothing"
    );
    drop(c);
}

/// 16 host processes at once, each putting its own input and running its own wordcount.
fn sixteen_host_processes(s: &mut Served) {
    let t = Instant::now();
    let children: Vec<(usize, Child)> = (0..CLIENTS)
        .map(|i| {
            let c = s
                .client(&format!("wordcount:{i}"))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("client process starts");
            (i, c)
        })
        .collect();
    for (i, c) in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "client {i} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("correct"));
    }
    let left = s.device().list_files().unwrap();
    assert!(!left.iter().any(|f| f.name.starts_with("proc-")), "{left:?}");
    println!(
        "figure: {CLIENTS} host processes (start, put 30 kB, wordcount, check, exit) in {:.2} s wall",
        t.elapsed().as_secs_f64()
    );
}

fn raw(s: &Served) -> UnixStream {
    let c = UnixStream::connect(&s.socket).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    c
}

/// Reads the daemon's answer, then expects the connection closed (a reset if the daemon
/// left bytes of ours unread).
fn answer_then_eof<T: serde::de::DeserializeOwned>(c: &mut UnixStream) -> T {
    let msg = wire::read_frame::<T>(c).expect("the daemon answers before closing");
    match wire::read_frame::<Reply>(c) {
        Err(wire::FrameError::Closed) => {}
        Err(wire::FrameError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the daemon to close the connection, got {other:?}"),
    }
    msg
}

fn rejected(c: &mut UnixStream) -> WireErrorKind {
    match answer_then_eof::<Welcome>(c) {
        Welcome::Rejected(e) => {
            assert!(!e.message.is_empty());
            e.kind
        }
        other => panic!("expected a rejected hello, got {other:?}"),
    }
}

fn closing(c: &mut UnixStream) -> WireErrorKind {
    match answer_then_eof::<Reply>(c) {
        Reply {
            id: 0,
            body: ReplyBody::Closing(e),
        } => e.kind,
        other => panic!("expected a closing reply, got {other:?}"),
    }
}

fn hello(c: &mut UnixStream) {
    wire::write_frame(c, &Hello::current()).unwrap();
    match wire::read_frame::<Welcome>(c).unwrap() {
        Welcome::Accepted { .. } => {}
        other => panic!("expected a session, got {other:?}"),
    }
}

/// Garbage before and after the hello, a wrong version and a wrong magic: typed errors,
/// that connection closed, the daemon still serving a session opened before them.
fn garbage_clients_get_typed_errors(s: &mut Served) {
    let before = s.device();

    let mut c = raw(s);
    c.write_all(b"GET / HTTP/1.1\r\nHost: ndp\r\n\r\n").unwrap();
    assert_eq!(rejected(&mut c), WireErrorKind::Oversized);

    let mut c = raw(s);
    let old = Hello {
        magic: *b"NDPD",
        version: 99,
    };
    wire::write_frame(&mut c, &old).unwrap();
    assert_eq!(rejected(&mut c), WireErrorKind::Version);

    let mut c = raw(s);
    wire::write_frame(
        &mut c,
        &Hello {
            magic: *b"HTTP",
            version: 1,
        },
    )
    .unwrap();
    assert_eq!(rejected(&mut c), WireErrorKind::Malformed);

    let mut c = raw(s);
    hello(&mut c);
    c.write_all(&[6, 0, 0, 0, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa])
        .unwrap();
    assert_eq!(closing(&mut c), WireErrorKind::Malformed);

    let mut c = raw(s);
    hello(&mut c);
    c.write_all(&u32::MAX.to_le_bytes()).unwrap();
    assert_eq!(closing(&mut c), WireErrorKind::Oversized);

    // A client that vanishes inside a frame.
    let mut c = raw(s);
    hello(&mut c);
    c.write_all(&[100, 0, 0, 0, 1, 2, 3]).unwrap();
    drop(c);

    suite::still_serving(&before, 20);
    suite::still_serving(&s.device(), 20);
}

/// A client process killed while parked in a `Recv`: the daemon aborts its Application (its
/// DRAM released) and keeps serving.
fn killed_client_is_cleaned_up(s: &mut Served) {
    let mut victim = s
        .client("victim")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(victim.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "READY", "the victim did not start its Application");
    victim.kill().unwrap();
    victim.wait().unwrap();

    // The clean-up runs when the daemon sees the connection close; wait for its record.
    let dev = s.device();
    let deadline = Instant::now() + Duration::from_secs(120);
    let cleanup = loop {
        let status = dev.daemon_status().unwrap();
        if let Some(c) = status
            .cleanups
            .iter()
            .find(|c| c.report.as_ref().is_ok_and(|r| r.app == "victim"))
        {
            break c.clone();
        }
        assert!(Instant::now() < deadline, "no clean-up of the victim: {status:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let report = cleanup.report.unwrap();
    assert!(report.done, "{report:?}");
    let error = report.error.clone().unwrap_or_default();
    assert!(error.contains("aborted"), "{report:?}");
    assert_eq!(report.dram_held, 0, "{report:?}");
    let status = dev.daemon_status().unwrap();
    assert!(
        !status.sessions.iter().any(|x| x.id == cleanup.session),
        "the victim's session is still open: {status:?}"
    );
    suite::still_serving(&dev, 30);
}

/// A second `ndp serve` on the same socket exits with an error; the first keeps serving.
fn second_daemon_on_a_live_socket_is_refused(s: &mut Served) {
    // The same image too: the second daemon must refuse before it opens it.
    let (mut child, _) = serve(&s.dir, &s.socket);
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!status.success());
    assert!(err.contains("already serving"), "{err}");
    suite::still_serving(&s.device(), 10);
}

fn ndp(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ndp"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("ndp runs")
}

fn ok(o: std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// `ndp put | ls | get | rm | status` with `--socket`, `--json` output, and a refusal.
fn ndp_commands_over_the_socket(s: &mut Served) {
    let sock = s.socket.to_str().unwrap().to_owned();
    let src = s.dir.join("cli-in.txt");
    std::fs::write(&src, "over the socket\n").unwrap();
    let put: serde_json::Value = serde_json::from_str(&ok(ndp(&[
        "put",
        "--socket",
        &sock,
        "--json",
        src.to_str().unwrap(),
        "cli.txt",
    ])))
    .unwrap();
    assert_eq!(put, serde_json::json!({ "name": "cli.txt", "size": 16 }));
    let ls: serde_json::Value = serde_json::from_str(&ok(ndp(&["ls", "--socket", &sock, "--json"]))).unwrap();
    assert!(
        ls.as_array()
            .unwrap()
            .contains(&serde_json::json!({ "name": "cli.txt", "size": 16, "owner": null, "shared": false })),
        "{ls}"
    );
    let back = s.dir.join("cli-back.txt");
    ok(ndp(&[
        "get",
        "--socket",
        &sock,
        "cli.txt",
        back.to_str().unwrap(),
    ]));
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "over the socket\n");
    ok(ndp(&["rm", "--socket", &sock, "cli.txt"]));
    let gone = ndp(&["rm", "--socket", &sock, "cli.txt"]);
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains("no file `cli.txt`"));
    let status: serde_json::Value =
        serde_json::from_str(&ok(ndp(&["status", "--socket", &sock, "--json"]))).unwrap();
    assert_eq!(status["profile"], "tiny", "{status}");
    // The daemon holds its image: an embedded device on it is refused.
    let image = s.dir.join("dev.img");
    let busy = ndp(&["ls", "--image", image.to_str().unwrap(), "--profile", "tiny"]);
    assert!(!busy.status.success());
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("in use"),
        "{busy:?}"
    );
    let missing = ndp(&["ls", "--socket", s.dir.join("none.sock").to_str().unwrap()]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot connect"));
}

/// Wall-clock cost of one request over the daemon and on an embedded device (printed, not
/// asserted: speed is not a test's business), and the same answers from both.
fn round_trip_figures(s: &mut Served) {
    const N: u32 = 500;
    let remote = s.device();
    let embedded = Device::embedded(host_sdk::DeviceProfile::tiny(), host_sdk::ImageSpec::Memory).unwrap();
    for dev in [&remote, &embedded] {
        dev.put_bytes("rt-figure.txt", b"figure\n").unwrap();
    }
    let mut per_call = Vec::new();
    for dev in [&remote, &embedded] {
        let t = Instant::now();
        for _ in 0..N {
            assert_eq!(dev.file_info("rt-figure.txt").unwrap().size, 7);
        }
        per_call.push(t.elapsed().as_secs_f64() * 1e6 / f64::from(N));
        dev.remove_file("rt-figure.txt").unwrap();
    }
    println!(
        "figure: FileList round trip {:.1} us over ndp serve, {:.1} us embedded (wall, {N} calls)",
        per_call[0], per_call[1]
    );
}
