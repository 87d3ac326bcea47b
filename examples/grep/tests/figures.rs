//! Biscuit's string-search figure on `pm1725`, at a modest size (64 MiB: below it the grep
//! SSDlet's fixed costs weigh), in simulated time (compute modeled with the shipped
//! calibration, host and device): searching for a rare pattern near the data is at least 2x
//! faster. The seed is fixed
//! and printed.

use app_support::gen::text::{generate_vec, plant, TextSpec};
use app_support::setup::Env;
use grep::{conv, ndp};
use host_sdk::{DeviceProfile, Module};

fn pm1725() -> (Env, Module) {
    let e = app_support::testing::env(DeviceProfile::pm1725());
    let m = e.load(grep::MODULE).expect("ssdlet-grep loads");
    (e, m)
}

#[test]
fn rare_pattern_search_on_pm1725_is_at_least_2x_faster_near_the_data() {
    let seed = 6102;
    println!("seed {seed}");
    let mut text = generate_vec(&TextSpec::new(64 << 20, seed));
    let pat = "XYZZY-4242";
    assert_eq!(plant(&mut text, pat.as_bytes(), 10).len(), 10);
    let (e, m) = pm1725();
    e.device.put_bytes("text", &text).unwrap();
    let c = conv::grep(
        &e.device,
        "text",
        pat.as_bytes(),
        e.page_bytes(),
        e.host("grep").unwrap(),
    )
    .unwrap();
    let n = ndp::grep(&e.device, &m, "text", pat).unwrap();
    assert_eq!(c.result, n.result);
    assert_eq!(n.result.len(), 10);
    let x = c.simulated.0 as f64 / n.simulated.0 as f64;
    println!("conv {:?}, NDP {:?}, speed-up {x:.2}x", c.simulated, n.simulated);
    assert!(x >= 2.0, "speed-up {x:.2}, expected at least 2");
    assert!(n.pcie_bytes < c.pcie_bytes / 100);
}
