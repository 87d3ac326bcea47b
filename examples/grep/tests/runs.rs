//! The string search end to end through the host API, on `tiny` and on `pm1725`: the NDP and
//! conventional lines are identical and equal a plain line scan (`ndp_data::baseline`),
//! including the page-boundary and file-edge cases. Seeds are fixed and printed. SSDlet compute
//! is modeled (deterministic).

use app_support::baseline;
use app_support::gen::graph::PAGE;
use app_support::gen::text::{generate_vec, TextSpec};
use app_support::setup::Env;
use grep::{conv, ndp, LineHit};
use host_sdk::{DeviceProfile, Module};

fn env(profile: DeviceProfile) -> (Env, Module) {
    let e = app_support::testing::env(profile);
    let m = e.load(grep::MODULE).expect("ssdlet-grep loads");
    (e, m)
}

fn profiles() -> [DeviceProfile; 2] {
    [DeviceProfile::tiny(), DeviceProfile::pm1725()]
}

fn owned(v: Vec<(u64, &[u8])>) -> Vec<LineHit> {
    v.into_iter().map(|(o, l)| (o, l.to_vec())).collect()
}

/// Text of `len` bytes of filler lines with the pattern planted at chosen offsets.
fn planted(len: usize, pattern: &[u8], at: &[usize]) -> Vec<u8> {
    let mut text: Vec<u8> = b"lorem ipsum dolor sit amet consectetur\n"
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect();
    for &a in at {
        text[a..a + pattern.len()].copy_from_slice(pattern);
    }
    text
}

fn grep_all_ways(e: &Env, m: &Module, text: &[u8], pattern: &str) -> Vec<LineHit> {
    let want = owned(baseline::grep_offsets(text, pattern.as_bytes()));
    e.device.put_bytes("g", text).unwrap();
    let run = ndp::grep(&e.device, m, "g", pattern).unwrap();
    assert_eq!(run.result, want, "NDP grep for {pattern:?}");
    let c = conv::grep(
        &e.device,
        "g",
        pattern.as_bytes(),
        e.page_bytes(),
        e.host("grep").unwrap(),
    )
    .unwrap();
    assert_eq!(c.result, want, "conventional grep for {pattern:?}");
    e.device.remove_file("g").unwrap();
    want
}

// INVARIANT(grep-no-lost-match): every split of the key across a page boundary
#[test]
fn grep_finds_lines_across_page_boundaries_and_at_the_file_edges() {
    let (e, m) = env(DeviceProfile::tiny());
    let pat = "Q7#needle#7Q"; // 12 bytes, within the key limit: halves "Q7#nee" / "dle#7Q"
    let n = pat.len();
    let len = 12 * PAGE;
    // At the very start, at the very end, and across boundaries `b` = 1..=11 with `b` bytes
    // of the pattern before the boundary (every split of the key).
    let mut at = vec![0, len - n];
    at.extend((1..n).map(|b| b * PAGE - b));
    let text = planted(len, pat.as_bytes(), &at);
    let hits = grep_all_ways(&e, &m, &text, pat);
    assert_eq!(hits.len(), at.len(), "each plant on its own line");
    assert_eq!(hits[0].0, 0);

    // A pattern longer than the matcher's key (16 bytes on `tiny`), straddling a boundary.
    let long = "ZZ-this-pattern-is-longer-than-a-key-ZZ";
    let text = planted(6 * PAGE, long.as_bytes(), &[3 * PAGE - 20, 5 * PAGE - 3]);
    assert_eq!(grep_all_ways(&e, &m, &text, long).len(), 2);

    // A one-byte pattern, a pattern in a line that spans several pages, and no match at all.
    let mut text = planted(8 * PAGE, b"%", &[100, 4 * PAGE + 5]);
    text[2 * PAGE..5 * PAGE].iter_mut().for_each(|b| {
        if *b == b'\n' {
            *b = b' ';
        }
    });
    assert_eq!(grep_all_ways(&e, &m, &text, "%").len(), 2);
    assert!(grep_all_ways(&e, &m, &text, "absent-pattern").is_empty());
}

#[test]
fn grep_on_generated_text_reads_only_hinted_pages() {
    let seed = 6002;
    println!("seed {seed}");
    let spec = TextSpec {
        vocabulary: 3000,
        ..TextSpec::new(64 * PAGE as u64, seed)
    };
    let mut text = generate_vec(&spec);
    let pat = "XYZZY-42";
    for a in [5000, 30 * PAGE - 4, 63 * PAGE] {
        text[a..a + pat.len()].copy_from_slice(pat.as_bytes());
    }
    for profile in profiles() {
        let (e, m) = env(profile);
        e.device.put_bytes("gen", &text).unwrap();
        let run = ndp::grep(&e.device, &m, "gen", pat).unwrap();
        assert_eq!(run.result, owned(baseline::grep_offsets(&text, pat.as_bytes())));
        assert_eq!(run.result.len(), 3);
        let report = run.report.expect("an NDP run has a report");
        assert_eq!(report.matcher_pages_scanned, 64);
        assert!(report.matcher_pages_hinted <= 6, "{report:?}");
        // Common words: the halves of the key are everywhere, every line containing it is found.
        let space = text.iter().position(|&b| b == b' ').unwrap();
        let word = String::from_utf8(text[..space].to_vec()).unwrap();
        grep_all_ways(&e, &m, &text, &word);
    }
}

#[test]
fn grep_refuses_an_empty_pattern() {
    let (e, m) = env(DeviceProfile::tiny());
    e.device.put_bytes("abc", b"abc\n").unwrap();
    let err = ndp::grep(&e.device, &m, "abc", "").unwrap_err();
    assert!(err.to_string().contains("the pattern is empty"), "{err}");
}
