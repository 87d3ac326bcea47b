//! Batched ports (`Output::put_all`, `Input::get_batch`): a batch is its messages put and got
//! one by one (INVARIANT `batch-is-calls-in-a-row`), whatever the sizes, the port's
//! capacity, a receiver that closes midway or a watchdog that fires midway; a batch get lets go
//! of the block the last single get left, as a get does; a runtime without the batch services
//! gives the same answers through single puts and gets.

mod common;

use std::sync::Arc;

use device_runtime::compute::{CalibratedSsdlet, ComputeModel, CostModel, CostTable, UnitCosts};
use device_runtime::loader::LoadedModule;
use device_runtime::runtime::{AppConfig, ArgValue, RunReport, Runtime, RuntimeConfig};
use sim_nvme::{DeviceProfile, SimDuration};

fn testkit() -> LoadedModule {
    common::loader()
        .load(&common::modules().testkit())
        .expect("testkit loads")
}

/// The generic costs for every SSDlet of these tests, but allocations free: allocations are
/// where a batch may differ from single calls (a loop of puts allocates the port's encoding
/// buffer and a batch does not; a batch builds its messages before its puts and decodes them
/// after its gets, not between them).
fn costs() -> ComputeModel {
    let entry = |ssdlet: &str| CalibratedSsdlet {
        module: "testkit".into(),
        ssdlet: ssdlet.into(),
        digest: "0000000000000000".into(),
        costs: UnitCosts {
            allocation_ps: 0,
            ..UnitCosts::GENERIC
        },
        derivation: "assumed: the generic costs, allocations free (tests)".into(),
    };
    ComputeModel::Modeled(CostModel {
        table: Arc::new(CostTable {
            reference_core: String::new(),
            ssdlets: ["mixed", "mixed_sum", "count", "count_all", "sum", "sum_batch"]
                .into_iter()
                .map(entry)
                .collect(),
        }),
        slowdown: None,
    })
}

/// What a run shows: the receiver's outputs and the report with allocation counts and DRAM
/// peaks left out (see [`costs`]).
#[derive(Debug, PartialEq)]
struct Seen {
    outputs: Vec<u64>,
    report: RunReport,
}

/// `sender` -> `receiver` -> host in one Application.
fn pipe(
    m: &LoadedModule,
    config: RuntimeConfig,
    (sender, sender_args): (&str, &[ArgValue]),
    (receiver, receiver_args): (&str, &[ArgValue]),
) -> Seen {
    let mut rt = Runtime::in_memory(
        DeviceProfile::tiny(),
        RuntimeConfig {
            compute: costs(),
            ..config
        },
    )
    .expect("tiny runtime");
    let app = rt.create_app("batches", AppConfig::default());
    let s = rt.spawn(app, &m.ssdlet(sender).unwrap(), sender_args).unwrap();
    let r = rt
        .spawn(app, &m.ssdlet(receiver).unwrap(), receiver_args)
        .unwrap();
    rt.connect(s, "out", r, "in").unwrap();
    let out = rt.host_receiver(r, "total").unwrap();
    rt.start(app).unwrap();
    // A failed Application's report says why (`error`).
    let _ = rt.wait(app);
    let mut report = rt.report(app).unwrap();
    report.dram_peak = 0;
    for s in &mut report.ssdlets {
        s.work.allocations = 0;
    }
    Seen {
        outputs: rt.recv(out).unwrap(),
        report,
    }
}

/// `mixed(n, size, batch)` -> `mixed_sum(max, stop)`.
fn mixed(
    m: &LoadedModule,
    config: RuntimeConfig,
    (n, size, batch): (u64, u64, u64),
    (max, stop): (u64, u64),
) -> Seen {
    pipe(
        m,
        config,
        (
            "mixed",
            &[ArgValue::U64(n), ArgValue::U64(size), ArgValue::U64(batch)],
        ),
        ("mixed_sum", &[ArgValue::U64(max), ArgValue::U64(stop)]),
    )
}

fn capacity(messages: usize) -> RuntimeConfig {
    RuntimeConfig {
        channel_capacity: messages,
        ..RuntimeConfig::default()
    }
}

#[test]
fn a_batch_is_its_messages_put_and_got_one_by_one() {
    let m = testkit();
    // Vectors of 0 to 39 bytes (kept in the queue entry, or copied), with every seventh of
    // `size`: too large for a batch (3,000 bytes, copied alone) or handed over (5,000).
    for size in [3000, 5000] {
        for cap in [1, 4, 64, 1000] {
            let run = |batch, max| mixed(&m, capacity(cap), (700, size, batch), (max, 0));
            let one_by_one = run(0, 0);
            assert_eq!(one_by_one.report.error, None);
            assert_eq!(one_by_one.outputs[1], 700);
            let calls: u64 = one_by_one.report.ssdlets.iter().map(|s| s.work.calls).sum();
            assert!(calls >= 2 * 700, "a call per message at least: {calls}");
            for (batch, max) in [(1, 0), (0, 64), (1, 64), (1, 3), (1, 1)] {
                assert_eq!(
                    run(batch, max),
                    one_by_one,
                    "size {size}, capacity {cap}, sender batch {batch}, receiver max {max}"
                );
            }
        }
    }
}

/// A batch get is a get: it lets go of the block the last single get left in the port's slot.
/// The reader takes a 1 MiB block (a single get: a batch leaves blocks to it), then a small
/// message, then waits for more while the sender waits on the host: by then it holds no block.
#[test]
fn a_batch_get_lets_go_of_the_block_the_last_get_left() {
    let m = testkit();
    let held = |max| {
        let mut rt =
            Runtime::in_memory(DeviceProfile::tiny(), RuntimeConfig::default()).expect("tiny runtime");
        let (sending, taking) = (
            rt.create_app("send", AppConfig::default()),
            rt.create_app("take", AppConfig::default()),
        );
        let s = rt
            .spawn(
                sending,
                &m.ssdlet("block_then_wait").unwrap(),
                &[ArgValue::U64(1 << 20)],
            )
            .unwrap();
        let args = [ArgValue::U64(max), ArgValue::U64(0)];
        let r = rt.spawn(taking, &m.ssdlet("mixed_sum").unwrap(), &args).unwrap();
        rt.connect(s, "out", r, "in").unwrap();
        let go = rt.host_sender(s, "go").unwrap();
        let out = rt.host_receiver(r, "total").unwrap();
        rt.start(sending).unwrap();
        rt.start(taking).unwrap();
        rt.run().unwrap();
        let held = rt.report(taking).unwrap().dram_held;
        rt.send(go, &0u64).unwrap();
        rt.close_sender(go).unwrap();
        rt.wait(sending).unwrap();
        rt.wait(taking).unwrap();
        let digest = [(1u64 << 20, 1u64), (3, 2)]
            .iter()
            .fold(0u64, |d, &(len, first)| {
                d.wrapping_mul(31).wrapping_add(len * 257 + first)
            });
        assert_eq!(rt.recv::<u64>(out).unwrap(), vec![(1 << 20) + 6, 2, digest]);
        held
    };
    // Its own vector of messages aside (a few dozen bytes), nothing.
    for (max, how) in [(0, "one by one"), (64, "with batch gets")] {
        let bytes = held(max);
        assert!(
            bytes < 4096,
            "{how}, the reader's Application holds {bytes} bytes while it waits"
        );
    }
}

#[test]
fn small_numbers_in_batches_cost_what_they_cost_one_by_one() {
    let m = testkit();
    for cap in [2, 64] {
        let run = |sender: &str, receiver: &str, receiver_args: &[ArgValue]| {
            pipe(
                &m,
                capacity(cap),
                (sender, &[ArgValue::U64(5000)]),
                (receiver, receiver_args),
            )
        };
        let mut one_by_one = run("count", "sum", &[]);
        assert_eq!(one_by_one.outputs, vec![5000 * 4999 / 2]);
        for (sender, receiver, args) in [
            ("count_all", "sum", &[][..]),
            ("count", "sum_batch", &[ArgValue::U64(128)][..]),
            ("count_all", "sum_batch", &[ArgValue::U64(100)][..]),
        ] {
            let mut batched = run(sender, receiver, args);
            // The same work in other SSDlets of the module: compare all but the names.
            for (a, b) in batched
                .report
                .ssdlets
                .iter_mut()
                .zip(&mut one_by_one.report.ssdlets)
            {
                a.ssdlet = b.ssdlet.clone();
            }
            for (a, b) in batched.report.ports.iter_mut().zip(&one_by_one.report.ports) {
                a.name = b.name.clone();
            }
            assert_eq!(batched, one_by_one, "{sender} -> {receiver}, capacity {cap}");
        }
    }
}

#[test]
fn a_receiver_closing_midway_ends_a_batch_as_it_ends_puts() {
    let m = testkit();
    for cap in [1, 16] {
        let run = |batch| mixed(&m, capacity(cap), (700, 3000, batch), (0, 100));
        let one_by_one = run(0);
        let error = one_by_one.report.error.clone().unwrap_or_default();
        assert!(
            error.contains("closed"),
            "the sender fails on the closed port: {error}"
        );
        assert_eq!(one_by_one.outputs[1], 100);
        assert_eq!(run(1), one_by_one, "capacity {cap}");
    }
}

#[test]
fn the_watchdog_stops_a_batch_at_the_message_it_stops_puts() {
    let m = testkit();
    let config = RuntimeConfig {
        time_slice: SimDuration(300_000),
        ..capacity(100_000)
    };
    let one_by_one = mixed(&m, config.clone(), (20_000, 3000, 0), (0, 0));
    let error = one_by_one.report.error.clone().unwrap_or_default();
    assert!(
        error.contains("time slice"),
        "the sender overruns its slice: {error}"
    );
    assert_eq!(mixed(&m, config, (20_000, 3000, 1), (0, 0)), one_by_one);
}

#[test]
fn without_the_batch_services_batches_are_single_puts_and_gets() {
    let m = testkit();
    let copying = RuntimeConfig {
        zero_copy: false,
        ..capacity(8)
    };
    let one_by_one = mixed(&m, copying.clone(), (300, 5000, 0), (0, 0));
    let batched = mixed(&m, copying, (300, 5000, 1), (64, 0));
    assert_eq!(batched.outputs, one_by_one.outputs);
    let calls = |s: &Seen| s.report.ssdlets.iter().map(|s| s.work.calls).collect::<Vec<_>>();
    assert_eq!(calls(&batched), calls(&one_by_one));
    // With the services, the same answers.
    assert_eq!(
        mixed(&m, capacity(8), (300, 5000, 1), (64, 0)).outputs,
        one_by_one.outputs
    );
}
