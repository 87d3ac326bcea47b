//! Batched ports (`Output::put_all`, `Input::get_batch`): a batch is one call that moves its
//! messages (INVARIANT `batch-is-one-call`): the same messages, bytes and answers as one put or
//! get per message, whatever the sizes, the port's capacity (never exceeded) or the reader's
//! way of taking them, in fewer calls and so less simulated time; a receiver that closes
//! midway and the watchdog end a batched sender as they end one that puts one by one; a batch
//! get lets go of the block the last single get left, as a get does; a runtime without the
//! batch services gives the same answers through single puts and gets.

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
/// not what these tests are about (a loop of puts allocates the port's encoding buffer and a
/// batch does not), so a batch's saving is its calls alone.
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

/// Calls each SSDlet of a run made.
fn calls(s: &Seen) -> Vec<u64> {
    s.report.ssdlets.iter().map(|s| s.work.calls).collect()
}

/// What a batch does not change: the answers, and the messages and bytes each SSDlet and each
/// port moved.
fn assert_same_messages(batched: &Seen, one_by_one: &Seen, what: &str) {
    assert_eq!(batched.outputs, one_by_one.outputs, "{what}");
    assert_eq!(batched.report.error, one_by_one.report.error, "{what}");
    let moved = |s: &Seen| {
        let ssdlets = s
            .report
            .ssdlets
            .iter()
            .map(|s| (s.work.messages, s.work.bytes_moved));
        let ports = s.report.ports.iter().map(|p| (p.messages, p.bytes));
        (ssdlets.collect::<Vec<_>>(), ports.collect::<Vec<_>>())
    };
    assert_eq!(moved(batched), moved(one_by_one), "{what}");
}

#[test]
fn a_batch_moves_the_messages_of_single_calls_in_fewer_calls() {
    let m = testkit();
    // Vectors of 0 to 39 bytes (kept in the queue entry, or copied), with every seventh of
    // `size`: too large for a batch (3,000 bytes, copied alone) or handed over (5,000).
    for size in [3000, 5000] {
        for cap in [1, 4, 64, 1000] {
            let run = |batch, max| mixed(&m, capacity(cap), (700, size, batch), (max, 0));
            let one_by_one = run(0, 0);
            assert_eq!(one_by_one.report.error, None);
            assert_eq!(one_by_one.outputs[1], 700);
            let single = calls(&one_by_one);
            assert!(
                single.iter().all(|&c| c >= 700),
                "a call per message at least: {single:?}"
            );
            for (batch, max) in [(1, 0), (0, 64), (1, 64), (1, 3), (1, 1)] {
                let what = format!("size {size}, capacity {cap}, sender batch {batch}, receiver max {max}");
                let batched = run(batch, max);
                assert_same_messages(&batched, &one_by_one, &what);
                let (b, s) = (calls(&batched), &single);
                // Sender, then receiver: a batch is never more calls; with room for several
                // messages, fewer, and so less time.
                for (side, batching) in [(0, batch != 0), (1, max > 1)] {
                    assert!(b[side] <= s[side], "{what}: calls {b:?} against {s:?}");
                    if batching && cap >= 4 {
                        assert!(b[side] < s[side], "{what}: calls {b:?} against {s:?}");
                        let compute = |r: &Seen| r.report.ssdlets[side].compute;
                        assert!(compute(&batched) < compute(&one_by_one), "{what}");
                    }
                }
            }
        }
    }
}

#[test]
fn a_batch_is_one_call_and_never_overfills_the_port() {
    let m = testkit();
    let n = 5000u64;
    for cap in [4, 64, 100_000] {
        let run = |sender: &str, receiver: &str, receiver_args: &[ArgValue]| {
            pipe(
                &m,
                capacity(cap),
                (sender, &[ArgValue::U64(n)]),
                (receiver, receiver_args),
            )
        };
        let one_by_one = run("count", "sum", &[]);
        assert_eq!(one_by_one.outputs, vec![n * (n - 1) / 2]);
        let batched = run("count_all", "sum", &[]);
        assert_same_messages(&batched, &one_by_one, &format!("count_all, capacity {cap}"));
        let (b, s) = (calls(&batched), calls(&one_by_one));
        // A call puts at most as many messages as the port has room for.
        assert!(b[0] >= n.div_ceil(cap as u64), "capacity {cap}: {b:?}");
        if cap == 100_000 {
            // Never full: one call per batch of 128 where the single puts made one each.
            assert_eq!(
                b[0] + n,
                s[0] + n.div_ceil(128),
                "capacity {cap}: {b:?} against {s:?}"
            );
        }
        // A batch get takes what has arrived by the time its first message has: from a sender
        // of single puts, no more than single gets take, where they arrive one by one.
        let taken = run("count", "sum_batch", &[ArgValue::U64(128)]);
        assert_same_messages(&taken, &one_by_one, &format!("sum_batch, capacity {cap}"));
        assert!(
            calls(&taken)[1] <= s[1],
            "capacity {cap}: {:?} against {s:?}",
            calls(&taken)
        );
        // From a batched sender, they arrive together.
        let both = run("count_all", "sum_batch", &[ArgValue::U64(100)]);
        assert_same_messages(&both, &one_by_one, &format!("both, capacity {cap}"));
        let c = calls(&both);
        assert!(c[0] < s[0] && c[1] < s[1], "capacity {cap}: {c:?} against {s:?}");
        assert!(both.report.elapsed < one_by_one.report.elapsed, "capacity {cap}");
        // The same run again: the same report, bit for bit.
        assert_eq!(run("count_all", "sum_batch", &[ArgValue::U64(100)]), both);
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
fn a_receiver_closing_midway_ends_a_batch_as_it_ends_puts() {
    let m = testkit();
    for cap in [1, 16] {
        let run = |batch| mixed(&m, capacity(cap), (700, 3000, batch), (0, 100));
        for batch in [0, 1] {
            let seen = run(batch);
            let error = seen.report.error.clone().unwrap_or_default();
            assert!(
                error.contains("closed"),
                "capacity {cap}, batch {batch}: the sender fails on the closed port: {error}"
            );
            assert_eq!(seen.outputs[1], 100, "capacity {cap}, batch {batch}");
        }
        assert_eq!(run(1).outputs, run(0).outputs, "capacity {cap}");
    }
}

#[test]
fn the_watchdog_stops_a_batched_sender_as_it_stops_puts() {
    let m = testkit();
    let config = RuntimeConfig {
        time_slice: SimDuration(300_000),
        ..capacity(100_000)
    };
    for batch in [0, 1] {
        let seen = mixed(&m, config.clone(), (20_000, 3000, batch), (0, 0));
        let error = seen.report.error.clone().unwrap_or_default();
        assert!(
            error.contains("time slice"),
            "batch {batch}: the sender overruns its slice: {error}"
        );
    }
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
