//! The FTL under a random-overwrite workload that forces garbage collection: every block reads
//! back what was last written (checked at intervals and at the end, against a shadow copy),
//! GC runs and write amplification exceeds 1; TRIM: trimmed blocks read as zeros and GC does
//! not copy them; the same workload on a persistent image, flushed every N writes, reopened
//! and verified.

mod common;

use common::{blocks_data, seed, version_of, TempPath, BLOCK};
use sim_nvme::{DeviceProfile, Lba, SimTime, Ssd};

/// The device and what every block should hold (`shadow[lba]` = last version written, 0 =
/// never written or trimmed).
struct Run {
    ssd: Ssd,
    shadow: Vec<u32>,
    t: SimTime,
    version: u32,
    rng: fastrand::Rng,
    seed: u64,
}

impl Run {
    fn new(ssd: Ssd, seed: u64) -> Self {
        let cap = ssd.capacity_lbas() as usize;
        Run {
            ssd,
            shadow: vec![0; cap],
            t: SimTime::ZERO,
            version: 0,
            rng: fastrand::Rng::with_seed(seed),
            seed,
        }
    }

    fn cap(&self) -> u64 {
        self.shadow.len() as u64
    }

    fn write(&mut self, lba: u64, blocks: u64) {
        self.version += 1;
        let data = blocks_data(lba, blocks, self.version);
        self.t = self.ssd.host_write(self.t, Lba(lba), &data).unwrap_or_else(|e| {
            panic!(
                "seed {:#x}: write {lba}+{blocks}: {e}; {:?}",
                self.seed,
                self.ssd.stats()
            )
        });
        for l in lba..lba + blocks {
            self.shadow[l as usize] = self.version;
        }
    }

    fn trim(&mut self, lba: u64, blocks: u64) {
        self.t = self.ssd.trim(self.t, Lba(lba), blocks).expect("trim");
        for l in lba..lba + blocks {
            self.shadow[l as usize] = 0;
        }
    }

    fn flush(&mut self) {
        self.t = self.ssd.flush(self.t).expect("flush");
    }

    /// Fills the namespace sequentially, 32 blocks a write.
    fn fill(&mut self) {
        let cap = self.cap();
        let mut lba = 0;
        while lba < cap {
            let n = 32.min(cap - lba);
            self.write(lba, n);
            lba += n;
        }
    }

    /// `n` random overwrites of 1 to 4 blocks; with `trims`, about one in 50 is a TRIM.
    fn overwrite(&mut self, n: usize, trims: bool) {
        let cap = self.cap();
        for _ in 0..n {
            let blocks = self.rng.u64(1..=4);
            let lba = self.rng.u64(0..=cap - blocks);
            if trims && self.rng.u8(0..50) == 0 {
                self.trim(lba, blocks);
            } else {
                self.write(lba, blocks);
            }
        }
    }

    /// Reads the whole namespace back (internal reads, 32 blocks at a time) and compares.
    fn verify(&mut self, when: &str) {
        let cap = self.cap();
        let mut buf = vec![0u8; 32 * BLOCK];
        let mut lba = 0;
        while lba < cap {
            let n = 32.min(cap - lba);
            let b = &mut buf[..n as usize * BLOCK];
            self.t = self.ssd.internal_read(self.t, Lba(lba), b).expect("read");
            for (i, blk) in b.chunks_exact(BLOCK).enumerate() {
                let l = lba + i as u64;
                let want = self.shadow[l as usize];
                let got = version_of(blk, l);
                assert_eq!(
                    got,
                    Some(want),
                    "seed {:#x} ({when}): LBA {l} holds {got:?} (None = not this LBA's data), last written version {want}",
                    self.seed
                );
            }
            lba += n;
        }
    }
}

#[test]
fn random_overwrites_force_gc_and_every_block_reads_back() {
    let s = seed(0x6C_0001);
    let mut r = Run::new(Ssd::in_memory(DeviceProfile::tiny()).unwrap(), s);
    r.fill();
    r.verify("after fill");
    let rounds = 8;
    let per_round = r.cap() as usize / 2;
    for round in 0..rounds {
        r.overwrite(per_round, true);
        r.verify(&format!("after overwrite round {round}"));
    }
    let st = r.ssd.stats().ftl;
    let wa = st.write_amplification();
    println!(
        "seed {s:#x}: host sectors {}, NAND sectors {}, GC runs {}, copied {}, erased {}, WA {wa:.3}",
        st.host_sectors_written, st.nand_sectors_written, st.gc_runs, st.gc_sectors_copied, st.blocks_erased
    );
    assert!(st.gc_runs > 0, "seed {s:#x}: the workload never forced GC");
    assert!(
        st.gc_sectors_copied > 0,
        "seed {s:#x}: GC never copied valid data"
    );
    assert!(wa > 1.0, "seed {s:#x}: write amplification {wa}");
    // Host sectors plus GC copies are every sector programmed, except the open page's.
    let spp = u64::from(r.ssd.layout().sectors_per_page);
    let owed = st.host_sectors_written + st.gc_sectors_copied - st.nand_sectors_written;
    assert!(
        owed < spp,
        "seed {s:#x}: {owed} sectors neither programmed nor in the open page"
    );
    r.flush();
    let st = r.ssd.stats().ftl;
    assert_eq!(
        st.nand_sectors_written,
        st.host_sectors_written + st.gc_sectors_copied
    );
    assert_eq!(st.write_amplification(), wa_after_flush(&st));
    r.verify("after flush");
}

fn wa_after_flush(st: &sim_nvme::ftl::FtlCounters) -> f64 {
    (st.host_sectors_written + st.gc_sectors_copied) as f64 / st.host_sectors_written as f64
}

/// Fills the namespace, optionally TRIMs all of it, then rewrites every block once in a random
/// order (which needs GC). Returns the FTL counters.
fn rewrite_after(trim_all: bool, s: u64) -> sim_nvme::ftl::FtlCounters {
    let mut r = Run::new(Ssd::in_memory(DeviceProfile::tiny()).unwrap(), s);
    r.fill();
    if trim_all {
        let cap = r.cap();
        r.trim(0, cap);
        r.verify("after TRIM of everything");
        assert_eq!(r.ssd.stats().ftl.sectors_trimmed, cap);
        assert_eq!(
            r.ssd.stats().nand_pages_read,
            0,
            "trimmed blocks read without NAND"
        );
    }
    let mut order: Vec<u64> = (0..r.cap()).collect();
    r.rng.shuffle(&mut order);
    for lba in order {
        r.write(lba, 1);
    }
    r.verify("after the rewrite");
    r.ssd.stats().ftl
}

#[test]
fn trimmed_blocks_are_not_copied_by_gc() {
    let s = seed(0x6C_0002);
    let trimmed = rewrite_after(true, s);
    let kept = rewrite_after(false, s);
    println!("seed {s:#x}: with TRIM {trimmed:?}\nwithout TRIM {kept:?}");
    assert!(trimmed.gc_runs > 0, "seed {s:#x}: the rewrite did not need GC");
    // Every victim held only trimmed data: nothing to copy.
    assert_eq!(
        trimmed.gc_sectors_copied, 0,
        "seed {s:#x}: GC copied trimmed blocks"
    );
    // The same rewrite without the TRIM has to move live data (the check above can fail).
    assert!(kept.gc_sectors_copied > 0, "seed {s:#x}");
}

#[test]
fn trim_during_gc_reads_zeros() {
    let s = seed(0x6C_0003);
    let mut r = Run::new(Ssd::in_memory(DeviceProfile::tiny()).unwrap(), s);
    r.fill();
    // Trim every other 64-block stretch, then overwrite the rest until GC has run a while.
    let cap = r.cap();
    for lba in (0..cap).step_by(128) {
        r.trim(lba, 64.min(cap - lba));
    }
    r.verify("after the TRIMs");
    let st0 = r.ssd.stats().ftl;
    let live: Vec<u64> = (0..cap).filter(|l| l % 128 >= 64).collect();
    for _ in 0..2 * cap {
        let lba = live[r.rng.usize(0..live.len())];
        r.write(lba, 1);
    }
    let st = r.ssd.stats().ftl;
    assert!(st.gc_runs > st0.gc_runs, "seed {s:#x}: no GC after the TRIMs");
    r.verify("after GC");
    for lba in (0..cap).filter(|l| l % 128 < 64) {
        assert_eq!(r.shadow[lba as usize], 0);
    }
}

#[test]
fn persistent_image_overwrites_flush_reopen_verify() {
    let s = seed(0x6C_0004);
    let img = TempPath::new("ftl-gc");
    let p = DeviceProfile::tiny();
    let ssd = Ssd::create_image(p.clone(), img.path()).expect("create image");
    let mut r = Run::new(ssd, s);
    r.fill();
    const FLUSH_EVERY: usize = 1000;
    let per_phase = r.cap() as usize;
    for phase in 0..2 {
        for _ in 0..per_phase / FLUSH_EVERY {
            r.overwrite(FLUSH_EVERY, true);
            r.flush();
        }
        let before = r.ssd.stats();
        assert!(before.checkpoints > 0);
        // Reopen: the device is dropped and rebuilt from the image alone.
        let Run {
            ssd,
            shadow,
            version,
            rng,
            ..
        } = r;
        drop(ssd);
        let ssd = Ssd::open_image(p.clone(), img.path()).expect("reopen image");
        assert_eq!(ssd.stats().ftl, before.ftl, "FTL counters survive the reopen");
        r = Run {
            ssd,
            shadow,
            t: SimTime::ZERO,
            version,
            rng,
            seed: s,
        };
        r.verify(&format!("after reopen {phase}"));
    }
    let st = r.ssd.stats().ftl;
    println!(
        "seed {s:#x}: image GC runs {}, WA {:.3}",
        st.gc_runs,
        st.write_amplification()
    );
    assert!(st.gc_runs > 0, "seed {s:#x}: the image workload never forced GC");
    assert!(st.write_amplification() > 1.0);
}
