//! The device on its own thread, reached from host threads only through `DeviceHandle`
//! (NVMe commands): complete Applications built, started, fed and drained from other threads,
//! typed refusals after which the device keeps serving, two host threads at once, and
//! determinism of simulated times for one host thread's sequence.

mod common;

use device_runtime::device::{DeviceError, DeviceHandle, DeviceThread};
use device_runtime::isc::{ErrorKind, IscError, IscRequest, IscResponse, ModuleId, ModuleSource};
use device_runtime::runtime::RuntimeConfig;
use ndp_protocol::{
    AppConfig, AppId, ArgValue, FileId, InstanceId, Placement, ReceiverId, RunReport, SenderId,
};
use sim_nvme::nvme::{Command, Status};
use sim_nvme::{DeviceProfile, SimTime};
use ssdlet_testkit_types::WordCount;

fn device() -> DeviceThread {
    DeviceThread::in_memory(DeviceProfile::tiny(), RuntimeConfig::default()).expect("device starts")
}

/// Thin typed helpers over `DeviceHandle::call`, as a host SDK would have.
struct Host(DeviceHandle);

impl Host {
    fn ok(&mut self, req: IscRequest) -> IscResponse {
        match self.0.call(&req) {
            Ok(r) => r,
            Err(e) => panic!("{req:?}: {e}"),
        }
    }

    fn refused(&mut self, req: IscRequest, kind: ErrorKind) -> String {
        match self.0.call(&req) {
            Err(DeviceError::Isc(IscError::Refused { kind: k, message })) if k == kind => message,
            other => panic!("expected a {kind:?} refusal, got {other:?}"),
        }
    }

    fn load_testkit(&mut self) -> ModuleId {
        let path = common::modules().testkit();
        let bytes = std::fs::read(&path).unwrap();
        let source = ModuleSource::Bytes {
            name: path.display().to_string(),
            bytes,
        };
        match self.ok(IscRequest::LoadModule { source }) {
            IscResponse::Module(m) => m.id,
            r => panic!("{r:?}"),
        }
    }

    fn app(&mut self, name: &str) -> AppId {
        let config = AppConfig::default();
        match self.ok(IscRequest::CreateApp {
            name: name.into(),
            config,
        }) {
            IscResponse::App(a) => a,
            r => panic!("{r:?}"),
        }
    }

    fn spawn(&mut self, app: AppId, module: ModuleId, id: &str, args: Vec<ArgValue>) -> InstanceId {
        let placement = Placement::RoundRobin;
        match self.ok(IscRequest::Spawn {
            app,
            module,
            ssdlet: id.into(),
            args,
            placement,
        }) {
            IscResponse::Instance(i) => i,
            r => panic!("{r:?}"),
        }
    }

    fn connect(&mut self, from: InstanceId, output: &str, to: InstanceId, input: &str) {
        let (output, input) = (output.into(), input.into());
        self.ok(IscRequest::Connect {
            from,
            output,
            to,
            input,
        });
    }

    fn receiver(&mut self, from: InstanceId, output: &str) -> ReceiverId {
        match self.ok(IscRequest::HostReceiver {
            from,
            output: output.into(),
        }) {
            IscResponse::Receiver(r) => r,
            r => panic!("{r:?}"),
        }
    }

    fn sender(&mut self, to: InstanceId, input: &str) -> SenderId {
        match self.ok(IscRequest::HostSender {
            to,
            input: input.into(),
        }) {
            IscResponse::Sender(s) => s,
            r => panic!("{r:?}"),
        }
    }

    fn file(&mut self, name: &str, data: &[u8]) -> FileId {
        let size = data.len() as u64;
        self.ok(IscRequest::FileCreate {
            name: name.into(),
            size,
        });
        self.ok(IscRequest::FileWrite {
            name: name.into(),
            offset: 0,
            data: data.to_vec(),
        });
        match self.ok(IscRequest::FileOpen { name: name.into() }) {
            IscResponse::File(f) => f,
            r => panic!("{r:?}"),
        }
    }

    fn wait(&mut self, app: AppId) -> RunReport {
        match self.ok(IscRequest::Wait { app, block: true }) {
            IscResponse::Report(r) => r,
            r => panic!("{r:?}"),
        }
    }
}

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
    "the quick brown fox jumps over the lazy dog\n".repeat(200)
}

#[test]
fn applications_are_built_fed_and_drained_from_other_threads() {
    let dev = device();
    let h = dev.handle();
    std::thread::spawn(move || {
        let mut h = Host(h);
        let m = h.load_testkit();
        // count -> echo -> sum.
        let (app, total) = pipeline(&mut h, m, 1000);
        h.ok(IscRequest::Start { app });
        assert_eq!(h.0.recv_all::<u64>(total).unwrap(), vec![499_500]);
        let r = h.wait(app);
        assert_eq!(r.ports.len(), 3);
        // words over a device file.
        let f = h.file("text", text().as_bytes());
        let app = h.app("words");
        let w = h.spawn(app, m, "words", vec![ArgValue::File(f)]);
        let words = h.receiver(w, "words");
        h.ok(IscRequest::Start { app });
        let got: Vec<WordCount> = h.0.recv_all(words).unwrap();
        assert_eq!(got.len(), 9 * 200);
        assert_eq!(got[3].word, "fox");
        assert!(h.wait(app).nand_pages_read > 0);

        // A host-fed echo: one thread feeds it, another drains it, a third waits for it.
        let app = h.app("echo");
        let e = h.spawn(app, m, "echo", vec![]);
        let tx = h.sender(e, "in");
        let rx = h.receiver(e, "out");
        h.ok(IscRequest::Start { app });
        let mut drain = Host(h.0.clone());
        let drainer = std::thread::spawn(move || drain.0.recv_all::<u64>(rx).unwrap());
        let mut waiter = Host(h.0.clone());
        let waiting = std::thread::spawn(move || waiter.wait(app));
        let mut feed = h.0.clone();
        let feeder = std::thread::spawn(move || {
            for chunk in (0..1000u64).collect::<Vec<_>>().chunks(100) {
                feed.send(tx, chunk).unwrap();
            }
            feed.close(tx).unwrap();
            feed.now()
        });
        let fed_until = feeder.join().unwrap();
        let got = drainer.join().unwrap();
        assert_eq!(got, (0..1000).collect::<Vec<u64>>());
        let report = waiting.join().unwrap();
        assert_eq!(report.ports[0].messages, 1000);
        assert!(
            fed_until > SimTime::ZERO,
            "the feeder's clock moved with its commands"
        );
        assert!(report.pcie_bytes_to_device > 0 && report.pcie_bytes_to_host > 0);
    })
    .join()
    .unwrap();
}

#[test]
fn bad_input_gives_typed_errors_and_the_device_keeps_serving() {
    let dev = device();
    let mut h = Host(dev.handle());
    let m = h.load_testkit();
    let junk = ModuleSource::Bytes {
        name: "junk.so".into(),
        bytes: vec![0x7f, b'E', b'L', b'F', 9, 9],
    };
    let msg = h.refused(IscRequest::LoadModule { source: junk }, ErrorKind::Load);
    assert!(msg.contains("junk.so"), "{msg}");
    let app = h.app("bad");
    let placement = Placement::RoundRobin;
    let spawn = IscRequest::Spawn {
        app,
        module: m,
        ssdlet: "nope".into(),
        args: vec![],
        placement,
    };
    let msg = h.refused(spawn, ErrorKind::NotFound);
    assert!(msg.contains("`nope`"), "{msg}");
    let c = h.spawn(app, m, "count", vec![ArgValue::U64(3)]);
    let f = h.file("t", b"a b c");
    let w = h.spawn(app, m, "words", vec![ArgValue::File(f)]);
    let req = IscRequest::Connect {
        from: w,
        output: "words".into(),
        to: c,
        input: "in".into(),
    };
    let msg = h.refused(req, ErrorKind::NotFound);
    assert!(msg.contains("no input port `in`"), "{msg}");
    let s = h.spawn(app, m, "sum", vec![]);
    let req = IscRequest::Connect {
        from: w,
        output: "words".into(),
        to: s,
        input: "in".into(),
    };
    let msg = h.refused(req, ErrorKind::PortType);
    assert!(msg.contains("u64") && msg.contains("WordCount"), "{msg}");
    let msg = h.refused(
        IscRequest::FileOpen {
            name: "absent".into(),
        },
        ErrorKind::NotFound,
    );
    assert!(msg.contains("absent"), "{msg}");
    let ghost: AppId = postcard::from_bytes(&[0x2A]).unwrap();
    let msg = h.refused(
        IscRequest::Wait {
            app: ghost,
            block: true,
        },
        ErrorKind::NotFound,
    );
    assert!(msg.contains("42"), "{msg}");
    let c =
        h.0.submit(Command::Vendor {
            opcode: 0xC2,
            payload: vec![1, 0xFF, 0xFF, 0xFF],
        })
        .unwrap();
    assert_eq!(c.status, Status::INVALID_FIELD);
    // Still serving.
    let (app, total) = pipeline(&mut h, m, 4);
    h.ok(IscRequest::Start { app });
    assert_eq!(h.0.recv_all::<u64>(total).unwrap(), vec![6]);
}

#[test]
fn two_host_threads_run_their_own_applications_at_once() {
    let dev = device();
    let mut setup = Host(dev.handle());
    let m = setup.load_testkit();
    let threads: Vec<_> = (0..2u64)
        .map(|k| {
            let mut h = Host(dev.handle());
            std::thread::spawn(move || {
                let n = 500 + k * 250;
                let (app, total) = pipeline(&mut h, m, n);
                h.ok(IscRequest::Start { app });
                let got = h.0.recv_all::<u64>(total).unwrap();
                let report = h.wait(app);
                (got, n, report)
            })
        })
        .collect();
    for t in threads {
        let (got, n, report) = t.join().unwrap();
        assert_eq!(got, vec![n * (n - 1) / 2]);
        assert_eq!(report.ports[0].messages, n);
        assert!(report.error.is_none());
    }
}

/// One host thread's fixed sequence; returns every completion instant and the reports.
fn sequence() -> (Vec<SimTime>, Vec<RunReport>) {
    let dev = device();
    let mut h = Host(dev.handle());
    let mut times = Vec::new();
    let m = h.load_testkit();
    times.push(h.0.now());
    let f = h.file("text", text().as_bytes());
    let (a, total) = pipeline(&mut h, m, 300);
    let b = h.app("words");
    let w = h.spawn(b, m, "words", vec![ArgValue::File(f)]);
    let words = h.receiver(w, "words");
    times.push(h.0.now());
    h.ok(IscRequest::Start { app: a });
    h.ok(IscRequest::Start { app: b });
    times.push(h.0.now());
    let _: Vec<WordCount> = h.0.recv_all(words).unwrap();
    times.push(h.0.now());
    let sum: Vec<u64> = h.0.recv_all(total).unwrap();
    assert_eq!(sum, vec![44_850]);
    times.push(h.0.now());
    let reports = vec![h.wait(a), h.wait(b)];
    times.push(h.0.now());
    (times, reports)
}

#[test]
fn simulated_times_are_deterministic_for_a_single_host_thread() {
    let (t1, r1) = sequence();
    let (t2, r2) = sequence();
    assert_eq!(t1, t2);
    assert_eq!(r1, r2);
    println!("host clock after the sequence: {} ns", t1.last().unwrap().0);
}

#[test]
fn a_wait_from_one_thread_never_aborts_a_consumer_whose_producer_has_not_started() {
    let dev = device();
    let mut h = Host(dev.handle());
    let m = h.load_testkit();
    let producer = h.app("producer");
    let consumer = h.app("consumer");
    let c = h.spawn(producer, m, "count", vec![ArgValue::U64(100)]);
    let s = h.spawn(consumer, m, "sum", vec![]);
    h.connect(c, "out", s, "in");
    let total = h.receiver(s, "total");
    h.ok(IscRequest::Start { app: consumer });
    // Another host thread waits for the consumer: parked until the producer has started.
    let mut waiter = Host(h.0.clone());
    let waiting = std::thread::spawn(move || waiter.wait(consumer));
    // A third runs and waits for its own Application meanwhile.
    let mut other = Host(h.0.clone());
    let (app, out) = pipeline(&mut other, m, 10);
    other.ok(IscRequest::Start { app });
    other.wait(app);
    assert_eq!(other.0.recv_all::<u64>(out).unwrap(), vec![45]);
    h.ok(IscRequest::Start { app: producer });
    let report = waiting.join().unwrap();
    assert_eq!(report.ports[0].messages, 100);
    assert_eq!(h.0.recv_all::<u64>(total).unwrap(), vec![4950]);
}

/// A request as the daemon submits a tenant's.
fn call_as(h: &DeviceHandle, who: ndp_protocol::Tenant, req: IscRequest) -> Result<IscResponse, IscError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let done = Box::new(move |r| {
        let _ = tx.send(r);
    });
    h.submit_as_then(req.to_command().unwrap(), Some(who), done)
        .unwrap();
    let c = rx.recv().unwrap().unwrap();
    ndp_protocol::response_of(&c)
}

#[test]
fn a_tenant_spawns_only_with_handles_of_files_it_may_read_now() {
    use ndp_protocol::Tenant;
    let dev = device();
    let mut h = Host(dev.handle());
    let m = h.load_testkit();
    let app = h.app("tenant's");
    let t = Tenant::Token;
    let spawn = |f: FileId| IscRequest::Spawn {
        app,
        module: m,
        ssdlet: "scan".into(),
        args: vec![ArgValue::File(f)],
        placement: Placement::RoundRobin,
    };
    let handle = h.0.clone();
    let open = |name: &str| match call_as(&handle, t, IscRequest::FileOpen { name: name.into() }) {
        Ok(IscResponse::File(f)) => f,
        other => panic!("{other:?}"),
    };
    let forbidden = |r: Result<IscResponse, IscError>, want: &str| match r {
        Err(IscError::Refused {
            kind: ErrorKind::Forbidden,
            message,
        }) => assert!(message.contains(want), "{message}"),
        other => panic!("expected a Forbidden refusal naming {want}, got {other:?}"),
    };

    // The owner's file, shared: the tenant's handle works until the owner stops sharing it.
    h.file("shared.txt", b"shared words\n");
    h.ok(IscRequest::FileShare {
        name: "shared.txt".into(),
        shared: true,
    });
    let f = open("shared.txt");
    assert!(matches!(
        call_as(&handle, t, spawn(f)),
        Ok(IscResponse::Instance(_))
    ));
    h.ok(IscRequest::FileShare {
        name: "shared.txt".into(),
        shared: false,
    });
    forbidden(call_as(&handle, t, spawn(f)), "shared.txt");

    // The tenant's own file, removed and made again elsewhere: the old handle is stale.
    let create = |size| IscRequest::FileCreate {
        name: "mine".into(),
        size,
    };
    call_as(&handle, t, create(10)).unwrap();
    let old = open("mine");
    call_as(&handle, t, IscRequest::FileRemove { name: "mine".into() }).unwrap();
    call_as(&handle, t, create(9000)).unwrap();
    forbidden(call_as(&handle, t, spawn(old)), "stale");
    assert!(matches!(
        call_as(&handle, t, spawn(open("mine"))),
        Ok(IscResponse::Instance(_))
    ));
}
