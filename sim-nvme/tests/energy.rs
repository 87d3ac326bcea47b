//! The energy model: components sum to the total, nothing costs nothing, idle costs the idle
//! powers, and a hand-derived example with the pm1725 powers.

use sim_nvme::{energy, Activity, DeviceProfile, Energy};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn busy_run() -> Activity {
    Activity {
        elapsed_ns: 2_000_000_000,
        host_busy_ns: 3_000_000_000,
        host_cores: 12,
        arm_busy_ns: 1_500_000_000,
        arm_cores: 2,
        nand_pages_read: 1000,
        nand_pages_programmed: 10,
        nand_blocks_erased: 1,
        pcie_bytes_to_host: 1_000_000,
        pcie_bytes_to_device: 500_000,
        matcher_pages_scanned: 4096,
    }
}

#[test]
fn components_sum_to_the_total() {
    let p = DeviceProfile::pm1725().power;
    let e = energy(&busy_run(), &p);
    let sum: f64 = e.components().iter().map(|(_, j)| j).sum();
    assert_eq!(e.total_j, sum);
    assert!(e.components().iter().all(|(_, j)| *j > 0.0), "{e:?}");
}

#[test]
fn nothing_over_no_time_costs_nothing() {
    let e = energy(&Activity::default(), &DeviceProfile::pm1725().power);
    assert_eq!(e, Energy::default());
}

#[test]
fn idle_for_one_second_costs_the_idle_powers() {
    let p = DeviceProfile::pm1725().power;
    let idle = Activity {
        elapsed_ns: 1_000_000_000,
        host_cores: 12,
        arm_cores: 2,
        ..Activity::default()
    };
    let e = energy(&idle, &p);
    assert!(close(e.host_cpu_j, 2.0 * p.host_package_idle_w), "{e:?}");
    assert!(close(e.host_dram_j, p.host_dram_w), "{e:?}");
    assert!(close(e.ssd_controller_j, p.ssd_idle_w), "{e:?}");
    assert_eq!((e.nand_j, e.pcie_j, e.matchers_j), (0.0, 0.0, 0.0));
    assert!(close(e.total_j, 24.0 + 24.0 + 8.0), "{e:?}");
}

#[test]
fn hand_derived_example() {
    // pm1725 powers, 2 s:
    //   host CPU  = 2 sockets x 12 W x 2 s + (95 - 12) / 6 W x 3 busy s = 48 + 41.5 = 89.5 J
    //   DRAM      = 24 W x 2 s                                          = 48 J
    //   SSD / ARM = 8 W x 2 s + 0.2 W x 1.5 busy s                      = 16.3 J
    //   NAND      = (1000 x 5.4 + 10 x 54.5 + 1 x 289) uJ               = 6.234 mJ
    //   PCIe      = 1.5e6 B x 8 x 10 pJ                                 = 0.12 mJ
    //   matchers  = 4096 x 4.1 nJ                                       = 16.7936 uJ
    let e = energy(&busy_run(), &DeviceProfile::pm1725().power);
    assert!(close(e.host_cpu_j, 89.5), "{e:?}");
    assert!(close(e.host_dram_j, 48.0), "{e:?}");
    assert!(close(e.ssd_controller_j, 16.3), "{e:?}");
    assert!(close(e.nand_j, 6.234e-3), "{e:?}");
    assert!(close(e.pcie_j, 1.2e-4), "{e:?}");
    assert!(close(e.matchers_j, 1.67936e-5), "{e:?}");
    assert!(close(e.total_j, 153.806_370_793_6), "{e:?}");
}

#[test]
fn busy_time_beyond_the_cores_is_not_charged_twice() {
    let p = DeviceProfile::pm1725().power;
    let over = Activity {
        elapsed_ns: 1_000_000_000,
        host_busy_ns: 50_000_000_000,
        host_cores: 40,
        arm_busy_ns: 9_000_000_000,
        arm_cores: 2,
        ..Activity::default()
    };
    let e = energy(&over, &p);
    // At most every one of the 12 host cores busy: 2 x 95 W; at most both SSDlet cores busy.
    assert!(close(e.host_cpu_j, 2.0 * p.host_package_active_w), "{e:?}");
    assert!(
        close(e.ssd_controller_j, p.ssd_idle_w + 2.0 * p.arm_core_busy_w),
        "{e:?}"
    );
}

#[test]
fn device_counts_come_from_ssd_stats() {
    let mut stats = sim_nvme::SsdStats {
        nand_pages_read: 7,
        pcie_bytes_to_host: 8,
        pcie_bytes_to_device: 9,
        matcher_pages_scanned: 10,
        ..Default::default()
    };
    stats.ftl.pages_programmed = 11;
    stats.ftl.blocks_erased = 12;
    let a = Activity {
        elapsed_ns: 5,
        ..Activity::default()
    }
    .with_ssd_stats(&stats);
    assert_eq!(
        (
            a.elapsed_ns,
            a.nand_pages_read,
            a.nand_pages_programmed,
            a.nand_blocks_erased,
            a.pcie_bytes_to_host,
            a.pcie_bytes_to_device,
            a.matcher_pages_scanned
        ),
        (5, 7, 11, 12, 8, 9, 10)
    );
}
