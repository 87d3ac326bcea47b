//! The ISC commands through the NVMe vendor path of the `Firmware`: every command, standard
//! commands beside them, typed refusals after which the device keeps serving, random payload
//! bytes (seed printed), and determinism of simulated times.

mod common;

use common::host::Host;

use device_runtime::isc::{
    ErrorKind, IscError, IscRequest, IscResponse, ModuleId, ModuleSource, PROTOCOL_VERSION,
};
use ndp_protocol::{AppConfig, AppId, ArgValue, InstanceId, Placement, ReceiverId, RunReport, SenderId};
use sim_nvme::nvme::{Command, Payload, Status, ADMIN_QUEUE};
use sim_nvme::{Lba, SimTime};
use ssdlet_testkit_types::WordCount;

/// count(n) -> echo -> sum -> host.
fn pipeline(h: &mut Host, m: ModuleId, n: u64) -> (AppId, ReceiverId) {
    let app = h.app("pipeline");
    let c = h.spawn(app, m, "count", vec![ArgValue::U64(n)]);
    let e = h.spawn(app, m, "echo", vec![]);
    let s = h.spawn(app, m, "sum", vec![]);
    h.connect(c, "out", e, "in");
    h.connect(e, "out", s, "in");
    (app, h.receiver(s, "total"))
}

fn text() -> String {
    "the quick brown fox jumps over the lazy dog\n".repeat(300)
}

#[test]
fn every_isc_command_goes_through_the_vendor_path() {
    let mut h = Host::new();
    // Standard commands still go through the controller.
    let id =
        h.fw.submit_and_wait(ADMIN_QUEUE, Command::Identify, h.now)
            .unwrap();
    assert!(matches!(id.payload, Payload::Identify(_)));
    let m = h.load_testkit();
    // Load by device path too, then unload it.
    let path = common::modules().testkit().display().to_string();
    let IscResponse::Module(m2) = h.ok(IscRequest::LoadModule {
        source: ModuleSource::Path(path),
    }) else {
        panic!()
    };
    assert_eq!(
        h.ok(IscRequest::UnloadModule { module: m2.id }),
        IscResponse::Done
    );
    h.refused(IscRequest::UnloadModule { module: m2.id }, ErrorKind::NotFound);

    // Files: create, write (unaligned), read, list, open, remove.
    let t = text();
    let IscResponse::File(f) = h.ok(IscRequest::FileCreate {
        name: "text".into(),
        size: t.len() as u64,
    }) else {
        panic!()
    };
    h.ok(IscRequest::FileWrite {
        name: "text".into(),
        offset: 0,
        data: t.as_bytes()[..5000].to_vec(),
    });
    h.ok(IscRequest::FileWrite {
        name: "text".into(),
        offset: 5000,
        data: t.as_bytes()[5000..].to_vec(),
    });
    let IscResponse::Data(back) = h.ok(IscRequest::FileRead {
        name: "text".into(),
        offset: 4000,
        len: 300,
    }) else {
        panic!()
    };
    assert_eq!(back, &t.as_bytes()[4000..4300]);
    let IscResponse::Files(files) = h.ok(IscRequest::FileList) else {
        panic!()
    };
    assert_eq!(files.len(), 1);
    assert_eq!((files[0].name.as_str(), files[0].size), ("text", t.len() as u64));
    // The file reaches the NAND: a standard Read of its first block sees its bytes.
    let rd = h.raw(Command::Read {
        nsid: 1,
        lba: Lba(device_runtime::namespace::DATA_START),
        blocks: 1,
    });
    assert!(matches!(&rd.payload, Payload::Data(d) if d.starts_with(b"the quick")));

    // count -> echo -> sum, and words over the file, in two Applications at once.
    let (a1, total) = pipeline(&mut h, m, 100);
    let a2 = h.app("words");
    let w = h.spawn(a2, m, "words", vec![ArgValue::File(f)]);
    let words = h.receiver(w, "words");
    h.ok(IscRequest::Start { app: a1 });
    h.ok(IscRequest::Start { app: a2 });
    let r1 = h.wait(a1);
    assert_eq!(h.drain::<u64>(total), vec![4950]);
    let got: Vec<WordCount> = h.drain(words);
    assert_eq!(got.len(), 9 * 300);
    let r2 = h.wait(a2);
    assert!(r2.nand_pages_read > 0);
    assert_eq!(h.ok(IscRequest::Report { app: a1 }), IscResponse::Report(r1));

    // A host-fed echo: send a batch, close, receive.
    let a3 = h.app("echo");
    let e = h.spawn(a3, m, "echo", vec![]);
    let tx = h.sender(e, "in");
    let rx = h.receiver(e, "out");
    h.ok(IscRequest::Start { app: a3 });
    let msgs = (1..=5u64).map(|v| postcard::to_stdvec(&v).unwrap()).collect();
    h.ok(IscRequest::Send {
        port: tx,
        messages: msgs,
    });
    h.refused(
        IscRequest::Wait {
            app: a3,
            block: false,
        },
        ErrorKind::WaitingForHost,
    );
    h.ok(IscRequest::CloseSender { port: tx });
    assert_eq!(h.drain::<u64>(rx), vec![1, 2, 3, 4, 5]);
    let r3 = h.wait(a3);
    assert_eq!((r3.pcie_bytes_to_device, r3.pcie_bytes_to_host), (5, 5));

    // Abort an Application that waits for the host.
    let a4 = h.app("aborted");
    let e = h.spawn(a4, m, "echo", vec![]);
    let _tx = h.sender(e, "in");
    // Every port must be connected: `start` refuses, naming the loose one.
    let loose = h.refused(IscRequest::Start { app: a4 }, ErrorKind::State);
    assert!(
        loose.contains("`echo.out` (output) connected to nothing"),
        "{loose}"
    );
    let _rx = h.receiver(e, "out");
    h.ok(IscRequest::Start { app: a4 });
    assert_eq!(h.ok(IscRequest::Abort { app: a4 }), IscResponse::Done);
    let msg = h.refused(
        IscRequest::Wait {
            app: a4,
            block: false,
        },
        ErrorKind::AppFailed,
    );
    assert!(msg.contains("aborted"), "{msg}");

    assert!(matches!(
        h.ok(IscRequest::FileOpen { name: "text".into() }),
        IscResponse::File(_)
    ));
    assert_eq!(
        h.ok(IscRequest::FileRemove { name: "text".into() }),
        IscResponse::Done
    );
    h.refused(IscRequest::FileOpen { name: "text".into() }, ErrorKind::NotFound);
}

#[test]
fn bad_input_gives_typed_errors_and_the_device_keeps_serving() {
    let mut h = Host::new();
    let m = h.load_testkit();
    // Unknown module bytes.
    let msg = h.refused(
        IscRequest::LoadModule {
            source: ModuleSource::Bytes {
                name: "junk.so".into(),
                bytes: b"definitely not an ELF file".to_vec(),
            },
        },
        ErrorKind::Load,
    );
    assert!(msg.contains("junk.so"), "{msg}");
    h.refused(
        IscRequest::LoadModule {
            source: ModuleSource::Path("/nonexistent/module.so".into()),
        },
        ErrorKind::Load,
    );
    let app = h.app("bad");
    // Unknown SSDlet id: names it and the known ones.
    let msg = h.refused(
        IscRequest::Spawn {
            app,
            module: m,
            ssdlet: "nope".into(),
            args: vec![],
            placement: Placement::RoundRobin,
        },
        ErrorKind::NotFound,
    );
    assert!(msg.contains("nope") && msg.contains("count"), "{msg}");
    // Unknown module id.
    let msg = h.refused(
        IscRequest::Spawn {
            app,
            module: ModuleId(77),
            ssdlet: "count".into(),
            args: vec![],
            placement: Placement::RoundRobin,
        },
        ErrorKind::NotFound,
    );
    assert!(msg.contains("module 77"), "{msg}");
    // Wrong argument type.
    let msg = h.refused(
        IscRequest::Spawn {
            app,
            module: m,
            ssdlet: "count".into(),
            args: vec![ArgValue::Str("ten".into())],
            placement: Placement::RoundRobin,
        },
        ErrorKind::InvalidArgument,
    );
    assert!(msg.contains("u64"), "{msg}");
    // Mismatched port types name both types.
    let f = match h.ok(IscRequest::FileCreate {
        name: "t".into(),
        size: 10,
    }) {
        IscResponse::File(f) => f,
        r => panic!("{r:?}"),
    };
    let w = h.spawn(app, m, "words", vec![ArgValue::File(f)]);
    let s = h.spawn(app, m, "sum", vec![]);
    let msg = h.refused(
        IscRequest::Connect {
            from: w,
            output: "words".into(),
            to: s,
            input: "in".into(),
        },
        ErrorKind::PortType,
    );
    assert!(msg.contains("u64") && msg.contains("WordCount"), "{msg}");
    // Unknown file, unknown app, unknown instance, unknown port id.
    let msg = h.refused(
        IscRequest::FileOpen {
            name: "missing".into(),
        },
        ErrorKind::NotFound,
    );
    assert!(msg.contains("missing"), "{msg}");
    h.refused(
        IscRequest::FileRead {
            name: "t".into(),
            offset: u64::MAX,
            len: 2,
        },
        ErrorKind::File,
    );
    let bogus = match h.ok(IscRequest::CreateApp {
        name: "x".into(),
        config: AppConfig::default(),
    }) {
        IscResponse::App(a) => a,
        r => panic!("{r:?}"),
    };
    let ghost: AppId = postcard::from_bytes(&postcard::to_stdvec(&9999u64).unwrap()).unwrap();
    let msg = h.refused(IscRequest::Start { app: ghost }, ErrorKind::NotFound);
    assert!(msg.contains("9999"), "{msg}");
    h.refused(IscRequest::Report { app: ghost }, ErrorKind::NotFound);
    let ghost_i: InstanceId = postcard::from_bytes(&[0xE7, 0x07]).unwrap();
    h.refused(
        IscRequest::HostReceiver {
            from: ghost_i,
            output: "out".into(),
        },
        ErrorKind::NotFound,
    );
    let ghost_rx: ReceiverId = postcard::from_bytes(&[0x63]).unwrap();
    h.refused(
        IscRequest::Recv {
            port: ghost_rx,
            max: 1,
            block: false,
        },
        ErrorKind::NotFound,
    );
    h.ok(IscRequest::Start { app: bogus });
    h.refused(IscRequest::Start { app: bogus }, ErrorKind::State);
    // Garbage payloads, another protocol version, a request under the wrong opcode.
    let c = h.raw(Command::Vendor {
        opcode: 0xC4,
        payload: vec![0xFF; 7],
    });
    assert_eq!(c.status, Status::INVALID_FIELD);
    assert!(matches!(
        device_runtime::isc::response_of(&c),
        Err(IscError::Refused {
            kind: ErrorKind::Malformed,
            ..
        })
    ));
    let mut v2 = postcard::to_stdvec(&(PROTOCOL_VERSION + 1)).unwrap();
    v2.extend(postcard::to_stdvec(&IscRequest::FileList).unwrap());
    let c = h.raw(Command::Vendor {
        opcode: 0xC8,
        payload: v2,
    });
    assert_eq!(c.status, Status::INVALID_FIELD);
    let e = device_runtime::isc::response_of(&c).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::Version), "{e}");
    let Command::Vendor { payload, .. } = IscRequest::FileList.to_command().unwrap() else {
        panic!()
    };
    let c = h.raw(Command::Vendor {
        opcode: 0xC1,
        payload,
    });
    assert_eq!(c.status, Status::INVALID_FIELD);
    let e = device_runtime::isc::response_of(&c).unwrap_err();
    assert!(e.to_string().contains("0xc8"), "{e}");
    // Outside the ISC families, in the vendor range: Malformed; outside it: Invalid Opcode.
    assert_eq!(
        h.raw(Command::Vendor {
            opcode: 0xF0,
            payload: vec![]
        })
        .status,
        Status::INVALID_FIELD
    );
    assert_eq!(
        h.raw(Command::Vendor {
            opcode: 0x99,
            payload: vec![]
        })
        .status,
        Status::INVALID_OPCODE
    );

    // The device still serves: a healthy pipeline completes.
    let (app, total) = pipeline(&mut h, m, 10);
    h.ok(IscRequest::Start { app });
    h.wait(app);
    assert_eq!(h.drain::<u64>(total), vec![45]);
}

/// Valid encodings of every request kind, as mutation seeds.
fn corpus() -> Vec<Command> {
    let app: AppId = postcard::from_bytes(&[0]).unwrap();
    let inst: InstanceId = postcard::from_bytes(&[0]).unwrap();
    let tx: SenderId = postcard::from_bytes(&[0]).unwrap();
    let rx: ReceiverId = postcard::from_bytes(&[1]).unwrap();
    let reqs = vec![
        IscRequest::LoadModule {
            source: ModuleSource::Bytes {
                name: "m".into(),
                bytes: b"\x7fELF\x02\x01\x01".to_vec(),
            },
        },
        IscRequest::UnloadModule { module: ModuleId(0) },
        IscRequest::CreateApp {
            name: "a".into(),
            config: AppConfig::default(),
        },
        IscRequest::Spawn {
            app,
            module: ModuleId(0),
            ssdlet: "count".into(),
            args: vec![ArgValue::U64(3), ArgValue::Str("s".into())],
            placement: Placement::Core(1),
        },
        IscRequest::Connect {
            from: inst,
            output: "out".into(),
            to: inst,
            input: "in".into(),
        },
        IscRequest::HostSender {
            to: inst,
            input: "in".into(),
        },
        IscRequest::HostReceiver {
            from: inst,
            output: "out".into(),
        },
        IscRequest::Start { app },
        IscRequest::Send {
            port: tx,
            messages: vec![vec![1, 2], vec![]],
        },
        IscRequest::CloseSender { port: tx },
        IscRequest::Recv {
            port: rx,
            max: 3,
            block: false,
        },
        IscRequest::Abort { app },
        IscRequest::Wait { app, block: false },
        IscRequest::Report { app },
        IscRequest::FileCreate {
            name: "f".into(),
            size: 5000,
        },
        IscRequest::FileOpen { name: "f".into() },
        IscRequest::FileWrite {
            name: "f".into(),
            offset: 4090,
            data: vec![7; 20],
        },
        IscRequest::FileRead {
            name: "f".into(),
            offset: 1,
            len: 4100,
        },
        IscRequest::FileList,
        IscRequest::FileRemove { name: "f".into() },
    ];
    reqs.iter().map(|r| r.to_command().unwrap()).collect()
}

#[test]
fn random_payload_bytes_never_panic_the_device() {
    let seed = std::env::var("ISC_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x15C0_F022);
    println!("ISC_FUZZ_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut h = Host::new();
    let corpus = corpus();
    let mut served = 0;
    for i in 0..3000 {
        let cmd = if i % 2 == 0 {
            let n = rng.usize(0..48);
            Command::Vendor {
                opcode: rng.u8(0xC0..=0xC9),
                payload: (0..n).map(|_| rng.u8(..)).collect(),
            }
        } else {
            let Command::Vendor { opcode, mut payload } = corpus[rng.usize(..corpus.len())].clone() else {
                unreachable!()
            };
            for _ in 0..rng.usize(1..4) {
                match rng.u8(0..3) {
                    0 if !payload.is_empty() => {
                        let k = rng.usize(..payload.len());
                        payload[k] = rng.u8(..);
                    }
                    1 if !payload.is_empty() => {
                        payload.truncate(rng.usize(..payload.len()));
                    }
                    _ => payload.push(rng.u8(..)),
                }
            }
            Command::Vendor { opcode, payload }
        };
        let c = h.raw(cmd);
        if c.status.is_success() {
            served += 1;
        } else {
            assert_eq!(c.status, Status::INVALID_FIELD, "seed {seed}, command {i}");
        }
    }
    println!("{served} of 3000 random commands decoded and were served");
    // Still serving.
    assert!(matches!(h.ok(IscRequest::FileList), IscResponse::Files(_)));
}

fn scripted_run() -> (Vec<(Status, SimTime)>, RunReport, RunReport) {
    let mut h = Host::new();
    let m = h.load_testkit();
    h.ok(IscRequest::FileCreate {
        name: "text".into(),
        size: text().len() as u64,
    });
    h.ok(IscRequest::FileWrite {
        name: "text".into(),
        offset: 0,
        data: text().into_bytes(),
    });
    let IscResponse::File(f) = h.ok(IscRequest::FileOpen { name: "text".into() }) else {
        panic!()
    };
    let (a1, total) = pipeline(&mut h, m, 500);
    let a2 = h.app("words");
    let w = h.spawn(a2, m, "words", vec![ArgValue::File(f)]);
    let words = h.receiver(w, "words");
    h.ok(IscRequest::Start { app: a1 });
    h.ok(IscRequest::Start { app: a2 });
    let _ = h.drain::<WordCount>(words);
    let r2 = h.wait(a2);
    let r1 = h.wait(a1);
    assert_eq!(h.drain::<u64>(total), vec![124750]);
    (h.log, r1, r2)
}

#[test]
fn simulated_times_are_deterministic_for_one_host_sequence() {
    let (log1, a1, b1) = scripted_run();
    let (log2, a2, b2) = scripted_run();
    assert_eq!(log1, log2, "every completion at the same instant");
    assert_eq!((a1, b1), (a2, b2));
    let last = log1.last().unwrap().1;
    println!(
        "scripted sequence: {} commands, host clock at {} ns",
        log1.len(),
        last.0
    );
}
