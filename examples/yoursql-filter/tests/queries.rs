//! The named queries (filter, Q6, Q14) and a few others through the device table provider at
//! SF 0.01: the same rows in every scan mode, and the same rows as DataFusion's own answer over
//! CSV copies of the same `tpchgen` data. Pushdown is checked in the plans and the scan records.

mod common;

use datafusion::prelude::SessionContext;
use host_sdk::DeviceProfile;
use yoursql_core::ScanMode;
use yoursql_filter::queries::{self, NamedQuery};
use yoursql_filter::reference::{register_files, run_sql, Format};
use yoursql_filter::session::{run_query, tables_for, QueryRun, Setup};

use common::{module, rt, SF};

/// DataFusion's answer over CSV copies of the tables `sql` reads.
async fn reference(name: &str, sql: &str) -> Vec<Vec<String>> {
    let dir = tempfile::Builder::new().prefix(name).tempdir().unwrap();
    let ctx = SessionContext::new();
    let tables: Vec<&str> = tables_for(sql).iter().map(|t| t.name()).collect();
    register_files(&ctx, dir.path(), &tables, SF, Format::Csv)
        .await
        .unwrap();
    run_sql(&ctx, sql).await.unwrap()
}

/// Runs `sql` in every mode on a fresh device; checks every mode against the CSV answer.
fn check(name: &str, sql: &str) -> Vec<QueryRun> {
    let rt = rt();
    let expected = rt.block_on(reference(name, sql));
    let setup = Setup::new(DeviceProfile::pm1725(), SF, &tables_for(sql), Some(&module())).unwrap();
    let mut runs = Vec::new();
    for mode in [ScanMode::Conv, ScanMode::Offload, ScanMode::Auto] {
        let run = rt.block_on(run_query(&setup, sql, mode)).unwrap();
        assert_eq!(
            run.rows,
            expected,
            "{name} in mode {} differs from DataFusion over CSV",
            mode.name()
        );
        assert!(!run.scans.is_empty(), "{name}: no device scan recorded");
        for s in &run.scans {
            assert!(s.stats.exact, "{name}: scan of {} not exact", s.table);
        }
        runs.push(run);
    }
    println!("{name}: {} rows; first {:?}", expected.len(), expected.first());
    runs
}

fn lineitem_scan(run: &QueryRun) -> &yoursql_filter::ScanRecord {
    run.scans
        .iter()
        .find(|s| s.table == "lineitem")
        .expect("a lineitem scan")
}

fn named(q: NamedQuery) -> Vec<QueryRun> {
    check(q.name, q.sql)
}

#[test]
fn filter_query_matches_datafusion_in_every_mode() {
    let runs = named(queries::FILTER);
    let (conv, off) = (&runs[0], &runs[1]);
    assert!(!conv.rows.is_empty(), "the filter query returns rows at SF {SF}");
    let (c, o) = (lineitem_scan(conv), lineitem_scan(off));
    // The predicate was pushed into the scan, and the offloaded scan read fewer pages.
    assert_eq!(
        o.predicate.as_deref(),
        Some("l_shipdate = '1995-01-17'"),
        "pushed-down predicate"
    );
    assert!(o.stats.decision.offloaded && !c.stats.decision.offloaded);
    assert!(
        o.stats.pages_transferred < c.stats.pages_transferred / 4,
        "offload moved {} pages, conv {}",
        o.stats.pages_transferred,
        c.stats.pages_transferred
    );
    assert!(o.stats.pcie_bytes < c.stats.pcie_bytes);
    assert_eq!(o.rows, conv.rows.len() as u64);
}

#[test]
fn q6_matches_datafusion_in_every_mode() {
    let runs = named(queries::Q6);
    assert_eq!(runs[0].rows.len(), 1);
    // All four Q6 predicates are pushed down (none is left for DataFusion).
    let p = lineitem_scan(&runs[1]).predicate.clone().unwrap_or_default();
    for col in ["l_shipdate", "l_discount", "l_quantity"] {
        assert!(p.contains(col), "{col} not pushed: {p}");
    }
    assert!(lineitem_scan(&runs[1]).stats.decision.offloaded);
}

#[test]
fn q14_matches_datafusion_in_every_mode() {
    let runs = named(queries::Q14);
    assert_eq!(runs[0].rows.len(), 1);
    let off = &runs[1];
    assert_eq!(off.scans.len(), 2, "lineitem and part are scanned");
    let l = lineitem_scan(off);
    assert!(l.predicate.as_deref().unwrap_or("").contains("l_shipdate"));
    assert!(l.stats.decision.offloaded);
    // `part` has no filter: read conventionally even when offload is asked for, and said so.
    let part = off.scans.iter().find(|s| s.table == "part").unwrap();
    assert_eq!(part.predicate, None);
    assert!(!part.stats.decision.offloaded);
    assert!(
        part.fallback
            .as_deref()
            .unwrap_or("")
            .contains("no filter predicate"),
        "{:?}",
        part.fallback
    );
}

#[test]
fn filters_that_do_not_convert_are_left_to_datafusion() {
    // `<>`, OR and NOT LIKE are not pushed down; the LIKE prefix and the equality are.
    let sql = "SELECT l_orderkey, l_linenumber, l_shipmode FROM lineitem \
               WHERE l_shipinstruct LIKE 'DELIVER%' AND l_returnflag = 'R' \
               AND (l_shipmode = 'AIR' OR l_shipmode = 'RAIL') \
               AND l_linestatus <> 'O' AND l_comment NOT LIKE '%final%'";
    let runs = check("mixed", sql);
    let p = lineitem_scan(&runs[1]).predicate.clone().unwrap();
    assert!(
        p.contains("l_shipinstruct LIKE 'DELIVER%'") && p.contains("l_returnflag = 'R'"),
        "{p}"
    );
    assert!(
        !p.contains("l_shipmode") && !p.contains("l_linestatus") && !p.contains("l_comment"),
        "{p}"
    );
}

#[test]
fn plans_show_exact_pushdown_and_datafusion_filters_for_the_rest() {
    let rt = rt();
    let setup = Setup::new(DeviceProfile::tiny(), 0.001, &tables_for("lineitem"), None).unwrap();
    let (ctx, _) = setup.context(ScanMode::Auto).unwrap();
    let plan = |sql: String| {
        rt.block_on(async {
            let df = ctx.sql(&format!("EXPLAIN {sql}")).await.unwrap();
            let rows = run_sql_batches(df).await;
            rows.join("\n")
        })
    };
    let exact = plan(format!("{} ", queries::FILTER.sql));
    assert!(
        !exact.contains("FilterExec"),
        "an exact filter needs no FilterExec:\n{exact}"
    );
    let rest = plan("SELECT l_orderkey FROM lineitem WHERE l_orderkey = 1 OR l_orderkey = 2".into());
    assert!(
        rest.contains("FilterExec"),
        "an unsupported filter is applied by DataFusion:\n{rest}"
    );
}

async fn run_sql_batches(df: datafusion::dataframe::DataFrame) -> Vec<String> {
    let batches = df.collect().await.unwrap();
    yoursql_filter::reference::rows_as_text(&batches)
        .unwrap()
        .into_iter()
        .map(|r| r.join(" "))
        .collect()
}

#[test]
fn without_the_filter_module_auto_and_offload_read_conventionally() {
    let rt = rt();
    // Without the filter module, Auto reads conventionally and says why; results still match.
    let setup = Setup::new(DeviceProfile::tiny(), 0.001, &tables_for("lineitem"), None).unwrap();
    let auto = rt
        .block_on(run_query(&setup, queries::FILTER.sql, ScanMode::Auto))
        .unwrap();
    let conv = rt
        .block_on(run_query(&setup, queries::FILTER.sql, ScanMode::Conv))
        .unwrap();
    assert_eq!(auto.rows, conv.rows);
    let d = &lineitem_scan(&auto).stats.decision;
    assert!(!d.offloaded && !d.reason.is_empty(), "{d:?}");
    // Offload asked for without the module: read conventionally, and the record says why.
    let off = rt
        .block_on(run_query(&setup, queries::FILTER.sql, ScanMode::Offload))
        .unwrap();
    assert_eq!(off.rows, conv.rows);
    let s = lineitem_scan(&off);
    assert!(!s.stats.decision.offloaded);
    assert!(
        s.fallback.as_deref().unwrap_or("").contains("module"),
        "{:?}",
        s.fallback
    );
    assert_eq!(lineitem_scan(&conv).fallback, None);
    // The provider keeps the figures of its last scan.
    let (ctx, providers) = setup.context(ScanMode::Conv).unwrap();
    assert!(providers[0].last_stats().is_none());
    let rows = rt.block_on(run_sql(&ctx, queries::FILTER.sql)).unwrap();
    let last = providers[0].last_stats().expect("stats of the scan");
    assert_eq!(last.rows_out, rows.len() as u64);
    assert_eq!(last.pages_total, last.pages_transferred);
}
