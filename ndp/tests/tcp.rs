//! `ndp serve --listen 127.0.0.1:0 --token-file FILE`: the host API over TCP with the right
//! token (wordcount and files, as over the Unix socket); a wrong token, no token, a closed port
//! and a node that never answers give clear errors within a bounded time; a token file others
//! can read is refused at start; the firmware child stops when its supervisor is killed.
//! Files belong to tenants: a TCP client (the token's tenant) can neither read, list, overwrite,
//! remove nor reach by raw NVMe the device owner's files until they are shared, and then only
//! read them.

mod common;
#[path = "../../host-sdk/tests/suite/mod.rs"]
mod suite;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use host_sdk::daemon::WireErrorKind;
use host_sdk::{Device, Error};
use ndp_protocol::daemon::{self as wire, Hello, Welcome};

const TOKEN: &str = "correct horse battery staple";

/// `ndp serve` on a tiny image with a TCP listener on a free loopback port; stopped on drop.
struct Served {
    child: Child,
    addr: String,
    _tmp: tempfile::TempDir,
}

impl Served {
    fn socket(&self) -> std::path::PathBuf {
        self._tmp.path().join("ndp.sock")
    }
}

fn token_file(dir: &Path, mode: u32) -> std::path::PathBuf {
    let path = dir.join("token");
    std::fs::write(&path, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn serve_cmd(dir: &Path, token: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ndp"));
    c.arg("serve")
        .arg("--image")
        .arg(dir.join("dev.img"))
        .arg("--socket")
        .arg(dir.join("ndp.sock"))
        .args([
            "--profile",
            "tiny",
            "--listen",
            "127.0.0.1:0",
            "--hello-timeout",
            "2",
        ])
        .arg("--token-file")
        .arg(token)
        .env("TMPDIR", dir);
    c
}

impl Served {
    fn start() -> Served {
        Served::start_with(&[])
    }

    /// `ndp serve` with `extra` arguments.
    fn start_with(extra: &[&str]) -> Served {
        let tmp = tempfile::tempdir().unwrap();
        let token = token_file(tmp.path(), 0o600);
        let mut child = serve_cmd(tmp.path(), &token)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ndp serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .rsplit_once("tcp://")
            .unwrap_or_else(|| panic!("no tcp address in {line:?}"))
            .1
            .to_owned();
        Served {
            child,
            addr,
            _tmp: tmp,
        }
    }
}

impl Drop for Served {
    /// SIGTERM: the daemon stops its firmware child and itself.
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return; // already reaped
        }
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child's pid (not yet reaped, so not reused) has no
        // memory effects.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

#[test]
fn the_host_api_works_over_tcp_with_the_token() {
    // Modules from a TCP client: the daemon must be told to take them.
    let s = Served::start_with(&["--tenant-modules"]);
    let dev = Device::connect_tcp(&s.addr, TOKEN).expect("connects over tcp");
    suite::files_round_trip(&dev);
    suite::wordcount_matches_baseline(&dev);
    assert_eq!(dev.daemon_status().unwrap().sessions.len(), 1);
}

#[test]
fn a_wrong_or_missing_token_is_refused_and_nothing_is_served() {
    let s = Served::start();
    let t = Instant::now();
    match Device::connect_tcp(&s.addr, "guess") {
        Err(Error::Daemon {
            kind,
            message,
            endpoint,
        }) => {
            assert_eq!(kind, WireErrorKind::Unauthorized);
            assert!(message.contains("wrong token"), "{message}");
            assert!(endpoint.contains(&s.addr), "{endpoint}");
        }
        Err(e) => panic!("expected Unauthorized, got {e}"),
        Ok(_) => panic!("a wrong token was accepted"),
    }
    assert!(t.elapsed() < Duration::from_secs(5));

    // A plain hello with no token first: refused, and no session was opened.
    let mut c = std::net::TcpStream::connect(&s.addr).unwrap();
    wire::write_frame(&mut c, &Hello::current()).unwrap();
    match wire::read_frame::<Welcome>(&mut c).unwrap() {
        Welcome::Rejected(e) => assert_eq!(e.kind, WireErrorKind::Unauthorized, "{e}"),
        other => panic!("a hello without a token was answered {other:?}"),
    }
    // Silence: closed after the hello timeout (2 s), with a reason.
    let mut c = std::net::TcpStream::connect(&s.addr).unwrap();
    let t = Instant::now();
    match wire::read_frame::<Welcome>(&mut c).unwrap() {
        Welcome::Rejected(e) => assert!(e.message.contains("no token"), "{e}"),
        other => panic!("a silent connection was answered {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(10));
    // Garbage: refused too.
    let mut c = std::net::TcpStream::connect(&s.addr).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    let dev = Device::connect_tcp(&s.addr, TOKEN).unwrap();
    assert_eq!(
        dev.daemon_status().unwrap().sessions.len(),
        1,
        "only this session is open"
    );
}

#[test]
fn a_closed_port_and_a_silent_node_fail_within_bounded_time() {
    // A port nobody listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap().to_string();
    drop(free);
    let t = Instant::now();
    match Device::connect_tcp(&addr, TOKEN) {
        Err(Error::Connect { endpoint, .. }) => assert!(endpoint.contains(&addr)),
        Err(e) => panic!("expected a connect error, got {e}"),
        Ok(_) => panic!("connected to a closed port"),
    }
    assert!(t.elapsed() < Duration::from_secs(5));
    // A node that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let t = Instant::now();
    match Device::connect_tcp_within(&addr, TOKEN, Duration::from_secs(1)) {
        Err(e @ Error::Connect { .. }) => {
            assert!(e.to_string().contains("no welcome"), "{e}");
            assert!(e.to_string().contains(&addr), "{e}");
        }
        Err(e) => panic!("expected a connect error, got {e}"),
        Ok(_) => panic!("a silent node gave a session"),
    }
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    drop(silent);
}

#[test]
fn a_token_file_others_can_read_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let token = token_file(tmp.path(), 0o644);
    let out = serve_cmd(tmp.path(), &token).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("readable by group or others") && err.contains("chmod 600"),
        "{err}"
    );
    // --listen without a token file is a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_ndp"))
        .args([
            "serve",
            "--image",
            "x.img",
            "--socket",
            "x.sock",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--token-file"));
}

/// A firmware child whose supervisor is killed outright stops by itself (it does not keep
/// serving a socket nobody relays to).
#[test]
fn the_firmware_stops_when_its_supervisor_is_killed() {
    let mut s = Served::start();
    let sup = s.child.id();
    let firmware = common::firmware_pid(sup);
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let t = Instant::now();
    let running = || {
        std::fs::read_to_string(format!("/proc/{firmware}/stat"))
            .is_ok_and(|st| st.split_whitespace().nth(2).is_none_or(|state| state != "Z"))
    };
    while running() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !running(),
        "the firmware child {firmware} still runs {:?} after its supervisor died",
        t.elapsed()
    );
}

/// The first LBA of device file `name`, from the table as the device owner reads it.
fn first_lba(owner: &Device, name: &str) -> u64 {
    use ndp_protocol::filetable::{FileTable, TABLE_BLOCKS};
    use sim_nvme::nvme::{Command, Payload};
    let mut copies = Vec::new();
    for copy in 0..2 {
        let c = owner
            .submit(Command::Read {
                nsid: 1,
                lba: sim_nvme::Lba(copy * TABLE_BLOCKS),
                blocks: 1, // a table of two files fits its first block
            })
            .unwrap();
        let Payload::Data(d) = c.payload else {
            panic!("a read returns data")
        };
        copies.push(d);
    }
    let (_, table) = FileTable::from_copies([&copies[0], &copies[1]]).unwrap();
    table.files[name].extents[0].start.0
}

#[test]
fn files_belong_to_their_tenant_until_shared_and_then_only_for_reading() {
    use ndp_protocol::{ErrorKind, Tenant};
    use sim_nvme::nvme::Command;
    let s = Served::start();
    let owner = Device::connect(s.socket()).expect("the daemon's own user connects");
    assert_eq!(owner.tenant(), None, "the daemon's own user is the device owner");
    owner.put_bytes("owner.txt", b"the owner's words\n").unwrap();
    let guest = Device::connect_tcp(&s.addr, TOKEN).expect("connects over tcp");
    assert_eq!(guest.tenant(), Some(Tenant::Token));
    let forbidden = |r: Result<(), Error>, what: &str| match r {
        Err(e) if e.kind() == Some(ErrorKind::Forbidden) => {
            let msg = e.to_string();
            assert!(
                msg.contains("owner.txt") && msg.contains("device owner"),
                "{what}: {msg}"
            );
        }
        Err(Error::Daemon {
            kind: WireErrorKind::Forbidden,
            message,
            ..
        }) => assert!(message.contains("LBAs"), "{what}: {message}"),
        other => panic!("{what}: expected a refusal naming the file or its blocks, got {other:?}"),
    };

    // Not shared: invisible and untouchable.
    let names = |d: &Device| {
        d.list_files()
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect::<Vec<_>>()
    };
    assert!(!names(&guest).contains(&"owner.txt".to_string()));
    let unknown = |r: Result<Vec<u8>, Error>, what: &str| {
        assert!(matches!(r, Err(Error::UnknownFile { .. })), "{what}: {r:?}");
    };
    unknown(guest.get_bytes("owner.txt"), "get");
    forbidden(guest.remove_file("owner.txt"), "remove");
    forbidden(guest.share_file("owner.txt", true), "share");
    forbidden(
        guest.put_bytes("owner.txt", b"overwritten").map(drop),
        "put over it",
    );
    assert!(
        matches!(guest.host_file("owner.txt"), Err(Error::UnknownFile { .. })),
        "the table a tenant reads over NVMe holds only its files"
    );
    let lba = first_lba(&owner, "owner.txt");
    let read = Command::Read {
        nsid: 1,
        lba: sim_nvme::Lba(lba),
        blocks: 1,
    };
    forbidden(guest.submit(read.clone()).map(drop), "raw read");
    let write = Command::Write {
        nsid: 1,
        lba: sim_nvme::Lba(lba),
        data: vec![0xAB; 4096],
    };
    forbidden(guest.submit(write.clone()).map(drop), "raw write");
    assert_eq!(
        owner.get_bytes("owner.txt").unwrap(),
        b"the owner's words\n",
        "nothing changed"
    );

    // The guest's own file: its to use, raw blocks too; the device owner sees it.
    let info = guest.put_bytes("guest.txt", b"the guest's words\n").unwrap();
    assert_eq!(info.owner, Some(Tenant::Token));
    let listed = guest.list_files().unwrap();
    let mine = listed.iter().find(|f| f.name == "guest.txt").expect("listed");
    assert_eq!((mine.owner, mine.shared), (Some(Tenant::Token), false));
    let hf = guest
        .host_file("guest.txt")
        .expect("its own file through the table");
    assert_eq!(hf.read_all(Default::default()).unwrap(), b"the guest's words\n");
    assert!(names(&owner).contains(&"guest.txt".to_string()));

    // Shared: readable, by name and by blocks, and still not the guest's to change.
    owner.share_file("owner.txt", true).unwrap();
    assert_eq!(guest.get_bytes("owner.txt").unwrap(), b"the owner's words\n");
    let hf = guest
        .host_file("owner.txt")
        .expect("shared files are in the tenant's table");
    assert_eq!(hf.read_all(Default::default()).unwrap(), b"the owner's words\n");
    guest.submit(read).expect("a shared file's blocks may be read");
    forbidden(guest.submit(write).map(drop), "raw write to a shared file");
    forbidden(guest.remove_file("owner.txt"), "remove a shared file");
    forbidden(guest.share_file("owner.txt", false), "unshare");
    owner.share_file("owner.txt", false).unwrap();
    unknown(guest.get_bytes("owner.txt"), "get after unsharing");

    // A tenant loads no module unless the daemon was started with --tenant-modules: a module
    // is native code beside every file.
    let e = guest.load_module(suite::modules().testkit()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("--tenant-modules") && text.contains("may not load modules"),
        "{text}"
    );
    owner
        .load_module(suite::modules().testkit())
        .expect("the device owner may");

    let status = owner.daemon_status().unwrap();
    let tenants: Vec<_> = status.sessions.iter().map(|s| s.tenant).collect();
    assert!(
        tenants.contains(&None) && tenants.contains(&Some(Tenant::Token)),
        "{tenants:?}"
    );
}
