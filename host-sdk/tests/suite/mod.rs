//! The host API test suite: each check takes a [`Device`], so the same suite runs against an
//! embedded device (`embedded.rs`) and against `ndp serve` in a child process (`daemon.rs`;
//! INVARIANT(transport-agnostic)). Checks use their own file names, so they can share one
//! device.

#![allow(dead_code)]

use std::collections::HashMap;

use host_sdk::{Application, Arg, Device, Error, ErrorKind, LogLevel, ReadAhead};
use ndp_data::baseline;
use ndp_data::gen::text::{generate_vec, TextSpec};
use ssdlet_module_build::{build, Modules, Profile};

/// The built modules (once per process).
pub fn modules() -> &'static Modules {
    match build(Profile::Debug) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

fn wordcount_path() -> std::path::PathBuf {
    modules().path("ssdlet-wordcount")
}

type Pairs = Vec<(String, u64)>;

/// Runs the wordcount module over device file `name`: mapper -> shuffler2 -> two reducers.
pub fn device_word_count(dev: &Device, name: &str) -> anyhow::Result<HashMap<String, u64>> {
    device_word_count_with(dev, &wordcount_path(), name)
}

/// [`device_word_count`] with the wordcount module at `module`.
pub fn device_word_count_with(
    dev: &Device,
    module: &std::path::Path,
    name: &str,
) -> anyhow::Result<HashMap<String, u64>> {
    let mid = dev.load_module(module)?;
    let app = Application::new(dev);
    let mapper = app.ssdlet(&mid, "mapper", (dev.file(name),))?;
    let shuffler = app.ssdlet(&mid, "shuffler2", ())?;
    let reducers = [app.ssdlet(&mid, "reducer", ())?, app.ssdlet(&mid, "reducer", ())?];
    app.connect(mapper.out(0), shuffler.input("in"))?;
    app.connect(shuffler.out("out0"), reducers[0].input(0))?;
    app.connect(shuffler.out(1), reducers[1].input(0))?;
    let mut ports = Vec::new();
    for r in &reducers {
        ports.push(app.connect_to::<Pairs>(r.out(0))?);
    }
    app.start()?;
    let mut counts = HashMap::new();
    for port in &mut ports {
        while let Some(batch) = port.get() {
            for (w, c) in batch {
                assert!(counts.insert(w, c).is_none(), "reducer outputs overlap");
            }
        }
        if let Some(e) = port.take_error() {
            return Err(e.into());
        }
    }
    let report = app.wait()?;
    assert!(report.error.is_none(), "{report:?}");
    assert!(report.done);
    dev.unload_module(mid)?;
    Ok(counts)
}

/// Wordcount end to end equals the native baseline.
pub fn wordcount_matches_baseline(dev: &Device) {
    let text = generate_vec(&TextSpec::new(300_000, 7));
    dev.put_bytes("wc-input.txt", &text).unwrap();
    let got = device_word_count(dev, "wc-input.txt").unwrap();
    assert_eq!(got, baseline::word_count(&text));
    dev.remove_file("wc-input.txt").unwrap();
}

/// Files put (bytes, host file, stream), listed, got back (bytes, host file), removed.
pub fn files_round_trip(dev: &Device) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data: Vec<u8> = (0..2_500_000u32).map(|i| (i * 7 + i / 4096) as u8).collect();
    let host = dir.join("in.bin");
    std::fs::write(&host, &data).unwrap();

    let a = dev.put_file("rt-a.bin", &host).unwrap();
    assert_eq!(a.size, data.len() as u64);
    dev.put_reader("rt-b.txt", &b"hello device\n"[..]).unwrap();
    dev.put_bytes("rt-empty", &[]).unwrap();

    let files = dev.list_files().unwrap();
    for (name, size) in [("rt-a.bin", data.len() as u64), ("rt-b.txt", 13), ("rt-empty", 0)] {
        assert!(
            files.iter().any(|f| f.name == name && f.size == size),
            "{name} in {files:?}"
        );
    }
    assert_eq!(dev.get_bytes("rt-b.txt").unwrap(), b"hello device\n");
    assert_eq!(dev.get_bytes("rt-empty").unwrap(), b"");
    let out = dir.join("out.bin");
    assert_eq!(dev.get_file("rt-a.bin", &out).unwrap(), data.len() as u64);
    assert_eq!(std::fs::read(&out).unwrap(), data);

    for name in ["rt-a.bin", "rt-b.txt", "rt-empty"] {
        dev.remove_file(name).unwrap();
    }
    let left = dev.list_files().unwrap();
    assert!(!left.iter().any(|f| f.name.starts_with("rt-")), "{left:?}");
}

/// count -> sum inside one Application, total read on the host: the device still serves.
pub fn still_serving(dev: &Device, n: u64) {
    let m = dev.load_module(modules().testkit()).unwrap();
    let app = Application::new(dev);
    let count = app.ssdlet(&m, "count", (n,)).unwrap();
    let sum = app.ssdlet(&m, "sum", ()).unwrap();
    app.connect(count.out(0), sum.input(0)).unwrap();
    let mut total = app.connect_to::<u64>(sum.out("total")).unwrap();
    app.start().unwrap();
    assert_eq!(total.collect_all().unwrap(), vec![n * n.saturating_sub(1) / 2]);
    app.wait().unwrap();
    dev.unload_module(m).unwrap();
}

/// Bad input gives typed errors naming the thing, and the device keeps serving.
pub fn bad_input_typed_errors(dev: &Device) {
    let m = dev.load_module(modules().testkit()).unwrap();
    dev.put_bytes("bad-words.txt", b"a b c\n").unwrap();

    // Mismatched port types: both types named.
    let app = Application::new(dev);
    let words = app.ssdlet(&m, "words", (dev.file("bad-words.txt"),)).unwrap();
    let sum = app.ssdlet(&m, "sum", ()).unwrap();
    match app.connect(words.out(0), sum.input(0)) {
        Err(Error::PortType { from, to, message }) => {
            assert_eq!((from.as_str(), to.as_str()), ("words.words", "sum.in"));
            assert!(message.contains("u64"), "{message}");
            assert!(
                message.contains("WordCount") || message.contains("str"),
                "{message}"
            );
        }
        other => panic!("expected a port type error, got {other:?}"),
    }
    still_serving(dev, 10);

    // A port connected to nothing: `start` refuses, naming it once; connected, it starts.
    let loose = Application::new(dev);
    let c = loose.ssdlet(&m, "count", (3u64,)).unwrap();
    let e = loose.start().unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::State), "{e}");
    let text = e.to_string();
    assert_eq!(
        text.matches("`count.out` (output) connected to nothing").count(),
        1,
        "{text}"
    );
    let mut rx = loose.connect_to::<u64>(c.out(0)).unwrap();
    loose.start().unwrap();
    assert_eq!(std::iter::from_fn(|| rx.get()).collect::<Vec<_>>(), vec![0, 1, 2]);
    loose.wait().unwrap();

    // An integer literal without a type takes the SSDlet's declared one, if it fits.
    let ints = Application::new(dev);
    let c = ints.ssdlet(&m, "count", (2,)).unwrap();
    let mut rx = ints.connect_to::<u64>(c.out(0)).unwrap();
    ints.start().unwrap();
    assert_eq!(rx.collect_all().unwrap(), vec![0, 1]);
    ints.wait().unwrap();
    match ints.ssdlet(&m, "count", (-1,)) {
        Err(e @ Error::BadArg { .. }) => {
            assert_eq!(e.kind(), Some(ErrorKind::InvalidArgument));
            let text = e.to_string();
            assert!(
                text.contains("`n`") && text.contains("-1 does not fit its type `u64`"),
                "{text}"
            );
        }
        other => panic!("expected a bad argument, got {:?}", other.map(|_| ())),
    }
    match ints.ssdlet(&m, "panicking", (7,)) {
        Err(e @ Error::BadArg { .. }) => assert!(e.to_string().contains("declared `str`"), "{e}"),
        other => panic!("expected a bad argument, got {:?}", other.map(|_| ())),
    }

    // Unknown SSDlet id: the device's message lists the ids.
    match app.ssdlet(&m, "no_such_ssdlet", ()) {
        Err(e @ Error::UnknownSsdlet { .. }) => {
            assert_eq!(e.kind(), Some(ErrorKind::NotFound));
            let Error::UnknownSsdlet { id, message, .. } = e else {
                unreachable!()
            };
            assert_eq!(id, "no_such_ssdlet");
            assert!(message.contains("echo"), "{message}");
        }
        other => panic!("expected an unknown SSDlet error, got {other:?}"),
    }

    // A directory is not a file to put: refused before anything is created on the device.
    let tmp = tempfile::tempdir().unwrap();
    match dev.put_file("a-directory", tmp.path()) {
        Err(Error::HostIo { path, source }) => {
            assert_eq!(path, tmp.path());
            assert!(source.to_string().contains("regular file"), "{source}");
        }
        other => panic!("expected a host I/O error for a directory, got {other:?}"),
    }
    assert!(!dev.list_files().unwrap().iter().any(|f| f.name == "a-directory"));
    // `.` and `..` are not file names.
    for name in [".", ".."] {
        let e = dev.put_bytes(name, b"x").unwrap_err();
        assert!(e.to_string().contains("invalid"), "{name}: {e}");
    }
    // A host clock past the simulated horizon: the command is refused, the device serves on.
    let late = dev.with_own_clock();
    late.advance_to(host_sdk::SimTime(u64::MAX));
    let e = late.list_files().unwrap_err();
    assert!(e.to_string().contains("horizon"), "{e}");

    // Unknown file: as an argument, and for get and remove.
    for r in [
        app.ssdlet(&m, "words", (dev.file("no-such-file"),)).map(|_| ()),
        dev.get_bytes("no-such-file").map(|_| ()),
        dev.remove_file("no-such-file"),
        dev.host_file("no-such-file").map(|_| ()),
    ] {
        match r {
            Err(Error::UnknownFile { name, .. }) => assert_eq!(name, "no-such-file"),
            other => panic!("expected an unknown file error, got {other:?}"),
        }
    }

    // Missing module path, and a file that is not a module.
    match dev.load_module("/no/such/dir/libmissing.so") {
        Err(Error::ModulePath { path, .. }) => assert!(path.ends_with("libmissing.so")),
        other => panic!("expected a module path error, got {other:?}"),
    }
    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk.so");
    std::fs::write(&junk, b"not an ELF file").unwrap();
    match dev.load_module(&junk) {
        Err(Error::Load { path, message }) => {
            assert_eq!(path, junk);
            assert!(!message.is_empty());
        }
        other => panic!("expected a load error, got {other:?}"),
    }

    // Ports that do not exist, by index and by name.
    for r in [
        app.connect(sum.out(3), sum.input(0)),
        app.connect(words.out("nope"), sum.input(0)),
    ] {
        match r {
            Err(Error::NoSuchPort {
                ssdlet, available, ..
            }) => {
                assert!(ssdlet == "sum" || ssdlet == "words");
                assert!(!available.is_empty());
            }
            other => panic!("expected a no-such-port error, got {other:?}"),
        }
    }
    // Host ports whose type is not the SSDlet port's: refused at connect, naming both types,
    // in both directions; the type the module declares connects.
    host_sdk::message! {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct WordCount {
            word: String,
            count: u64,
        }
    }
    for (r, port, port_ty, host_ty) in [
        (
            app.connect_to::<WordCount>(words.out(0)).map(|_| ()),
            "words.words",
            "WordCount{word:str,count:u32}",
            "WordCount{word:str,count:u64}",
        ),
        (
            app.connect_to::<Vec<u64>>(sum.out(0)).map(|_| ()),
            "sum.total",
            "u64",
            "seq<u64>",
        ),
        (
            app.connect_from::<String>(sum.input(0)).map(|_| ()),
            "sum.in",
            "u64",
            "str",
        ),
    ] {
        match r {
            Err(e @ Error::PortType { .. }) => {
                assert_eq!(e.kind(), Some(ErrorKind::PortType));
                let text = e.to_string();
                for part in [port, &format!("`{port_ty}`"), &format!("`{host_ty}`")] {
                    assert!(text.contains(part), "{text} should name {part}");
                }
            }
            other => panic!("expected a port type error for {port}, got {other:?}"),
        }
    }
    app.connect_to::<ssdlet_testkit_types::WordCount>(words.out(0))
        .expect("the module's own message type connects");

    // Wrong argument type.
    let e = app.ssdlet(&m, "count", ("ten",)).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::InvalidArgument), "{e}");

    // A failing SSDlet fails its own Application with its message.
    let failing = Application::new(dev);
    failing.ssdlet(&m, "failing", ("boom on purpose",)).unwrap();
    failing.start().unwrap();
    match failing.wait() {
        Err(e @ Error::AppFailed { .. }) => {
            let text = e.to_string();
            assert!(text.contains("boom on purpose"), "{text}");
            // The Application is named once, not once per layer.
            assert_eq!(text.matches("application `").count(), 1, "{text}");
        }
        other => panic!("expected the Application to fail, got {other:?}"),
    }

    app.abort().unwrap();
    dev.unload_module(m).unwrap();
    dev.remove_file("bad-words.txt").unwrap();
    still_serving(dev, 100);
}

/// Host sender into an SSDlet, host receiver out of it; and ports between two Applications.
pub fn host_ports_and_inter_application(dev: &Device) {
    let m = dev.load_module(modules().testkit()).unwrap();
    let app = Application::new(dev);
    let echo = app.ssdlet(&m, "echo", ()).unwrap();
    let tx = app.connect_from::<u64>(echo.input(0)).unwrap();
    let mut rx = app.connect_to::<u64>(echo.out(0)).unwrap();
    app.start().unwrap();
    tx.put(&1).unwrap();
    tx.put_all(&[2, 3, 4]).unwrap();
    tx.close().unwrap();
    let got: Vec<u64> = rx.by_ref().collect();
    assert_eq!(got, vec![1, 2, 3, 4]);
    assert!(rx.take_error().is_none());
    app.wait().unwrap();

    // count (Application A) -> sum (Application B).
    let a = Application::new(dev);
    let b = Application::new(dev);
    let count = a.ssdlet(&m, "count", (50u64,)).unwrap();
    let sum = b.ssdlet(&m, "sum", ()).unwrap();
    a.connect(count.out(0), sum.input(0)).unwrap();
    let mut total = b.connect_to::<u64>(sum.out(0)).unwrap();
    b.start().unwrap();
    a.start().unwrap();
    assert_eq!(total.collect_all().unwrap(), vec![(0..50).sum::<u64>()]);
    a.wait().unwrap();
    b.wait().unwrap();
    dev.unload_module(m).unwrap();
}

/// Two threads, each with its own host clock and Application, at once.
pub fn two_threads(dev: &Device) {
    let text = generate_vec(&TextSpec::new(60_000, 11));
    dev.put_bytes("tt-input.txt", &text).unwrap();
    let want = baseline::word_count(&text);
    std::thread::scope(|s| {
        let t1 = s.spawn(|| device_word_count(&dev.with_own_clock(), "tt-input.txt").unwrap());
        let t2 = s.spawn(|| {
            let d = dev.with_own_clock();
            for n in [10, 1000, 5000] {
                still_serving(&d, n);
            }
        });
        assert_eq!(t1.join().unwrap(), want);
        t2.join().unwrap();
    });
    dev.remove_file("tt-input.txt").unwrap();
}

/// Conventional reads: QD1 and deep reads return the file's bytes and move the host clock;
/// host compute is charged to it.
pub fn conventional_reads(dev: &Device) {
    let data: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
    dev.put_bytes("conv.bin", &data).unwrap();
    let f = dev.host_file("conv.bin").unwrap();
    assert_eq!(f.size(), data.len() as u64);

    let t0 = dev.now();
    assert_eq!(f.pread(4000, 300).unwrap(), &data[4000..4300]);
    assert_eq!(f.pread(999_000, 1003).unwrap(), &data[999_000..]);
    assert!(dev.now() > t0);
    match f.pread(999_000, 5000) {
        Err(Error::OutOfRange { size, .. }) => assert_eq!(size, data.len() as u64),
        other => panic!("expected out of range, got {other:?}"),
    }

    let t1 = dev.now();
    let deep = ReadAhead::default();
    assert_eq!(f.read_all(deep).unwrap(), data);
    let mut n = 0u64;
    let report = f.scan(deep, |chunk| n += chunk.len() as u64).unwrap();
    assert_eq!(n, data.len() as u64);
    assert!(report.started_at >= t1 && report.finished_at == dev.now());
    assert!(report.io.0 > 0 && report.commands >= 8);

    // Deep reads finish no later than the same reads at depth 1.
    let qd1 = f.scan(ReadAhead { depth: 1, ..deep }, |_| {}).unwrap();
    assert!(report.io <= qd1.io, "deep {:?} vs QD1 {:?}", report.io, qd1.io);

    // Through a buffer pool: the first pass reads every chunk and offers it; the second finds
    // them all, reads nothing and hands the same bytes over.
    struct Pool(std::collections::HashMap<u64, std::sync::Arc<[u8]>>);
    impl host_sdk::ScanCache for Pool {
        fn get(&mut self, offset: u64, len: u64) -> Option<std::sync::Arc<[u8]>> {
            self.0.get(&offset).filter(|c| c.len() as u64 == len).cloned()
        }
        fn put(&mut self, offset: u64, data: &[u8]) {
            self.0.insert(offset, data.into());
        }
    }
    let mut pool = Pool(Default::default());
    let zero = |_: &[u8]| std::time::Duration::ZERO;
    let cold = f.scan_through(deep, Some(&mut pool), zero).unwrap();
    assert_eq!((cold.bytes_cached, cold.commands), (0, report.commands));
    let mut got = Vec::new();
    let warm = f
        .scan_through(deep, Some(&mut pool), |c| {
            got.extend_from_slice(c);
            std::time::Duration::from_nanos(10)
        })
        .unwrap();
    assert_eq!(got, data);
    assert_eq!(
        (warm.bytes_cached, warm.bytes_read, warm.commands),
        (data.len() as u64, 0, 0)
    );
    assert_eq!(warm.elapsed().0, 10 * report.commands, "only the host's compute");

    let before = dev.now();
    dev.charge(std::time::Duration::from_micros(5));
    assert_eq!(dev.now().saturating_since(before).0, 5_000);
    dev.remove_file("conv.bin").unwrap();
}

/// What an SSDlet logs reaches the host, filtered by level, also after its Application
/// failed.
pub fn logs_reach_the_host(dev: &Device) {
    let m = dev.load_module(modules().testkit()).unwrap();
    let app = Application::new(dev);
    app.ssdlet(&m, "panicking", ("logged, then boom",)).unwrap();
    app.start().unwrap();
    assert!(app.wait().is_err());
    let info = app.logs(LogLevel::Info).unwrap();
    assert_eq!(info.len(), 1, "{info:?}");
    assert_eq!(
        (info[0].ssdlet.as_str(), info[0].level, info[0].text.as_str()),
        ("panicking", LogLevel::Info, "about to panic")
    );
    assert!(
        info[0].to_string().contains("INFO  panicking: about to panic"),
        "{}",
        info[0]
    );
    assert!(app.logs(LogLevel::Warn).unwrap().is_empty());
    let batch = app.logs_from(1, LogLevel::Debug).unwrap();
    assert_eq!((batch.lines.len(), batch.next, batch.dropped), (0, 1, 0));
    assert_eq!("WARNING".parse::<LogLevel>(), Ok(LogLevel::Warn));
    assert!("loud"
        .parse::<LogLevel>()
        .unwrap_err()
        .to_string()
        .contains("error, warn, info, debug"));
}

/// A failed Application ends its host receivers with its failure after the messages it did
/// send, not with a clean end of stream; the failure is said once.
pub fn a_failure_reaches_the_host_receiver(dev: &Device) {
    let m = dev.load_module(modules().testkit()).unwrap();
    let app = Application::new(dev);
    let p = app.ssdlet(&m, "ping", (3u64,)).unwrap();
    let tx = app.connect_from::<u64>(p.input(0)).unwrap();
    let mut rx = app.connect_to::<u64>(p.out(0)).unwrap();
    app.start().unwrap();
    tx.close().unwrap();
    assert_eq!(rx.try_get().unwrap(), Some(0));
    let e = rx.try_get().unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::AppFailed), "{e}");
    let text = e.to_string();
    assert_eq!(
        text.matches("pong closed after 0 round trips").count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches("failed").count(), 2, "{text}"); // the Application's and the SSDlet's
                                                             // `get` ends the loop and keeps the error.
    let mut rx2 = rx;
    assert_eq!(rx2.get(), None);
    assert!(app.wait().is_err());
}

/// Any message type is an argument: a `Vec` of structs reaches the SSDlet whole; a value of
/// another type is refused on the host naming both types, and bytes that are not one value of
/// the declared type are refused by the device before the SSDlet sees them.
pub fn message_arguments(dev: &Device) {
    use ssdlet_testkit_types::WordCount;
    let m = dev.load_module(modules().testkit()).unwrap();
    let words = vec![
        WordCount {
            word: "fox".into(),
            count: 2,
        },
        WordCount {
            word: "dog".into(),
            count: 5,
        },
    ];
    let app = Application::new(dev);
    let s = app
        .ssdlet(&m, "scaled", (Arg::message(&words).unwrap(), 3u32))
        .unwrap();
    let mut rx = app.connect_to::<WordCount>(s.out(0)).unwrap();
    app.start().unwrap();
    let got: Vec<(String, u32)> = std::iter::from_fn(|| rx.get())
        .map(|w| (w.word, w.count))
        .collect();
    assert_eq!(got, [("fox".to_string(), 6), ("dog".to_string(), 15)]);
    app.wait().unwrap();

    let app = Application::new(dev);
    let e = app
        .ssdlet(&m, "scaled", (Arg::message(&vec![1u64, 2]).unwrap(), 3u32))
        .unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, Error::BadArg { .. })
            && text.contains("seq<u64>")
            && text.contains("seq<WordCount{word:str,count:u32}>"),
        "{text}"
    );
    // Five elements announced, one byte of them sent.
    let forged = Arg::Message {
        sig: "seq<WordCount{word:str,count:u32}>".into(),
        bytes: vec![5, 1],
    };
    let e = app.ssdlet(&m, "scaled", (forged, 3u32)).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::InvalidArgument), "{e}");
    assert!(e.to_string().contains("argument `words`"), "{e}");
}
