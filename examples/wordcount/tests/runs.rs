//! The wordcount end to end through the host API, on `tiny` and on `pm1725`: the NDP counts
//! (every plan of 1 or 2 mappers and reducers) and the conventional counts equal a plain
//! `HashMap` count (`ndp_data::baseline`), wherever the mappers' halfway cut falls. Seeds are
//! fixed and printed. SSDlet compute is modeled (deterministic).

use app_support::baseline;
use app_support::gen::text::{generate_vec, TextSpec};
use app_support::setup::Env;
use host_sdk::{DeviceProfile, Module};
use wordcount::conv;
use wordcount::ndp::{self, WordcountPlan};

fn env(profile: DeviceProfile) -> (Env, Module) {
    let e = app_support::testing::env(profile);
    let m = e.load(wordcount::MODULE).expect("ssdlet-wordcount loads");
    (e, m)
}

fn profiles() -> [DeviceProfile; 2] {
    [DeviceProfile::tiny(), DeviceProfile::pm1725()]
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
        let (e, m) = env(profile);
        e.device.put_bytes("t", &text).unwrap();
        for (mappers, reducers) in [(1, 1), (1, 2), (2, 1), (2, 2)] {
            let plan = WordcountPlan { mappers, reducers };
            let run = ndp::word_count(&e.device, &m, "t", plan).unwrap();
            assert_eq!(run.result, want, "{name} {plan:?}");
            assert!(run.nand_pages >= text.len() as u64 / e.page_bytes(), "{run:?}");
            assert!(
                run.pcie_bytes < text.len() as u64 / 2,
                "{name}: {}",
                run.pcie_bytes
            );
        }
        let c = conv::word_count(&e.device, "t", e.page_bytes(), e.host("wordcount").unwrap()).unwrap();
        assert_eq!(c.result, want, "{name}");
        assert_eq!(c.pcie_bytes, text.len().div_ceil(4096) as u64 * 4096);
    }
}

#[test]
fn wordcount_mapper_ranges_split_anywhere() {
    // Cuts inside words, on spaces, on newlines: every word is counted once.
    let text = b"alpha beta\ngamma  delta\n\nepsilon alpha\nlast-line-no-newline alpha".to_vec();
    let base = baseline::word_count(&text);
    let (e, m) = env(DeviceProfile::tiny());
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
        let run = ndp::word_count(&e.device, &m, &name, WordcountPlan::default()).unwrap();
        assert_eq!(run.result, want, "pad {pad}");
        assert_eq!(
            conv::word_count(&e.device, &name, 16384, e.host("wordcount").unwrap())
                .unwrap()
                .result,
            want
        );
    }
}
