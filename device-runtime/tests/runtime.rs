//! The device runtime end to end on a simulated SSD: files through the namespace and internal
//! reads, the matcher, determinism under the modeled compute, isolation of Applications (one
//! test per fault), inter-application ports, placement, a 10,000-instance chain, and deadlock
//! detection that names the deadlocked SSDlets and leaves live Applications alone.

mod common;

use device_runtime::compute::ComputeModel;
use device_runtime::loader::LoadedModule;
use device_runtime::runtime::{
    AppConfig, AppId, ArgValue, Placement, PortReport, ReceiverId, RunReport, Runtime, RuntimeConfig,
    RuntimeError, SsdletError,
};
use device_runtime::AbortReason;
use sim_nvme::{DeviceProfile, SimDuration};
use ssdlet_testkit_types::WordCount;

fn testkit() -> LoadedModule {
    common::loader()
        .load(&common::modules().testkit())
        .expect("testkit loads")
}

fn runtime(config: RuntimeConfig) -> Runtime {
    Runtime::in_memory(DeviceProfile::tiny(), config).expect("tiny runtime")
}

/// count(n) -> echo -> sum -> host, in its own Application.
fn healthy(rt: &mut Runtime, m: &LoadedModule, n: u64) -> (AppId, ReceiverId) {
    let app = rt.create_app("healthy", AppConfig::default());
    let c = rt
        .spawn(app, &m.ssdlet("count").unwrap(), &[ArgValue::U64(n)])
        .unwrap();
    let e = rt.spawn(app, &m.ssdlet("echo").unwrap(), &[]).unwrap();
    let s = rt.spawn(app, &m.ssdlet("sum").unwrap(), &[]).unwrap();
    rt.connect(c, "out", e, "in").unwrap();
    rt.connect(e, "out", s, "in").unwrap();
    let out = rt.host_receiver(s, "total").unwrap();
    (app, out)
}

fn words_text() -> String {
    "the quick brown fox jumps over the lazy dog\n".repeat(2000)
}

/// words(file) on the device -> host; returns the report and the words.
fn words_run(m: &LoadedModule) -> (RunReport, Vec<WordCount>) {
    let mut rt = runtime(RuntimeConfig::default());
    let f = rt.create_file("text", words_text().as_bytes()).unwrap();
    let app = rt.create_app("words", AppConfig::default());
    let w = rt
        .spawn(app, &m.ssdlet("words").unwrap(), &[ArgValue::File(f)])
        .unwrap();
    let out = rt.host_receiver(w, "words").unwrap();
    rt.start(app).unwrap();
    let report = rt.wait(app).unwrap();
    (report, rt.recv(out).unwrap())
}

#[test]
fn files_are_read_through_internal_reads_and_runs_are_deterministic() {
    let m = testkit();
    let (r1, w1) = words_run(&m);
    let (r2, w2) = words_run(&m);
    assert_eq!(w1.len(), 9 * 2000);
    assert_eq!(w1[3].word, "fox");
    assert_eq!(r1, r2, "same run, same report");
    assert_eq!(w1, w2);
    assert!(r1.elapsed > SimDuration::ZERO);
    assert!(r1.nand_pages_read > 0, "{r1:?}");
    assert_eq!(r1.pcie_bytes_to_host, r1.ports[0].bytes);
    assert_eq!(r1.ports[0].messages, 9 * 2000);
    assert!(r1.core_busy.iter().any(|b| *b > SimDuration::ZERO));
}

#[test]
fn the_matcher_scans_device_pages_and_reports_them() {
    let m = testkit();
    let mut rt = runtime(RuntimeConfig::default());
    let mut data = vec![b'.'; 4096 * 8];
    data[4096 + 100..4096 + 106].copy_from_slice(b"needle");
    data[5 * 4096 + 7..5 * 4096 + 13].copy_from_slice(b"needle");
    let f = rt.create_file("hay", &data).unwrap();
    let app = rt.create_app("grep", AppConfig::default());
    let g = rt
        .spawn(
            app,
            &m.ssdlet("grep").unwrap(),
            &[ArgValue::File(f), ArgValue::Str("needle".into())],
        )
        .unwrap();
    let out = rt.host_receiver(g, "pages").unwrap();
    rt.start(app).unwrap();
    let report = rt.wait(app).unwrap();
    assert_eq!(rt.recv::<u64>(out).unwrap(), vec![1, 5]);
    assert_eq!(report.matcher_pages_scanned, 8);
    assert_eq!(report.matcher_pages_hinted, 2);
}

#[test]
fn a_file_must_exist_to_be_passed() {
    let m = testkit();
    let mut rt = runtime(RuntimeConfig::default());
    let app = rt.create_app("cap", AppConfig::default());
    let other = runtime(RuntimeConfig::default()).create_file("x", b"x").unwrap();
    // A file id from another runtime that this one never handed out.
    let e = rt.spawn(app, &m.ssdlet("words").unwrap(), &[ArgValue::File(other)]);
    assert!(matches!(e, Err(RuntimeError::NoSuchFile(_))), "{e:?}");
    let e = rt.open_file("missing").unwrap_err();
    assert_eq!(e.to_string(), "no file named `missing` on the device");
}

/// Runs a healthy Application beside a faulty one; returns the faulty one's error.
fn beside_a_fault(
    config: RuntimeConfig,
    faulty: impl FnOnce(&mut Runtime, &LoadedModule, AppId),
) -> (SsdletError, RunReport) {
    let m = testkit();
    let mut rt = runtime(config);
    let (good, out) = healthy(&mut rt, &m, 1000);
    let bad = rt.create_app(
        "faulty",
        AppConfig {
            dram_budget: 4 << 20,
            max_resumes: 20_000,
            ..AppConfig::default()
        },
    );
    faulty(&mut rt, &m, bad);
    rt.start(good).unwrap();
    rt.start(bad).unwrap();
    let err = rt.wait(bad).unwrap_err();
    let report = rt.wait(good).expect("the healthy application completes");
    assert_eq!(rt.recv::<u64>(out).unwrap(), vec![499_500]);
    assert_eq!(report.error, None);
    let bad_report = rt.report(bad).unwrap();
    assert!(bad_report.done && bad_report.error.is_some());
    let RuntimeError::AppFailed { app, source } = err else {
        panic!("{err}")
    };
    assert_eq!(app, "faulty");
    (source, bad_report)
}

#[test]
fn isolation_a_panic_fails_only_its_application() {
    let (err, _) = beside_a_fault(RuntimeConfig::default(), |rt, m, app| {
        rt.spawn(
            app,
            &m.ssdlet("panicking").unwrap(),
            &[ArgValue::Str("kaboom".into())],
        )
        .unwrap();
        rt.spawn(app, &m.ssdlet("endless").unwrap(), &[]).unwrap();
    });
    assert!(
        matches!(&err, SsdletError::Panicked { message, .. } if message.contains("kaboom")),
        "{err}"
    );
}

#[test]
fn isolation_a_dram_hog_fails_only_its_application() {
    let (err, report) = beside_a_fault(RuntimeConfig::default(), |rt, m, app| {
        rt.spawn(app, &m.ssdlet("alloc_hog").unwrap(), &[ArgValue::U64(1 << 20)])
            .unwrap();
    });
    assert!(
        matches!(
            &err,
            SsdletError::Aborted {
                reason: AbortReason::DramBudget { budget: 4194304, .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("over its budget of 4194304 bytes"),
        "{err}"
    );
    // Aborting unwound the hog: what stays charged to the application is small.
    assert!(
        report.dram_peak > 4 << 20 && report.dram_held < 1 << 20,
        "{report:?}"
    );
}

#[test]
fn measured_compute_runs_and_charges_time() {
    let m = testkit();
    let mut rt = runtime(RuntimeConfig {
        compute: ComputeModel::Measured { slowdown: 10.0 },
        ..RuntimeConfig::default()
    });
    let (app, out) = healthy(&mut rt, &m, 1000);
    rt.start(app).unwrap();
    let report = rt.wait(app).unwrap();
    assert_eq!(rt.recv::<u64>(out).unwrap(), vec![499_500]);
    assert!(report.elapsed > SimDuration::ZERO);
}

#[test]
fn isolation_an_endless_yielder_fails_only_its_application() {
    let (err, _) = beside_a_fault(RuntimeConfig::default(), |rt, m, app| {
        rt.spawn(app, &m.ssdlet("endless").unwrap(), &[]).unwrap();
    });
    assert_eq!(
        err,
        SsdletError::Aborted {
            ssdlet: "endless".into(),
            reason: AbortReason::Watchdog { limit: 20_000 }
        }
    );
}

#[test]
fn isolation_a_time_slice_overrun_fails_only_its_application() {
    // `count` into the host never blocks; with 1 ms slices it is stopped part way.
    let config = RuntimeConfig {
        time_slice: SimDuration(1_000_000),
        ..RuntimeConfig::default()
    };
    let (err, _) = beside_a_fault(config, |rt, m, app| {
        let c = rt
            .spawn(app, &m.ssdlet("count").unwrap(), &[ArgValue::U64(1 << 40)])
            .unwrap();
        rt.host_receiver(c, "out").unwrap();
    });
    let SsdletError::Aborted {
        reason: AbortReason::TimeSlice { ran, slice },
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert!(ran > slice && slice.0 == 1_000_000);
    assert!(err.to_string().contains("without yielding"), "{err}");
}

#[test]
fn an_output_of_one_application_feeds_another() {
    let m = testkit();
    let mut rt = runtime(RuntimeConfig::default());
    let a = rt.create_app("producer", AppConfig::default());
    let b = rt.create_app("consumer", AppConfig::default());
    let c = rt
        .spawn(a, &m.ssdlet("count").unwrap(), &[ArgValue::U64(100)])
        .unwrap();
    let s = rt.spawn(b, &m.ssdlet("sum").unwrap(), &[]).unwrap();
    rt.connect(c, "out", s, "in").unwrap();
    let out = rt.host_receiver(s, "total").unwrap();
    rt.start(a).unwrap();
    rt.start(b).unwrap();
    let ra = rt.wait(a).unwrap();
    let rb = rt.wait(b).unwrap();
    assert_eq!(rt.recv::<u64>(out).unwrap(), vec![4950]);
    assert_eq!(ra.ports[0].messages, 100);
    assert_eq!(ra.ports[0], rb.ports[0], "both ends report the shared port");
}

#[test]
fn host_ports_cross_pcie_and_placement_hints_pick_cores() {
    let m = testkit();
    let mut rt = runtime(RuntimeConfig::default());
    let app = rt.create_app("echo", AppConfig::default());
    let e = rt
        .spawn_on(app, &m.ssdlet("echo").unwrap(), &[], Placement::Core(1))
        .unwrap();
    assert_eq!(rt.core_of(e), Some(1));
    let e2 = rt.spawn_on(app, &m.ssdlet("echo").unwrap(), &[], Placement::Core(9));
    assert!(
        matches!(
            e2,
            Err(RuntimeError::NoSuchCore {
                core: 9,
                cores: 2,
                ..
            })
        ),
        "{e2:?}"
    );
    let tx = rt.host_sender(e, "in").unwrap();
    let rx = rt.host_receiver(e, "out").unwrap();
    rt.start(app).unwrap();
    for v in [5u64, 6, 7] {
        rt.send(tx, &v).unwrap();
    }
    assert!(matches!(rt.wait(app), Err(RuntimeError::WaitingForHost { .. })));
    rt.close_sender(tx).unwrap();
    let report = rt.wait(app).unwrap();
    assert_eq!(rt.recv::<u64>(rx).unwrap(), vec![5, 6, 7]);
    assert_eq!(report.pcie_bytes_to_device, 3);
    assert_eq!(report.pcie_bytes_to_host, 3);
    assert_eq!(report.core_busy[0], SimDuration::ZERO);
    assert!(report.core_busy[1] > SimDuration::ZERO);
    assert!(rt.start(app).is_err(), "an application starts once");
}

#[test]
fn a_chain_of_ten_thousand_instances_runs_to_completion() {
    let m = testkit();
    let mut rt = runtime(RuntimeConfig {
        stack_size: 64 * 1024,
        channel_capacity: 4,
        ..RuntimeConfig::default()
    });
    let app = rt.create_app("chain", AppConfig::default());
    let first = rt
        .spawn(app, &m.ssdlet("count").unwrap(), &[ArgValue::U64(10)])
        .unwrap();
    let mut prev = first;
    for _ in 0..9_998 {
        let e = rt.spawn(app, &m.ssdlet("echo").unwrap(), &[]).unwrap();
        rt.connect(prev, "out", e, "in").unwrap();
        prev = e;
    }
    let sum = rt.spawn(app, &m.ssdlet("sum").unwrap(), &[]).unwrap();
    rt.connect(prev, "out", sum, "in").unwrap();
    let out = rt.host_receiver(sum, "total").unwrap();
    rt.start(app).unwrap();
    let report = rt.wait(app).unwrap();
    assert_eq!(rt.recv::<u64>(out).unwrap(), vec![45]);
    assert_eq!(report.instances, 10_000);
    assert_eq!(report.ports.len(), 10_000);
}

#[test]
fn waiting_on_one_application_leaves_a_consumer_of_an_unstarted_producer_alone() {
    let m = testkit();
    let mut rt = runtime(RuntimeConfig::default());
    let producer = rt.create_app("producer", AppConfig::default());
    let consumer = rt.create_app("consumer", AppConfig::default());
    let c = rt
        .spawn(producer, &m.ssdlet("count").unwrap(), &[ArgValue::U64(100)])
        .unwrap();
    let s = rt.spawn(consumer, &m.ssdlet("sum").unwrap(), &[]).unwrap();
    rt.connect(c, "out", s, "in").unwrap();
    let total = rt.host_receiver(s, "total").unwrap();
    let (other, out) = healthy(&mut rt, &m, 10);
    rt.start(consumer).unwrap();
    rt.start(other).unwrap();
    // The consumer is blocked on a port its unstarted producer feeds: not a deadlock.
    rt.wait(other).unwrap();
    assert_eq!(rt.recv::<u64>(out).unwrap(), vec![45]);
    assert!(rt.run().is_ok());
    let err = rt.wait(consumer).unwrap_err();
    assert!(matches!(err, RuntimeError::WaitingForApps { .. }), "{err}");
    assert!(err.to_string().contains("`producer`"), "{err}");
    assert_eq!(rt.outcome(s), None, "the consumer is still running");
    rt.start(producer).unwrap();
    rt.wait(consumer).unwrap();
    rt.wait(producer).unwrap();
    assert_eq!(rt.recv::<u64>(total).unwrap(), vec![4950]);
}

/// Two echoes feeding each other: neither can ever receive.
fn echo_cycle(
    rt: &mut Runtime,
    m: &LoadedModule,
    apps: [AppId; 2],
) -> [device_runtime::runtime::InstanceId; 2] {
    let a = rt.spawn(apps[0], &m.ssdlet("echo").unwrap(), &[]).unwrap();
    let b = rt.spawn(apps[1], &m.ssdlet("echo").unwrap(), &[]).unwrap();
    rt.connect(a, "out", b, "in").unwrap();
    rt.connect(b, "out", a, "in").unwrap();
    [a, b]
}

#[test]
fn a_true_deadlock_is_detected_and_named_and_only_it_is_aborted() {
    let m = testkit();
    let mut rt = runtime(RuntimeConfig::default());
    let stuck = rt.create_app("stuck", AppConfig::default());
    let [a, b] = echo_cycle(&mut rt, &m, [stuck, stuck]);
    // An unrelated Application waiting for host input, and one whose producer is unbuilt.
    let host_fed = rt.create_app("host-fed", AppConfig::default());
    let e = rt.spawn(host_fed, &m.ssdlet("echo").unwrap(), &[]).unwrap();
    let tx = rt.host_sender(e, "in").unwrap();
    let rx = rt.host_receiver(e, "out").unwrap();
    let producer = rt.create_app("producer", AppConfig::default());
    let consumer = rt.create_app("consumer", AppConfig::default());
    let c = rt
        .spawn(producer, &m.ssdlet("count").unwrap(), &[ArgValue::U64(4)])
        .unwrap();
    let s = rt.spawn(consumer, &m.ssdlet("sum").unwrap(), &[]).unwrap();
    rt.connect(c, "out", s, "in").unwrap();
    let total = rt.host_receiver(s, "total").unwrap();
    for app in [stuck, host_fed, consumer] {
        rt.start(app).unwrap();
    }
    let err = rt.wait(stuck).unwrap_err();
    let RuntimeError::Deadlock { blocked } = &err else {
        panic!("expected a deadlock, got {err}");
    };
    assert!(blocked.contains("`echo` of application `stuck`"), "{err}");
    assert!(
        !blocked.contains("host-fed") && !blocked.contains("consumer"),
        "{err}"
    );
    for id in [a, b] {
        assert!(
            matches!(
                rt.outcome(id),
                Some(Err(SsdletError::Aborted {
                    reason: AbortReason::Deadlock,
                    ..
                }))
            ),
            "{:?}",
            rt.outcome(id)
        );
    }
    assert!(matches!(rt.wait(stuck), Err(RuntimeError::AppFailed { .. })));
    // The others were left alone and complete.
    assert_eq!(rt.outcome(e), None);
    assert_eq!(rt.outcome(s), None);
    rt.send(tx, &7u64).unwrap();
    rt.close_sender(tx).unwrap();
    rt.wait(host_fed).unwrap();
    assert_eq!(rt.recv::<u64>(rx).unwrap(), vec![7]);
    rt.start(producer).unwrap();
    rt.wait(consumer).unwrap();
    assert_eq!(rt.recv::<u64>(total).unwrap(), vec![6]);
}

#[test]
fn a_deadlock_across_two_running_applications_is_detected_by_a_wait_on_either() {
    let m = testkit();
    let mut rt = runtime(RuntimeConfig::default());
    let x = rt.create_app("x", AppConfig::default());
    let y = rt.create_app("y", AppConfig::default());
    echo_cycle(&mut rt, &m, [x, y]);
    rt.start(x).unwrap();
    // `y` has not started: `x` may still be fed, so this is no deadlock yet.
    assert!(matches!(rt.wait(x), Err(RuntimeError::WaitingForApps { .. })));
    rt.start(y).unwrap();
    let err = rt.wait(y).unwrap_err();
    let RuntimeError::Deadlock { blocked } = &err else {
        panic!("expected a deadlock, got {err}");
    };
    assert!(
        blocked.contains("application `x`") && blocked.contains("application `y`"),
        "{err}"
    );
    assert!(rt.run().is_ok(), "nothing is left to abort");
}

#[test]
fn large_payloads_move_between_ssdlets_without_a_copy() {
    let m = testkit();
    let size = 1 << 20;
    let (total, port, (copied, adopted)) =
        byte_pipe(&m, RuntimeConfig::default(), ("blobs", 8, size), "blob_sum");
    assert_eq!(total, vec![(0..8u64).sum::<u64>() * size]);
    // The eight 1 MiB messages (plus postcard's length prefix) were handed over; only the
    // 8-byte total to the host was copied.
    assert_eq!(adopted, 8 * (size + 3), "{port:?}");
    assert!(copied <= 16, "copied {copied} bytes");
    assert_eq!(port.bytes, 8 * (size + 3));
    // Small messages are still copied.
    let (total, _, (copied, adopted)) = byte_pipe(&m, RuntimeConfig::default(), ("blobs", 8, 16), "blob_sum");
    assert_eq!(total, vec![(0..8u64).sum::<u64>() * 16]);
    assert_eq!(adopted, 0);
    assert!(copied >= 8 * 17);
}

#[test]
fn a_runtime_table_without_the_zero_copy_service_makes_modules_copy() {
    let m = testkit();
    let mut rt = runtime(RuntimeConfig {
        zero_copy: false,
        ..RuntimeConfig::default()
    });
    let app = rt.create_app("blobs", AppConfig::default());
    let b = rt
        .spawn(
            app,
            &m.ssdlet("blobs").unwrap(),
            &[ArgValue::U64(4), ArgValue::U64(1 << 16)],
        )
        .unwrap();
    let s = rt.spawn(app, &m.ssdlet("blob_sum").unwrap(), &[]).unwrap();
    rt.connect(b, "out", s, "in").unwrap();
    let out = rt.host_receiver(s, "total").unwrap();
    rt.start(app).unwrap();
    rt.wait(app).unwrap();
    assert_eq!(rt.recv::<u64>(out).unwrap(), vec![6 << 16]);
    let (copied, adopted) = rt.message_bytes();
    assert_eq!(adopted, 0);
    assert!(copied >= 4 << 16);
}

/// `sender(n, size)` -> `receiver` on a runtime with `config`; the receiver's outputs, the
/// sender's port report and the copy counters.
fn byte_pipe(
    m: &LoadedModule,
    config: RuntimeConfig,
    (sender, n, size): (&str, u64, u64),
    receiver: &str,
) -> (Vec<u64>, PortReport, (u64, u64)) {
    let mut rt = runtime(config);
    let app = rt.create_app("bytes", AppConfig::default());
    let args = [ArgValue::U64(n), ArgValue::U64(size)];
    let b = rt.spawn(app, &m.ssdlet(sender).unwrap(), &args).unwrap();
    let s = rt.spawn(app, &m.ssdlet(receiver).unwrap(), &[]).unwrap();
    rt.connect(b, "out", s, "in").unwrap();
    let out = rt.host_receiver(s, "total").unwrap();
    rt.start(app).unwrap();
    let report = rt.wait(app).unwrap();
    assert_eq!(
        rt.dram_used(b),
        0,
        "the sender holds none of the blocks it handed over"
    );
    assert_eq!(rt.dram_used(s), 0, "the receiver freed every block it took");
    assert_eq!(report.dram_held, 0, "the Application holds no block at the end");
    let port = report
        .ports
        .iter()
        .find(|p| p.name.contains(sender))
        .unwrap()
        .clone();
    (rt.recv::<u64>(out).unwrap(), port, rt.message_bytes())
}

#[test]
fn byte_blocks_are_handed_over_as_they_are_and_any_reader_reads_them() {
    let m = testkit();
    let size = 1 << 20;
    let sum = (0..8u64).sum::<u64>() * size;
    // Block to block: the sender's vectors themselves, no prefix, nothing copied.
    let (out, port, (copied, adopted)) =
        byte_pipe(&m, RuntimeConfig::default(), ("blocks", 8, size), "block_sum");
    assert_eq!(out, vec![sum, 8]);
    assert_eq!(adopted, 8 * size);
    assert!(copied <= 16, "copied {copied} bytes");
    // Counted as the encoded messages (postcard's 3-byte length, then the bytes).
    assert_eq!((port.messages, port.bytes), (8, 8 * (size + 3)));
    // Small and empty vectors are handed over too, and empty ones arrive as messages.
    let (out, _, (_, adopted)) = byte_pipe(&m, RuntimeConfig::default(), ("blocks", 8, 16), "block_sum");
    assert_eq!((out, adopted), (vec![(0..8u64).sum::<u64>() * 16, 8], 8 * 16));
    let (out, port, _) = byte_pipe(&m, RuntimeConfig::default(), ("blocks", 3, 0), "block_sum");
    assert_eq!((out, port.messages, port.bytes), (vec![0, 3], 3, 3));
    // A reader of encoded messages gets the blocks' encoding written out for it.
    let (out, ..) = byte_pipe(&m, RuntimeConfig::default(), ("blocks", 8, 300), "vec_sum");
    assert_eq!(out, vec![(0..8u64).sum::<u64>() * 300]);
    // A block reader decodes encoded messages.
    let (out, ..) = byte_pipe(&m, RuntimeConfig::default(), ("blobs", 8, size), "block_sum");
    assert_eq!(out, vec![sum, 8]);
    // A runtime without the services: both ends fall back to encoding and copying.
    let copying = RuntimeConfig {
        zero_copy: false,
        ..RuntimeConfig::default()
    };
    let (out, _, (copied, adopted)) = byte_pipe(&m, copying, ("blocks", 4, 1 << 16), "block_sum");
    assert_eq!((out, adopted), (vec![6 << 16, 4], 0));
    assert!(copied >= 4 << 16);
}

#[test]
fn the_host_reads_byte_blocks_as_encoded_byte_strings() {
    let m = testkit();
    let mut rt = runtime(RuntimeConfig::default());
    let app = rt.create_app("bytes", AppConfig::default());
    let args = [ArgValue::U64(3), ArgValue::U64(200)];
    let b = rt.spawn(app, &m.ssdlet("blocks").unwrap(), &args).unwrap();
    let out = rt.host_receiver(b, "out").unwrap();
    rt.start(app).unwrap();
    rt.wait(app).unwrap();
    let want: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 200]).collect();
    assert_eq!(rt.recv::<Vec<u8>>(out).unwrap(), want);
}

/// A reader that aborts with byte blocks queued for it: the queued blocks are freed, the
/// sender's next `put_bytes` is answered `CLOSED` (its vector given back and freed), no
/// Application is left holding DRAM, and an unrelated Application runs to its end.
#[test]
fn a_reader_aborting_with_blocks_queued_frees_them_and_the_sender_sees_closed() {
    let m = testkit();
    let mut rt = runtime(RuntimeConfig::default());
    let (good, out) = healthy(&mut rt, &m, 1000);
    let sender_app = rt.create_app("sender", AppConfig::default());
    // One 64 KiB block is over the reader's budget: it aborts on its first get after taking one.
    let reader_app = rt.create_app(
        "reader",
        AppConfig {
            dram_budget: 32 << 10,
            ..AppConfig::default()
        },
    );
    let args = [ArgValue::U64(1000), ArgValue::U64(64 << 10)];
    let b = rt.spawn(sender_app, &m.ssdlet("blocks").unwrap(), &args).unwrap();
    let s = rt
        .spawn(reader_app, &m.ssdlet("block_sum").unwrap(), &[])
        .unwrap();
    rt.connect(b, "out", s, "in").unwrap();
    rt.host_receiver(s, "total").unwrap();
    for app in [good, sender_app, reader_app] {
        rt.start(app).unwrap();
    }
    let reader_err = rt.wait(reader_app).unwrap_err();
    assert!(
        matches!(
            &reader_err,
            RuntimeError::AppFailed {
                source: SsdletError::Aborted {
                    reason: AbortReason::DramBudget { budget: 32768, .. },
                    ..
                },
                ..
            }
        ),
        "{reader_err}"
    );
    let sender_err = rt.wait(sender_app).unwrap_err();
    assert!(
        sender_err.to_string().contains("output port is closed"),
        "{sender_err}"
    );
    let sent = rt.report(sender_app).unwrap();
    let port = sent.ports.iter().find(|p| p.name.contains("blocks")).unwrap();
    assert!(
        port.messages > 1 && port.messages < 1000,
        "the reader aborted with blocks queued: {port:?}"
    );
    for (app, who) in [(sender_app, b), (reader_app, s)] {
        let r = rt.report(app).unwrap();
        assert_eq!((r.dram_held, rt.dram_used(who)), (0, 0), "{r:?}");
    }
    assert_eq!(rt.wait(good).unwrap().error, None);
    assert_eq!(rt.recv::<u64>(out).unwrap(), vec![499_500]);
}
