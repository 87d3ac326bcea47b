//! `suite paper`: Biscuit's (ISCA'16) and YourSQL's (VLDB'16) published figures beside ours,
//! each with a tolerance and a verdict, and why a row disagrees. The rows:
//!
//! - 4 KiB read latency, host `pread` and internal (Biscuit: 90.0 / 75.9 us) and the PM1725a's
//!   published host sequential read (3.3 GB/s) and random 4 KiB reads (800 K/s), from
//!   `sim_nvme::bench` (deterministic);
//! - pointer chasing: Biscuit's speed-up 138.6 s / 124.4 s = 1.114, the same definition
//!   (conventional time over NDP time), 100 start nodes (compute modeled: deterministic);
//! - the filter query (`l_shipdate = DATE '1995-01-17'` on TPC-H `lineitem`): YourSQL's ~11x
//!   speed-up, with its I/O-only ratio and its host-engine part apart, and Biscuit's energy
//!   (60.5 kJ conventional vs 12.2 kJ offloaded: a ratio of 4.96). The scan's host filtering
//!   is modeled (rows examined times the calibrated `filter-scan` cost: deterministic), or with
//!   `--compute measured` its CPU time, the median of several runs with min and max;
//! - TPC-H (3.6x over the 22 queries, 15x on the top five, 8 of 22 offloaded): the 22 queries
//!   at the same scale factor, `auto` over `conv` ([`crate::paper_tpch`]; with the `tpch`
//!   feature, which brings the query engine).
//!
//! Then every fitted parameter with the rows it was fitted to.

use std::sync::Arc;

use app_support::calibration::Calibration;
use app_support::cli::{Common, Compute, Mode};
use app_support::progress::Progress;
use app_support::setup::{profile_of, Env};
use app_support::{Path, SuiteError};
use host_sdk::cpu::HostCharge;
use serde::Serialize;
use sim_nvme::{Activity, DeviceProfile};
use yoursql_core::{build_filter_module, CmpOp, Predicate, ScanMode, ScanStats, Scanner, TpchTable, Value};

use crate::runs::{median_min_max, Plan};

/// One published figure beside ours.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// What is compared.
    pub figure: String,
    /// Where the published value is from.
    pub source: &'static str,
    /// The published value (`None`: nothing published, shown for context).
    pub published: Option<f64>,
    /// Ours (`None`: not run).
    pub ours: Option<f64>,
    /// The unit of both.
    pub unit: &'static str,
    /// Smallest and largest value that agrees.
    pub accept: Option<(f64, f64)>,
    /// The tolerance, for people (`±1%`).
    pub tolerance: String,
    /// `agrees`, `disagrees`, `context` or `not run`.
    pub verdict: &'static str,
    /// How ours was obtained, and why a row disagrees.
    pub note: String,
    /// Measured rows: smallest and largest of the runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spread: Option<(f64, f64)>,
}

impl Row {
    pub(crate) fn relative(
        figure: &str,
        source: &'static str,
        published: f64,
        ours: f64,
        unit: &'static str,
        rel: f64,
    ) -> Row {
        let accept = (published * (1.0 - rel), published * (1.0 + rel));
        Row {
            figure: figure.to_owned(),
            source,
            published: Some(published),
            ours: Some(ours),
            unit,
            accept: Some(accept),
            tolerance: format!("±{}%", rel * 100.0),
            verdict: verdict(ours, accept),
            note: String::new(),
            spread: None,
        }
    }

    /// A row with no published value, shown for context.
    fn context(figure: &str, source: &'static str, ours: f64, unit: &'static str, note: &str) -> Row {
        Row {
            figure: figure.to_owned(),
            source,
            published: None,
            ours: Some(ours),
            unit,
            accept: None,
            tolerance: "-".to_owned(),
            verdict: "context",
            note: note.to_owned(),
            spread: None,
        }
    }

    pub(crate) fn note(mut self, n: impl Into<String>) -> Row {
        self.note = n.into();
        self
    }
}

fn verdict(ours: f64, (lo, hi): (f64, f64)) -> &'static str {
    if (lo..=hi).contains(&ours) {
        "agrees"
    } else {
        "disagrees"
    }
}

/// A fitted (or derived) parameter and the rows it was fitted to.
#[derive(Clone, Debug, Serialize)]
pub struct Fitted {
    /// The profile key or calibration entry.
    pub parameter: &'static str,
    /// Its value.
    pub value: String,
    /// `fitted`, `derived` or `calibrated`.
    pub how: &'static str,
    /// The rows it was fitted to (none for derived parameters).
    pub rows: &'static str,
}

/// What `suite paper` prints.
#[derive(Clone, Debug, Serialize)]
pub struct Paper {
    /// Profile name.
    pub profile: String,
    /// TPC-H scale factor of the filter query.
    pub sf: f64,
    /// Runs of the filter query (1 when its host filtering is modeled).
    pub runs: usize,
    /// The rows.
    pub rows: Vec<Row>,
    /// The fitted parameters.
    pub fitted: Vec<Fitted>,
}

/// How big the device and pointer-chasing rows run.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// TPC-H scale factor of the filter query.
    pub sf: f64,
    /// Bytes written then read by the bandwidth rows.
    pub working_set: u64,
    /// Bytes of the pointer-chasing graph.
    pub graph: u64,
}

/// Runs every row on `common`'s profile (with its `--set`s); the filter query `runs` times
/// when its host filtering is measured.
pub fn run(common: &Common, sizes: Sizes, runs: usize, progress: &mut Progress) -> Result<Paper, SuiteError> {
    let sf = sizes.sf;
    let profile = profile_of(common)?;
    let mut rows = Vec::new();

    progress.step("device latency and bandwidth (sim-nvme bench)");
    let bench_err = |e: sim_nvme::bench::BenchError| SuiteError::Bench(e.to_string());
    let lat = sim_nvme::bench::latency(profile.clone()).map_err(bench_err)?;
    let bw = sim_nvme::bench::bandwidth(
        profile.clone(),
        sizes.working_set,
        128.min(usize::from(profile.controller.max_queue_depth)),
    )
    .map_err(bench_err)?;
    progress.done();
    rows.push(
        Row::relative(
            "host 4 KiB read latency (pread, QD 1)",
            "Biscuit ISCA'16",
            90.0,
            lat.host_read_4k_us,
            "us",
            0.01,
        )
        .note("median of 256 reads; fitted (host I/O stack)"),
    );
    rows.push(
        Row::relative(
            "internal 4 KiB read latency (QD 1)",
            "Biscuit ISCA'16",
            75.9,
            lat.internal_read_4k_us,
            "us",
            0.01,
        )
        .note("median of 256 reads; fitted (tR chosen, firmware time)"),
    );
    rows.push(
        Row::relative(
            "host sequential read (128 KiB, QD 128)",
            "PM1725a specification",
            3.3,
            bw.host_seq_read_gbps,
            "GB/s",
            0.10,
        )
        .note("not fitted: PCIe 3.0 x4 payload rate derived from its packet overheads"),
    );
    let r = Row::relative(
        "host random 4 KiB reads (QD 128)",
        "PM1725a specification",
        800.0,
        bw.host_rand_read_kiops,
        "K/s",
        0.15,
    );
    let below = r.ours.is_some_and(|o| o < 800.0);
    rows.push(r.note(if below {
        "not fitted: 80 dies at tR 65 us, hit at random by 128 outstanding reads, cap it below the link's 806 K/s"
    } else {
        "not fitted"
    }));

    let calibration = Arc::new(Calibration::load_or_shipped(common.calibration.as_deref())?);
    rows.push(pointer_chase(
        common,
        &profile,
        calibration.clone(),
        sizes.graph,
        progress,
    )?);
    rows.extend(filter_query(
        &profile,
        &calibration,
        common.compute,
        sf,
        runs,
        progress,
    )?);
    rows.extend(crate::paper_tpch::rows(
        &profile,
        calibration,
        common.compute,
        sf,
        progress,
    )?);
    let p = &profile;
    let fitted = vec![
        Fitted {
            parameter: "nand.read_ns (tR)",
            value: format!("{} ns", p.nand.read_ns),
            how: "chosen",
            rows: "internal 4 KiB read latency (one equation with controller.firmware_ns)",
        },
        Fitted {
            parameter: "controller.firmware_ns",
            value: format!("{} ns", p.controller.firmware_ns),
            how: "fitted",
            rows: "internal 4 KiB read latency",
        },
        Fitted {
            parameter: "host.io_stack_ns",
            value: format!("{} ns", p.host.io_stack_ns),
            how: "fitted",
            rows: "host 4 KiB read latency",
        },
        Fitted {
            parameter: "arm.arm_slowdown",
            value: format!("{}", p.arm.arm_slowdown),
            how: "derived",
            rows: "none (per-clock Dhrystone figures x clock ratio; sim-nvme/src/profile.rs)",
        },
        Fitted {
            parameter: "calibration: per-unit costs of each SSDlet and host path",
            value: "examples/app-support/calibration.toml".to_owned(),
            how: "calibrated",
            rows: "none (measured CPU time on the reference core, `suite calibrate`)",
        },
    ];
    Ok(Paper {
        profile: profile.name.clone(),
        sf,
        runs: if common.compute == Compute::Modeled {
            1
        } else {
            runs.max(1)
        },
        rows,
        fitted,
    })
}

/// Biscuit's pointer-chasing speed-up, its definition: conventional over NDP time.
fn pointer_chase(
    common: &Common,
    profile: &DeviceProfile,
    calibration: Arc<Calibration>,
    graph_bytes: u64,
    progress: &mut Progress,
) -> Result<Row, SuiteError> {
    let modules = app_support::setup::modules(common.modules)?;
    let env = Env::with_modules(profile.clone(), Compute::Modeled, calibration, &modules)?;
    let plan = Plan {
        mode: Mode::Both,
        seed: common.seed,
        input: None,
        text_bytes: 0,
        graph_bytes,
        walks: pointer_chase::cli::Walks {
            starts: 100,
            hops: 100,
        },
        wordcount: wordcount::cli::WordcountOpts {
            top: 0,
            mappers: 2,
            reducers: 2,
        },
        grep: grep::cli::GrepOpts {
            pattern: grep::cli::DEFAULT_PATTERN.to_owned(),
            plant: 0,
        },
    };
    progress.step(format!(
        "generating a {} graph",
        app_support::size::human(graph_bytes)
    ));
    let (graph, info) = app_support::setup::graph(None, plan.graph_bytes, plan.seed)?;
    app_support::program::put(&env, "graph.bin", &graph, progress)?;
    let starts = app_support::setup::starts(info.bytes, 100, plan.seed);
    drop(graph);
    let o = pointer_chase::workload::run(&env, Mode::Both, "graph.bin", info, &starts, 100, None, progress)?;
    let (c, n) = (o.run(Path::Conv), o.run(Path::Ndp));
    let x = match (c, n) {
        (Some(c), Some(n)) => c.simulated_ns as f64 / n.simulated_ns.max(1) as f64,
        _ => 0.0,
    };
    let accept = (1.114 - 0.03, 1.114 + 0.03);
    Ok(Row {
        figure: format!(
            "pointer chasing speed-up (conv / NDP), 100 starts x 100 hops, {} graph",
            app_support::size::human(graph_bytes)
        ),
        source: "Biscuit ISCA'16 (138.6 s / 124.4 s)",
        published: Some(1.114),
        ours: Some(x),
        unit: "x",
        accept: Some(accept),
        tolerance: "±0.03".to_owned(),
        verdict: verdict(x, accept),
        note: format!("compute modeled (deterministic), seed {}", plan.seed),
        spread: None,
    })
}

/// Energy of a scan: the host busy for its compute, the device's filter on its cores, the
/// NAND pages its reads cover, its PCIe bytes and matcher pages.
fn scan_energy(s: &ScanStats, profile: &DeviceProfile) -> f64 {
    let per_nand_page = (u64::from(profile.geometry.page_bytes) / 4096).max(1);
    let a = Activity {
        elapsed_ns: s.simulated_ns,
        host_busy_ns: s.host_compute_ns,
        host_cores: 1,
        arm_busy_ns: s.filter_ns,
        arm_cores: profile.arm.cores,
        nand_pages_read: s.pages_read.div_ceil(per_nand_page),
        nand_pages_programmed: 0,
        nand_blocks_erased: 0,
        pcie_bytes_to_host: s.pcie_bytes,
        pcie_bytes_to_device: 0,
        matcher_pages_scanned: s.pages_scanned_on_device,
    };
    sim_nvme::energy(&a, &profile.power).total_j
}

/// `lineitem` at a scale factor on an in-memory device with the filter module, and the filter
/// query bound to it.
pub struct FilterQuery {
    scanner: Scanner,
    table: yoursql_core::DeviceTable,
    filter: Vec<yoursql_core::BoundPredicate>,
}

fn yq(e: &dyn std::fmt::Display) -> SuiteError {
    SuiteError::Bench(format!("filter query: {e}"))
}

impl FilterQuery {
    /// Generates and stores `lineitem` at `sf` on a new device of `profile`.
    pub fn load(profile: &DeviceProfile, sf: f64) -> Result<FilterQuery, SuiteError> {
        let module = build_filter_module(true)?;
        let dev = host_sdk::Device::embedded(profile.clone(), host_sdk::ImageSpec::Memory)?;
        let enc = TpchTable::Lineitem.encode(sf).map_err(|e| yq(&e))?;
        let table = yoursql_core::store_table(&dev, &enc).map_err(|e| yq(&e))?;
        drop(enc);
        let scanner = Scanner::new(&dev, &module).map_err(|e| yq(&e))?;
        let date = Value::date("1995-01-17").map_err(|e| yq(&e))?;
        let filter = vec![Predicate::cmp("l_shipdate", CmpOp::Eq, date)
            .bind(&table.schema)
            .map_err(|e| yq(&e))?];
        Ok(FilterQuery {
            scanner,
            table,
            filter,
        })
    }

    /// One scan of the filter query in `mode`, the host's work charged as `cost` says.
    pub fn scan(&self, mode: ScanMode, cost: HostCharge) -> Result<yoursql_core::ScanOutput, SuiteError> {
        let mut scanner = self.scanner.clone();
        scanner.config.host_cost = cost;
        scanner
            .scan_collect(&self.table, &self.filter, None, mode)
            .map_err(|e| yq(&e))
    }
}

/// The filter query's rows: modeled host cost (the calibration's `filter-scan`, one run,
/// deterministic), or measured (`runs` runs: median, min and max).
fn filter_query(
    profile: &DeviceProfile,
    calibration: &Calibration,
    compute: Compute,
    sf: f64,
    runs: usize,
    progress: &mut Progress,
) -> Result<Vec<Row>, SuiteError> {
    progress.step(format!("generating and storing TPC-H lineitem at SF {sf}"));
    let fq = FilterQuery::load(profile, sf)?;
    progress.done();
    let (cost, runs) = match (compute, calibration.host.get("filter-scan")) {
        (Compute::Modeled, Some(c)) => (HostCharge::PerUnit { ps: c.ps_per_unit }, 1),
        (Compute::Modeled, None) => {
            return Err(SuiteError::NoHostCost {
                workload: "filter-scan".into(),
                known: calibration.host.keys().cloned().collect::<Vec<_>>().join(", "),
            })
        }
        (Compute::Measured, _) => (HostCharge::Measured, runs.max(1)),
    };
    let (mut speed, mut io_ratio, mut host_part, mut energy) = (vec![], vec![], vec![], vec![]);
    let mut per_row = vec![];
    let mut rows_out = 0;
    for r in 0..runs {
        progress.step(format!("filter query, run {} of {runs}", r + 1));
        let conv = fq.scan(ScanMode::Conv, cost)?;
        let off = fq.scan(ScanMode::Offload, cost)?;
        progress.done();
        if conv.rows != off.rows {
            return Err(yq(
                &"the offloaded scan returned other rows than the conventional one",
            ));
        }
        rows_out = conv.rows.len();
        let (c, o) = (&conv.stats, &off.stats);
        speed.push(c.simulated_ns as f64 / o.simulated_ns.max(1) as f64);
        io_ratio.push(c.io_ns as f64 / o.simulated_ns.max(1) as f64);
        host_part.push(c.host_compute_ns as f64 / c.simulated_ns.max(1) as f64);
        per_row.push(c.host_compute_ns as f64 / c.rows_scanned.max(1) as f64);
        energy.push(scan_energy(c, profile) / scan_energy(o, profile).max(f64::MIN_POSITIVE));
    }
    let how = match cost {
        HostCharge::PerUnit { ps } => {
            format!("host filtering modeled: {ps} ps per row examined (calibrated)")
        }
        HostCharge::Measured => format!("host filtering measured: median of {runs} runs"),
    };
    let (s, s_lo, s_hi) = median_min_max(speed);
    let (io, io_lo, io_hi) = median_min_max(io_ratio);
    let (hp, hp_lo, hp_hi) = median_min_max(host_part);
    let (e, e_lo, e_hi) = median_min_max(energy);
    let (pr, pr_lo, pr_hi) = median_min_max(per_row);
    let mut speed_row = Row::relative(
        "filter query speed-up (conv / offload)",
        "YourSQL VLDB'16 / Biscuit ISCA'16",
        11.0,
        s,
        "x",
        0.3,
    )
    .note(format!(
        "SF {sf}, {rows_out} rows; {how}; the conventional side is {:.0}% host filtering \
         (YourSQL's host was MariaDB; ours tests the predicate's columns of every row in Rust), \
         see the rows below",
        hp * 100.0
    ));
    let spread = |lo: f64, hi: f64| (runs > 1).then_some((lo, hi));
    speed_row.spread = spread(s_lo, s_hi);
    let mut io_row = Row::context(
        "filter query, I/O only: conv I/O time / offload time",
        "ours (context for the speed-up)",
        io,
        "x",
        "what offloading gains with no host filtering at all",
    );
    let mut host_row = Row::context(
        "filter query, conventional: share of host filtering",
        "ours (context for the speed-up)",
        hp * 100.0,
        "%",
        "host compute / conventional time",
    );
    let mut row_cost = Row::context(
        "filter query, conventional: host filtering per row",
        "ours (context: a competent engine's per-row cost)",
        pr,
        "ns/row",
        "host compute / rows examined (column first: only the predicate's columns are decoded \
         before a row is kept)",
    );
    io_row.spread = spread(io_lo, io_hi);
    host_row.spread = spread(hp_lo * 100.0, hp_hi * 100.0);
    row_cost.spread = spread(pr_lo, pr_hi);
    let mut energy_row = Row::relative(
        "filter query energy, conv / offload (60.5 kJ / 12.2 kJ)",
        "Biscuit ISCA'16",
        60.5 / 12.2,
        e,
        "x",
        0.3,
    );
    energy_row.spread = spread(e_lo, e_hi);
    let energy_row = if energy_row.verdict == "disagrees" {
        energy_row.note(
            "the model's energy follows time (idle power x simulated time dominates); Biscuit \
             measured the whole server, whose power rose from 151 W to 339 W when offloading \
             (its host stayed busy), which the model's per-run activity does not include",
        )
    } else {
        energy_row.note("power model: the profile's [power] section")
    };
    Ok(vec![speed_row, io_row, host_row, row_cost, energy_row])
}

/// The rows as a table for people.
pub fn table(p: &Paper) -> String {
    let num = |v: Option<f64>| v.map_or("-".to_owned(), |x| format!("{x:.3}"));
    let mut out = format!(
        "{:<72} {:>10} {:>10} {:>6} {:>8}  {:<10} note\n",
        "figure", "published", "ours", "unit", "tol.", "verdict"
    );
    for r in &p.rows {
        let ours = match r.spread {
            Some((lo, hi)) => format!("{} ({lo:.2}-{hi:.2})", num(r.ours)),
            None => num(r.ours),
        };
        out.push_str(&format!(
            "{:<72} {:>10} {:>10} {:>6} {:>8}  {:<10} {}\n",
            r.figure,
            num(r.published),
            ours,
            r.unit,
            r.tolerance,
            r.verdict,
            r.note
        ));
    }
    out.push_str("\nfitted and derived parameters:\n");
    for f in &p.fitted {
        out.push_str(&format!(
            "  {:<58} {:>24}  {:<10} rows: {}\n",
            f.parameter, f.value, f.how, f.rows
        ));
    }
    out
}
