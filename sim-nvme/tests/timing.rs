//! Latency and bandwidth derivations: every expected figure is computed from the profile's own
//! fields (host 4 KiB read = host I/O stack + firmware + tR + channel + PCIe; internal read =
//! firmware + tR + channel), deep-queue sequential reads reach the analytic bottleneck, the
//! calibrated `pm1725` figures hold exactly, and the simulation is deterministic.

mod common;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use common::{blocks_data, fill_block, seed, BLOCK};
use sim_nvme::nvme::QueueId;
use sim_nvme::{Command, Controller, DeviceProfile, Lba, Payload, SimDuration, SimTime, Ssd, LBA_BYTES};

const B4K: u64 = LBA_BYTES;

fn ns(d: SimDuration) -> u64 {
    d.as_nanos()
}

/// Channel transfer time of `bytes` on this profile.
fn channel(p: &DeviceProfile, bytes: u64) -> u64 {
    ns(p.channel_time(bytes))
}

/// PCIe device-to-host time of `bytes` on this profile.
fn pcie(p: &DeviceProfile, bytes: u64) -> u64 {
    ns(SimDuration::for_bytes(bytes, p.pcie.to_host_mb_per_s))
}

/// A controller over an in-memory device with one I/O queue, and `blocks` blocks written from
/// LBA 0 (version 1). Returns the instant every NAND program has finished.
fn setup(p: DeviceProfile, blocks: u64) -> (Controller, QueueId, SimTime) {
    let mut ctrl = Controller::new(Ssd::in_memory(p).expect("valid profile"));
    let q = ctrl.create_io_queue(64).expect("queue");
    let per = u64::from(ctrl.ssd().profile().controller.max_transfer_bytes) / B4K;
    let mut t = SimTime::ZERO;
    let mut lba = 0;
    while lba < blocks {
        let n = per.min(blocks - lba);
        let data = blocks_data(lba, n, 1);
        let c = ctrl
            .submit_and_wait(
                q,
                Command::Write {
                    nsid: 1,
                    lba: Lba(lba),
                    data,
                },
                t,
            )
            .expect("submit");
        assert!(c.status.is_success(), "write at {lba}: {}", c.status);
        t = c.done_at;
        lba += n;
    }
    let idle = ctrl.ssd().hardware().horizon().max(t);
    (ctrl, q, idle)
}

fn host_read(
    ctrl: &mut Controller,
    q: QueueId,
    lba: u64,
    blocks: u32,
    at: SimTime,
) -> (Vec<u8>, SimDuration) {
    let c = ctrl
        .submit_and_wait(
            q,
            Command::Read {
                nsid: 1,
                lba: Lba(lba),
                blocks,
            },
            at,
        )
        .expect("submit");
    assert!(c.status.is_success(), "read {lba}+{blocks}: {}", c.status);
    let lat = c.latency();
    let Payload::Data(d) = c.payload else {
        panic!("read returned {:?}", c.payload)
    };
    (d, lat)
}

#[test]
fn host_4k_read_is_stack_firmware_tr_channel_pcie() {
    let p = DeviceProfile::tiny();
    let (mut ctrl, q, idle) = setup(p.clone(), 64);
    let expected =
        p.host.io_stack_ns + p.controller.firmware_ns + p.nand.read_ns + channel(&p, B4K) + pcie(&p, B4K);
    let (data, lat) = host_read(&mut ctrl, q, 5, 1, idle);
    assert_eq!(ns(lat), expected, "tiny host 4 KiB read");
    // The figure the tiny profile documents: 10 + 5 + 50 + 10.24 + 4.096 us.
    assert_eq!(expected, 79_336);
    assert_eq!(data, blocks_data(5, 1, 1));
    assert_eq!(ctrl.ssd().stats().nand_pages_read, 1);
}

#[test]
fn internal_4k_read_is_firmware_tr_channel() {
    let p = DeviceProfile::tiny();
    let (ctrl, _, idle) = setup(p.clone(), 64);
    let mut ssd = ctrl.into_ssd();
    let mut buf = vec![0u8; BLOCK];
    let done = ssd.internal_read(idle, Lba(9), &mut buf).expect("read");
    assert_eq!(
        ns(done - idle),
        p.controller.firmware_ns + p.nand.read_ns + channel(&p, B4K)
    );
    assert_eq!(buf, blocks_data(9, 1, 1));
    let s = ssd.stats();
    assert_eq!(
        (s.internal_reads, s.pcie_bytes_to_host),
        (1, 0),
        "no PCIe on the internal path"
    );
}

#[test]
fn multi_block_reads_share_a_page_and_stripe_over_channels() {
    let p = DeviceProfile::tiny();
    let spp = u64::from(p.sectors_per_page());
    let page = u64::from(p.geometry.page_bytes);
    let (ctrl, _, idle) = setup(p.clone(), 64);
    let mut ssd = ctrl.into_ssd();
    let fw_tr = p.controller.firmware_ns + p.nand.read_ns;
    // One whole page: one tR, the page's bytes over its channel.
    let mut buf = vec![0u8; page as usize];
    let done = ssd.internal_read(idle, Lba(0), &mut buf).expect("read");
    assert_eq!(ns(done - idle), fw_tr + channel(&p, page));
    assert_eq!(ssd.stats().nand_pages_read, 1);
    // One page on each channel: they proceed in parallel.
    let at = ssd.hardware().horizon();
    let chans = u64::from(p.geometry.channels);
    let mut buf = vec![0u8; (page * chans) as usize];
    let done = ssd.internal_read(at, Lba(spp), &mut buf).expect("read");
    assert_eq!(ns(done - at), fw_tr + channel(&p, page));
    assert_eq!(buf, blocks_data(spp, spp * chans, 1));
}

#[test]
fn never_written_blocks_skip_nand() {
    let p = DeviceProfile::tiny();
    let (mut ctrl, q, idle) = setup(p.clone(), 8);
    let unwritten = ctrl.ssd().capacity_lbas() - 1;
    let (data, lat) = host_read(&mut ctrl, q, unwritten, 1, idle);
    assert!(data.iter().all(|&b| b == 0));
    assert_eq!(
        ns(lat),
        p.host.io_stack_ns + p.controller.firmware_ns + pcie(&p, B4K)
    );
    let mut ssd = ctrl.into_ssd();
    let mut buf = vec![1u8; BLOCK];
    let at = ssd.hardware().horizon();
    let done = ssd.internal_read(at, Lba(unwritten), &mut buf).expect("read");
    assert_eq!(ns(done - at), p.controller.firmware_ns);
    assert!(buf.iter().all(|&b| b == 0));
    assert_eq!(
        ssd.stats().nand_pages_read,
        0,
        "no NAND read for unwritten blocks"
    );
}

#[test]
fn pm1725_matches_biscuit_figures_exactly() {
    let p = DeviceProfile::pm1725();
    let (mut ctrl, q, idle) = setup(p.clone(), 16);
    let (_, lat) = host_read(&mut ctrl, q, 3, 1, idle);
    assert_eq!(ns(lat), 90_000, "host 4 KiB read on pm1725 (Biscuit: 90.0 us)");
    let mut ssd = ctrl.into_ssd();
    let at = ssd.hardware().horizon();
    let mut buf = vec![0u8; BLOCK];
    let done = ssd.internal_read(at, Lba(3), &mut buf).expect("read");
    assert_eq!(
        ns(done - at),
        75_900,
        "internal 4 KiB read on pm1725 (Biscuit: 75.9 us)"
    );
}

/// Sequential host reads of `total` blocks in `req`-block commands with `qd` outstanding,
/// from `t0`. Returns the completion instants in reap order.
fn host_seq_reads(
    ctrl: &mut Controller,
    q: QueueId,
    total: u64,
    req: u32,
    qd: usize,
    t0: SimTime,
) -> Vec<SimTime> {
    let mut done = Vec::new();
    let (mut next, mut inflight, mut t) = (0u64, 0usize, t0);
    while next < total || inflight > 0 {
        while inflight < qd && next < total {
            let cmd = Command::Read {
                nsid: 1,
                lba: Lba(next),
                blocks: req,
            };
            ctrl.submit(q, cmd, t).expect("queue has room");
            inflight += 1;
            next += u64::from(req);
        }
        let c = ctrl.reap(q).expect("a command is outstanding");
        assert!(c.status.is_success(), "{}", c.status);
        let Payload::Data(d) = &c.payload else {
            panic!("no data")
        };
        let lba = u64::from_le_bytes(d[..8].try_into().unwrap());
        let mut first = vec![0u8; BLOCK];
        fill_block(&mut first, lba, 1);
        assert_eq!(&d[..BLOCK], first.as_slice(), "data of a read at LBA {lba}");
        inflight -= 1;
        t = c.done_at;
        done.push(c.done_at);
    }
    done
}

/// Sequential internal reads, same queueing discipline as [`host_seq_reads`].
fn internal_seq_reads(ssd: &mut Ssd, total: u64, req: u64, qd: usize, t0: SimTime) -> Vec<SimTime> {
    let mut done = Vec::new();
    let mut heap = BinaryHeap::new();
    let mut buf = vec![0u8; (req * B4K) as usize];
    let (mut next, mut t) = (0u64, t0);
    while next < total || !heap.is_empty() {
        while heap.len() < qd && next < total {
            let d = ssd.internal_read(t, Lba(next), &mut buf).expect("read");
            assert_eq!(buf[..8], next.to_le_bytes(), "data of a read at LBA {next}");
            heap.push(Reverse(d));
            next += req;
        }
        let Reverse(d) = heap.pop().expect("outstanding");
        t = d;
        done.push(d);
    }
    done
}

fn mb_per_s(bytes: u64, span: SimDuration) -> f64 {
    bytes as f64 * 1e3 / span.as_nanos() as f64
}

const SEQ_BLOCKS: u64 = 4096; // 16 MiB

#[test]
fn host_sequential_read_reaches_the_pcie_link() {
    let p = DeviceProfile::tiny();
    let (mut ctrl, q, idle) = setup(p.clone(), SEQ_BLOCKS);
    let req = p.controller.max_transfer_bytes / LBA_BYTES as u32;
    let done = host_seq_reads(&mut ctrl, q, SEQ_BLOCKS, req, 32, idle);
    let span = *done.iter().max().unwrap() - idle;
    let got = mb_per_s(SEQ_BLOCKS * B4K, span);
    let bound = p.pcie.to_host_mb_per_s as f64;
    println!("tiny host sequential read: {got:.1} MB/s (PCIe bound {bound} MB/s)");
    assert!(
        got <= bound * 1.0001,
        "faster than the link: {got:.1} MB/s > {bound}"
    );
    assert!(
        got >= bound * 0.97,
        "host sequential read {got:.1} MB/s, expected within 3% of {bound}"
    );
}

#[test]
fn internal_sequential_read_reaches_the_nand_bound() {
    let p = DeviceProfile::tiny();
    let (ctrl, _, idle) = setup(p.clone(), SEQ_BLOCKS);
    let mut ssd = ctrl.into_ssd();
    let req = u64::from(p.controller.max_transfer_bytes) / B4K;
    let done = internal_seq_reads(&mut ssd, SEQ_BLOCKS, req, 32, idle);
    let span = *done.iter().max().unwrap() - idle;
    let got = mb_per_s(SEQ_BLOCKS * B4K, span);
    let g = &p.geometry;
    let channels = f64::from(g.channels) * p.nand.channel_mb_per_s as f64;
    let dies =
        f64::from(g.channels * g.dies_per_channel) * f64::from(g.page_bytes) * 1e3 / p.nand.read_ns as f64;
    let bound = channels.min(dies);
    println!("tiny internal sequential read: {got:.1} MB/s (channels {channels} MB/s, dies {dies:.1} MB/s)");
    assert!(
        got <= bound * 1.0001,
        "faster than the NAND: {got:.1} MB/s > {bound}"
    );
    assert!(
        got >= bound * 0.97,
        "internal sequential read {got:.1} MB/s, expected within 3% of {bound}"
    );
    assert_eq!(ssd.stats().pcie_bytes_to_host, 0);
}

/// A seeded mix of writes, reads, trims and flushes at queue depth 8; returns every completion
/// instant and the final counters.
fn mixed_workload(seed: u64) -> (Vec<(u16, SimTime)>, sim_nvme::SsdStats) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut ctrl = Controller::new(Ssd::in_memory(DeviceProfile::tiny()).unwrap());
    let q = ctrl.create_io_queue(16).unwrap();
    let cap = ctrl.ssd().capacity_lbas();
    let mut out = Vec::new();
    let mut t = SimTime::ZERO;
    for i in 0..3000u32 {
        if ctrl.outstanding(q) >= 8 {
            let c = ctrl.reap(q).unwrap();
            t = c.done_at;
            out.push((c.cid, c.done_at));
        }
        let blocks = rng.u64(1..=8);
        let lba = rng.u64(0..cap - blocks);
        let cmd = match rng.u8(0..20) {
            0 => Command::Flush { nsid: 1 },
            1 => Command::Deallocate {
                nsid: 1,
                ranges: vec![(Lba(lba), blocks as u32)],
            },
            2..=9 => Command::Write {
                nsid: 1,
                lba: Lba(lba),
                data: blocks_data(lba, blocks, i),
            },
            _ => Command::Read {
                nsid: 1,
                lba: Lba(lba),
                blocks: blocks as u32,
            },
        };
        ctrl.submit(q, cmd, t).unwrap();
    }
    while let Some(c) = ctrl.reap(q) {
        out.push((c.cid, c.done_at));
    }
    (out, ctrl.ssd().stats())
}

#[test]
fn same_workload_gives_bit_identical_times() {
    let s = seed(0x5EED_0001);
    let (a, sa) = mixed_workload(s);
    let (b, sb) = mixed_workload(s);
    assert_eq!(a.len(), b.len(), "seed {s:#x}");
    assert!(
        a == b,
        "seed {s:#x}: completion times differ between two identical runs"
    );
    assert_eq!(sa, sb, "seed {s:#x}");
    assert!(
        sa.writes > 0 && sa.host_reads > 0,
        "seed {s:#x}: the mix ran both reads and writes"
    );
}
