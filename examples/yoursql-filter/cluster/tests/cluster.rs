//! TPC-H on the in-process Ballista cluster, SF 0.01: all 22 queries give the answers of the
//! single-process path (`yoursql_filter::run_query` over the same devices) on 4 nodes x 1
//! device, in conventional and offload scans, with every scan partition scanned exactly once,
//! by the executor of the node that holds it (so too with Ballista's adaptive planner on, in
//! conv on 2 x 2); without the node placement (Ballista's own `Bias` policy) the answers are
//! wrong, since every task scans every partition, or, with executors that scan only their own
//! node, the query fails naming the foreign partition. (`tests/figures.rs` checks Q1, Q6 and Q3
//! on 1, 2 and 4 nodes, with their simulated figures.)

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use host_sdk::DeviceProfile;
use yoursql_cluster::descriptor::PartLocation;
use yoursql_cluster::{Cluster, ClusterOptions, ClusterRun, Placement, Reach};
use yoursql_core::{ScanMode, TpchTable};
use yoursql_filter::queries::NamedQuery;
use yoursql_filter::session::{run_query, QueryRun, Setup, SetupOptions};
use yoursql_filter::tpch_queries::TPCH;

const SF: f64 = 0.01;

fn module() -> PathBuf {
    static M: OnceLock<PathBuf> = OnceLock::new();
    M.get_or_init(|| yoursql_core::build_filter_module(false).expect("build the filter module"))
        .clone()
}

fn open(devices: usize) -> Setup {
    let t = Instant::now();
    let mut o = SetupOptions::new(DeviceProfile::pm1725(), SF, &TpchTable::ALL);
    o.module = Some(module());
    o.devices = devices;
    let s = Setup::open(&o).unwrap();
    println!(
        "loaded {} tables at SF {SF} on {devices} device(s) in {:.1} s",
        TpchTable::ALL.len(),
        t.elapsed().as_secs_f64()
    );
    s
}

/// The tables over four devices, shared by the tests.
fn four() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| open(4))
}

fn query(name: &str) -> NamedQuery {
    *TPCH.iter().find(|q| q.name == name).unwrap()
}

fn single_process(setup: &Setup, q: &NamedQuery, mode: ScanMode) -> QueryRun {
    let rt = yoursql_filter::session::runtime().unwrap();
    rt.block_on(run_query(setup, q.sql, mode))
        .unwrap_or_else(|e| panic!("{} {} in one process: {e}", q.name, mode.name()))
}

/// Every partition of every table the query scanned, by its own node, to the end, and each
/// partition of a table as often as the others: once per scan of the table (Q2 scans `nation`
/// twice, for instance).
fn assert_each_partition_once_on_its_node(run: &ClusterRun, what: &str) {
    let mut seen: BTreeMap<(String, usize), Vec<(u32, PartLocation)>> = BTreeMap::new();
    for e in &run.scans {
        assert!(e.complete, "{what}: {e:?} did not finish");
        assert_eq!(e.node, e.at.node, "{what}: {e:?} scanned by another node");
        seen.entry((e.table.clone(), e.partition))
            .or_default()
            .push((e.node, e.at));
    }
    assert!(!seen.is_empty(), "{what}: no scans recorded");
    let mut tables: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for ((table, p), by) in &seen {
        tables.entry(table).or_default().push((*p, by.len()));
    }
    for (table, parts) in tables {
        let scans = parts[0].1;
        let expected: Vec<(usize, usize)> = (0..parts.len()).map(|p| (p, scans)).collect();
        assert_eq!(parts, expected, "{what}: (partition, times scanned) of {table}");
    }
}

#[test]
fn all_tpch_queries_on_four_nodes_match_one_process_conv() {
    all_queries_on_four_nodes(ScanMode::Conv);
}

#[test]
fn all_tpch_queries_on_four_nodes_match_one_process_offload() {
    all_queries_on_four_nodes(ScanMode::Offload);
}

/// The 22 queries in `mode` on 4 nodes x 1 device (two tests, so they run at once).
fn all_queries_on_four_nodes(mode: ScanMode) {
    let setup = four().with_own_clocks();
    let t = Instant::now();
    let cluster = Cluster::from_setup(&setup, 4, ClusterOptions::default()).unwrap();
    println!(
        "4 nodes x 1 device: cluster up in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    for q in TPCH.iter() {
        let what = format!("{} {} on 4 x 1", q.name, mode.name());
        let base = single_process(&setup, q, mode);
        let run = cluster
            .run_query(q.sql, mode)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(run.rows, base.rows, "{what}: answers differ");
        assert_each_partition_once_on_its_node(&run, &what);
        for e in &run.scans {
            assert!(e.partition < 4, "{what}: {e:?}");
        }
        assert!(run.simulated_ns() > 0, "{what}: no simulated time");
        println!(
            "{what}: {} rows, {} partition scans, {} tasks, {:.3} ms simulated, {:.2} s on the cluster ({:.2} s in one process)",
            run.rows.len(),
            run.scans.len(),
            run.tasks.len(),
            run.simulated_ns() as f64 / 1e6,
            run.wall.as_secs_f64(),
            base.wall.as_secs_f64()
        );
    }
}

#[test]
fn without_node_placement_every_task_scans_every_partition() {
    let setup = four().with_own_clocks();
    let q1 = query("q1");
    let base = single_process(&setup, &q1, ScanMode::Conv);

    // Ballista's own placement, executors reaching every node's devices: each task of the scan
    // stage runs all four partitions.
    let options = ClusterOptions {
        placement: Placement::BallistaBias,
        reach: Reach::AnyNode,
        ..ClusterOptions::default()
    };
    let cluster = Cluster::from_setup(&setup, 2, options).unwrap();
    let run = cluster.run_query(q1.sql, ScanMode::Conv).unwrap();
    assert_ne!(run.rows, base.rows, "Q1 without placement gave the right answer");
    let lineitem: Vec<_> = run.scans.iter().filter(|e| e.table == "lineitem").collect();
    assert!(
        lineitem.len() > 4,
        "expected partitions scanned more than once: {lineitem:?}"
    );
    // count_order (the last column) is a multiple of the true count.
    let count = |rows: &[Vec<String>]| -> u64 {
        rows.iter()
            .map(|r| r.last().unwrap().parse::<u64>().unwrap())
            .sum()
    };
    let (wrong, right) = (count(&run.rows), count(&base.rows));
    assert!(
        wrong > right && wrong % right == 0,
        "count_order {wrong}, expected a multiple of {right}"
    );
    println!(
        "without placement: count_order {wrong} = {} x {right}",
        wrong / right
    );
    drop(cluster);

    // The same placement, executors scanning only their own node: the query fails, naming the
    // partition of another node.
    let options = ClusterOptions {
        placement: Placement::BallistaBias,
        ..ClusterOptions::default()
    };
    let cluster = Cluster::from_setup(&setup, 2, options).unwrap();
    let err = cluster.run_query(q1.sql, ScanMode::Conv).unwrap_err().to_string();
    // Ballista passes the executor's error on in its debug form.
    assert!(
        err.contains("ForeignPart") && err.contains("lineitem"),
        "unexpected error: {err}"
    );
    println!("with executors of their own node only: {err}");
}

/// Ballista's adaptive planner (off by default here) re-plans stages as their inputs finish; the
/// scan stages are the first to run, and the placement and answers stay the same.
#[test]
fn the_adaptive_planner_keeps_answers_and_placement() {
    let setup = four().with_own_clocks();
    let options = ClusterOptions {
        adaptive: true,
        ..ClusterOptions::default()
    };
    let cluster = Cluster::from_setup(&setup, 2, options).unwrap();
    for name in ["q1", "q6", "q3", "q5"] {
        let q = query(name);
        let base = single_process(&setup, &q, ScanMode::Conv);
        let run = cluster.run_query(q.sql, ScanMode::Conv).unwrap();
        let what = format!("{name} conv, adaptive, on 2 x 2");
        assert_eq!(run.rows, base.rows, "{what}: answers differ");
        assert_each_partition_once_on_its_node(&run, &what);
    }
}

/// A node whose executor stops mid-query (as in a crash): the query fails within a bounded
/// time, naming the node; the node, started again, serves the next query with the same answer
/// (its devices lost nothing). A query while the node is down fails the same way.
#[test]
fn a_node_that_stops_fails_the_query_naming_it_and_serves_again_after_a_restart() {
    let setup = open(2);
    let options = ClusterOptions {
        node_timeout: yoursql_cluster::cluster::MIN_NODE_TIMEOUT,
        ..ClusterOptions::default()
    };
    let cluster = Cluster::from_setup(&setup, 2, options).unwrap();
    let q = query("q3");
    let before = cluster.run_query(q.sql, ScanMode::Conv).unwrap();

    // Stopped once the query's first task has finished.
    let (failed, took) = std::thread::scope(|s| {
        s.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(60);
            while cluster.finished_tasks() == 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            cluster.stop_node(1).unwrap();
        });
        let t = Instant::now();
        (cluster.run_query(q.sql, ScanMode::Conv), t.elapsed())
    });
    let err = failed
        .expect_err("the query survived its node's crash")
        .to_string();
    println!("mid-query, after {:.1} s: {err}", took.as_secs_f64());
    assert!(err.contains("node 1 (executor node-1)"), "{err}");
    assert!(took < Duration::from_secs(30), "the failure took {took:?}");

    // While it is down, a query fails the same way.
    let t = Instant::now();
    let err = cluster.run_query(q.sql, ScanMode::Conv).unwrap_err().to_string();
    assert!(err.contains("node 1 (executor node-1)"), "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "the failure took {:?}",
        t.elapsed()
    );

    cluster.restart_node(1).unwrap();
    let after = cluster.run_query(q.sql, ScanMode::Conv).unwrap();
    assert_eq!(after.rows, before.rows, "answers after the restart");
    assert!(!after.rows.is_empty());
}
