//! Golden bytes: the postcard encoding of one example of every message of both protocols,
//! compared with `tests/golden.txt`. Any change to a wire type that changes its bytes fails
//! here; if the change is meant, bump the protocol's version ([`ndp_protocol::PROTOCOL_VERSION`]
//! or [`ndp_protocol::daemon::WIRE_VERSION`]) and rewrite the file with
//! `NDP_PROTOCOL_BLESS=1 cargo test -p ndp-protocol --test golden` (INVARIANT(protocol-owns-wire)).

use std::fmt::Write as _;

use ndp_protocol::daemon::{
    Auth, Cleanup, DaemonStatus, Hello, Reply, ReplyBody, Request, RequestBody, SessionInfo, Welcome,
    WireCompletion, WireError, WireErrorKind,
};
use ndp_protocol::{
    AppConfig, AppId, ArgValue, CostSource, Envelope, ErrorKind, FileId, FileInfo, InstanceId, IscRequest,
    IscResponse, LogEntry, ModuleId, ModuleInfo, ModuleMeta, ModuleSource, Placement, PortReport, ReceiverId,
    RunReport, SenderId, Site, Slot, SsdletMeta, SsdletReport, WorkCounts, PROTOCOL_VERSION,
};
use serde::Serialize;
use sim_nvme::nvme::{Command, Payload, Status};
use sim_nvme::{Lba, SimDuration, SimTime};

fn slot(name: &str, ty: &str) -> Slot {
    Slot {
        name: name.into(),
        ty: ty.into(),
    }
}

fn meta() -> ModuleMeta {
    ModuleMeta {
        name: "wordcount".into(),
        version: "0.1.0".into(),
        abi_version: 1,
        ssdlets: vec![SsdletMeta {
            id: "mapper".into(),
            args: vec![slot("input", "file")],
            inputs: vec![],
            outputs: vec![slot("words", "(str,u32)")],
        }],
    }
}

fn report() -> RunReport {
    RunReport {
        app: "wc".into(),
        error: Some("boom".into()),
        instances: 3,
        started_at: SimTime(1_000),
        finished_at: SimTime(91_000),
        elapsed: SimDuration(90_000),
        site: Site::Device,
        core_busy: vec![SimDuration(5), SimDuration(0)],
        ports: vec![PortReport {
            name: "mapper.words -> host".into(),
            messages: 2,
            bytes: 40,
        }],
        nand_pages_read: 4,
        pcie_bytes_to_host: 40,
        pcie_bytes_to_device: 8,
        matcher_pages_scanned: 16,
        matcher_pages_hinted: 1,
        dram_peak: 65_536,
        dram_held: 0,
        done: true,
        ssdlets: vec![SsdletReport {
            module: "wordcount".into(),
            digest: "00112233aabbccdd".into(),
            ssdlet: "mapper".into(),
            core: 1,
            work: WorkCounts {
                calls: 7,
                messages: 2,
                bytes_moved: 40,
                bytes_read: 4096,
                allocations: 3,
            },
            compute: SimDuration(4_500),
            host_cpu_ns: 0,
            costs: CostSource::Calibrated,
        }],
    }
}

fn requests() -> Vec<(&'static str, IscRequest)> {
    let app = AppId(2);
    let (a, b) = (InstanceId(5), InstanceId(6));
    vec![
        (
            "LoadModule(bytes)",
            IscRequest::LoadModule {
                source: ModuleSource::Bytes {
                    name: "libm.so".into(),
                    bytes: vec![0x7f, b'E', b'L', b'F'],
                },
            },
        ),
        (
            "LoadModule(path)",
            IscRequest::LoadModule {
                source: ModuleSource::Path("/m.so".into()),
            },
        ),
        ("UnloadModule", IscRequest::UnloadModule { module: ModuleId(1) }),
        (
            "CreateApp",
            IscRequest::CreateApp {
                name: "wc".into(),
                config: AppConfig {
                    dram_budget: 64 << 20,
                    max_resumes: 10_000_000,
                    site: Site::Host,
                },
            },
        ),
        (
            "Spawn",
            IscRequest::Spawn {
                app,
                module: ModuleId(1),
                ssdlet: "mapper".into(),
                args: vec![
                    ArgValue::File(FileId(9)),
                    ArgValue::U64(u64::MAX),
                    ArgValue::U32(7),
                    ArgValue::I64(-3),
                    ArgValue::Bool(true),
                    ArgValue::Str("x".into()),
                    ArgValue::Message {
                        sig: "seq<u8>".into(),
                        bytes: vec![1, 9],
                    },
                ],
                placement: Placement::Core(1),
            },
        ),
        (
            "Connect",
            IscRequest::Connect {
                from: a,
                output: "out".into(),
                to: b,
                input: "in".into(),
            },
        ),
        (
            "HostSender",
            IscRequest::HostSender {
                to: b,
                input: "in".into(),
            },
        ),
        (
            "HostReceiver",
            IscRequest::HostReceiver {
                from: a,
                output: "out".into(),
            },
        ),
        ("Start", IscRequest::Start { app }),
        (
            "Send",
            IscRequest::Send {
                port: SenderId(3),
                messages: vec![vec![1, 2], vec![]],
            },
        ),
        ("CloseSender", IscRequest::CloseSender { port: SenderId(3) }),
        (
            "Recv",
            IscRequest::Recv {
                port: ReceiverId(4),
                max: 4096,
                block: true,
            },
        ),
        ("Abort", IscRequest::Abort { app }),
        ("Wait", IscRequest::Wait { app, block: false }),
        ("Report", IscRequest::Report { app }),
        (
            "FileCreate",
            IscRequest::FileCreate {
                name: "f".into(),
                size: 1 << 40,
            },
        ),
        ("FileOpen", IscRequest::FileOpen { name: "f".into() }),
        (
            "FileWrite",
            IscRequest::FileWrite {
                name: "f".into(),
                offset: 4096,
                data: vec![9; 3],
            },
        ),
        (
            "FileRead",
            IscRequest::FileRead {
                name: "f".into(),
                offset: 1,
                len: 2,
            },
        ),
        ("FileList", IscRequest::FileList),
        ("FileRemove", IscRequest::FileRemove { name: "f".into() }),
        (
            "FileRename",
            IscRequest::FileRename {
                from: ".ndp-put.1".into(),
                to: "f".into(),
            },
        ),
        (
            "Logs",
            IscRequest::Logs {
                app: AppId(2),
                from: 7,
            },
        ),
        (
            "FileShare",
            IscRequest::FileShare {
                name: "f".into(),
                shared: true,
            },
        ),
    ]
}

fn responses() -> Vec<(&'static str, IscResponse)> {
    vec![
        ("Done", IscResponse::Done),
        (
            "Module",
            IscResponse::Module(ModuleInfo {
                id: ModuleId(1),
                meta: meta(),
            }),
        ),
        ("App", IscResponse::App(AppId(2))),
        ("Instance", IscResponse::Instance(InstanceId(5))),
        ("Sender", IscResponse::Sender(SenderId(3))),
        ("Receiver", IscResponse::Receiver(ReceiverId(4))),
        (
            "Messages",
            IscResponse::Messages {
                messages: vec![vec![42]],
                end: true,
            },
        ),
        ("Report", IscResponse::Report(report())),
        ("File", IscResponse::File(FileId(9))),
        ("Data", IscResponse::Data(vec![1, 2, 3])),
        (
            "Files",
            IscResponse::Files(vec![
                FileInfo {
                    name: "f".into(),
                    size: 10,
                    owner: None,
                    shared: false,
                },
                FileInfo {
                    name: "g".into(),
                    size: 11,
                    owner: Some(ndp_protocol::Tenant::Uid(1000)),
                    shared: true,
                },
            ]),
        ),
        (
            "Error",
            IscResponse::Error {
                kind: ErrorKind::PortType,
                message: "no".into(),
            },
        ),
        (
            "Logs",
            IscResponse::Logs {
                lines: vec![LogEntry {
                    ssdlet: "mapper".into(),
                    level: 3,
                    text: "read 1 MiB".into(),
                    at: SimTime(1_500),
                }],
                next: 8,
                dropped: 0,
            },
        ),
    ]
}

fn frames() -> Vec<(&'static str, Vec<u8>)> {
    fn enc<T: Serialize>(v: &T) -> Vec<u8> {
        postcard::to_stdvec(v).expect("encodes")
    }
    let err = WireError {
        kind: WireErrorKind::Oversized,
        message: "too big".into(),
    };
    vec![
        ("Hello", enc(&Hello::current())),
        ("Auth", enc(&Auth::new("s3cret"))),
        (
            "Welcome::Accepted",
            enc(&Welcome::Accepted {
                version: 2,
                session: 7,
                profile: "tiny".into(),
                tenant: Some(ndp_protocol::Tenant::Uid(1000)),
            }),
        ),
        (
            "Relay",
            enc(&ndp_protocol::daemon::Relay {
                magic: ndp_protocol::daemon::RELAY_MAGIC,
                tenant: Some(ndp_protocol::Tenant::Token),
            }),
        ),
        ("Welcome::Rejected", enc(&Welcome::Rejected(err.clone()))),
        (
            "Request::Submit(Read)",
            enc(&Request {
                id: 1,
                body: RequestBody::Submit {
                    cmd: Command::Read {
                        nsid: 1,
                        lba: Lba(8),
                        blocks: 2,
                    },
                    at: SimTime(5),
                },
            }),
        ),
        (
            "Request::Submit(Write)",
            enc(&Request {
                id: 4,
                body: RequestBody::Submit {
                    cmd: Command::Write {
                        nsid: 1,
                        lba: Lba(9),
                        data: vec![0xA5; 300],
                    },
                    at: SimTime(7),
                },
            }),
        ),
        (
            "Request::Submit(Vendor)",
            enc(&Request {
                id: 2,
                body: RequestBody::Submit {
                    cmd: IscRequest::FileList.to_command().expect("encodes"),
                    at: SimTime(6),
                },
            }),
        ),
        (
            "Request::Status",
            enc(&Request {
                id: 3,
                body: RequestBody::Status,
            }),
        ),
        (
            "Reply::Completion",
            enc(&Reply {
                id: 1,
                body: ReplyBody::Completion(WireCompletion {
                    qid: 1,
                    cid: 4,
                    status: Status::SUCCESS,
                    result: 0,
                    payload: Payload::Data(vec![1]),
                    submitted_at: SimTime(5),
                    done_at: SimTime(90_005),
                }),
            }),
        ),
        (
            "Reply::Failed",
            enc(&Reply {
                id: 2,
                body: ReplyBody::Failed(err.clone()),
            }),
        ),
        (
            "Reply::Status",
            enc(&Reply {
                id: 3,
                body: ReplyBody::Status(DaemonStatus {
                    profile: "tiny".into(),
                    sessions: vec![SessionInfo {
                        id: 1,
                        tenant: None,
                        apps: 2,
                        modules: 1,
                    }],
                    cleanups: vec![
                        Cleanup {
                            session: 1,
                            report: Ok(report()),
                        },
                        Cleanup {
                            session: 2,
                            report: Err("gone".into()),
                        },
                    ],
                }),
            }),
        ),
        (
            "Reply::Closing",
            enc(&Reply {
                id: 0,
                body: ReplyBody::Closing(err),
            }),
        ),
    ]
}

/// Every message as `name: hex` lines.
fn render() -> String {
    let mut out = String::new();
    let mut line = |name: &str, bytes: &[u8]| {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        writeln!(out, "{name}: {hex}").expect("writing to a string");
    };
    for (name, req) in requests() {
        let env = Envelope {
            version: PROTOCOL_VERSION,
            request: req,
        };
        line(
            &format!("isc request {name}"),
            &postcard::to_stdvec(&env).expect("encodes"),
        );
    }
    for (name, resp) in responses() {
        line(
            &format!("isc response {name}"),
            &postcard::to_stdvec(&resp).expect("encodes"),
        );
    }
    for (name, bytes) in frames() {
        line(&format!("daemon frame {name}"), &bytes);
    }
    out
}

#[test]
fn every_message_encodes_to_its_golden_bytes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden.txt");
    let now = render();
    if std::env::var_os("NDP_PROTOCOL_BLESS").is_some() {
        std::fs::write(&path, &now).expect("write the golden file");
        return;
    }
    let golden = std::fs::read_to_string(&path).expect("tests/golden.txt exists");
    let changed: Vec<String> = golden
        .lines()
        .zip(now.lines())
        .filter(|(g, n)| g != n)
        .map(|(g, n)| format!("  was {g}\n  now {n}"))
        .collect();
    assert!(
        changed.is_empty() && golden.lines().count() == now.lines().count(),
        "the encoding changed ({} of {} messages differ, {} lines before, {} now):\n{}\n\
         bump the protocol version, then rewrite tests/golden.txt with NDP_PROTOCOL_BLESS=1",
        changed.len(),
        now.lines().count(),
        golden.lines().count(),
        now.lines().count(),
        changed.join("\n")
    );
}

#[test]
fn every_request_and_response_decodes_back() {
    for (name, req) in requests() {
        let cmd = req.to_command().expect("encodes");
        let Command::Vendor { opcode, payload } = cmd else {
            panic!("{name}: not a vendor command");
        };
        assert_eq!(IscRequest::decode(opcode, &payload).expect(name), req, "{name}");
    }
    for (name, resp) in responses() {
        let bytes = postcard::to_stdvec(&resp).expect("encodes");
        assert_eq!(
            postcard::from_bytes::<IscResponse>(&bytes).expect(name),
            resp,
            "{name}"
        );
    }
}

#[test]
fn a_request_of_another_version_or_opcode_is_refused_by_kind() {
    let env = Envelope {
        version: PROTOCOL_VERSION + 1,
        request: IscRequest::FileList,
    };
    let payload = postcard::to_stdvec(&env).expect("encodes");
    let (kind, msg) = IscRequest::decode(ndp_protocol::opcode::FILES, &payload).unwrap_err();
    assert_eq!(kind, ErrorKind::Version, "{msg}");
    let Command::Vendor { payload, .. } = IscRequest::FileList.to_command().expect("encodes") else {
        unreachable!()
    };
    let (kind, msg) = IscRequest::decode(ndp_protocol::opcode::APP, &payload).unwrap_err();
    assert_eq!(kind, ErrorKind::Malformed);
    assert!(msg.contains("FileList"), "{msg}");
}
