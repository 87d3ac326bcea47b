//! One function per fuzz target (`fuzz/fuzz_targets/*.rs`): the fuzz targets call these, and
//! the stable test `tests/tests/fuzz_corpus.rs` replays every committed corpus file
//! (`fuzz/corpus/<target>/`) through the same functions. Each takes arbitrary bytes; any input
//! may be refused with a typed error, none may panic (a panic in library code is a bug).
//! The functions also check a few properties (round trips, a posted completion per command)
//! and panic when one breaks, so the fuzzer reports it.
//!
//! Fuzzing (nightly, `cargo install cargo-fuzz`; `fuzz/` is its own workspace, built in
//! `fuzz/target`):
//!
//! ```text
//! cd fuzz
//! cargo +nightly fuzz run -a TARGET -- -max_total_time=480 -rss_limit_mb=4096
//! cargo +nightly fuzz cmin -a TARGET      # then commit fuzz/corpus/TARGET
//! ```
//!
//! A crashing input lands in `fuzz/artifacts/TARGET/`: fix the library (a typed error, with a
//! regression test next to the code) and copy the input into the corpus. The seeds are written
//! by `cargo run -p tests --example write_fuzz_seeds`, the small C modules of
//! `elf_inspect` by `fuzz/seeds/make-elf-seeds.sh`.

use std::path::Path;

use device_runtime::isc::Firmware;
use device_runtime::loader::Loader;
use device_runtime::runtime::{Runtime, RuntimeConfig};
use ndp_protocol::daemon::{self, Hello, Reply, Request};
use ndp_protocol::isc::{self, IscRequest};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sim_nvme::nvme::{Command, Completion, Payload, QueueId, Status};
use sim_nvme::{DeviceProfile, SimTime};

/// A fuzz target's function.
pub type Target = fn(&[u8]);

/// The fuzz targets, by name (the folder names under `fuzz/corpus/`).
pub const TARGETS: [(&str, Target); 5] = [
    ("daemon_frame", daemon_frame),
    ("isc_request", isc_request),
    ("nvme_command", nvme_command),
    ("elf_inspect", elf_inspect),
    ("profile_toml", profile_toml),
];

/// `daemon_frame`: the bytes as a frame of the `ndp serve` protocol: the 4-byte length header
/// (`daemon::frame_len`), then the body (the bytes after the header, cut to the announced
/// length) decoded as a `Hello`, a `Request` and a `Reply` (`daemon::decode`). A message that
/// decodes must encode again, and its encoding must decode to the same encoding.
pub fn daemon_frame(data: &[u8]) {
    let Some((header, rest)) = data.split_first_chunk::<4>() else {
        // A short header: the body decoders still get the bytes.
        frame_bodies(data);
        return;
    };
    match daemon::frame_len(*header) {
        Ok(len) => {
            assert!(len <= daemon::MAX_FRAME, "frame_len let {len} bytes through");
            let n = rest.len().min(len as usize);
            frame_bodies(&rest[..n]);
        }
        Err(e) => {
            assert!(
                matches!(e, daemon::FrameError::Oversized { .. }),
                "frame_len refused a header with {e}"
            );
            let _ = e.to_wire();
        }
    }
}

fn frame_bodies(body: &[u8]) {
    frame_round_trip::<Hello>(body);
    frame_round_trip::<Request>(body);
    frame_round_trip::<Reply>(body);
}

fn frame_round_trip<T: Serialize + DeserializeOwned>(body: &[u8]) {
    match daemon::decode::<T>(body) {
        Ok(msg) => {
            let frame = daemon::encode(&msg).expect("a decoded message encodes");
            let again: T = daemon::decode(&frame[4..]).expect("an encoded message decodes");
            let frame2 = daemon::encode(&again).expect("a decoded message encodes");
            assert_eq!(frame, frame2, "encode/decode is not stable");
            let len = daemon::frame_len(frame[..4].try_into().expect("a 4-byte header"));
            assert_eq!(len.ok(), Some((frame.len() - 4) as u32));
        }
        Err(e) => {
            let wire = e.to_wire();
            assert_eq!(wire.kind, daemon::WireErrorKind::Malformed, "{e}");
        }
    }
}

/// `isc_request`: the first byte as a vendor opcode, the rest as its payload, decoded as the
/// device decodes it (`IscRequest::decode`). A request that decodes must travel again
/// (`to_command`) as the same opcode and payload. The same bytes also go through the host's
/// decoder of a completion's response (`isc::response_of`), with success and error status.
pub fn isc_request(data: &[u8]) {
    let Some((&opcode, payload)) = data.split_first() else {
        return;
    };
    if let Ok(req) = IscRequest::decode(opcode, payload) {
        assert_eq!(req.opcode(), opcode, "decode accepted another family's opcode");
        let _ = req.name();
        let cmd = req.to_command().expect("a decoded request encodes");
        let Command::Vendor {
            opcode: op2,
            payload: p2,
        } = cmd
        else {
            panic!("to_command made a standard command");
        };
        assert_eq!(op2, opcode);
        let again = IscRequest::decode(op2, &p2).expect("an encoded request decodes");
        let p3 = match again.to_command().expect("a decoded request encodes") {
            Command::Vendor { payload, .. } => payload,
            _ => unreachable!("to_command makes vendor commands"),
        };
        assert_eq!(p2, p3, "encode/decode is not stable");
    }
    for status in [Status::SUCCESS, Status::INVALID_FIELD] {
        let c = Completion {
            qid: QueueId(1),
            cid: 0,
            status,
            result: 0,
            payload: Payload::Data(payload.to_vec()),
            submitted_at: SimTime::ZERO,
            done_at: SimTime::ZERO,
        };
        let _ = isc::response_of(&c);
    }
}

/// One step of an `nvme_command` input: a command as the host would submit it.
#[derive(Debug, Deserialize, Serialize)]
pub enum Step {
    /// Any NVMe command, on queue `qid`, issued at `at` ns.
    Raw {
        /// The queue (0 admin, 1 the I/O queue the harness creates, others missing).
        qid: u16,
        /// The command.
        cmd: Command,
        /// Host instant.
        at: u64,
    },
    /// An ISC request, carried as the host carries it (`IscRequest::to_command`).
    Isc {
        /// The queue.
        qid: u16,
        /// The request.
        request: IscRequest,
        /// Host instant.
        at: u64,
    },
}

/// Most steps an `nvme_command` input runs.
pub const MAX_STEPS: usize = 32;

/// `nvme_command`: the bytes as a sequence of [`Step`]s (postcard, read until the bytes stop
/// decoding, at most [`MAX_STEPS`]), each submitted to a fresh in-memory `tiny` device's
/// firmware (`Firmware::submit_and_wait`, the controller and the ISC server behind it, with one
/// I/O queue of depth 8). Every command gets a completion or a typed `SubmitError`; a
/// completion is done no earlier than it was issued. `LoadModule` requests are left out (a
/// path is read from the filesystem, bytes that pass the checks would be `dlopen`ed:
/// `elf_inspect` covers the checks).
pub fn nvme_command(data: &[u8]) {
    let steps = nvme_steps(data);
    if steps.is_empty() {
        return;
    }
    let rt = Runtime::in_memory(DeviceProfile::tiny(), RuntimeConfig::default())
        .expect("the tiny profile builds a runtime");
    let loader = Loader::new(std::env::temp_dir()).expect("a staging directory");
    let mut fw = Firmware::new(rt, loader);
    fw.create_io_queue(8).expect("an I/O queue");
    for (qid, cmd, at) in steps {
        let at = SimTime(at);
        match fw.submit_and_wait(QueueId(qid), cmd, at) {
            Ok(c) => {
                assert!(
                    c.done_at >= c.submitted_at,
                    "completion done at {:?} before it was issued at {:?}: {c:?}",
                    c.done_at,
                    c.submitted_at
                );
                assert_eq!(c.submitted_at, at);
            }
            Err(e) => {
                let _ = (e.to_string(), e.status());
            }
        }
    }
    fw.run_some(1024);
}

/// The commands of an `nvme_command` input: queue, command, host instant.
pub fn nvme_steps(data: &[u8]) -> Vec<(u16, Command, u64)> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < MAX_STEPS {
        let Ok((step, tail)) = postcard::take_from_bytes::<Step>(rest) else {
            break;
        };
        rest = tail;
        match step {
            Step::Raw { qid, cmd, at } => {
                if let Command::Vendor { opcode, payload } = &cmd {
                    if matches!(
                        IscRequest::decode(*opcode, payload),
                        Ok(IscRequest::LoadModule { .. })
                    ) {
                        continue;
                    }
                }
                out.push((qid, cmd, at));
            }
            Step::Isc { qid, request, at } => {
                if matches!(request, IscRequest::LoadModule { .. }) {
                    continue;
                }
                if let Ok(cmd) = request.to_command() {
                    out.push((qid, cmd, at));
                }
            }
        }
    }
    out
}

/// `elf_inspect`: the bytes as a module file, through every static check the loader runs
/// before a `dlopen` (`inspect_bytes`; nothing is loaded), and the bytes as a `.ssdlet_meta`
/// section (`loader::meta::parse`).
pub fn elf_inspect(data: &[u8]) {
    let _ = device_runtime::loader::inspect_bytes(Path::new("fuzz.so"), data);
    let _ = device_runtime::loader::meta::parse(data);
}

/// `profile_toml`: the bytes (as UTF-8, lossily) as a device profile's TOML text
/// (`DeviceProfile::from_toml_str`: parse, then validate); a profile that is accepted must
/// write out (`to_toml_string`) and read back the same. Each `key=value` line also goes
/// through `DeviceProfile::set` on the `tiny` profile (the programs' `--set`).
pub fn profile_toml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = DeviceProfile::from_toml_str(&text) {
        let out = p.to_toml_string();
        let back = DeviceProfile::from_toml_str(&out).expect("a written profile reads back");
        assert_eq!(back.to_toml_string(), out, "write/read is not stable");
    }
    for line in text.lines().take(4) {
        if let Some((k, v)) = line.split_once('=') {
            let mut p = DeviceProfile::tiny();
            if p.set(k.trim(), v.trim()).is_ok() {
                p.validate().expect("a profile set() accepted validates");
            }
        }
    }
}

/// Seed inputs for each target, made from real messages (valid frames, requests, command
/// sequences, the built-in profiles), as `(target, name, bytes)`. `elf_inspect`'s seeds are
/// real module files, copied by hand. Written by `cargo run -p tests --example
/// write_fuzz_seeds`.
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    use ndp_protocol::daemon::{DaemonStatus, ReplyBody, RequestBody, SessionInfo, WireError};
    use ndp_protocol::daemon::{WireCompletion, WireErrorKind};
    use ndp_protocol::isc::{IscResponse, ModuleSource};
    use ndp_protocol::{AppConfig, AppId, ArgValue, FileId, InstanceId, ModuleId, Placement};
    use ndp_protocol::{ReceiverId, SenderId};
    use sim_nvme::Lba;

    let mut out = Vec::new();
    let requests = vec![
        IscRequest::LoadModule {
            source: ModuleSource::Bytes {
                name: "m.so".into(),
                bytes: b"\x7fELF".to_vec(),
            },
        },
        IscRequest::LoadModule {
            source: ModuleSource::Path("m.so".into()),
        },
        IscRequest::UnloadModule { module: ModuleId(1) },
        IscRequest::CreateApp {
            name: "app".into(),
            config: AppConfig::default(),
        },
        IscRequest::Spawn {
            app: AppId(1),
            module: ModuleId(1),
            ssdlet: "echo".into(),
            args: vec![
                ArgValue::File(FileId(1)),
                ArgValue::U64(7),
                ArgValue::U32(7),
                ArgValue::I64(-7),
                ArgValue::Bool(true),
                ArgValue::Str("x".into()),
            ],
            placement: Placement::Core(1),
        },
        IscRequest::Connect {
            from: InstanceId(1),
            output: "out".into(),
            to: InstanceId(2),
            input: "in".into(),
        },
        IscRequest::HostSender {
            to: InstanceId(1),
            input: "in".into(),
        },
        IscRequest::HostReceiver {
            from: InstanceId(1),
            output: "out".into(),
        },
        IscRequest::Start { app: AppId(1) },
        IscRequest::Send {
            port: SenderId(1),
            messages: vec![vec![1, 2], vec![]],
        },
        IscRequest::CloseSender { port: SenderId(1) },
        IscRequest::Recv {
            port: ReceiverId(1),
            max: 4,
            block: false,
        },
        IscRequest::Abort { app: AppId(1) },
        IscRequest::Wait {
            app: AppId(1),
            block: false,
        },
        IscRequest::Report { app: AppId(1) },
        IscRequest::FileCreate {
            name: "f".into(),
            size: 10_000,
        },
        IscRequest::FileOpen { name: "f".into() },
        IscRequest::FileWrite {
            name: "f".into(),
            offset: 4000,
            data: b"hello".to_vec(),
        },
        IscRequest::FileRead {
            name: "f".into(),
            offset: 4000,
            len: 200,
        },
        IscRequest::FileList,
        IscRequest::FileRemove { name: "f".into() },
    ];
    for (i, r) in requests.iter().enumerate() {
        let Ok(Command::Vendor { opcode, payload }) = r.to_command() else {
            unreachable!("requests encode as vendor commands");
        };
        let mut bytes = vec![opcode];
        bytes.extend_from_slice(&payload);
        out.push(("isc_request", format!("req-{i:02}-{}", r.name()), bytes));
    }
    let responses = [
        IscResponse::Done,
        IscResponse::App(AppId(3)),
        IscResponse::Messages {
            messages: vec![vec![1]],
            end: true,
        },
        IscResponse::Data(vec![0; 8]),
        IscResponse::Files(vec![isc::FileInfo {
            name: "f".into(),
            size: 1,
            owner: Some(ndp_protocol::Tenant::Uid(7)),
            shared: true,
        }]),
        IscResponse::Error {
            kind: isc::ErrorKind::NotFound,
            message: "no".into(),
        },
    ];
    for (i, r) in responses.iter().enumerate() {
        let mut bytes = vec![0xC0];
        bytes.extend(postcard::to_stdvec(r).expect("a response encodes"));
        out.push(("isc_request", format!("resp-{i:02}"), bytes));
    }

    let commands = [
        Command::Identify,
        Command::CreateIoQueue { depth: 4 },
        Command::DeleteIoQueue { qid: 1 },
        Command::Write {
            nsid: 1,
            lba: Lba(200),
            data: vec![0xAB; 4096],
        },
        Command::Read {
            nsid: 1,
            lba: Lba(200),
            blocks: 2,
        },
        Command::Flush { nsid: 1 },
        Command::Deallocate {
            nsid: 1,
            ranges: vec![(Lba(200), 1), (Lba(0), 3)],
        },
        Command::Vendor {
            opcode: 0xC8,
            payload: vec![1, 0, 19],
        },
    ];
    let frames: Vec<Vec<u8>> = {
        let mut f = vec![daemon::encode(&Hello::current()).expect("encodes")];
        for (i, cmd) in commands.iter().enumerate() {
            let req = Request {
                id: i as u64,
                body: RequestBody::Submit {
                    cmd: cmd.clone(),
                    at: SimTime(1000 * i as u64),
                },
            };
            f.push(daemon::encode(&req).expect("encodes"));
        }
        f.push(
            daemon::encode(&Request {
                id: 99,
                body: RequestBody::Status,
            })
            .expect("encodes"),
        );
        let replies = [
            ReplyBody::Completion(WireCompletion {
                qid: 1,
                cid: 3,
                status: Status::SUCCESS,
                result: 0,
                payload: Payload::Data(vec![1, 2, 3]),
                submitted_at: SimTime(5),
                done_at: SimTime(9),
            }),
            ReplyBody::Failed(WireError {
                kind: WireErrorKind::Device,
                message: "stopped".into(),
            }),
            ReplyBody::Status(DaemonStatus {
                profile: "tiny".into(),
                sessions: vec![SessionInfo {
                    id: 1,
                    tenant: Some(ndp_protocol::Tenant::Token),
                    apps: 2,
                    modules: 1,
                }],
                cleanups: vec![],
            }),
            ReplyBody::Closing(WireError {
                kind: WireErrorKind::Malformed,
                message: "bad".into(),
            }),
        ];
        for (i, body) in replies.into_iter().enumerate() {
            f.push(daemon::encode(&Reply { id: i as u64, body }).expect("encodes"));
        }
        f
    };
    for (i, f) in frames.into_iter().enumerate() {
        out.push(("daemon_frame", format!("frame-{i:02}"), f));
    }

    let mut steps = |name: &str, list: Vec<Step>| {
        let mut bytes = Vec::new();
        for s in &list {
            bytes.extend(postcard::to_stdvec(s).expect("a step encodes"));
        }
        out.push(("nvme_command", name.to_owned(), bytes));
    };
    let raw = |qid: u16, cmd: Command, at: u64| Step::Raw { qid, cmd, at };
    let isc = |request: IscRequest, at: u64| Step::Isc { qid: 1, request, at };
    steps(
        "standard",
        commands
            .iter()
            .enumerate()
            .map(|(i, c)| raw(u16::from(!c.is_admin()), c.clone(), 1000 * i as u64))
            .collect(),
    );
    steps(
        "files",
        vec![
            isc(requests[15].clone(), 0),
            isc(requests[16].clone(), 10),
            isc(requests[17].clone(), 20),
            isc(requests[18].clone(), 30),
            isc(requests[19].clone(), 40),
            isc(requests[20].clone(), 50),
            isc(requests[19].clone(), 60),
        ],
    );
    steps(
        "apps",
        requests[3..15].iter().map(|r| isc(r.clone(), 5)).collect(),
    );
    steps(
        "queues",
        vec![
            raw(0, Command::CreateIoQueue { depth: 2 }, 0),
            raw(2, Command::Flush { nsid: 1 }, 1),
            raw(0, Command::DeleteIoQueue { qid: 2 }, 2),
            raw(2, Command::Flush { nsid: 1 }, 3),
            raw(1, Command::Identify, 4),
        ],
    );

    let tiny = DeviceProfile::tiny().to_toml_string();
    let pm = DeviceProfile::pm1725().to_toml_string();
    out.push(("profile_toml", "tiny".into(), tiny.into_bytes()));
    out.push(("profile_toml", "pm1725".into(), pm.into_bytes()));
    out.push((
        "profile_toml",
        "sets".into(),
        b"nand.read_ns=50000\narm.arm_slowdown=3\nname=\"x\"\ngeometry.channels=0\n".to_vec(),
    ));
    out
}
