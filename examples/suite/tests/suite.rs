//! The suite end to end through the host API, on `tiny` and on `pm1725`: NDP and
//! conventional outputs are identical and equal the independent baselines (wordcount vs a
//! plain `HashMap` count, pointer paths vs an in-memory walk, grep vs a plain line scan),
//! including grep's page-boundary and file-edge cases. Seeds are fixed and printed. SSDlet
//! compute is modeled (deterministic).

use host_sdk::{DeviceProfile, RuntimeConfig};
use ndp_examples::gen::graph::{start_nodes, Graph, GraphSpec, PAGE};
use ndp_examples::gen::text::{generate_vec, TextSpec};
use ndp_examples::ndp::{self, WordcountPlan};
use ndp_examples::setup::Env;
use ndp_examples::{baseline, conv, LineHit};
use ssdlet_module_build::{build, Profile};

fn env(profile: DeviceProfile) -> Env {
    let modules = match build(Profile::Debug) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    Env::with_modules(profile, RuntimeConfig::default(), modules).expect("device with the modules")
}

fn profiles() -> [DeviceProfile; 2] {
    [DeviceProfile::tiny(), DeviceProfile::pm1725()]
}

fn owned(v: Vec<(u64, &[u8])>) -> Vec<LineHit> {
    v.into_iter().map(|(o, l)| (o, l.to_vec())).collect()
}

#[test]
fn wordcount_equals_a_plain_count_for_every_plan() {
    let seed = 6001;
    println!("seed {seed}");
    let spec = TextSpec {
        vocabulary: 3000,
        ..TextSpec::new(400_000, seed)
    };
    let text = generate_vec(&spec);
    let want = baseline::word_count(&text);
    for profile in profiles() {
        let name = profile.name.clone();
        let e = env(profile);
        e.device.put_bytes("t", &text).unwrap();
        for (mappers, reducers) in [(1, 1), (1, 2), (2, 1), (2, 2)] {
            let plan = WordcountPlan { mappers, reducers };
            let run = ndp::word_count(&e.device, &e.wordcount, "t", plan).unwrap();
            assert_eq!(run.result, want, "{name} {plan:?}");
            assert!(run.nand_pages >= text.len() as u64 / e.page_bytes(), "{run:?}");
            assert!(
                run.pcie_bytes < text.len() as u64 / 2,
                "{name}: {}",
                run.pcie_bytes
            );
        }
        let c = conv::word_count(&e.device, "t", e.page_bytes()).unwrap();
        assert_eq!(c.result, want, "{name}");
        assert_eq!(c.pcie_bytes, text.len().div_ceil(4096) as u64 * 4096);
    }
}

#[test]
fn wordcount_mapper_ranges_split_anywhere() {
    // Cuts inside words, on spaces, on newlines: every word is counted once.
    let text = b"alpha beta\ngamma  delta\n\nepsilon alpha\nlast-line-no-newline alpha".to_vec();
    let base = baseline::word_count(&text);
    let e = env(DeviceProfile::tiny());
    for pad in 0..12 {
        // Shift the halfway cut over every kind of byte.
        let mut t = vec![b'x'; pad];
        t.push(b'\n');
        t.extend_from_slice(&text);
        let mut want = base.clone();
        if pad > 0 {
            *want.entry("x".repeat(pad)).or_insert(0) += 1;
        }
        let name = format!("pad{pad}");
        e.device.put_bytes(&name, &t).unwrap();
        let run = ndp::word_count(&e.device, &e.wordcount, &name, WordcountPlan::default()).unwrap();
        assert_eq!(run.result, want, "pad {pad}");
        assert_eq!(conv::word_count(&e.device, &name, 16384).unwrap().result, want);
    }
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

fn grep_all_ways(e: &Env, text: &[u8], pattern: &str) -> Vec<LineHit> {
    let want = owned(baseline::grep_offsets(text, pattern.as_bytes()));
    e.device.put_bytes("g", text).unwrap();
    let run = ndp::grep(&e.device, &e.grep, "g", pattern).unwrap();
    assert_eq!(run.result, want, "NDP grep for {pattern:?}");
    let c = conv::grep(&e.device, "g", pattern.as_bytes(), e.page_bytes()).unwrap();
    assert_eq!(c.result, want, "conventional grep for {pattern:?}");
    e.device.remove_file("g").unwrap();
    want
}

#[test]
fn grep_finds_lines_across_page_boundaries_and_at_the_file_edges() {
    let e = env(DeviceProfile::tiny());
    let pat = "Q7#needle#7Q"; // 12 bytes, within the key limit: halves "Q7#nee" / "dle#7Q"
    let n = pat.len();
    let len = 12 * PAGE;
    // At the very start, at the very end, and across boundaries `b` = 1..=11 with `b` bytes
    // of the pattern before the boundary (every split of the key).
    let mut at = vec![0, len - n];
    at.extend((1..n).map(|b| b * PAGE - b));
    let text = planted(len, pat.as_bytes(), &at);
    let hits = grep_all_ways(&e, &text, pat);
    assert_eq!(hits.len(), at.len(), "each plant on its own line");
    assert_eq!(hits[0].0, 0);

    // A pattern longer than the matcher's key (16 bytes on `tiny`), straddling a boundary.
    let long = "ZZ-this-pattern-is-longer-than-a-key-ZZ";
    let text = planted(6 * PAGE, long.as_bytes(), &[3 * PAGE - 20, 5 * PAGE - 3]);
    assert_eq!(grep_all_ways(&e, &text, long).len(), 2);

    // A one-byte pattern, a pattern in a line that spans several pages, and no match at all.
    let mut text = planted(8 * PAGE, b"%", &[100, 4 * PAGE + 5]);
    text[2 * PAGE..5 * PAGE].iter_mut().for_each(|b| {
        if *b == b'\n' {
            *b = b' ';
        }
    });
    assert_eq!(grep_all_ways(&e, &text, "%").len(), 2);
    assert!(grep_all_ways(&e, &text, "absent-pattern").is_empty());
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
        let e = env(profile);
        e.device.put_bytes("gen", &text).unwrap();
        let run = ndp::grep(&e.device, &e.grep, "gen", pat).unwrap();
        assert_eq!(run.result, owned(baseline::grep_offsets(&text, pat.as_bytes())));
        assert_eq!(run.result.len(), 3);
        let report = run.report.expect("an NDP run has a report");
        assert_eq!(report.matcher_pages_scanned, 64);
        assert!(report.matcher_pages_hinted <= 6, "{report:?}");
        // Common words: the halves of the key are everywhere, every line containing it is found.
        let space = text.iter().position(|&b| b == b' ').unwrap();
        let word = String::from_utf8(text[..space].to_vec()).unwrap();
        grep_all_ways(&e, &text, &word);
    }
}

#[test]
fn grep_refuses_an_empty_pattern() {
    let e = env(DeviceProfile::tiny());
    e.device.put_bytes("abc", b"abc\n").unwrap();
    let err = ndp::grep(&e.device, &e.grep, "abc", "").unwrap_err();
    assert!(err.to_string().contains("the pattern is empty"), "{err}");
}

fn graph_bytes(g: &Graph) -> Vec<u8> {
    let mut out = Vec::with_capacity(g.nodes() as usize * PAGE);
    for node in 0..g.nodes() {
        out.extend_from_slice(&g.page(node));
    }
    out
}

#[test]
fn pointer_paths_equal_an_in_memory_walk() {
    let seed = 6003;
    println!("seed {seed}");
    let g = Graph::new(GraphSpec::with_bytes(2000 * PAGE as u64, seed)).unwrap();
    let bytes = graph_bytes(&g);
    let starts = start_nodes(g.nodes(), 10, seed);
    let hops = 20;
    let want: Vec<Vec<u64>> = starts
        .iter()
        .map(|&s| baseline::walk(&g, s, hops).unwrap())
        .collect();
    for profile in profiles() {
        let e = env(profile);
        e.device.put_bytes("graph", &bytes).unwrap();
        let run = ndp::pointer_chase(&e.device, &e.chase, "graph", &starts, hops).unwrap();
        assert_eq!(run.result, want);
        assert_eq!(run.nand_pages, 10 * 20);
        let c = conv::pointer_chase(&e.device, "graph", &starts, hops).unwrap();
        assert_eq!(c.result, want);
        assert_eq!(c.pcie_bytes, 10 * 20 * PAGE as u64);
        assert!(run.pcie_bytes < c.pcie_bytes / 10);
    }
}

#[test]
fn pointer_chase_rejects_a_start_outside_the_graph() {
    let g = Graph::new(GraphSpec::with_bytes(16 * PAGE as u64, 1)).unwrap();
    let e = env(DeviceProfile::tiny());
    e.device.put_bytes("small", &graph_bytes(&g)).unwrap();
    let err = ndp::pointer_chase(&e.device, &e.chase, "small", &[99], 3).unwrap_err();
    assert!(err.to_string().contains("outside the graph of 16 nodes"), "{err}");
    let err = conv::pointer_chase(&e.device, "small", &[99], 3).unwrap_err();
    assert!(err.to_string().contains("small"), "{err}");
}
