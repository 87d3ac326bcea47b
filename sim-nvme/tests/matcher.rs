//! The per-channel pattern matcher: its hints equal a naive windowed search of every block,
//! over random pages with planted keys (at the very first and very last bytes of a 4 KiB
//! block too), in Any and All modes, with several keys and keys that occur nowhere. A key that
//! straddles two blocks is not hinted (matching is per block, as documented). Key limits are
//! refused with `IoError::Matcher` (Invalid Field as an NVMe status), and the stats count
//! scanned and hinted blocks.

mod common;

use common::{seed, BLOCK};
use sim_nvme::{DeviceProfile, IoError, Lba, MatchMode, MatchRequest, MatcherError, SimTime, Ssd, Status};

/// The obvious reference: does `needle` occur anywhere in `hay`?
fn naive_contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn naive_hint(block: &[u8], keys: &[Vec<u8>], mode: MatchMode) -> bool {
    match mode {
        MatchMode::Any => keys.iter().any(|k| naive_contains(block, k)),
        MatchMode::All => keys.iter().all(|k| naive_contains(block, k)),
    }
}

const ALPHABET: &[u8] = b"abcdefghijklmnop";
/// Blocks written; the namespace beyond them reads as zeros.
const WRITTEN: u64 = 256;

/// A device holding `WRITTEN` blocks of random text over a 16-letter alphabet, with the keys
/// `pool` planted at random (often at offset 0 or at the last bytes of a block), and the
/// blocks' contents. Written in 1..=8-block commands so that pages mix blocks.
fn device(rng: &mut fastrand::Rng, pool: &[Vec<u8>]) -> (Ssd, Vec<Vec<u8>>) {
    let mut ssd = Ssd::in_memory(DeviceProfile::tiny()).unwrap();
    let mut blocks = Vec::new();
    for _ in 0..WRITTEN {
        let mut b: Vec<u8> = (0..BLOCK)
            .map(|_| ALPHABET[rng.usize(..ALPHABET.len())])
            .collect();
        for _ in 0..rng.usize(0..=3) {
            let k = &pool[rng.usize(..pool.len())];
            let at = match rng.u8(0..4) {
                0 => 0,
                1 => BLOCK - k.len(),
                _ => rng.usize(0..=BLOCK - k.len()),
            };
            b[at..at + k.len()].copy_from_slice(k);
        }
        blocks.push(b);
    }
    let mut t = SimTime::ZERO;
    let mut lba = 0;
    while lba < WRITTEN {
        let n = rng.u64(1..=8).min(WRITTEN - lba);
        let data = blocks[lba as usize..(lba + n) as usize].concat();
        t = ssd.host_write(t, Lba(lba), &data).unwrap();
        lba += n;
    }
    (ssd, blocks)
}

#[test]
fn hints_equal_a_naive_scan() {
    let s = seed(0x3A7C_0001);
    let mut rng = fastrand::Rng::with_seed(s);
    let max_len = DeviceProfile::tiny().matcher.max_key_bytes as usize;
    // Planted keys: short ones also occur by chance in random text, long ones only where
    // planted; one uses a byte outside the alphabet; one is as long as the matcher allows.
    let mut pool: Vec<Vec<u8>> = vec![b"abc".to_vec(), b"mnop".to_vec(), b"key!".to_vec()];
    pool.push((0..max_len).map(|i| ALPHABET[i % ALPHABET.len()]).rev().collect());
    for _ in 0..4 {
        let len = rng.usize(2..=8);
        pool.push((0..len).map(|_| ALPHABET[rng.usize(..ALPHABET.len())]).collect());
    }
    let (mut ssd, blocks) = device(&mut rng, &pool);
    let absent = b"ZZZ".to_vec();
    let zeros = vec![0u8; BLOCK];
    let cap = ssd.capacity_lbas();
    let mut t = ssd.hardware().horizon();
    let (mut scanned, mut hinted, mut any_hint, mut any_miss) = (0, 0, 0, 0);
    for round in 0..60 {
        let nkeys = rng.usize(1..=3);
        let mut keys: Vec<Vec<u8>> = (0..nkeys)
            .map(|_| pool[rng.usize(..pool.len())].clone())
            .collect();
        if round % 7 == 0 {
            keys[0] = absent.clone();
        }
        let mode = if rng.bool() {
            MatchMode::Any
        } else {
            MatchMode::All
        };
        // Ranges start anywhere (mid-page too); some run past the written blocks into zeros.
        let start = rng.u64(0..WRITTEN);
        let count = rng.u64(1..=(WRITTEN + 16 - start));
        let req = MatchRequest {
            keys: keys.clone(),
            mode,
            start: Lba(start),
            count,
        };
        let (hints, done) = ssd
            .match_scan(t, &req)
            .unwrap_or_else(|e| panic!("seed {s:#x}: {e}"));
        assert!(done > t);
        t = done;
        assert_eq!(hints.hints.len() as u64, count);
        for (i, &h) in hints.hints.iter().enumerate() {
            let lba = start + i as u64;
            let block = blocks.get(lba as usize).unwrap_or(&zeros);
            let want = naive_hint(block, &keys, mode);
            assert_eq!(
                h, want,
                "seed {s:#x}, round {round}: LBA {lba}, keys {keys:?}, {mode:?}"
            );
            if h {
                any_hint += 1
            } else {
                any_miss += 1
            }
        }
        assert_eq!(hints.hinted().count() as u64, hints.count());
        scanned += count;
        hinted += hints.count();
        assert!(start + count <= cap);
    }
    let st = ssd.stats();
    assert_eq!(
        (st.matcher_pages_scanned, st.matcher_pages_hinted),
        (scanned, hinted),
        "seed {s:#x}"
    );
    assert!(
        any_hint > 0 && any_miss > 0,
        "seed {s:#x}: the rounds should see both outcomes"
    );
    assert_eq!(st.pcie_bytes_to_host, 0, "matcher scans move no data over PCIe");
}

/// One block per case, the rest of the block random text without the key.
#[test]
fn keys_at_block_edges_and_straddling_blocks() {
    let s = seed(0x3A7C_0002);
    let mut rng = fastrand::Rng::with_seed(s);
    let key = b"EDGE-KEY".to_vec();
    let mut filler = || -> Vec<u8> {
        (0..BLOCK)
            .map(|_| ALPHABET[rng.usize(..ALPHABET.len())])
            .collect()
    };
    let mut blocks = Vec::new();
    // 0: key in the very first bytes; 1: in the very last bytes; 2: nowhere.
    let mut b = filler();
    b[..key.len()].copy_from_slice(&key);
    blocks.push(b);
    let mut b = filler();
    b[BLOCK - key.len()..].copy_from_slice(&key);
    blocks.push(b);
    blocks.push(filler());
    // 3 and 4: the key straddles them, 3 bytes at the end of 3 and 5 at the start of 4.
    let (mut b3, mut b4) = (filler(), filler());
    b3[BLOCK - 3..].copy_from_slice(&key[..3]);
    b4[..5].copy_from_slice(&key[3..]);
    blocks.push(b3);
    blocks.push(b4);
    // 5: everything except the last byte of the key, at the end.
    let mut b = filler();
    b[BLOCK - key.len() + 1..].copy_from_slice(&key[..key.len() - 1]);
    blocks.push(b);
    // 6..8: a page-aligned run with the key at the last bytes of a page's last block.
    let mut b = filler();
    b[BLOCK - key.len()..].copy_from_slice(&key);
    blocks.push(b);
    blocks.push(filler());
    let mut ssd = Ssd::in_memory(DeviceProfile::tiny()).unwrap();
    ssd.host_write(SimTime::ZERO, Lba(0), &blocks.concat()).unwrap();
    let req = MatchRequest {
        keys: vec![key.clone()],
        mode: MatchMode::Any,
        start: Lba(0),
        count: 8,
    };
    let (hints, _) = ssd.match_scan(ssd.hardware().horizon(), &req).unwrap();
    // The straddling key (blocks 3 and 4) is not hinted: matching is within one block; a
    // caller that must find keys across block edges scans with overlap in software.
    assert_eq!(
        hints.hints,
        vec![true, true, false, false, false, false, true, false],
        "seed {s:#x}"
    );
    for (i, b) in blocks.iter().enumerate() {
        assert_eq!(hints.hints[i], naive_contains(b, &key), "seed {s:#x}: block {i}");
    }
    assert!(
        naive_contains(&blocks[3..5].concat(), &key),
        "the key does straddle blocks 3 and 4"
    );
    // All: both keys in one block.
    let req = MatchRequest {
        keys: vec![key.clone(), blocks[0][100..104].to_vec()],
        mode: MatchMode::All,
        start: Lba(0),
        count: 2,
    };
    let (hints, _) = ssd.match_scan(ssd.hardware().horizon(), &req).unwrap();
    assert!(hints.hints[0], "seed {s:#x}: both keys are in block 0");
    assert_eq!(
        hints.hints[1],
        naive_contains(&blocks[1], &blocks[0][100..104]),
        "seed {s:#x}"
    );
}

#[test]
fn scan_timing_is_one_page_read_and_transfer() {
    let p = DeviceProfile::tiny();
    let mut ssd = Ssd::in_memory(p.clone()).unwrap();
    let spp = u64::from(p.sectors_per_page());
    ssd.host_write(SimTime::ZERO, Lba(0), &vec![b'x'; spp as usize * BLOCK])
        .unwrap();
    let at = ssd.hardware().horizon();
    let req = MatchRequest {
        keys: vec![b"xx".to_vec()],
        mode: MatchMode::Any,
        start: Lba(0),
        count: spp,
    };
    let (hints, done) = ssd.match_scan(at, &req).unwrap();
    assert_eq!(hints.count(), spp);
    let expected = p.controller.firmware_ns
        + p.nand.read_ns
        + p.channel_time(u64::from(p.geometry.page_bytes)).as_nanos()
        + p.matcher.ns_per_page;
    assert_eq!(
        (done - at).as_nanos(),
        expected,
        "one tR and one page over the channel"
    );
    assert_eq!(ssd.stats().nand_pages_read, 1);
    // Never-written blocks cost no NAND time and are matched as zeros.
    let at = ssd.hardware().horizon();
    let req = MatchRequest {
        keys: vec![vec![0, 0]],
        mode: MatchMode::Any,
        start: Lba(1000),
        count: 10,
    };
    let (hints, done) = ssd.match_scan(at, &req).unwrap();
    assert_eq!(hints.count(), 10);
    assert_eq!((done - at).as_nanos(), p.controller.firmware_ns);
}

#[test]
fn matcher_limits_are_refused() {
    let p = DeviceProfile::tiny();
    let max_keys = p.matcher.max_keys as usize;
    let max_len = p.matcher.max_key_bytes as usize;
    let mut ssd = Ssd::in_memory(p).unwrap();
    ssd.host_write(SimTime::ZERO, Lba(0), &vec![b'k'; BLOCK]).unwrap();
    let req = |keys: Vec<Vec<u8>>| MatchRequest {
        keys,
        mode: MatchMode::All,
        start: Lba(0),
        count: 4,
    };
    let cases: Vec<(Vec<Vec<u8>>, MatcherError)> = vec![
        (vec![], MatcherError::NoKeys { max: max_keys as u32 }),
        (
            vec![b"k".to_vec(); max_keys + 1],
            MatcherError::TooManyKeys {
                given: max_keys + 1,
                max: max_keys as u32,
            },
        ),
        (
            vec![b"k".to_vec(), vec![b'k'; max_len + 1]],
            MatcherError::KeyLength {
                index: 1,
                len: max_len + 1,
                max: max_len as u32,
            },
        ),
        (
            vec![vec![]],
            MatcherError::KeyLength {
                index: 0,
                len: 0,
                max: max_len as u32,
            },
        ),
    ];
    for (keys, want) in cases {
        match ssd.match_scan(SimTime::ZERO, &req(keys.clone())) {
            Err(e @ IoError::Matcher(_)) => {
                assert!(matches!(&e, IoError::Matcher(m) if *m == want), "{keys:?}: {e}");
                assert_eq!(Status::from(&e), Status::INVALID_FIELD, "{e}");
            }
            other => panic!(
                "{keys:?}: expected a matcher error, got {:?}",
                other.map(|(h, _)| h)
            ),
        }
    }
    // Out of range is an LBA error, and the limits themselves are accepted.
    let cap = ssd.capacity_lbas();
    let mut r = req(vec![b"k".to_vec()]);
    r.start = Lba(cap - 1);
    r.count = 2;
    assert!(matches!(
        ssd.match_scan(SimTime::ZERO, &r),
        Err(IoError::LbaOutOfRange { .. })
    ));
    let st = ssd.stats();
    assert_eq!(
        (st.matcher_pages_scanned, st.matcher_pages_hinted),
        (0, 0),
        "refused scans count nothing"
    );
    let (hints, _) = ssd
        .match_scan(SimTime::ZERO, &req(vec![vec![b'k'; max_len]; max_keys]))
        .unwrap();
    assert_eq!(hints.hints, vec![true, false, false, false]);
    assert_eq!(ssd.stats().matcher_pages_scanned, 4);
    assert_eq!(ssd.stats().matcher_pages_hinted, 1);
}

/// A scan long enough to be matched on several threads (`sim_nvme::PARALLEL_MIN_BLOCKS` and
/// more, in memory) gives the naive hints, in block order, and the same hints and completion
/// time as the same blocks on an image file (matched one by one as they are read).
#[test]
fn a_long_scan_in_memory_equals_the_same_scan_on_an_image() {
    let s = seed(0x3A7C_0003);
    let mut rng = fastrand::Rng::with_seed(s);
    let keys = vec![b"kilo".to_vec(), b"ponm".to_vec()];
    let n = 3 * sim_nvme::PARALLEL_MIN_BLOCKS as u64 + 5;
    let blocks: Vec<Vec<u8>> = (0..n)
        .map(|_| {
            let mut b: Vec<u8> = (0..BLOCK).map(|_| ALPHABET[rng.usize(..4)]).collect();
            for k in &keys {
                if rng.u8(0..4) == 0 {
                    let at = rng.usize(0..=BLOCK - k.len());
                    b[at..at + k.len()].copy_from_slice(k);
                }
            }
            b
        })
        .collect();
    let img = common::TempPath::new("long-scan");
    let mut devices = [
        Ssd::in_memory(DeviceProfile::tiny()).unwrap(),
        Ssd::create_image(DeviceProfile::tiny(), img.path()).unwrap(),
    ];
    let mut results = Vec::new();
    for ssd in &mut devices {
        let mut t = SimTime::ZERO;
        for (i, chunk) in blocks.chunks(32).enumerate() {
            t = ssd.host_write(t, Lba(i as u64 * 32), &chunk.concat()).unwrap();
        }
        for mode in [MatchMode::Any, MatchMode::All] {
            let req = MatchRequest {
                keys: keys.clone(),
                mode,
                start: Lba(0),
                count: n + 3,
            };
            results.push(ssd.match_scan(t, &req).unwrap());
        }
    }
    let zeros = vec![0u8; BLOCK];
    for (r, mode) in results[..2].iter().zip([MatchMode::Any, MatchMode::All]) {
        let want: Vec<bool> = (0..n + 3)
            .map(|i| naive_hint(blocks.get(i as usize).unwrap_or(&zeros), &keys, mode))
            .collect();
        assert_eq!(r.0.hints, want, "seed {s:#x}: {mode:?}");
        assert!(want.iter().any(|&h| h) && !want.iter().all(|&h| h));
    }
    assert_eq!(results[..2], results[2..], "seed {s:#x}: memory and image differ");
}

/// A scan that meets an unreadable block on an image stops there: it fails with the read's
/// error, and it has timed only the NAND pages up to that block (blocks are timed, then read and
/// matched, in turn), not the whole range.
#[test]
fn a_scan_stops_timing_at_an_unreadable_block() {
    use std::os::unix::fs::FileExt;
    const LBAS: u64 = 64;
    let img = common::TempPath::new("unreadable");
    {
        let mut ssd = Ssd::create_image(DeviceProfile::tiny(), img.path()).unwrap();
        let mut t = SimTime::ZERO;
        for lba in (0..LBAS).step_by(16) {
            t = ssd
                .host_write(t, Lba(lba), &common::blocks_data(lba, 16, 1))
                .unwrap();
        }
        ssd.flush(t).unwrap();
    }
    let req = MatchRequest {
        keys: vec![b"zz".to_vec()],
        mode: MatchMode::Any,
        start: Lba(0),
        count: LBAS,
    };
    let pages_read = |ssd: &mut Ssd| -> (Result<(), IoError>, u64) {
        let before = ssd.stats().nand_pages_read;
        let r = ssd.match_scan(SimTime::ZERO, &req).map(|_| ());
        (r, ssd.stats().nand_pages_read - before)
    };
    let (whole, all_pages) = pages_read(&mut Ssd::open_image(DeviceProfile::tiny(), img.path()).unwrap());
    whole.unwrap();
    // Zero the first NAND sector written (its tag no longer matches: unreadable).
    let f = std::fs::OpenOptions::new().write(true).open(img.path()).unwrap();
    f.write_all_at(&vec![0u8; BLOCK], common::DATA_BASE).unwrap();
    drop(f);
    let (failed, pages) = pages_read(&mut Ssd::open_image(DeviceProfile::tiny(), img.path()).unwrap());
    let err = failed.unwrap_err();
    assert_eq!(Status::from(&err), Status::UNRECOVERED_READ_ERROR, "{err}");
    assert!(
        pages >= 1 && pages < all_pages,
        "the failed scan timed {pages} NAND pages; the whole range is {all_pages}"
    );
}
