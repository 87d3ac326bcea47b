//! The `tpch` command's report: per query and mode the median simulated time over the runs
//! (with min-max), pages read, PCIe bytes and the per-scan offload decisions; totals per mode;
//! the five queries with the largest conventional time and their average speed-up; the count of
//! queries with an offloaded scan in `auto`; and those figures beside YourSQL's published ones.
//!
//! Simulated time is [`QueryRun::simulated_ns`]: the query's device scans (device work, PCIe,
//! the host's decoding and filtering, one after another) plus DataFusion's own operators (joins,
//! aggregates, sorts: [`crate::engine`]) on the host cores given.

use crate::session::QueryRun;
use serde_json::{json, Value as Json};
use yoursql_core::ScanMode;

/// What the simulated times cover, for the text and the JSON.
pub const TIME_NOTE: &str = "simulated time = the query's device scans one after \
    another (device work, PCIe transfer, host decoding and filtering) + the engine's operators \
    (joins, aggregates, sorts) on the host cores given";

/// YourSQL's published TPC-H figures (over MariaDB, 22 queries).
pub const PUBLISHED_TOTAL: f64 = 3.6;
/// YourSQL's published average speed-up of its five longest queries.
pub const PUBLISHED_TOP_FIVE: f64 = 15.0;
/// Queries YourSQL offloaded, of 22.
pub const PUBLISHED_OFFLOADED: usize = 8;

/// One scan's offload decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The table scanned.
    pub table: String,
    /// Whether the scan ran on the device's matchers.
    pub offloaded: bool,
    /// Why (the planner's rule that decided).
    pub reason: String,
    /// Early filtering through joins (bounds taken from hash joins' dynamic filters).
    pub early: Vec<String>,
}

/// One query in one mode over all its runs.
#[derive(Debug, Clone)]
pub struct ModeFigures {
    /// The scan mode.
    pub mode: ScanMode,
    /// Simulated time of each run, in run order.
    pub times_ns: Vec<u64>,
    /// Figures of the median run (the lower middle one for an even number of runs).
    pub pages_read: u64,
    /// NAND pages sent to the host.
    pub pages_transferred: u64,
    /// Pages the host buffer pool served.
    pub pages_from_pool: u64,
    /// Bytes over PCIe.
    pub pcie_bytes: u64,
    /// The scans' simulated time and the engine's, in ns (median run).
    pub scan_ns: u64,
    /// (The engine's.)
    pub engine_ns: u64,
    /// Energy of the median run, in J.
    pub energy_j: f64,
    /// Each scan's offload decision.
    pub decisions: Vec<Decision>,
}

impl ModeFigures {
    /// Collects `runs` (at least one) of one query in one mode.
    pub fn from_runs(mode: ScanMode, runs: &[QueryRun], profile: &host_sdk::DeviceProfile) -> ModeFigures {
        let times_ns: Vec<u64> = runs.iter().map(QueryRun::simulated_ns).collect();
        let mut order: Vec<usize> = (0..runs.len()).collect();
        order.sort_by_key(|&i| times_ns[i]);
        let mid = &runs[order[(runs.len() - 1) / 2]];
        ModeFigures {
            mode,
            times_ns,
            pages_read: mid.pages_read(),
            pages_transferred: mid.pages_transferred(),
            pages_from_pool: mid.pages_from_pool(),
            pcie_bytes: mid.pcie_bytes(),
            scan_ns: mid.scan_ns(),
            engine_ns: mid.engine.time_ns,
            energy_j: mid.energy(profile).total_j,
            decisions: mid
                .scans
                .iter()
                .map(|s| Decision {
                    table: s.table.clone(),
                    offloaded: s.stats.decision.offloaded && s.fallback.is_none(),
                    reason: s.fallback.as_ref().map_or_else(
                        || s.stats.decision.reason.clone(),
                        |f| format!("nothing to offload: {f}"),
                    ),
                    early: s.early.clone(),
                })
                .collect(),
        }
    }

    /// Median simulated time (the mean of the two middle runs for an even number).
    pub fn median_ns(&self) -> u64 {
        median(&self.times_ns)
    }

    /// Fastest run's simulated time.
    pub fn min_ns(&self) -> u64 {
        self.times_ns.iter().copied().min().unwrap_or(0)
    }

    /// Slowest run's simulated time.
    pub fn max_ns(&self) -> u64 {
        self.times_ns.iter().copied().max().unwrap_or(0)
    }

    /// Scans of the median run that were offloaded.
    pub fn offloaded_scans(&self) -> usize {
        self.decisions.iter().filter(|d| d.offloaded).count()
    }
}

/// [`median`] of real numbers (the same rule).
pub fn median_f64(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The median of `v` (the mean of the two middle values for an even length; 0 when empty).
pub fn median(v: &[u64]) -> u64 {
    let mut s = v.to_vec();
    s.sort_unstable();
    match s.len() {
        0 => 0,
        n if n % 2 == 1 => s[n / 2],
        n => ((u128::from(s[n / 2 - 1]) + u128::from(s[n / 2])) / 2) as u64,
    }
}

/// One query in every mode run.
#[derive(Debug, Clone)]
pub struct QueryFigures {
    /// The query's name (`q1` ... `q22`).
    pub name: String,
    /// Rows of the answer (of the first run).
    pub rows: usize,
    /// Whether every run in every mode returned the same rows.
    pub identical: bool,
    /// Its figures in each mode run.
    pub modes: Vec<ModeFigures>,
}

impl QueryFigures {
    /// Its figures in mode `m`, if `m` ran.
    pub fn mode(&self, m: ScanMode) -> Option<&ModeFigures> {
        self.modes.iter().find(|f| f.mode == m)
    }

    /// conv median / `m` median, when both ran.
    pub fn speedup(&self, m: ScanMode) -> Option<f64> {
        let conv = self.mode(ScanMode::Conv)?.median_ns();
        let other = self.mode(m)?.median_ns();
        Some(ratio(conv, other))
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / b.max(1) as f64
}

/// Totals of one mode over the queries run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    /// The scan mode.
    pub mode: ScanMode,
    /// Sum of the per-query median simulated times.
    pub simulated_ns: u64,
    /// Sum of the engine's simulated time, ns.
    pub engine_ns: u64,
    /// Sum of NAND pages read.
    pub pages_read: u64,
    /// Sum of pages the buffer pool served.
    pub pages_from_pool: u64,
    /// Sum of PCIe bytes.
    pub pcie_bytes: u64,
    /// Sum of the energy, J.
    pub energy_j: f64,
}

/// Everything after the per-query rows.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Totals of each mode run.
    pub totals: Vec<Totals>,
    /// The (up to) five queries with the largest conventional median time, largest first;
    /// empty when `conv` did not run.
    pub top_five: Vec<String>,
    /// Mean of the per-query speed-ups of `top_five`, conv / offload and conv / auto.
    pub top_five_offload: Option<f64>,
    /// (conv / auto.)
    pub top_five_auto: Option<f64>,
    /// Total conv / total offload and total conv / total auto.
    pub total_offload: Option<f64>,
    /// (Total conv / total auto.)
    pub total_auto: Option<f64>,
    /// Queries with at least one offloaded scan in `auto` (`None`: auto did not run).
    pub offloaded_in_auto: Option<usize>,
    /// The query where auto is slowest relative to conv, and auto / conv - 1 (`None`: auto or
    /// conv did not run).
    pub worst_auto: Option<(String, f64)>,
    /// Queries run.
    pub queries: usize,
}

/// Totals per mode, the top five by conventional time and their speed-ups, and the offload
/// counts, over the queries' figures.
pub fn summarize(qs: &[QueryFigures], modes: &[ScanMode]) -> Summary {
    let totals: Vec<Totals> = modes
        .iter()
        .map(|&mode| {
            let fs = qs.iter().filter_map(|q| q.mode(mode));
            let mut t = Totals {
                mode,
                simulated_ns: 0,
                engine_ns: 0,
                pages_read: 0,
                pages_from_pool: 0,
                pcie_bytes: 0,
                energy_j: 0.0,
            };
            for f in fs {
                t.simulated_ns += f.median_ns();
                t.engine_ns += f.engine_ns;
                t.pages_read += f.pages_read;
                t.pages_from_pool += f.pages_from_pool;
                t.pcie_bytes += f.pcie_bytes;
                t.energy_j += f.energy_j;
            }
            t
        })
        .collect();
    let total = |m: ScanMode| totals.iter().find(|t| t.mode == m).map(|t| t.simulated_ns);
    let total_speedup = |m: ScanMode| Some(ratio(total(ScanMode::Conv)?, total(m)?));
    let mut by_conv: Vec<(&QueryFigures, u64)> = qs
        .iter()
        .filter_map(|q| Some((q, q.mode(ScanMode::Conv)?.median_ns())))
        .collect();
    // Largest first; ties in query order (the sort is stable).
    by_conv.sort_by_key(|&(_, ns)| std::cmp::Reverse(ns));
    by_conv.truncate(5);
    let top: Vec<&QueryFigures> = by_conv.iter().map(|&(q, _)| q).collect();
    let mean_speedup = |m: ScanMode| {
        let v: Option<Vec<f64>> = top.iter().map(|q| q.speedup(m)).collect();
        v.filter(|v| !v.is_empty())
            .map(|v| v.iter().sum::<f64>() / v.len() as f64)
    };
    Summary {
        top_five: top.iter().map(|q| q.name.clone()).collect(),
        top_five_offload: mean_speedup(ScanMode::Offload),
        top_five_auto: mean_speedup(ScanMode::Auto),
        total_offload: total_speedup(ScanMode::Offload),
        total_auto: total_speedup(ScanMode::Auto),
        offloaded_in_auto: modes.contains(&ScanMode::Auto).then(|| {
            qs.iter()
                .filter(|q| q.mode(ScanMode::Auto).is_some_and(|f| f.offloaded_scans() > 0))
                .count()
        }),
        worst_auto: qs
            .iter()
            .filter_map(|q| {
                let (c, a) = (
                    q.mode(ScanMode::Conv)?.median_ns(),
                    q.mode(ScanMode::Auto)?.median_ns(),
                );
                Some((q.name.clone(), a as f64 / c.max(1) as f64 - 1.0))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1)),
        queries: qs.len(),
        totals,
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn times_x(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |x| format!("{x:.2}x"))
}

/// The comparison rows: (figure, published, ours as text, ours as a number).
type Row = (String, String, String, Json);

fn comparison(s: &Summary) -> Vec<Row> {
    let top = format!("top-five average speed-up ({} queries)", s.top_five.len());
    vec![
        (
            "total speed-up, conv / offload".to_string(),
            format!("{PUBLISHED_TOTAL}x"),
            times_x(s.total_offload),
            json!(s.total_offload),
        ),
        (
            "total speed-up, conv / auto".to_string(),
            format!("{PUBLISHED_TOTAL}x"),
            times_x(s.total_auto),
            json!(s.total_auto),
        ),
        (
            format!("{top}, conv / offload"),
            format!("{PUBLISHED_TOP_FIVE}x"),
            times_x(s.top_five_offload),
            json!(s.top_five_offload),
        ),
        (
            format!("{top}, conv / auto"),
            format!("{PUBLISHED_TOP_FIVE}x"),
            times_x(s.top_five_auto),
            json!(s.top_five_auto),
        ),
        (
            "queries with an offloaded scan (auto)".to_string(),
            format!("{PUBLISHED_OFFLOADED} of 22"),
            s.offloaded_in_auto
                .map_or_else(|| "n/a".to_string(), |k| format!("{k} of {}", s.queries)),
            json!(s.offloaded_in_auto),
        ),
    ]
}

/// The number in a published figure: 3.6 of `3.6x`, 8 of `8 of 22`.
fn published_value(p: &str) -> Json {
    let n = p.trim_end_matches('x').split(' ').next().unwrap_or("");
    n.parse::<f64>().map_or(Json::Null, |v| json!(v))
}

/// The text report.
pub fn text(head: &str, runs: usize, qs: &[QueryFigures], s: &Summary) -> String {
    let mut out = vec![head.to_string(), format!("({TIME_NOTE})")];
    let Some(first) = qs.first() else {
        return out.join("\n");
    };
    let modes: Vec<ScanMode> = first.modes.iter().map(|f| f.mode).collect();
    let cell = if runs > 1 { 30 } else { 14 };
    let mut h = format!("{:<6}{:>7}", "query", "rows");
    for m in &modes {
        let name = if runs > 1 {
            format!("{} ms: median [min-max]", m.name())
        } else {
            format!("{} (ms)", m.name())
        };
        h.push_str(&format!("{name:>cell$}"));
    }
    for m in &modes {
        h.push_str(&format!("{:>15}", format!("pages {}", m.name())));
    }
    for m in &modes {
        h.push_str(&format!("{:>15}", format!("MiB {}", m.name())));
    }
    h.push_str("  identical");
    out.push(String::new());
    out.push(h);
    for q in qs {
        let mut l = format!("{:<6}{:>7}", q.name, q.rows);
        for f in &q.modes {
            let c = if runs > 1 {
                format!(
                    "{:.3} [{:.3}-{:.3}]",
                    ms(f.median_ns()),
                    ms(f.min_ns()),
                    ms(f.max_ns())
                )
            } else {
                format!("{:.3}", ms(f.median_ns()))
            };
            l.push_str(&format!("{c:>cell$}"));
        }
        for f in &q.modes {
            l.push_str(&format!("{:>15}", f.pages_read));
        }
        for f in &q.modes {
            l.push_str(&format!("{:>15.3}", f.pcie_bytes as f64 / (1 << 20) as f64));
        }
        l.push_str(if q.identical { "  yes" } else { "  NO" });
        out.push(l);
    }
    out.push(String::new());
    out.push("offload decisions per scan (of the median run):".to_string());
    for q in qs {
        for f in q.modes.iter().filter(|f| f.mode != ScanMode::Conv) {
            for d in &f.decisions {
                out.push(format!(
                    "  {:<5} {:<8} {:<9} {:<13} {}",
                    q.name,
                    f.mode.name(),
                    d.table,
                    if d.offloaded { "offloaded" } else { "conventional" },
                    d.reason
                ));
                for e in &d.early {
                    out.push(format!(
                        "  {:<5} {:<8} {:<9} {:<13} early filtering: {e}",
                        "", "", "", ""
                    ));
                }
            }
        }
    }
    if !modes.iter().any(|&m| m != ScanMode::Conv) {
        out.push("  (conv only: every scan conventional)".to_string());
    }
    out.push(String::new());
    out.push(format!(
        "totals over {} queries (sum of the per-query medians):",
        s.queries
    ));
    for t in &s.totals {
        out.push(format!(
            "  {:<8} {:>12.3} ms (engine {:.3} ms) {:>10} pages read {:>10} from the pool {:>10.3} MiB over PCIe {:>10.3} J",
            t.mode.name(),
            ms(t.simulated_ns),
            ms(t.engine_ns),
            t.pages_read,
            t.pages_from_pool,
            t.pcie_bytes as f64 / (1 << 20) as f64,
            t.energy_j
        ));
    }
    if let Some((q, x)) = &s.worst_auto {
        out.push(format!(
            "auto against conv, worst query: {q} {:+.1}% (auto should never be more than 5% slower)",
            100.0 * x
        ));
    }
    if s.top_five.is_empty() {
        out.push("top five: n/a (conv did not run)".to_string());
    } else {
        out.push(format!(
            "the {} queries with the largest conventional time (median): {}",
            s.top_five.len(),
            s.top_five.join(", ")
        ));
    }
    out.push(String::new());
    out.push(format!("{:<60}{:>12}{:>12}", "figure", "published", "ours"));
    for (figure, published, ours, _) in comparison(s) {
        out.push(format!("{figure:<60}{published:>12}{ours:>12}"));
    }
    out.push(
        "(published: YourSQL over MariaDB, 22 queries at SF 100, whole-query time; \
         ours: whole-query simulated time as above)"
            .to_string(),
    );
    out.join("\n")
}

/// What a report's runs had in common.
#[derive(Debug, Clone)]
pub struct Context {
    /// Scale factor.
    pub sf: f64,
    /// Device profile's name.
    pub profile: String,
    /// Runs of each query per mode.
    pub runs: usize,
    /// `modeled` or `measured`.
    pub compute: &'static str,
    /// Host cores the engine ran on.
    pub host_cores: u32,
    /// Devices the tables were spread over.
    pub devices: usize,
}

/// One host memory size's totals.
#[derive(Debug, Clone)]
pub struct SweepPoint {
    /// The size as given (e.g. `paper (164 MiB)`).
    pub host_memory: String,
    /// The pool's bytes.
    pub bytes: u64,
    /// Totals of each mode.
    pub totals: Vec<Totals>,
    /// Total conv / total offload.
    pub total_offload: Option<f64>,
    /// Total conv / total auto.
    pub total_auto: Option<f64>,
}

/// The sweep over host memory sizes as text.
pub fn sweep_text(points: &[SweepPoint]) -> String {
    let mut out = vec![
        "host memory sweep (totals over the queries; YourSQL: less memory, higher speed-up):".to_string(),
        format!(
            "{:<28}{:>14}{:>14}{:>14}{:>12}{:>12}",
            "host buffer pool", "conv ms", "offload ms", "auto ms", "conv/off", "conv/auto"
        ),
    ];
    for p in points {
        let t = |m: ScanMode| {
            p.totals
                .iter()
                .find(|t| t.mode == m)
                .map_or_else(|| "n/a".to_string(), |t| format!("{:.3}", ms(t.simulated_ns)))
        };
        out.push(format!(
            "{:<28}{:>14}{:>14}{:>14}{:>12}{:>12}",
            p.host_memory,
            t(ScanMode::Conv),
            t(ScanMode::Offload),
            t(ScanMode::Auto),
            times_x(p.total_offload),
            times_x(p.total_auto)
        ));
    }
    out.join("\n")
}

/// The sweep as JSON.
pub fn sweep_json(points: &[SweepPoint]) -> Json {
    json!(points
        .iter()
        .map(|p| json!({
            "host_memory": p.host_memory,
            "host_memory_bytes": p.bytes,
            "total_ns": p.totals.iter().map(|t| (t.mode.name().to_string(), json!(t.simulated_ns))).collect::<serde_json::Map<_, _>>(),
            "total_speedup_offload": p.total_offload,
            "total_speedup_auto": p.total_auto,
        }))
        .collect::<Vec<_>>())
}

/// The JSON report.
pub fn json(c: &Context, host_memory: &str, qs: &[QueryFigures], s: &Summary) -> Json {
    let (sf, profile, runs) = (c.sf, &c.profile, c.runs);
    let queries: Vec<Json> = qs
        .iter()
        .map(|q| {
            let mut modes = serde_json::Map::new();
            for f in &q.modes {
                modes.insert(
                    f.mode.name().to_string(),
                    json!({
                        "simulated_ns": f.median_ns(),
                        "simulated_ns_min": f.min_ns(),
                        "simulated_ns_max": f.max_ns(),
                        "simulated_ns_runs": f.times_ns,
                        "pages_read": f.pages_read,
                        "pages_transferred": f.pages_transferred,
                        "pages_from_pool": f.pages_from_pool,
                        "pcie_bytes": f.pcie_bytes,
                        "scan_ns": f.scan_ns,
                        "engine_ns": f.engine_ns,
                        "energy_j": f.energy_j,
                        "offloaded_scans": f.offloaded_scans(),
                        "decisions": f.decisions.iter().map(|d| json!({
                            "table": d.table,
                            "offloaded": d.offloaded,
                            "reason": d.reason,
                            "early_filtering": d.early,
                        })).collect::<Vec<_>>(),
                    }),
                );
            }
            json!({
                "query": q.name,
                "rows": q.rows,
                "identical": q.identical,
                "modes": modes,
                "speedup_offload": q.speedup(ScanMode::Offload),
                "speedup_auto": q.speedup(ScanMode::Auto),
            })
        })
        .collect();
    let mut totals = serde_json::Map::new();
    for t in &s.totals {
        totals.insert(
            t.mode.name().to_string(),
            json!({
                "simulated_ns": t.simulated_ns,
                "engine_ns": t.engine_ns,
                "pages_read": t.pages_read,
                "pages_from_pool": t.pages_from_pool,
                "pcie_bytes": t.pcie_bytes,
                "energy_j": t.energy_j,
            }),
        );
    }
    json!({
        "sf": sf,
        "profile": profile,
        "runs": runs,
        "compute": c.compute,
        "host_cores": c.host_cores,
        "devices": c.devices,
        "host_memory": host_memory,
        "modes": s.totals.iter().map(|t| t.mode.name()).collect::<Vec<_>>(),
        "note": TIME_NOTE,
        "queries": queries,
        "totals": totals,
        "total_speedup_offload": s.total_offload,
        "total_speedup_auto": s.total_auto,
        "top_five": {
            "queries": s.top_five,
            "speedup_offload_avg": s.top_five_offload,
            "speedup_auto_avg": s.top_five_auto,
        },
        "offloaded_queries_auto": s.offloaded_in_auto,
        "worst_auto_vs_conv": s.worst_auto.as_ref().map(|(q, x)| json!({"query": q, "slower_by": x})),
        "query_count": s.queries,
        "comparison": comparison(s).into_iter().map(|(figure, published, ours, value)| json!({
            "figure": figure,
            "published_value": published_value(&published),
            "published": published,
            "ours": ours,
            "ours_value": value,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str, conv: &[u64], off: &[u64], auto: &[u64], auto_offloads: bool) -> QueryFigures {
        let f = |mode, t: &[u64], offloaded| ModeFigures {
            mode,
            times_ns: t.to_vec(),
            pages_read: 10,
            pages_transferred: 10,
            pages_from_pool: 0,
            pcie_bytes: 100,
            scan_ns: t[0],
            engine_ns: 0,
            energy_j: 1.0,
            decisions: vec![Decision {
                table: "lineitem".into(),
                offloaded,
                reason: "r".into(),
                early: Vec::new(),
            }],
        };
        QueryFigures {
            name: name.into(),
            rows: 1,
            identical: true,
            modes: vec![
                f(ScanMode::Conv, conv, false),
                f(ScanMode::Offload, off, true),
                f(ScanMode::Auto, auto, auto_offloads),
            ],
        }
    }

    #[test]
    fn medians_totals_top_five_and_offloaded_count() {
        assert_eq!(median(&[5, 1, 3]), 3);
        assert_eq!(median(&[4, 1, 3, 2]), 2);
        assert_eq!(median(&[7]), 7);
        let qs: Vec<QueryFigures> = (1..=7)
            .map(|i| {
                q(
                    &format!("q{i}"),
                    &[i * 100, i * 100 + 2, i * 100 - 2],
                    &[50],
                    &[i * 100],
                    i % 2 == 0,
                )
            })
            .collect();
        let s = summarize(&qs, &[ScanMode::Conv, ScanMode::Offload, ScanMode::Auto]);
        assert_eq!(s.totals[0].simulated_ns, (1..=7).map(|i| i * 100).sum::<u64>());
        assert_eq!(s.totals[1].simulated_ns, 350);
        assert_eq!(s.top_five, ["q7", "q6", "q5", "q4", "q3"]);
        let want = [7.0, 6.0, 5.0, 4.0, 3.0].iter().map(|x| x * 2.0).sum::<f64>() / 5.0;
        assert!((s.top_five_offload.unwrap() - want).abs() < 1e-9);
        assert!((s.top_five_auto.unwrap() - 1.0).abs() < 1e-9);
        assert!((s.total_auto.unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(s.offloaded_in_auto, Some(3));
        let conv_only = summarize(&qs, &[ScanMode::Conv]);
        assert_eq!(conv_only.offloaded_in_auto, None);
        assert_eq!(conv_only.total_offload, None);
    }
}
