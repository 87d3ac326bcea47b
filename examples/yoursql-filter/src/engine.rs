//! The host query engine's own work in a query's simulated time: DataFusion's operators
//! (joins, aggregates, sorts, projections, ...) above the device scans.
//!
//! **What is charged.** [`EngineWork::of`] walks the executed physical plan and, for every
//! operator that is not a device scan, takes the rows it consumed (its children's output rows)
//! and the nodes of the expressions it evaluates, and DataFusion's own `elapsed_compute` metric.
//! The engine's compute is then:
//! - **modeled** (the default, deterministic): units ([`OperatorWork::units`]: rows consumed times
//!   one plus the expression nodes) times a calibrated cost per unit of that operator kind ([`EngineCosts`], from the calibration file's `[engine.*]` entries, written
//!   by `yoursql-filter calibrate-engine`); an operator kind without an entry is charged the
//!   `other` entry (all operators' time over all their rows in the calibration run);
//! - **measured**: the CPU time of the thread that ran the query's operators (the query runs on
//!   a current-thread runtime; the device scans run on other threads and are charged to the
//!   device's host clock separately), which varies with the machine and its load.
//!
//! The simulator's own work (simulating the device, turning scanned rows into Arrow batches) is
//! not engine work: it happens on the scan threads.
//!
//! **Cores.** MariaDB ran each query on one thread, so the engine's compute is charged on one
//! host core by default; with `host_cores` N it is divided by N (assumed: perfect scaling of the
//! operators over N cores, an upper bound on what parallel execution gains). The device scans
//! run one after another on the query's thread either way.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::ExecutionPlan;
use serde::Serialize;

use crate::scan_exec::DeviceScanExec;

/// The key of the entry charged to an operator kind without its own.
pub const OTHER: &str = "other";

/// One operator's work in an executed plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorWork {
    /// DataFusion's name of the operator (e.g. `HashJoinExec`).
    pub operator: String,
    /// Rows its children produced (what it consumed).
    pub rows_in: u64,
    /// Nodes of the expressions it evaluates (join keys, predicates, aggregates, projections).
    pub expr_nodes: u64,
    /// Rows it produced.
    pub rows_out: u64,
    /// DataFusion's `elapsed_compute` metric of the operator, in ns (wall time, measured; 0 when
    /// the operator does not report it). Used for calibration, never charged.
    pub elapsed_compute_ns: u64,
}

impl OperatorWork {
    /// The units its compute is charged by: rows consumed times (1 + expression nodes), since an
    /// operator evaluates its expressions on every row it consumes.
    pub fn units(&self) -> u64 {
        self.rows_in.saturating_mul(1 + self.expr_nodes)
    }
}

/// The engine's work in one executed plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EngineWork {
    /// Every operator above the device scans, in plan order (depth first).
    pub operators: Vec<OperatorWork>,
}

impl EngineWork {
    /// The work of an executed `plan` (module docs).
    pub fn of(plan: &Arc<dyn ExecutionPlan>) -> EngineWork {
        let mut w = EngineWork::default();
        walk(plan, &mut w);
        w
    }
}

/// Rows `plan` produced: its `output_rows` metric, or for an operator without one (a
/// pass-through such as `CooperativeExec`) what its children produced.
fn output_rows(plan: &Arc<dyn ExecutionPlan>) -> u64 {
    match plan.metrics().and_then(|m| m.output_rows()) {
        Some(r) => r as u64,
        None => plan.children().iter().map(|c| output_rows(c)).sum(),
    }
}

fn nodes(e: &Arc<dyn PhysicalExpr>) -> u64 {
    1 + e.children().iter().map(|c| nodes(c)).sum::<u64>()
}

fn walk(plan: &Arc<dyn ExecutionPlan>, w: &mut EngineWork) {
    if plan.downcast_ref::<DeviceScanExec>().is_some() {
        return;
    }
    let rows_in = plan.children().iter().map(|c| output_rows(c)).sum();
    let mut expr_nodes = 0;
    // A visitor that cannot fail: the count is complete.
    let _ = plan.apply_expressions(&mut |e| {
        expr_nodes += nodes(e);
        Ok(TreeNodeRecursion::Continue)
    });
    w.operators.push(OperatorWork {
        operator: plan.name().to_string(),
        rows_in,
        expr_nodes,
        rows_out: output_rows(plan),
        elapsed_compute_ns: plan
            .metrics()
            .and_then(|m| m.elapsed_compute())
            .map_or(0, |n| n as u64),
    });
    for c in plan.children() {
        walk(c, w);
    }
}

/// Calibrated costs per unit ([`OperatorWork::units`]), by operator kind, in picoseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineCosts {
    /// Operator name -> ps per unit; [`OTHER`] for the rest.
    pub ps_per_row: BTreeMap<String, u64>,
}

impl EngineCosts {
    /// The modeled compute of `work`, in ns.
    pub fn charge(&self, work: &EngineWork) -> u64 {
        u64::try_from(self.charge_ps(work) / 1000).unwrap_or(u64::MAX)
    }

    /// The modeled compute of `work`, in ps (to sum the work of several plans before rounding).
    pub fn charge_ps(&self, work: &EngineWork) -> u128 {
        let other = self.ps_per_row.get(OTHER).copied().unwrap_or(0);
        work.operators
            .iter()
            .map(|o| {
                let per = self.ps_per_row.get(&o.operator).copied().unwrap_or(other);
                u128::from(o.units()) * u128::from(per)
            })
            .sum()
    }
}

/// How the engine's compute is charged (module docs).
#[derive(Debug, Clone, PartialEq)]
pub enum EngineCharge {
    /// Rows consumed times calibrated costs (deterministic).
    Modeled(EngineCosts),
    /// The query thread's CPU time.
    Measured,
}

/// A query's engine compute: what was counted, the compute charged, and how.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineTime {
    /// `modeled` or `measured`.
    pub charged_as: &'static str,
    /// Host cores the compute is spread over.
    pub host_cores: u32,
    /// Compute over all cores, in ns.
    pub cpu_ns: u64,
    /// `cpu_ns / host_cores`: the time added to the query's simulated time, in ns.
    pub time_ns: u64,
    /// The operators' work.
    pub work: EngineWork,
}

impl EngineCharge {
    /// The engine time of `work`, given the query thread's measured CPU time `measured`.
    pub fn time(&self, work: EngineWork, measured: Duration, host_cores: u32) -> EngineTime {
        let (charged_as, cpu_ns) = match self {
            EngineCharge::Modeled(c) => ("modeled", c.charge(&work)),
            EngineCharge::Measured => ("measured", u64::try_from(measured.as_nanos()).unwrap_or(u64::MAX)),
        };
        let cores = host_cores.max(1);
        EngineTime {
            charged_as,
            host_cores: cores,
            cpu_ns,
            time_ns: cpu_ns.div_ceil(u64::from(cores)),
            work,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(name: &str, rows_in: u64) -> OperatorWork {
        OperatorWork {
            operator: name.into(),
            rows_in,
            expr_nodes: 0,
            rows_out: 0,
            elapsed_compute_ns: 0,
        }
    }

    #[test]
    fn modeled_compute_is_rows_times_cost_with_other_for_the_rest() {
        let costs = EngineCosts {
            ps_per_row: [("HashJoinExec".to_string(), 20_000), (OTHER.to_string(), 1_000)].into(),
        };
        let work = EngineWork {
            operators: vec![
                op("HashJoinExec", 1000),
                op("SortExec", 500),
                op("HashJoinExec", 10),
            ],
        };
        assert_eq!(costs.charge(&work), (1010 * 20_000 + 500 * 1_000) / 1000);
        let two_exprs = OperatorWork {
            expr_nodes: 2,
            ..op("SortExec", 10)
        };
        assert_eq!(two_exprs.units(), 30);
        let t = EngineCharge::Modeled(costs).time(work.clone(), Duration::from_secs(9), 4);
        assert_eq!((t.charged_as, t.cpu_ns, t.time_ns), ("modeled", 20_700, 5_175));
        let m = EngineCharge::Measured.time(work, Duration::from_micros(3), 0);
        assert_eq!((m.cpu_ns, m.time_ns, m.host_cores), (3_000, 3_000, 1));
    }
}
