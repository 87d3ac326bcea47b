//! `suite paper`'s TPC-H rows: YourSQL's 3.6x over the 22 queries, 15x on average over the five
//! longest, and 8 of 22 queries offloaded, beside ours. YourSQL's speed-up is MariaDB with its
//! own planner deciding which scans to offload over MariaDB alone, so ours is `auto` over
//! `conv`: all eight tables at the paper's scale factor on one device, the host buffer pool at
//! YourSQL's 16 GiB per 100 of scale factor, every query once per mode (compute modeled:
//! deterministic), through [`yoursql_filter::tpch_pass`].
//!
//! DataFusion is the query engine and is confined to `yoursql-filter`; this crate reaches it
//! only with the `tpch` feature (`cargo run --release -p suite --features tpch -- paper`), so
//! the main job builds without it. Without the feature the rows say how to run them.

use std::sync::Arc;

use app_support::calibration::Calibration;
use app_support::cli::Compute;
use app_support::progress::Progress;
use app_support::SuiteError;
use sim_nvme::DeviceProfile;

use crate::paper::Row;

/// YourSQL's published figures: (figure, value, unit).
const PUBLISHED: [(&str, f64, &str); 3] = [
    (
        "TPC-H: total time over the 22 queries, conv / YourSQL's planner (auto)",
        3.6,
        "x",
    ),
    (
        "TPC-H: the five longest queries, average speed-up (conv / auto)",
        15.0,
        "x",
    ),
    (
        "TPC-H: queries with an offloaded scan (auto), of 22",
        8.0,
        "queries",
    ),
];

/// Relative tolerance of each TPC-H row.
#[cfg(feature = "tpch")]
const TOLERANCE: f64 = 0.25;

/// Why ours is far from YourSQL's, for the rows that disagree.
#[cfg(feature = "tpch")]
const WHY: &str = "our conventional side is DataFusion with a column-first filter (~90 ns per row \
    examined), not MariaDB's row engine: its scans are bound by the host's decoding, which hides \
    their I/O, so offload saves little; with a 550 MB/s link the trend is YourSQL's (README)";

#[cfg(not(feature = "tpch"))]
/// The rows, not run: this build has no query engine.
pub fn rows(
    _profile: &DeviceProfile,
    _calibration: Arc<Calibration>,
    _compute: Compute,
    _sf: f64,
    _progress: &mut Progress,
) -> Result<Vec<Row>, SuiteError> {
    Ok(PUBLISHED
        .iter()
        .map(|&(figure, published, unit)| Row {
            figure: figure.to_owned(),
            source: "YourSQL VLDB'16",
            published: Some(published),
            ours: None,
            unit,
            accept: None,
            tolerance: "-".to_owned(),
            verdict: "not run",
            note: "needs the query engine: `cargo run --release -p suite --features tpch -- paper`"
                .to_owned(),
            spread: None,
        })
        .collect())
}

#[cfg(feature = "tpch")]
/// Runs the 22 queries at `sf` in `conv` and `auto` and makes the rows.
pub fn rows(
    profile: &DeviceProfile,
    calibration: Arc<Calibration>,
    compute: Compute,
    sf: f64,
    progress: &mut Progress,
) -> Result<Vec<Row>, SuiteError> {
    use yoursql_core::{build_filter_module, ScanMode, TpchTable};
    use yoursql_filter::session::{self, Setup, SetupOptions, PAPER_HOST_MEMORY_PER_SF};
    use yoursql_filter::{tpch_pass, tpch_queries::TPCH, tpch_report};

    let tpch = |e: &dyn std::fmt::Display| SuiteError::Bench(format!("TPC-H: {e}"));
    progress.step(format!(
        "TPC-H: generating and storing the eight tables at SF {sf}"
    ));
    let mut o = SetupOptions::new(profile.clone(), sf, &TpchTable::ALL);
    o.module = Some(build_filter_module(true)?);
    o.compute = compute;
    o.calibration = calibration;
    let mut setup = Setup::open(&o).map_err(|e| tpch(&e))?;
    setup.set_buffer_pool(Some((PAPER_HOST_MEMORY_PER_SF * sf) as u64));
    let rt = session::runtime().map_err(|e| tpch(&e))?;
    progress.step(format!("TPC-H: the 22 queries at SF {sf}, conv and auto"));
    let modes = [ScanMode::Conv, ScanMode::Auto];
    let figures = tpch_pass::run(&setup, &rt, &TPCH, &modes, 1).map_err(|e| tpch(&e))?;
    progress.done();
    if let Some(q) = figures.iter().find(|q| !q.identical) {
        return Err(SuiteError::Mismatch {
            workload: "TPC-H",
            detail: format!("{} returned different rows in conv and auto", q.name),
        });
    }
    let s = tpch_report::summarize(&figures, &modes);
    let ours = [
        s.total_auto.unwrap_or(0.0),
        s.top_five_auto.unwrap_or(0.0),
        s.offloaded_in_auto.unwrap_or(0) as f64,
    ];
    let context = format!(
        "SF {sf}, compute {}, host buffer pool {} MiB; top five by conv time: {}",
        match compute {
            Compute::Modeled => "modeled (deterministic)",
            Compute::Measured => "measured (one run)",
        },
        (PAPER_HOST_MEMORY_PER_SF * sf) as u64 >> 20,
        s.top_five.join(", ")
    );
    Ok(PUBLISHED
        .iter()
        .zip(ours)
        .map(|(&(figure, published, unit), x)| {
            let r = Row::relative(figure, "YourSQL VLDB'16", published, x, unit, TOLERANCE);
            let note = if r.verdict == "agrees" {
                context.clone()
            } else {
                format!("{context}; {WHY}")
            };
            r.note(&note)
        })
        .collect())
}
