//! The modeled compute: each SSDlet is charged its counted work at the costs the cost table
//! gives its exact module build (or another build of the same module, or the generic costs),
//! and the report says which; the same run gives the same figures, bit for bit.

mod common;

use std::sync::Arc;

use device_runtime::compute::{
    CalibratedSsdlet, ComputeModel, CostModel, CostSource, CostTable, UnitCosts, WorkCounts,
};
use device_runtime::loader::LoadedModule;
use device_runtime::runtime::{AppConfig, ArgValue, RunReport, Runtime, RuntimeConfig};
use sim_nvme::DeviceProfile;

fn testkit() -> LoadedModule {
    common::loader()
        .load(&common::modules().testkit())
        .expect("testkit loads")
}

/// `words` over a file, to the host, under `table`'s costs.
fn words(m: &LoadedModule, table: CostTable) -> RunReport {
    let profile = DeviceProfile::tiny();
    let config = RuntimeConfig {
        // No slowdown given: the runtime takes the profile's (tiny: 10, pm1725: 20).
        compute: ComputeModel::Modeled(CostModel {
            table: Arc::new(table),
            slowdown: None,
        }),
        ..RuntimeConfig::default()
    };
    let mut rt = Runtime::in_memory(profile, config).unwrap();
    let text = "the quick brown fox jumps over the lazy dog\n".repeat(500);
    let f = rt.create_file("text", text.as_bytes()).unwrap();
    let app = rt.create_app("words", AppConfig::default());
    let w = rt
        .spawn(app, &m.ssdlet("words").unwrap(), &[ArgValue::File(f)])
        .unwrap();
    let _out = rt.host_receiver(w, "words").unwrap();
    rt.start(app).unwrap();
    rt.wait(app).unwrap()
}

fn entry(m: &LoadedModule, digest: String, costs: UnitCosts) -> CalibratedSsdlet {
    CalibratedSsdlet {
        module: m.meta().name.clone(),
        ssdlet: "words".into(),
        digest,
        costs,
        derivation: "test".into(),
    }
}

#[test]
fn each_build_is_charged_its_own_costs_and_the_report_says_which() {
    let m = testkit();
    let generic = words(&m, CostTable::default());
    let s = &generic.ssdlets[0];
    assert_eq!((s.ssdlet.as_str(), s.costs), ("words", CostSource::Generic));
    assert_eq!(s.digest, m.digest().to_string());
    assert!(
        s.work.bytes_read > 0 && s.work.calls > 0 && s.work.messages > 0,
        "{:?}",
        s.work
    );
    // The generic costs, counted work times the profile's slowdown, are what the clock was
    // charged.
    let slowdown = DeviceProfile::tiny().arm.arm_slowdown;
    let want = UnitCosts::GENERIC.scaled(slowdown).of(&s.work) / 1000;
    assert!(
        s.compute.0.abs_diff(want as u64) <= 1,
        "{} vs {want}",
        s.compute.0
    );

    // Ten times the generic costs for this exact build: ten times the compute.
    let ten = UnitCosts::GENERIC.scaled(10.0);
    let exact = words(
        &m,
        CostTable {
            reference_core: "test".into(),
            ssdlets: vec![entry(&m, m.digest().to_string(), ten)],
        },
    );
    let e = &exact.ssdlets[0];
    assert_eq!(e.costs, CostSource::Calibrated);
    assert_eq!(e.work, s.work, "the work counted does not depend on the costs");
    let ratio = e.compute.0 as f64 / s.compute.0 as f64;
    assert!((9.9..=10.1).contains(&ratio), "{ratio}");
    assert!(exact.elapsed > generic.elapsed);

    // An entry for another build of the module: used, and reported as such.
    let other = words(
        &m,
        CostTable {
            reference_core: "test".into(),
            ssdlets: vec![entry(&m, "0123456789abcdef".into(), ten)],
        },
    );
    assert_eq!(other.ssdlets[0].costs, CostSource::OtherBuild);
    assert_eq!(other.ssdlets[0].compute, e.compute);

    // Deterministic: the same run again gives the same report, bit for bit.
    let again = words(&m, CostTable::default());
    assert_eq!(again.elapsed, generic.elapsed);
    assert_eq!(again.ssdlets, generic.ssdlets);
}

#[test]
fn work_counts_add_up() {
    let a = WorkCounts {
        calls: 1,
        messages: 2,
        bytes_moved: 3,
        bytes_read: 4,
        allocations: 5,
    };
    assert_eq!(a.plus(a).allocations, 10);
    assert_eq!(UnitCosts::GENERIC.of(&WorkCounts::default()), 0);
}
