//! Criterion benches of the simulator's own speed (wall time per simulated operation).
//!
//! Targets (issue 2): at least 2 million simulated 4 KiB reads per wall-second on one core, and
//! the matcher scanning at least 3 GB of page data per wall-second on one core.
//! Run: `cargo bench -p sim-nvme --bench sim`.
#![allow(missing_docs)] // `criterion_group!` defines an undocumented `pub fn`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sim_nvme::{Command, Controller, DeviceProfile, Lba, MatchMode, MatchRequest, SimTime, Ssd, LBA_BYTES};

const FILL_BLOCKS: u64 = 16 * 1024; // 64 MiB

/// A pm1725 device with the first 64 MiB written with pseudo-random text.
fn filled() -> Ssd {
    let mut ssd = Ssd::in_memory(DeviceProfile::pm1725()).expect("built-in profile");
    let mut rng = fastrand::Rng::with_seed(7);
    let chunk = 256u64; // 1 MiB writes
    let mut t = SimTime::ZERO;
    for first in (0..FILL_BLOCKS).step_by(chunk as usize) {
        let data: Vec<u8> = (0..chunk * LBA_BYTES).map(|_| rng.alphabetic() as u8).collect();
        t = ssd.host_write(t, Lba(first), &data).expect("fill");
    }
    ssd.flush(t).expect("flush");
    ssd
}

/// Reads at queue depth 1, each issued when the previous completes. `hot` blocks are a 1 MiB
/// set that stays in the CPU cache, so the figure is the simulator's own cost; `cold` blocks
/// are spread over 64 MiB, so the figure includes copying 4 KiB from main memory per read.
fn reads(c: &mut Criterion) {
    let mut g = c.benchmark_group("read_4k");
    g.throughput(Throughput::Elements(1));
    let mut ctrl = Controller::new(filled());
    let q = ctrl.create_io_queue(64).expect("queue");
    let mut ssd = filled();
    let mut rng = fastrand::Rng::with_seed(1);
    let mut buf = vec![0u8; LBA_BYTES as usize];
    for (set, blocks) in [("hot", 256), ("cold", FILL_BLOCKS)] {
        let mut t = ctrl.ssd().hardware().horizon();
        g.bench_function(format!("host_nvme_{set}"), |b| {
            b.iter(|| {
                let cmd = Command::Read {
                    nsid: 1,
                    lba: Lba(rng.u64(0..blocks)),
                    blocks: 1,
                };
                let c = ctrl.submit_and_wait(q, cmd, t).expect("submit");
                t = c.done_at;
                c.status
            })
        });
        let mut t = ssd.hardware().horizon();
        g.bench_function(format!("internal_{set}"), |b| {
            b.iter(|| {
                t = ssd
                    .internal_read(t, Lba(rng.u64(0..blocks)), &mut buf)
                    .expect("read");
                t
            })
        });
    }
    g.finish();
}

fn matcher(c: &mut Criterion) {
    let mut g = c.benchmark_group("matcher");
    let blocks = FILL_BLOCKS;
    g.throughput(Throughput::Bytes(blocks * LBA_BYTES));
    g.sample_size(20);
    let mut ssd = filled();
    let mut t = ssd.hardware().horizon();
    for (name, keys) in [
        ("scan_64MiB_1key", vec![b"zqxjk".to_vec()]),
        (
            "scan_64MiB_3keys",
            vec![b"zqxjk".to_vec(), b"QQQQQ".to_vec(), b"1995-01-17".to_vec()],
        ),
    ] {
        let req = MatchRequest {
            keys,
            mode: MatchMode::Any,
            start: Lba(0),
            count: blocks,
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let (hints, done) = ssd.match_scan(t, &req).expect("scan");
                t = done;
                hints.count()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, reads, matcher);
criterion_main!(benches);
