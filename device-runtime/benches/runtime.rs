//! Benches of the device runtime (issue targets: at least 10 million small messages per
//! wall-second between SSDlets on one core; a FileStream scan of a 1 GiB file by one SSDlet
//! simulates in at most 1 s of wall time).
//!
//! - `runtime/messages_one_core`: `count` streams `n` u64s to `sum`, both placed on core 0,
//!   under `ComputeModel::Modeled`; one element is one message (put + get + timestamps +
//!   scheduler wake-ups).
//! - `runtime/filestream_scan_1GiB`: `scan` reads a 1 GiB file of an in-memory `pm1725` device
//!   through a 64 KiB `FileStream` (internal reads timed by sim-nvme, 1 MiB read-ahead); one
//!   iteration is the whole scan. The simulated time of the scan is printed once.
//! - `runtime/messages_1MiB_blocks`: `blocks` sends 1 MiB vectors to `block_sum` on one core
//!   with `Output::put_bytes` / `Input::get_bytes`: each vector handed over as it is, neither
//!   encoded nor copied. `runtime/messages_1MiB_no_copy` / `_copy`: `blobs` sends 1 MiB
//!   `Bytes` messages (encoded) to `blob_sum`, the encoding handed over or copied by the
//!   runtime. Streams of at least 512 messages;
//!   `runtime/memcpy_1MiB` (in cache) and `runtime/memcpy_1MiB_dram` (over 64 MiB, as a full
//!   queue of them), in the same run, are the limits they are read against, and the ratios are
//!   printed from interleaved rounds (issue 19: within 5 GB/s).
//!
//! Run: `cargo bench -p device-runtime --bench runtime`.

#![allow(missing_docs)] // criterion_group! generates an undocumented `pub fn benches`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use device_runtime::loader::{LoadedModule, Loader, SsdletRef};
use device_runtime::runtime::{AppConfig, ArgValue, Placement, Runtime, RuntimeConfig};
use sim_nvme::DeviceProfile;
use ssdlet_module_build::{build, Profile};

fn testkit() -> LoadedModule {
    let modules = match build(Profile::Release) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    let loader = Loader::with_temp_staging().expect("staging dir");
    loader.load(&modules.testkit()).expect("testkit loads")
}

fn messages_one_core(c: &mut Criterion) {
    let m = testkit();
    let (count, sum) = (m.ssdlet("count").unwrap(), m.ssdlet("sum").unwrap());
    let mut g = c.benchmark_group("runtime");
    g.throughput(Throughput::Elements(1));
    g.bench_function("messages_one_core", |b| {
        b.iter_custom(|iters| {
            let run = pair_on_core0(
                RuntimeConfig::default(),
                AppConfig::default(),
                (&count, &[ArgValue::U64(iters)]),
                &sum,
            );
            assert_eq!(run.totals, vec![iters * iters.saturating_sub(1) / 2]);
            run.wall
        })
    });
    g.finish();
}

fn filestream_scan(c: &mut Criterion) {
    const GIB: usize = 1 << 30;
    let m = testkit();
    let scan = m.ssdlet("scan").unwrap();
    let mut rt = Runtime::in_memory(DeviceProfile::pm1725(), RuntimeConfig::default()).unwrap();
    let file = {
        let mut data = vec![0u8; GIB];
        for (i, b) in data.iter_mut().enumerate() {
            *b = b'a' + (i % 26) as u8;
        }
        rt.create_file("big", &data).unwrap()
    };
    let mut printed = false;
    let mut g = c.benchmark_group("runtime");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(GIB as u64));
    g.bench_function("filestream_scan_1GiB", |b| {
        b.iter_custom(|iters| {
            let mut wall = Duration::ZERO;
            for _ in 0..iters {
                let app = rt.create_app("scan", AppConfig::default());
                let s = rt.spawn(app, &scan, &[ArgValue::File(file)]).unwrap();
                let out = rt.host_receiver(s, "bytes").unwrap();
                rt.start(app).unwrap();
                let start = Instant::now();
                let report = rt.wait(app).unwrap();
                wall += start.elapsed();
                assert_eq!(rt.recv::<u64>(out).unwrap(), vec![GIB as u64]);
                if !printed {
                    printed = true;
                    eprintln!(
                        "scan of 1 GiB: simulated {:.3} s, {} NAND pages read, core busy {:?} ns",
                        report.elapsed.as_secs_f64(),
                        report.nand_pages_read,
                        report.core_busy.iter().map(|d| d.0).collect::<Vec<_>>()
                    );
                }
            }
            wall
        })
    });
    g.finish();
}

/// Messages in one stream of 1 MiB messages: a sample runs at least this many, so a port's
/// queue (64) is filled and drained many times over, as in a long stream.
const STREAM: u64 = 512;

/// Runs `blobs` -> `blob_sum` (or `blocks` -> `block_sum`) with `n` messages of 1 MiB on one
/// core; the wall time of the run.
fn blob_stream(blobs: &SsdletRef, sum: &SsdletRef, zero_copy: bool, n: u64) -> Duration {
    const MIB: u64 = 1 << 20;
    let config = RuntimeConfig {
        zero_copy,
        ..RuntimeConfig::default()
    };
    // Up to a port's 64 queued 1 MiB messages are held by the Application.
    let budget = AppConfig {
        dram_budget: 1 << 30,
        ..AppConfig::default()
    };
    let run = pair_on_core0(
        config,
        budget,
        (blobs, &[ArgValue::U64(n), ArgValue::U64(MIB)]),
        sum,
    );
    let want: u64 = (0..n).map(|i| u64::from(i as u8) * MIB).sum();
    assert_eq!(run.totals.first(), Some(&want));
    let (copied, adopted) = run.message_bytes;
    assert_eq!(adopted == 0, !zero_copy, "copied {copied}, adopted {adopted}");
    run.wall
}

/// What [`pair_on_core0`] measured.
struct PairRun {
    /// Wall time of the run.
    wall: Duration,
    /// What the receiver sent on its `total` port.
    totals: Vec<u64>,
    /// `Runtime::message_bytes`: (copied, handed over).
    message_bytes: (u64, u64),
}

/// Runs `src` (with `args`) feeding `dst` ("out" to "in"), both on core 0 of a fresh `tiny`
/// device, until nothing is runnable.
fn pair_on_core0(
    config: RuntimeConfig,
    budget: AppConfig,
    (src, args): (&SsdletRef, &[ArgValue]),
    dst: &SsdletRef,
) -> PairRun {
    let mut rt = Runtime::in_memory(DeviceProfile::tiny(), config).unwrap();
    let app = rt.create_app("pair", budget);
    let s = rt.spawn_on(app, src, args, Placement::Core(0)).unwrap();
    let d = rt.spawn_on(app, dst, &[], Placement::Core(0)).unwrap();
    rt.connect(s, "out", d, "in").unwrap();
    let total = rt.host_receiver(d, "total").unwrap();
    rt.start(app).unwrap();
    let start = Instant::now();
    rt.run().unwrap();
    let wall = start.elapsed();
    PairRun {
        wall,
        totals: rt.recv::<u64>(total).unwrap(),
        message_bytes: rt.message_bytes(),
    }
}

/// 1 MiB messages (`Bytes`) between two SSDlets on one core, handed over vs copied by the
/// runtime, in streams of at least [`STREAM`] messages; beside them the machine's limits in
/// the same run: one `memcpy` of 1 MiB in cache, and one out of and into DRAM (the copies
/// rotate over 64 MiB each way, a full queue's worth, as the stream's messages do).
fn large_messages(c: &mut Criterion) {
    const MIB: usize = 1 << 20;
    let m = testkit();
    let (blobs, sum) = (m.ssdlet("blobs").unwrap(), m.ssdlet("blob_sum").unwrap());
    let (blocks, block_sum) = (m.ssdlet("blocks").unwrap(), m.ssdlet("block_sum").unwrap());
    let mut g = c.benchmark_group("runtime");
    g.throughput(Throughput::Bytes(MIB as u64));
    let (src, mut dst) = (vec![7u8; MIB], vec![0u8; MIB]);
    let mut cached = || {
        dst.copy_from_slice(std::hint::black_box(&src));
        std::hint::black_box(&mut dst);
    };
    let (far_src, mut far_dst) = (vec![7u8; 64 * MIB], vec![0u8; 64 * MIB]);
    let mut next = 0;
    let mut from_dram = || {
        let at = next * MIB..(next + 1) * MIB;
        far_dst[at.clone()].copy_from_slice(std::hint::black_box(&far_src[at]));
        std::hint::black_box(&mut far_dst);
        next = (next + 1) % 64;
    };
    g.bench_function("memcpy_1MiB", |b| b.iter(&mut cached));
    g.bench_function("memcpy_1MiB_dram", |b| b.iter(&mut from_dram));
    let variants = [
        ("messages_1MiB_blocks", (&blocks, &block_sum), true),
        ("messages_1MiB_no_copy", (&blobs, &sum), true),
        ("messages_1MiB_copy", (&blobs, &sum), false),
    ];
    for (name, (from, to), zero_copy) in variants {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let n = iters.max(STREAM);
                blob_stream(from, to, zero_copy, n).mul_f64(iters as f64 / n as f64)
            })
        });
    }
    g.finish();
    // The figure beside its limits, from interleaved rounds of the same run.
    let per_msg = |t: Duration, n: u64| t.as_secs_f64() * 1e6 / n as f64;
    let mut rounds: Vec<[f64; 3]> = (0..5)
        .map(|_| {
            let ours = per_msg(blob_stream(&blocks, &block_sum, true, STREAM), STREAM);
            let t = Instant::now();
            (0..STREAM).for_each(|_| cached());
            let near = per_msg(t.elapsed(), STREAM);
            let t = Instant::now();
            (0..STREAM).for_each(|_| from_dram());
            [ours, near, per_msg(t.elapsed(), STREAM)]
        })
        .collect();
    rounds.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let [ours, near, far] = rounds[rounds.len() / 2];
    eprintln!(
        "runtime/messages_1MiB_blocks {ours:.1} us ({:.2} GB/s) beside one memcpy of 1 MiB in cache \
         {near:.1} us ({:.2}x) and out of DRAM {far:.1} us ({:.2}x) in the same run",
        MIB as f64 / ours / 1e3,
        ours / near,
        ours / far
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = messages_one_core, filestream_scan, large_messages
}
criterion_main!(benches);
