//! Running the test SSDlets through the ABI on fibers: data flow, files, the matcher, and
//! every way an SSDlet can fail without taking the process down.

mod common;

use device_runtime::driver::{ArgValue, DriverConfig, DriverError, SsdletError, TestDriver};
use device_runtime::loader::LoadedModule;
use device_runtime::AbortReason;
use ssdlet_testkit_types::WordCount;

fn testkit() -> LoadedModule {
    common::loader()
        .load(&common::modules().testkit())
        .expect("testkit loads")
}

#[test]
fn pipeline_count_echo_sum() {
    let m = testkit();
    let mut d = TestDriver::new(DriverConfig {
        channel_capacity: 4,
        ..DriverConfig::default()
    });
    let c = d
        .spawn(&m.ssdlet("count").unwrap(), &[ArgValue::U64(1000)])
        .unwrap();
    let e = d.spawn(&m.ssdlet("echo").unwrap(), &[]).unwrap();
    let s = d.spawn(&m.ssdlet("sum").unwrap(), &[]).unwrap();
    d.connect(c, "out", e, "in").unwrap();
    d.connect(e, "out", s, "in").unwrap();
    let total = d.sink(s, "total").unwrap();
    d.run().unwrap();
    assert_eq!(d.take::<u64>(total).unwrap(), vec![499_500]);
    for id in [c, e, s] {
        assert_eq!(d.outcome(id), Some(&Ok(())));
    }
}

#[test]
fn host_feed_and_ping_pong() {
    let m = testkit();
    let mut d = TestDriver::new(DriverConfig::default());
    let e = d.spawn(&m.ssdlet("echo").unwrap(), &[]).unwrap();
    d.feed(e, "in", &[3u64, 1, 4, 1, 5]).unwrap();
    let out = d.sink(e, "out").unwrap();
    let p = d
        .spawn(&m.ssdlet("ping").unwrap(), &[ArgValue::U64(500)])
        .unwrap();
    let back = d.spawn(&m.ssdlet("echo").unwrap(), &[]).unwrap();
    d.connect(p, "ping", back, "in").unwrap();
    d.connect(back, "out", p, "pong").unwrap();
    d.run().unwrap();
    assert_eq!(d.take::<u64>(out).unwrap(), vec![3, 1, 4, 1, 5]);
    assert_eq!(d.outcome(p), Some(&Ok(())));
}

#[test]
fn put_to_a_closed_port_gives_the_value_back() {
    // `ping` with its pong input fed empty: the first get sees end of stream.
    let m = testkit();
    let mut d = TestDriver::new(DriverConfig::default());
    let p = d.spawn(&m.ssdlet("ping").unwrap(), &[ArgValue::U64(3)]).unwrap();
    d.feed::<u64>(p, "pong", &[]).unwrap();
    let sent = d.sink(p, "ping").unwrap();
    d.run().unwrap();
    assert_eq!(d.take::<u64>(sent).unwrap(), vec![0]);
    let Some(Err(SsdletError::Failed { message, .. })) = d.outcome(p) else {
        panic!("{:?}", d.outcome(p))
    };
    assert!(message.contains("pong closed after 0 round trips"), "{message}");
    // `count` into a `ping` that asks for nothing: once that has finished, its input is gone and
    // put returns Closed(v), which `?` turns into an error.
    let c = d
        .spawn(&m.ssdlet("count").unwrap(), &[ArgValue::U64(1000)])
        .unwrap();
    let q = d.spawn(&m.ssdlet("ping").unwrap(), &[ArgValue::U64(0)]).unwrap();
    d.connect(c, "out", q, "pong").unwrap();
    d.sink(q, "ping").unwrap();
    d.run().unwrap();
    let Some(Err(SsdletError::Failed { message, .. })) = d.outcome(c) else {
        panic!("{:?}", d.outcome(c))
    };
    assert!(message.contains("output port is closed"), "{message}");
}

#[test]
fn files_file_stream_and_shared_types_across_modules() {
    let m = testkit();
    let peer = common::loader().load(&common::modules().peer()).unwrap();
    let mut d = TestDriver::new(DriverConfig {
        channel_capacity: 2,
        ..DriverConfig::default()
    });
    let text = "the quick brown\r\nfox  jumps\n\nover the lazy dog".repeat(300);
    let words = text.split_ascii_whitespace().count() as u64;
    let f = d.add_file(text.into_bytes());
    let w = d
        .spawn(&m.ssdlet("words").unwrap(), &[ArgValue::File(f)])
        .unwrap();
    let c = d.spawn(&peer.ssdlet("counts").unwrap(), &[]).unwrap();
    d.connect(w, "words", c, "counts").unwrap();
    let total = d.sink(c, "total").unwrap();
    d.run().unwrap();
    assert_eq!(d.take::<u64>(total).unwrap(), vec![words]);

    let f2 = d.add_file(b"alpha beta\nalpha".to_vec());
    let w2 = d
        .spawn(&m.ssdlet("words").unwrap(), &[ArgValue::File(f2)])
        .unwrap();
    let out = d.sink(w2, "words").unwrap();
    d.run().unwrap();
    let got: Vec<WordCount> = d.take(out).unwrap();
    let got: Vec<&str> = got.iter().map(|w| w.word.as_str()).collect();
    assert_eq!(got, ["alpha", "beta", "alpha"]);
}

#[test]
fn matcher_hints_then_software_confirm() {
    let m = testkit();
    let mut d = TestDriver::new(DriverConfig::default());
    let mut data = vec![b'.'; 4096 * 4];
    data[4096 + 100..4096 + 106].copy_from_slice(b"needle");
    // Straddles the page 2 / page 3 boundary: reported for page 2, where it starts.
    data[3 * 4096 - 3..3 * 4096 + 3].copy_from_slice(b"needle");
    let f = d.add_file(data);
    let g = d
        .spawn(
            &m.ssdlet("grep").unwrap(),
            &[ArgValue::File(f), ArgValue::Str("needle".into())],
        )
        .unwrap();
    let pages = d.sink(g, "pages").unwrap();
    d.run().unwrap();
    assert_eq!(d.outcome(g), Some(&Ok(())));
    assert_eq!(d.take::<u64>(pages).unwrap(), vec![1, 2]);
}

#[test]
fn a_panic_is_an_error_naming_the_ssdlet_and_the_message() {
    let m = testkit();
    let mut d = TestDriver::new(DriverConfig::default());
    let p = d
        .spawn(
            &m.ssdlet("panicking").unwrap(),
            &[ArgValue::Str("deliberate boom 42".into())],
        )
        .unwrap();
    d.run().unwrap();
    let err = d.outcome(p).unwrap().clone().unwrap_err();
    let SsdletError::Panicked { ssdlet, message } = &err else {
        panic!("{err}")
    };
    assert_eq!(ssdlet, "panicking");
    assert!(
        message.contains("deliberate boom 42") && message.contains("src/lib.rs"),
        "{message}"
    );
    assert!(
        err.to_string()
            .starts_with("SSDlet `panicking` panicked: deliberate boom 42"),
        "{err}"
    );
    assert!(d
        .logs()
        .iter()
        .any(|l| l.ssdlet == "panicking" && l.text == "about to panic"));
    // The module and the process carry on.
    let f = d
        .spawn(&m.ssdlet("failing").unwrap(), &[ArgValue::Str("nope".into())])
        .unwrap();
    d.run().unwrap();
    assert_eq!(
        d.outcome(f),
        Some(&Err(SsdletError::Failed {
            ssdlet: "failing".into(),
            message: "nope".into()
        }))
    );
}

#[test]
fn a_stack_overflow_is_an_error_and_poisons_only_that_module() {
    let m = testkit();
    let mut d = TestDriver::new(DriverConfig {
        stack_size: 128 * 1024,
        ..DriverConfig::default()
    });
    let r = d
        .spawn(&m.ssdlet("recurse").unwrap(), &[ArgValue::U64(1_000_000)])
        .unwrap();
    d.sink(r, "out").unwrap();
    d.run().unwrap();
    let err = d.outcome(r).unwrap().clone().unwrap_err();
    assert!(
        matches!(err, SsdletError::StackOverflow { ref ssdlet, stack_size: 131072, .. } if ssdlet == "recurse"),
        "{err}"
    );
    assert!(
        err.to_string().contains("overflowed its 131072-byte stack"),
        "{err}"
    );
    assert!(m.is_poisoned());
    let again = d.spawn(&m.ssdlet("echo").unwrap(), &[]).map(|_| ()).unwrap_err();
    assert!(matches!(again, DriverError::ModulePoisoned { .. }), "{again}");
    // A fresh load of the same file is a fresh image: it runs, and deep-enough recursion
    // within the stack is fine.
    let fresh = testkit();
    let r2 = d
        .spawn(&fresh.ssdlet("recurse").unwrap(), &[ArgValue::U64(20)])
        .unwrap();
    let out = d.sink(r2, "out").unwrap();
    d.run().unwrap();
    assert_eq!(d.outcome(r2), Some(&Ok(())));
    assert_eq!(d.take::<u64>(out).unwrap().len(), 1);
    // And it traps again, repeatably.
    let r3 = d
        .spawn(&fresh.ssdlet("recurse").unwrap(), &[ArgValue::U64(1_000_000)])
        .unwrap();
    d.sink(r3, "out").unwrap();
    d.run().unwrap();
    assert!(matches!(
        d.outcome(r3),
        Some(Err(SsdletError::StackOverflow { .. }))
    ));
}

#[test]
fn an_allocation_hog_is_stopped_at_its_dram_budget() {
    let m = testkit();
    let budget = 8 << 20;
    let mut d = TestDriver::new(DriverConfig {
        dram_budget: budget,
        ..DriverConfig::default()
    });
    let h = d
        .spawn(&m.ssdlet("alloc_hog").unwrap(), &[ArgValue::U64(1 << 20)])
        .unwrap();
    let e = d.spawn(&m.ssdlet("echo").unwrap(), &[]).unwrap();
    d.feed(e, "in", &[7u64]).unwrap();
    let out = d.sink(e, "out").unwrap();
    d.run().unwrap();
    let err = d.outcome(h).unwrap().clone().unwrap_err();
    let SsdletError::Aborted {
        reason: AbortReason::DramBudget { used, budget: b },
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(*b, budget);
    assert!(*used > budget, "{err}");
    assert!(
        err.to_string().contains("over its budget of 8388608 bytes"),
        "{err}"
    );
    assert!(d.dram_peak(h) > budget);
    // Unwinding freed the hoard: what stays charged is small.
    assert!(
        d.dram_used(h) < budget / 8,
        "still holds {} bytes",
        d.dram_used(h)
    );
    // Its neighbour finished normally.
    assert_eq!(d.take::<u64>(out).unwrap(), vec![7]);
}

#[test]
fn an_endless_loop_is_stopped_by_the_watchdog() {
    let m = testkit();
    let mut d = TestDriver::new(DriverConfig {
        max_resumes: 1000,
        ..DriverConfig::default()
    });
    let l = d.spawn(&m.ssdlet("endless").unwrap(), &[]).unwrap();
    d.run().unwrap();
    assert_eq!(
        d.outcome(l),
        Some(&Err(SsdletError::Aborted {
            ssdlet: "endless".into(),
            reason: AbortReason::Watchdog { limit: 1000 }
        }))
    );
}

#[test]
fn a_deadlock_aborts_the_blocked_ssdlets() {
    let m = testkit();
    let mut d = TestDriver::new(DriverConfig::default());
    let a = d.spawn(&m.ssdlet("echo").unwrap(), &[]).unwrap();
    let b = d.spawn(&m.ssdlet("echo").unwrap(), &[]).unwrap();
    d.connect(a, "out", b, "in").unwrap();
    d.connect(b, "out", a, "in").unwrap();
    let err = d.run().unwrap_err();
    assert!(matches!(err, DriverError::Deadlock { .. }), "{err}");
    for id in [a, b] {
        assert!(matches!(
            d.outcome(id),
            Some(Err(SsdletError::Aborted {
                reason: AbortReason::Deadlock,
                ..
            }))
        ));
    }
}

#[test]
fn arguments_and_ports_are_checked_against_metadata() {
    let m = testkit();
    let mut d = TestDriver::new(DriverConfig::default());
    let e = d
        .spawn(&m.ssdlet("count").unwrap(), &[ArgValue::Str("ten".into())])
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "argument `n` of SSDlet `count` has type `u64`, got a `str`"
    );
    let e = d.spawn(&m.ssdlet("count").unwrap(), &[]).map(|_| ()).unwrap_err();
    assert_eq!(e.to_string(), "SSDlet `count` takes 1 arguments, got 0");
    let a = d.spawn(&m.ssdlet("echo").unwrap(), &[]).unwrap();
    let b = d.spawn(&m.ssdlet("echo").unwrap(), &[]).unwrap();
    let e = d.connect(a, "nope", b, "in").unwrap_err();
    assert_eq!(
        e.to_string(),
        "SSDlet `echo` has no output port `nope` (it has: out)"
    );
    d.connect(a, "out", b, "in").unwrap();
    let e = d.connect(a, "out", b, "in").unwrap_err();
    assert!(matches!(e, DriverError::PortInUse { .. }), "{e}");
}

/// A module built against the first runtime table of ABI version 1 (it knows nothing of the
/// services appended since) loads and runs beside today's modules on today's longer table.
#[test]
fn a_module_built_against_the_first_table_runs_on_todays() {
    let m = testkit();
    let old = common::loader()
        .load(&common::modules().path("ssdlet-testkit-abi-first"))
        .expect("a module of the first table loads");
    let mut d = TestDriver::new(DriverConfig::default());
    let c = d
        .spawn(&m.ssdlet("count").unwrap(), &[ArgValue::U64(100)])
        .unwrap();
    let x2 = d.spawn(&old.ssdlet("double").unwrap(), &[]).unwrap();
    let s = d.spawn(&m.ssdlet("sum").unwrap(), &[]).unwrap();
    d.connect(c, "out", x2, "in").unwrap();
    d.connect(x2, "out", s, "in").unwrap();
    let total = d.sink(s, "total").unwrap();
    d.run().unwrap();
    assert_eq!(d.take::<u64>(total).unwrap(), vec![2 * 4950]);
    for id in [c, x2, s] {
        assert_eq!(d.outcome(id), Some(&Ok(())));
    }
}
