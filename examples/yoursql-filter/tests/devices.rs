//! Many devices per host (`SetupOptions::devices`): all eight TPC-H tables at SF 0.01 spread
//! over 4 devices give the same rows as on one device for all 22 queries, in conv and offload;
//! every scan has one partition per device; the scan-bound queries Q1 and Q6 take less
//! simulated time on 4 devices; runs are identical bit for bit (modeled compute, no buffer
//! pool); and
//! `--devices 0` is refused naming the flag. One setup per device count, loaded once.

mod common;

use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use host_sdk::DeviceProfile;
use host_sdk::SimTime;
use yoursql_core::{ScanMode, ScanStats, TpchTable};
use yoursql_filter::session::{run_query, QueryRun, Setup, SetupOptions};
use yoursql_filter::tpch_queries::TPCH;

use common::{module, rt, SF};

fn open(devices: usize) -> Setup {
    let t = Instant::now();
    let mut o = SetupOptions::new(DeviceProfile::pm1725(), SF, &TpchTable::ALL);
    o.module = Some(module());
    o.devices = devices;
    let s = Setup::open(&o).unwrap();
    println!(
        "loaded eight tables at SF {SF} on {devices} device(s) in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    s
}

/// All eight tables on one device, loaded once.
fn one() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| open(1))
}

/// All eight tables spread over four devices, loaded once.
fn four() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| open(4))
}

fn run(rt: &tokio::runtime::Runtime, s: &Setup, sql: &str, mode: ScanMode) -> QueryRun {
    rt.block_on(run_query(s, sql, mode))
        .unwrap_or_else(|e| panic!("{} device(s), {}: {e}", s.device_count(), mode.name()))
}

#[test]
fn four_devices_answer_every_tpch_query_as_one_device_does() {
    let rt = rt();
    let (one, four) = (one().with_own_clocks(), four().with_own_clocks());
    let mut failures = Vec::new();
    for q in TPCH.iter() {
        let t = Instant::now();
        let base = run(&rt, &one, q.sql, ScanMode::Conv);
        assert!(!base.rows.is_empty(), "{}: no rows", q.name);
        for mode in [ScanMode::Conv, ScanMode::Offload] {
            for (s, n) in [(&one, 1), (&four, 4)] {
                let r = run(&rt, s, q.sql, mode);
                if r.rows != base.rows {
                    failures.push(format!(
                        "{} on {n} device(s) in {}: {} rows, expected {}",
                        q.name,
                        mode.name(),
                        r.rows.len(),
                        base.rows.len()
                    ));
                }
                for scan in &r.scans {
                    assert_eq!(scan.parts.len(), n, "{}: {}", q.name, scan.table);
                    let rows: u64 = scan.parts.iter().map(|p| p.rows_out).sum();
                    assert_eq!(rows, scan.rows, "{}: {}", q.name, scan.table);
                    let slowest = scan.parts.iter().map(|p| p.simulated_ns).max().unwrap();
                    assert_eq!(scan.stats.simulated_ns, slowest, "{}: {}", q.name, scan.table);
                }
            }
        }
        println!(
            "{}: {} rows; {:.1} s",
            q.name,
            base.rows.len(),
            t.elapsed().as_secs_f64()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn scan_bound_queries_take_less_simulated_time_on_four_devices() {
    let rt = rt();
    let (one, four) = (one().with_own_clocks(), four().with_own_clocks());
    for name in ["q1", "q6"] {
        let q = TPCH.iter().find(|q| q.name == name).unwrap();
        for mode in [ScanMode::Conv, ScanMode::Offload] {
            let (a, b) = (run(&rt, &one, q.sql, mode), run(&rt, &four, q.sql, mode));
            let ratio = a.scan_ns() as f64 / b.scan_ns() as f64;
            println!(
                "{name} {}: 1 device {:.3} ms (scans {:.3} ms), 4 devices {:.3} ms (scans {:.3} ms): scans {ratio:.2}x faster, query {:.2}x",
                mode.name(),
                a.simulated_ns() as f64 / 1e6,
                a.scan_ns() as f64 / 1e6,
                b.simulated_ns() as f64 / 1e6,
                b.scan_ns() as f64 / 1e6,
                a.simulated_ns() as f64 / b.simulated_ns() as f64
            );
            assert!(
                b.simulated_ns() < a.simulated_ns(),
                "{name} {}: {} ns on 4 devices, {} on 1",
                mode.name(),
                b.simulated_ns(),
                a.simulated_ns()
            );
            // lineitem's parts are a quarter each: the scans are well over twice as fast.
            assert!(
                ratio > 2.0,
                "{name} {}: scans only {ratio:.2}x faster",
                mode.name()
            );
        }
    }
}

/// A scan's figures without its place on the clock (scans that become ready at once may start
/// in either order: see ARCHITECTURE.md, scans-take-turns).
fn placeless(s: &ScanStats) -> ScanStats {
    let mut s = s.clone();
    s.started_at = SimTime::ZERO;
    s.finished_at = SimTime::ZERO;
    s
}

#[test]
fn runs_on_four_devices_are_identical_bit_for_bit() {
    // Modeled compute, no buffer pool: two fresh setups give the same figures bit for bit.
    let rt = rt();
    let mut figures = Vec::new();
    for _ in 0..2 {
        let s = open(4);
        let mut each = Vec::new();
        for q in TPCH.iter() {
            for mode in [ScanMode::Conv, ScanMode::Offload, ScanMode::Auto] {
                let r = run(&rt, &s, q.sql, mode);
                let mut scans: Vec<String> = r
                    .scans
                    .iter()
                    .map(|x| {
                        let parts: Vec<ScanStats> = x.parts.iter().map(placeless).collect();
                        format!("{} {:?} {:?} {:?}", x.table, x.early, placeless(&x.stats), parts)
                    })
                    .collect();
                scans.sort();
                // The operators' work (not DataFusion's measured elapsed_compute).
                let ops: Vec<_> = (r.engine.work.operators.iter())
                    .map(|o| (o.operator.clone(), o.rows_in, o.expr_nodes, o.rows_out))
                    .collect();
                each.push((
                    q.name,
                    mode,
                    r.simulated_ns(),
                    r.engine.time_ns,
                    ops,
                    scans,
                    r.rows,
                ));
            }
        }
        figures.push(each);
    }
    for (a, b) in figures[0].iter().zip(&figures[1]) {
        assert!(a == b, "two runs differ: {} {}\n{a:?}\n{b:?}", a.0, a.1.name());
    }
}

#[test]
fn zero_devices_are_refused_naming_the_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_yoursql-filter"))
        .args(["tpch", "--debug-module", "--devices", "0", "--queries", "6"])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--devices 0") && err.contains("at least 1"), "{err}");
    // A trace records one device: several with --trace are refused, naming both flags.
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_yoursql-filter"))
        .args([
            "tpch",
            "--debug-module",
            "--devices",
            "2",
            "--queries",
            "6",
            "--trace",
        ])
        .arg(tmp.path().join("t.json"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--trace records one device") && err.contains("--devices 2"),
        "{err}"
    );
    let mut o = SetupOptions::new(DeviceProfile::tiny(), 0.001, &[TpchTable::Region]);
    o.devices = 0;
    let e = Setup::open(&o).unwrap_err().to_string();
    assert!(e.contains("0 devices"), "{e}");
}
