//! The 22 TPC-H queries at SF 0.01 over all eight tables on one device: the same rows in
//! `conv`, `offload` and `auto`, equal to DataFusion's own answer over in-memory copies of the
//! same `tpchgen` rows (read back from CSV text, so they share no conversion code with the
//! device path). The tables are generated and loaded once per test process; each test scans on
//! its own host clock. Also `yoursql-filter tpch --print-sql`.

mod common;

use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use host_sdk::DeviceProfile;
use yoursql_core::{ScanMode, TpchTable};
use yoursql_filter::queries::{self, NamedQuery};
use yoursql_filter::reference::{register_files, run_sql, Format};
use yoursql_filter::session::{run_query, Setup};
use yoursql_filter::tpch_queries::TPCH;

use common::{module, rt, SF};

/// All eight tables on one device, loaded once.
fn device() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let t = Instant::now();
        let s = Setup::new(DeviceProfile::pm1725(), SF, &TpchTable::ALL, Some(&module())).unwrap();
        println!(
            "loaded eight tables at SF {SF} in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        s
    })
}

/// The device setup with a scanner on its own host clock.
fn own_clock() -> Setup {
    device().with_own_clocks()
}

/// Each table as Arrow batches, written as CSV and read back by DataFusion's CSV reader, once.
fn copies() -> &'static Vec<(String, Vec<RecordBatch>)> {
    static C: OnceLock<Vec<(String, Vec<RecordBatch>)>> = OnceLock::new();
    C.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("tpch-copies").tempdir().unwrap();
        let names: Vec<&str> = TpchTable::ALL.iter().map(|t| t.name()).collect();
        rt().block_on(async {
            let ctx = SessionContext::new();
            register_files(&ctx, dir.path(), &names, SF, Format::Csv)
                .await
                .unwrap();
            let mut out = Vec::new();
            for n in names {
                let batches = ctx.table(n).await.unwrap().collect().await.unwrap();
                out.push((n.to_string(), batches));
            }
            out
        })
    })
}

/// DataFusion's answer over in-memory copies of the tables (`copies`).
async fn reference(copies: &[(String, Vec<RecordBatch>)], sql: &str) -> Vec<Vec<String>> {
    let ctx = SessionContext::new();
    for (name, batches) in copies {
        let schema = batches[0].schema();
        let table = MemTable::try_new(schema, vec![batches.clone()]).unwrap();
        ctx.register_table(name.as_str(), Arc::new(table)).unwrap();
    }
    run_sql(&ctx, sql).await.unwrap()
}

/// Runs `qs` in every mode; checks the modes against each other and against the reference.
fn check(qs: &[NamedQuery]) {
    // Built outside the runtime below (it runs one of its own).
    let copies = copies();
    let rt = rt();
    let setup = own_clock();
    let mut failures = Vec::new();
    for q in qs {
        let t = Instant::now();
        let expected = rt.block_on(reference(copies, q.sql));
        assert!(!expected.is_empty(), "{}: no rows at SF {SF}", q.name);
        let mut offloaded = Vec::new();
        for mode in [ScanMode::Conv, ScanMode::Offload, ScanMode::Auto] {
            let run = rt
                .block_on(run_query(&setup, q.sql, mode))
                .unwrap_or_else(|e| panic!("{} in {}: {e}", q.name, mode.name()));
            if run.rows != expected {
                failures.push(format!(
                    "{} in {}: {} rows, expected {}; first {:?} vs {:?}",
                    q.name,
                    mode.name(),
                    run.rows.len(),
                    expected.len(),
                    run.rows.first(),
                    expected.first()
                ));
            }
            assert!(!run.scans.is_empty(), "{}: no device scan", q.name);
            for s in &run.scans {
                assert!(s.stats.exact, "{}: scan of {} not exact", q.name, s.table);
                assert!(
                    q.tables.contains(&s.table.as_str()),
                    "{} scanned {}",
                    q.name,
                    s.table
                );
                match mode {
                    ScanMode::Conv => assert!(!s.stats.decision.offloaded && s.fallback.is_none()),
                    // Offload reads conventionally only a scan with nothing to offload, and says why.
                    ScanMode::Offload => assert_eq!(
                        s.stats.decision.offloaded,
                        s.fallback.is_none(),
                        "{}: {} {:?}",
                        q.name,
                        s.table,
                        s.fallback
                    ),
                    ScanMode::Auto => assert!(!s.stats.decision.reason.is_empty()),
                }
                if s.predicate.is_none() && mode == ScanMode::Offload {
                    assert!(s
                        .fallback
                        .as_deref()
                        .unwrap_or("")
                        .contains("no filter predicate"));
                }
                if s.stats.decision.offloaded && mode == ScanMode::Offload {
                    offloaded.push(s.table.clone());
                }
            }
        }
        println!(
            "{}: {} rows; offloaded scans {:?}; {:.1} s",
            q.name,
            expected.len(),
            offloaded,
            t.elapsed().as_secs_f64()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn tpch_q1_to_q11_agree_in_every_mode_with_datafusion() {
    check(&TPCH[..11]);
}

#[test]
fn tpch_q12_to_q22_agree_in_every_mode_with_datafusion() {
    check(&TPCH[11..]);
}

/// Early filtering through a join: the hash join's build side (one customer) bounds the
/// probe-side scan of `orders` to that customer's key, so the scan returns only its orders; the
/// answer is DataFusion's own; the bound is reported; and every run gives the same times.
#[test]
fn a_joins_build_side_filters_the_probe_scan_early() {
    let copies = copies();
    let rt = rt();
    let setup = own_clock();
    let sql = "SELECT count(*), sum(o_totalprice) FROM orders, customer \
               WHERE o_custkey = c_custkey AND c_name = 'Customer#000000010'";
    let expected = rt.block_on(reference(copies, sql));
    let mut times = Vec::new();
    for mode in [ScanMode::Conv, ScanMode::Offload, ScanMode::Auto, ScanMode::Conv] {
        let run = rt.block_on(run_query(&setup, sql, mode)).unwrap();
        assert_eq!(run.rows, expected, "{}", mode.name());
        let orders = run.scans.iter().find(|s| s.table == "orders").unwrap();
        assert!(
            orders.early.iter().any(|e| e.contains("o_custkey >= '10'"))
                && orders.early.iter().any(|e| e.contains("o_custkey <= '10'")),
            "{:?}",
            orders.early
        );
        assert!(orders.rows < 50, "orders scan returned {} rows", orders.rows);
        times.push(run.simulated_ns());
    }
    assert_eq!(
        times[0], times[3],
        "the same query in the same mode: the same time"
    );
}

#[test]
fn print_sql_prints_the_query_and_refuses_unknown_numbers() {
    let bin = env!("CARGO_BIN_EXE_yoursql-filter");
    let out = Command::new(bin)
        .args(["tpch", "--print-sql", "15"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim_end(), format!("{};", queries::tpch("15").unwrap().sql));
    assert!(text.contains("with revenue0 as"), "{text}");
    for bad in ["0", "23", "x"] {
        let out = Command::new(bin)
            .args(["tpch", "--print-sql", bad])
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        assert!(!out.status.success(), "--print-sql {bad} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("no TPC-H query `{bad}`")) && err.contains("1 to 22"),
            "{err}"
        );
    }
}
