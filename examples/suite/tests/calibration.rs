//! The shipped calibration (`examples/app-support/calibration.toml`) covers the release build
//! of every SSDlet the suite runs: a module whose code changed must be recalibrated
//! (`cargo run --release -p suite -- calibrate`), or its figures would silently fall back to
//! another build's costs. Release module builds are reproducible (no debug info), so the
//! digests match on any checkout of the same sources with the same toolchain.

use app_support::calibration::Calibration;
use device_runtime::compute::ModuleDigest;
use device_runtime::loader::inspect;
use ssdlet_module_build::{build, Profile};

#[test]
fn the_shipped_calibration_covers_every_release_ssdlet() {
    let modules = build(Profile::Release).expect("the release modules build");
    let cal = Calibration::shipped();
    assert!(!cal.ssdlets.is_empty() && !cal.reference_core.is_empty());
    for krate in ["ssdlet-wordcount", "ssdlet-grep", "ssdlet-pointer-chase"] {
        let path = modules.path(krate);
        let bytes = std::fs::read(&path).unwrap();
        let digest = ModuleDigest::of(&bytes).to_string();
        let name = inspect(&path).unwrap().meta.name;
        let entries: Vec<_> = cal.ssdlets.iter().filter(|e| e.module == name).collect();
        assert!(!entries.is_empty(), "no calibrated SSDlet of module {name}");
        for e in entries {
            assert_eq!(
                e.digest, digest,
                "the shipped calibration of {name}.{} is for another build than {krate}'s \
                 release build: run `cargo run --release -p suite -- calibrate`",
                e.ssdlet
            );
        }
    }
    for w in ["wordcount", "grep", "pointer-chase", "filter-scan"] {
        assert!(
            cal.host.get(w).is_some_and(|h| h.ps_per_unit > 0),
            "host cost of {w}"
        );
    }
}
