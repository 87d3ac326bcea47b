//! The persistent image: write, flush, drop, reopen, read back; a process killed before a
//! flush loses nothing that was flushed (the test binary re-runs itself as a child that
//! aborts); and every unusable file is refused with the matching `ImageError`: foreign,
//! truncated, corrupt (both header slots, or the newest checkpoint: refused, not rolled back;
//! one damaged header slot is answered by its twin; only a commit torn before its second
//! header slot falls back to the previous one), another geometry, or `create` over
//! an existing path.

mod common;

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use common::{blocks_data, seed, version_of, TempPath, BLOCK, DATA_BASE};
use sim_nvme::{Command, Controller, DeviceProfile, ImageError, Lba, OpenError, Payload, SimTime, Ssd};

fn open_err(p: DeviceProfile, path: &Path) -> ImageError {
    match Ssd::open_image(p, path) {
        Ok(_) => panic!("{} opened, expected a refusal", path.display()),
        Err(OpenError::Image(e)) => {
            let msg = e.to_string();
            assert!(
                msg.contains(&path.display().to_string()),
                "the message does not name the file: {msg}"
            );
            e
        }
        Err(e) => panic!("expected an image error, got {e}"),
    }
}

fn write(ssd: &mut Ssd, t: SimTime, lba: u64, blocks: u64, version: u32) -> SimTime {
    ssd.host_write(t, Lba(lba), &blocks_data(lba, blocks, version))
        .expect("write")
}

fn read_version(ssd: &mut Ssd, lba: u64) -> Option<u32> {
    let mut buf = vec![0u8; BLOCK];
    ssd.internal_read(SimTime::ZERO, Lba(lba), &mut buf)
        .expect("read");
    version_of(&buf, lba)
}

#[test]
fn write_flush_drop_reopen_read_back() {
    let img = TempPath::new("reopen");
    let p = DeviceProfile::tiny();
    let mut ctrl = Controller::new(Ssd::create_image(p.clone(), img.path()).expect("create"));
    let q = ctrl.create_io_queue(8).unwrap();
    let mut t = SimTime::ZERO;
    for (lba, blocks) in [(0u64, 1u64), (1, 7), (100, 32), (5000, 3)] {
        let data = blocks_data(lba, blocks, 1);
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
            .unwrap();
        assert!(c.status.is_success(), "{}", c.status);
        t = c.done_at;
    }
    let c = ctrl.submit_and_wait(q, Command::Flush { nsid: 1 }, t).unwrap();
    assert!(c.status.is_success());
    let written = ctrl.ssd().stats().ftl;
    drop(ctrl);

    let mut ctrl = Controller::new(Ssd::open_image(p.clone(), img.path()).expect("reopen"));
    assert_eq!(ctrl.ssd().stats().ftl, written, "FTL counters persist");
    let q = ctrl.create_io_queue(8).unwrap();
    let c = ctrl
        .submit_and_wait(
            q,
            Command::Read {
                nsid: 1,
                lba: Lba(0),
                blocks: 8,
            },
            SimTime::ZERO,
        )
        .unwrap();
    assert_eq!(c.payload, Payload::Data(blocks_data(0, 8, 1)));
    let c = ctrl
        .submit_and_wait(
            q,
            Command::Read {
                nsid: 1,
                lba: Lba(100),
                blocks: 32,
            },
            c.done_at,
        )
        .unwrap();
    assert_eq!(c.payload, Payload::Data(blocks_data(100, 32, 1)));
    // Second session: overwrite some, add some, flush, reopen again.
    let mut ssd = ctrl.into_ssd();
    for lba in [4999u64, 5000, 5001, 5002, 5003] {
        assert_eq!(
            read_version(&mut ssd, lba),
            Some(if (5000..5003).contains(&lba) { 1 } else { 0 }),
            "LBA {lba}"
        );
    }
    let t = write(&mut ssd, SimTime::ZERO, 100, 4, 2);
    let t = write(&mut ssd, t, 9000, 2, 2);
    ssd.flush(t).unwrap();
    drop(ssd);
    let mut ssd = Ssd::open_image(p, img.path()).expect("reopen twice");
    for lba in 100..132 {
        assert_eq!(
            read_version(&mut ssd, lba),
            Some(if lba < 104 { 2 } else { 1 }),
            "LBA {lba}"
        );
    }
    assert_eq!(read_version(&mut ssd, 9001), Some(2));
    assert_eq!(read_version(&mut ssd, 0), Some(1));
}

// --- a kill before flush -------------------------------------------------------------------

const CHILD_ENV: &str = "SIM_NVME_CRASH_CHILD_IMAGE";
const SEED_ENV: &str = "SIM_NVME_CRASH_CHILD_SEED";
const CRASH_TEST: &str = "kill_before_flush_loses_nothing_that_was_flushed";

/// Writes (first LBA, blocks, version) before the flush, and after it.
struct Plan {
    before: Vec<(u64, u64, u32)>,
    after: Vec<(u64, u64, u32)>,
}

/// Before the flush: two thirds of the namespace filled, then overwritten at random; after
/// it, enough random writes over the whole namespace (some to blocks never flushed) to run
/// garbage collection and internal checkpoints before the kill.
fn plan(seed: u64, cap: u64) -> Plan {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut version = 0;
    let mut next = || {
        version += 1;
        version
    };
    let hot = cap * 2 / 3;
    let mut before: Vec<_> = (0..hot)
        .step_by(16)
        .map(|l| (l, 16.min(hot - l), next()))
        .collect();
    for _ in 0..2000 {
        let n = rng.u64(1..=4);
        before.push((rng.u64(0..=hot - n), n, next()));
    }
    let after = (0..3000)
        .map(|_| {
            let n = rng.u64(1..=4);
            (rng.u64(0..=cap - n), n, next())
        })
        .collect();
    Plan { before, after }
}

fn child(path: &Path, seed: u64) -> ! {
    let mut ssd = Ssd::open_image(DeviceProfile::tiny(), path).expect("child: open the image");
    let plan = plan(seed, ssd.capacity_lbas());
    let mut t = SimTime::ZERO;
    for &(lba, n, v) in &plan.before {
        t = write(&mut ssd, t, lba, n, v);
    }
    t = ssd.flush(t).expect("child: flush");
    let gc0 = ssd.stats().ftl.gc_runs;
    for &(lba, n, v) in &plan.after {
        t = write(&mut ssd, t, lba, n, v);
    }
    let s = ssd.stats();
    println!(
        "CHILD flushed; after the flush: {} GC runs, {} checkpoints in all; killing itself",
        s.ftl.gc_runs - gc0,
        s.checkpoints
    );
    std::io::stdout().flush().ok();
    // SIGKILL, as a power cut: no destructor, no flush, and (unlike abort) no core dump.
    // SAFETY: kill(2) on this process's own pid has no memory effects; it does not return.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    unreachable!("SIGKILL did not end the process");
}

#[test]
fn kill_before_flush_loses_nothing_that_was_flushed() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        let s: u64 = std::env::var(SEED_ENV).unwrap().parse().unwrap();
        child(Path::new(&path), s);
    }
    let s = seed(0xC4A5_0001);
    let img = TempPath::new("crash");
    let p = DeviceProfile::tiny();
    let cap = Ssd::create_image(p.clone(), img.path())
        .expect("create")
        .capacity_lbas();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CRASH_TEST, "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, img.path())
        .env(SEED_ENV, s.to_string())
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGKILL),
        "seed {s:#x}: the child should die of SIGKILL; status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("CHILD flushed"),
        "seed {s:#x}: child output:\n{stdout}\n{stderr}"
    );
    let report = stdout
        .lines()
        .find_map(|l| l.split_once("CHILD "))
        .map_or("", |(_, r)| r);
    println!("seed {s:#x}: child: {report}");

    let plan = plan(s, cap);
    let mut flushed = vec![0u32; cap as usize];
    for &(lba, n, v) in &plan.before {
        flushed[lba as usize..(lba + n) as usize].fill(v);
    }
    let mut later: Vec<Vec<u32>> = vec![Vec::new(); cap as usize];
    for &(lba, n, v) in &plan.after {
        for l in lba..lba + n {
            later[l as usize].push(v);
        }
    }
    let mut ssd = Ssd::open_image(p, img.path()).expect("reopen after the kill");
    let (mut kept_flushed, mut kept_later) = (0, 0);
    for lba in 0..cap {
        let got = read_version(&mut ssd, lba);
        let f = flushed[lba as usize];
        let ok = match got {
            Some(v) if v == f => {
                kept_flushed += 1;
                true
            }
            Some(v) if later[lba as usize].contains(&v) => {
                kept_later += 1;
                true
            }
            _ => false,
        };
        assert!(
            ok,
            "seed {s:#x}: LBA {lba} reads version {got:?} (None = garbage); flushed version {f}, later unflushed {:?}",
            later[lba as usize]
        );
    }
    println!("seed {s:#x}: {kept_flushed} blocks hold their flushed data, {kept_later} a later write");
    assert!(kept_flushed > 0);
}

// --- refusals ------------------------------------------------------------------------------

#[test]
fn foreign_files_are_refused() {
    let s = seed(0xF0_0001);
    let mut rng = fastrand::Rng::with_seed(s);
    let random: Vec<u8> = (0..65536).map(|_| rng.u8(..)).collect();
    let text = "a text file, not a device image\n".repeat(500);
    for (what, bytes) in [
        ("random", random.as_slice()),
        ("text", text.as_bytes()),
        ("empty", &[][..]),
    ] {
        let f = TempPath::new(what);
        std::fs::write(f.path(), bytes).unwrap();
        let e = open_err(DeviceProfile::tiny(), f.path());
        assert!(
            matches!(e, ImageError::Foreign { .. }),
            "seed {s:#x}: {what} file: {e}"
        );
    }
}

/// A tiny image with LBAs 0..16 written (version 1) and flushed twice; returns its length.
fn small_image(path: &Path) -> u64 {
    let mut ssd = Ssd::create_image(DeviceProfile::tiny(), path).expect("create");
    let t = write(&mut ssd, SimTime::ZERO, 0, 16, 1);
    let t = ssd.flush(t).unwrap();
    ssd.flush(t).unwrap();
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn truncated_image_is_refused() {
    let img = TempPath::new("truncated");
    let len = small_image(img.path());
    let f = OpenOptions::new().write(true).open(img.path()).unwrap();
    f.set_len(len - 4096).unwrap();
    match open_err(DeviceProfile::tiny(), img.path()) {
        ImageError::Truncated { expected, found, .. } => assert_eq!((expected, found), (len, len - 4096)),
        e => panic!("expected Truncated, got {e}"),
    }
    // Cut inside the header slots: still an image (the magic is there), but truncated.
    f.set_len(100).unwrap();
    let e = open_err(DeviceProfile::tiny(), img.path());
    assert!(matches!(e, ImageError::Truncated { found: 100, .. }), "{e}");
}

fn flip(path: &Path, off: u64, n: usize) {
    let f = OpenOptions::new().read(true).write(true).open(path).unwrap();
    let mut b = vec![0u8; n];
    f.read_exact_at(&mut b, off).unwrap();
    for x in &mut b {
        *x ^= 0xA5;
    }
    f.write_all_at(&b, off).unwrap();
}

#[test]
fn both_header_slots_corrupt_is_refused() {
    let img = TempPath::new("hdr");
    small_image(img.path());
    // Past the magic and the length/crc words: the header body of each slot.
    flip(img.path(), 16, 4);
    flip(img.path(), 4096 + 16, 4);
    let e = open_err(DeviceProfile::tiny(), img.path());
    assert!(matches!(e, ImageError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("header"), "{e}");
}

/// Two generations: LBAs 0..8 version 1 (generation 1), then 0..16 version 2 (generation 2).
/// Returns (checkpoint slot base, slot size, newest generation).
fn two_generations(path: &Path) -> (u64, u64, u64) {
    let p = DeviceProfile::tiny();
    let mut ssd = Ssd::create_image(p, path).expect("create");
    let t = write(&mut ssd, SimTime::ZERO, 0, 8, 1);
    let t = ssd.flush(t).unwrap();
    let t = write(&mut ssd, t, 0, 16, 2);
    ssd.flush(t).unwrap();
    let generation = ssd.stats().checkpoints;
    assert_eq!(generation, 2, "one checkpoint per flush here");
    let base = DATA_BASE + ssd.layout().raw_bytes();
    let len = std::fs::metadata(path).unwrap().len();
    (base, (len - base) / 2, generation)
}

#[test]
fn corrupt_newest_checkpoint_is_refused_not_rolled_back() {
    let img = TempPath::new("ckpt");
    let (base, slot, newest) = two_generations(img.path());
    // The header of generation 2 is intact, so its checkpoint was complete: damage to it must
    // not silently roll the device back to generation 1.
    flip(img.path(), base + (newest % 2) * slot, 16);
    let e = open_err(DeviceProfile::tiny(), img.path());
    assert!(matches!(e, ImageError::Corrupt { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("generation 2") && msg.contains("checksum"), "{msg}");
}

#[test]
fn a_damaged_header_slot_loses_nothing_that_was_flushed() {
    // Both slots name the last completed commit, so either one damaged is answered by the
    // other: the device opens at generation 2, never rolled back to generation 1.
    for slot in 0..2u64 {
        for (at, n) in [(16, 4), (0, 8), (12, 1)] {
            let img = TempPath::new("hdr1");
            two_generations(img.path());
            flip(img.path(), slot * 4096 + at, n);
            let mut ssd = Ssd::open_image(DeviceProfile::tiny(), img.path())
                .unwrap_or_else(|e| panic!("slot {slot} damaged at {at}: {e}"));
            assert_eq!(read_version(&mut ssd, 0), Some(2), "slot {slot} at {at}");
            assert_eq!(read_version(&mut ssd, 8), Some(2), "slot {slot} at {at}");
        }
    }
}

#[test]
fn a_commit_torn_before_its_second_header_slot_falls_back_to_the_acknowledged_one() {
    // A crash after the first header slot of generation 2 was written but before the second:
    // the flush of generation 2 never returned. Slot 1 still names generation 1; if slot 0
    // is torn the device opens at generation 1, the last flush that was acknowledged.
    let img = TempPath::new("hdr-torn");
    let p = DeviceProfile::tiny();
    let mut ssd = Ssd::create_image(p, img.path()).expect("create");
    let t = write(&mut ssd, SimTime::ZERO, 0, 8, 1);
    ssd.flush(t).unwrap();
    drop(ssd);
    let mut gen1 = vec![0u8; 4096];
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(img.path())
        .unwrap();
    f.read_exact_at(&mut gen1, 4096).unwrap();
    drop(f);
    let mut ssd = Ssd::open_image(DeviceProfile::tiny(), img.path()).unwrap();
    let t = write(&mut ssd, SimTime::ZERO, 0, 16, 2);
    ssd.flush(t).unwrap();
    drop(ssd);
    let f = OpenOptions::new().write(true).open(img.path()).unwrap();
    f.write_all_at(&gen1, 4096).unwrap();
    drop(f);
    // Untorn first slot: generation 2 was written in full before the crash and wins.
    let mut ssd = Ssd::open_image(DeviceProfile::tiny(), img.path()).unwrap();
    assert_eq!(read_version(&mut ssd, 8), Some(2));
    drop(ssd);
    // Torn first slot: the acknowledged generation 1.
    flip(img.path(), 16, 4);
    let mut ssd = Ssd::open_image(DeviceProfile::tiny(), img.path()).expect("falls back to generation 1");
    assert_eq!(read_version(&mut ssd, 0), Some(1));
    assert_eq!(read_version(&mut ssd, 8), Some(0));
}

#[test]
fn geometry_mismatch_is_refused() {
    let img = TempPath::new("geom");
    small_image(img.path());
    let mut other = DeviceProfile::tiny();
    other.geometry.channels = 2;
    other.geometry.dies_per_channel = 4;
    for p in [other, DeviceProfile::pm1725()] {
        let name = p.name.clone();
        match open_err(p, img.path()) {
            ImageError::Geometry { image_profile, .. } => assert_eq!(image_profile, "tiny"),
            e => panic!("opening with {name}: expected Geometry, got {e}"),
        }
    }
    // Same geometry, other timing: accepted.
    let mut slow = DeviceProfile::tiny();
    slow.nand.read_ns *= 2;
    let mut ssd = Ssd::open_image(slow, img.path()).expect("same geometry opens");
    assert_eq!(read_version(&mut ssd, 3), Some(1));
}

#[test]
fn create_over_an_existing_path_is_refused() {
    let img = TempPath::new("exists");
    small_image(img.path());
    let foreign = TempPath::new("exists-foreign");
    std::fs::write(foreign.path(), b"keep me").unwrap();
    for path in [img.path(), foreign.path()] {
        match Ssd::create_image(DeviceProfile::tiny(), path) {
            Err(OpenError::Image(e @ ImageError::Exists { .. })) => {
                assert!(e.to_string().contains(&path.display().to_string()), "{e}")
            }
            Err(e) => panic!("expected Exists, got {e}"),
            Ok(_) => panic!("create over {} succeeded", path.display()),
        }
    }
    assert_eq!(std::fs::read(foreign.path()).unwrap(), b"keep me");
    let mut ssd = Ssd::open_image(DeviceProfile::tiny(), img.path()).expect("the image is untouched");
    assert_eq!(read_version(&mut ssd, 15), Some(1));
}

#[test]
fn a_new_image_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let img = TempPath::new("mode");
    drop(Ssd::create_image(DeviceProfile::tiny(), img.path()).expect("create"));
    let mode = std::fs::metadata(img.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "image mode {mode:o}");
}

#[test]
fn a_damaged_first_header_is_a_damaged_image_not_a_foreign_file() {
    let img = TempPath::new("magic0");
    small_image(img.path());
    // Zero slot 0's magic; slot 1 (4096 bytes in) is intact.
    let f = OpenOptions::new().write(true).open(img.path()).unwrap();
    f.write_all_at(&[0u8; 8], 0).unwrap();
    match Ssd::open_image(DeviceProfile::tiny(), img.path()) {
        Err(OpenError::Image(ImageError::Foreign { .. })) => {
            panic!("an image with a damaged first slot is not foreign")
        }
        Err(e) => assert!(!e.to_string().contains("foreign"), "{e}"),
        Ok(_) => {}
    }
}

/// Damaged images (seeded byte flips and zeroed 4 KiB blocks, mostly in written NAND data, also
/// in sector tags, checkpoints and headers; each round damages the image, checks it, then puts
/// the original bytes back): each is refused as an image, or every read of every written LBA
/// returns its exact bytes or fails with *Unrecovered Read Error*. Never a silent wrong read
/// (INVARIANT(no-silent-wrong-read)).
#[test]
fn damaged_images_never_read_wrong_bytes() {
    const LBAS: u64 = 48;
    let img = TempPath::new("damaged");
    {
        let mut ssd = Ssd::create_image(DeviceProfile::tiny(), img.path()).unwrap();
        let mut t = SimTime::ZERO;
        for lba in (0..LBAS).step_by(16) {
            t = write(&mut ssd, t, lba, 16, 3);
        }
        ssd.flush(t).unwrap();
    }
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(img.path())
        .unwrap();
    let len = f.metadata().unwrap().len();
    // The written NAND sectors: non-zero 4 KiB blocks from the data region on.
    let mut written = Vec::new();
    let mut b = vec![0u8; BLOCK];
    let mut off = DATA_BASE;
    while off + BLOCK as u64 <= len && written.len() < 4 * LBAS as usize {
        f.read_exact_at(&mut b, off).unwrap();
        if b.iter().any(|&x| x != 0) {
            written.push(off);
        }
        off += BLOCK as u64;
    }
    assert!(written.len() as u64 >= LBAS, "{} written sectors", written.len());
    let mut x = seed(0x5eed_da7a) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut refused, mut unrecovered, mut exact) = (0, 0, 0);
    for round in 0..150 {
        // (offset, original bytes) of each damage, put back after the round.
        let mut undo: Vec<(u64, Vec<u8>)> = Vec::new();
        for _ in 0..1 + next() % 3 {
            let off = if next() % 10 < 7 {
                written[(next() % written.len() as u64) as usize] + next() % BLOCK as u64
            } else {
                next() % len
            };
            let (start, n) = if next() % 4 == 0 {
                ((off - off % BLOCK as u64).min(len - BLOCK as u64), BLOCK)
            } else {
                (off, 1)
            };
            let mut orig = vec![0u8; n];
            f.read_exact_at(&mut orig, start).unwrap();
            let damaged: Vec<u8> = if n == 1 {
                vec![orig[0] ^ (1 << (next() % 8))]
            } else {
                vec![0u8; n]
            };
            f.write_all_at(&damaged, start).unwrap();
            undo.push((start, orig));
        }
        match Ssd::open_image(DeviceProfile::tiny(), img.path()) {
            Err(_) => refused += 1,
            Ok(mut ssd) => {
                for lba in 0..LBAS {
                    let mut buf = vec![0u8; BLOCK];
                    match ssd.host_read(SimTime::ZERO, Lba(lba), &mut buf) {
                        Ok(_) => {
                            let want = blocks_data(lba, 1, 3);
                            assert!(buf == want, "round {round}: LBA {lba} read wrong bytes silently");
                            exact += 1;
                        }
                        Err(e) => {
                            let status = sim_nvme::nvme::Status::from(&e);
                            assert_eq!(
                                status,
                                sim_nvme::nvme::Status::UNRECOVERED_READ_ERROR,
                                "round {round}: {e}"
                            );
                            unrecovered += 1;
                        }
                    }
                }
            }
        }
        for (start, orig) in undo.iter().rev() {
            f.write_all_at(orig, *start).unwrap();
        }
    }
    println!("{refused} damaged images refused; reads: {exact} exact, {unrecovered} unrecovered");
    assert!(
        unrecovered > 0 && exact > 0,
        "{refused} refused, {exact} exact, {unrecovered} unrecovered"
    );
}
