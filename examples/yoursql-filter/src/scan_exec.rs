//! [`DeviceScanExec`]: the physical plan node of one device table scan.
//!
//! **Partitions.** The node has one partition per device the table is spread over
//! ([`yoursql_core::parts`]): partition `p` returns device `p`'s part of the table.
//!
//! **When a scan runs.** DataFusion calls `execute` while it builds the stream tree, before a
//! hash join's build side exists; the device scan starts only when one of its partitions'
//! streams is first polled. Then it takes one ticket from the query's [`ScanGate`] for all its
//! partitions and, once every earlier ticket's scan has finished, runs all its partitions at
//! once on blocking threads ([`crate::scan_parts`]: one per partition, each on its device's host
//! clock); its turn ends when the last partition has finished. So the scans of one query run one
//! after another, in the order the engine first asks for their rows (MariaDB runs a query on
//! one thread; and the order, hence every simulated time, is the same in every run). A scan
//! starts every partition at its first poll and streams its batches without waiting for the
//! engine, so it never waits for a later scan or for a partition the engine polls late, and the
//! tickets cannot deadlock.
//!
//! **Early filtering through joins.** The node accepts the dynamic filters DataFusion's hash
//! join pushes from its build side into the probe side (`datafusion.optimizer.
//! enable_join_dynamic_filter_pushdown`, on by default): once the build side is complete, the
//! filter holds the build keys' bounds (`k >= min AND k <= max`) and often their set. With one
//! partition a scan is first polled after the joins above it have their build sides; with
//! several, an operator that polls all partitions of its input at once (`CoalescePartitionsExec`
//! under a join's build side) may poll a scan earlier, so at its first poll a scan waits for the
//! hash joins' filters it was handed (those [`ScanGate::note_join_filters`] noted) to be
//! complete before it takes its ticket: what it takes does not depend on how tasks interleave.
//! Then the scan reads each complete filter and adds the bounds on its own columns to the
//! host's software filter (not to the offload decision or the matcher plan: a range of join keys
//! spans nearly every page, and a matcher key for it would only slow the matchers); a filter not yet complete, or parts it cannot use (sets, hash lookups, computed
//! keys), are left to the join and said so in [`crate::ScanRecord::early`]. The join still
//! applies its own condition, so the answer does not change: the filter only drops probe rows
//! that cannot join.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::config::ConfigOptions;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::Statistics;
use datafusion::error::Result as DfResult;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::expressions::{BinaryExpr, Column, DynamicFilterPhysicalExpr, Literal};
use datafusion::physical_expr::{split_conjunction, EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_expr_common::physical_expr::snapshot_physical_expr;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::filter_pushdown::{
    ChildPushdownResult, FilterPushdownPhase, FilterPushdownPropagation, PushedDown,
};
use datafusion::physical_plan::joins::HashJoinExec;
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    apply_expression_roots, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
    SendableRecordBatchStream,
};
use futures::StreamExt;
use yoursql_core::{BoundPredicate, CmpOp, Predicate, ScanMode, Schema, Value};

use crate::provider::ScanRecord;
use crate::scan_parts::{self, BatchTx, TablePart};

/// Runs the scans of one query one after another, in ticket order (module docs).
#[derive(Debug, Default)]
pub struct ScanGate {
    /// (next ticket to hand out, ticket whose turn it is).
    state: Mutex<(u64, u64)>,
    turn: Condvar,
    /// The ids of the plan's hash joins' dynamic filters ([`ScanGate::note_join_filters`]).
    join_filters: Mutex<Vec<u64>>,
}

impl ScanGate {
    /// Notes the dynamic filters of `plan`'s hash joins: a scan handed one of them waits for it
    /// to be complete before it starts (module docs). Call before executing `plan`.
    pub fn note_join_filters(&self, plan: &Arc<dyn ExecutionPlan>) {
        if plan.downcast_ref::<HashJoinExec>().is_some() {
            let produced = plan.dynamic_expressions_produced();
            let ids = produced
                .iter()
                .filter(|e| e.downcast_ref::<DynamicFilterPhysicalExpr>().is_some())
                .filter_map(|e| e.expression_id());
            self.join_filters
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(ids);
        }
        for c in plan.children() {
            self.note_join_filters(c);
        }
    }

    /// `f` is a hash join's dynamic filter noted by [`ScanGate::note_join_filters`] (or a copy
    /// with its columns renamed on the way down, which keeps the filter's id).
    fn is_join_filter(&self, f: &Arc<dyn PhysicalExpr>) -> bool {
        f.downcast_ref::<DynamicFilterPhysicalExpr>().is_some()
            && f.expression_id().is_some_and(|id| {
                self.join_filters
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .contains(&id)
            })
    }

    fn ticket(&self) -> u64 {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.0 += 1;
        s.0 - 1
    }

    fn wait_turn(&self, ticket: u64) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while s.1 != ticket {
            s = self.turn.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn done(&self) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.1 += 1;
        self.turn.notify_all();
    }
}

/// Ends a ticket's turn however its scan ends.
struct Turn(Arc<ScanGate>);

impl Drop for Turn {
    fn drop(&mut self) {
        self.0.done();
    }
}

/// What a scan needs to run.
#[derive(Clone)]
pub(crate) struct ScanSpec {
    /// One part per device, in device order (at least one).
    pub(crate) parts: Vec<TablePart>,
    pub(crate) filter: Vec<BoundPredicate>,
    /// Bounds from joins' dynamic filters: for the host's software filter only.
    pub(crate) host_filter: Vec<BoundPredicate>,
    pub(crate) projection: Option<Vec<usize>>,
    pub(crate) mode: ScanMode,
    pub(crate) scans: Arc<Mutex<Vec<ScanRecord>>>,
    pub(crate) gate: Arc<ScanGate>,
}

impl ScanSpec {
    /// The table's name.
    pub(crate) fn table_name(&self) -> &str {
        self.parts[0].table.name()
    }

    /// The table's schema.
    fn schema(&self) -> &Schema {
        &self.parts[0].table.schema
    }

    /// Rows stored in all parts.
    fn rows(&self) -> u64 {
        self.parts.iter().map(|p| p.table.rows).sum()
    }
}

/// The partitions' streams once the scan has started: partition `p`'s receiver until its
/// stream takes it.
type Launched =
    tokio::sync::OnceCell<Mutex<Vec<Option<tokio::sync::mpsc::UnboundedReceiver<DfResult<RecordBatch>>>>>>;

/// One device table scan in a physical plan (module docs).
#[derive(Clone)]
pub struct DeviceScanExec {
    spec: ScanSpec,
    schema: SchemaRef,
    props: Arc<PlanProperties>,
    dynamic: Vec<Arc<dyn PhysicalExpr>>,
    metrics: ExecutionPlanMetricsSet,
    /// Started at the first poll of any partition (module docs); fresh in every copy of the node
    /// made before execution.
    launched: Arc<Launched>,
}

impl fmt::Debug for DeviceScanExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceScanExec")
            .field("table", &self.spec.table_name())
            .field("partitions", &self.spec.parts.len())
            .field("mode", &self.spec.mode)
            .field("filter", &self.filter_text())
            .field("dynamic_filters", &self.dynamic.len())
            .finish_non_exhaustive()
    }
}

impl DeviceScanExec {
    pub(crate) fn new(spec: ScanSpec, schema: SchemaRef) -> Self {
        let props = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(spec.parts.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        DeviceScanExec {
            spec,
            schema,
            props: Arc::new(props),
            dynamic: Vec::new(),
            metrics: ExecutionPlanMetricsSet::new(),
            launched: Arc::default(),
        }
    }

    fn filter_text(&self) -> Vec<String> {
        self.spec.filter.iter().map(|p| p.to_string()).collect()
    }
}

impl DisplayAs for DeviceScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "DeviceScanExec: table={}, partitions={}, mode={}, filter=[{}], dynamic_filters={}",
            self.spec.table_name(),
            self.spec.parts.len(),
            self.spec.mode.name(),
            self.filter_text().join(" AND "),
            self.dynamic.len()
        )
    }
}

impl ExecutionPlan for DeviceScanExec {
    fn name(&self) -> &'static str {
        "DeviceScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        // The join computes its dynamic filter only if a node below it owns the filter.
        apply_expression_roots(self.dynamic.iter(), f)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn reset_state(self: Arc<Self>) -> DfResult<Arc<dyn ExecutionPlan>> {
        let mut fresh = (*self).clone();
        fresh.dynamic.clear();
        fresh.metrics = ExecutionPlanMetricsSet::new();
        fresh.launched = Arc::default();
        Ok(Arc::new(fresh))
    }

    fn partition_statistics(&self, partition: Option<usize>) -> DfResult<Arc<Statistics>> {
        // The stored row count (before the pushed-down filters): lets the planner put the
        // smaller input of a join on its build side.
        let rows = match partition {
            Some(p) => self.spec.parts.get(p).map_or(0, |t| t.table.rows),
            None => self.spec.rows(),
        };
        let rows = usize::try_from(rows).unwrap_or(usize::MAX);
        Ok(Arc::new(
            Statistics::new_unknown(&self.schema).with_num_rows(Precision::Inexact(rows)),
        ))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn handle_child_pushdown_result(
        &self,
        phase: FilterPushdownPhase,
        result: ChildPushdownResult,
        _config: &ConfigOptions,
    ) -> DfResult<FilterPushdownPropagation<Arc<dyn ExecutionPlan>>> {
        let mut node = self.clone();
        node.launched = Arc::default();
        // Advisory: the parents keep their own filtering (answered `No` for every filter).
        let verdicts = result
            .parent_filters
            .iter()
            .map(|p| {
                if phase == FilterPushdownPhase::Post && p.filter.is::<DynamicFilterPhysicalExpr>() {
                    node.dynamic.push(Arc::clone(&p.filter));
                }
                PushedDown::No
            })
            .collect();
        let out = FilterPushdownPropagation::with_parent_pushdown_result(verdicts);
        Ok(if node.dynamic.len() > self.dynamic.len() {
            out.with_updated_node(Arc::new(node) as Arc<dyn ExecutionPlan>)
        } else {
            out
        })
    }

    fn execute(&self, partition: usize, _ctx: Arc<TaskContext>) -> DfResult<SendableRecordBatchStream> {
        if partition >= self.spec.parts.len() {
            return Err(datafusion::error::DataFusionError::Internal(format!(
                "DeviceScanExec of {}: partition {partition} asked for; it has {}",
                self.spec.table_name(),
                self.spec.parts.len()
            )));
        }
        let (spec, schema, dynamic) = (self.spec.clone(), Arc::clone(&self.schema), self.dynamic.clone());
        let launched = Arc::clone(&self.launched);
        let rows = MetricBuilder::new(&self.metrics).output_rows(partition);
        // Started at the first poll (module docs), not here.
        let start = start(spec, dynamic, launched, partition);
        let stream = futures::stream::once(start).flatten().inspect(move |b| {
            if let Ok(b) = b {
                rows.add(b.num_rows());
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

type BatchStream = futures::stream::BoxStream<'static, DfResult<RecordBatch>>;

/// Partition `partition`'s batches; at the scan's first poll (of any partition) waits for the
/// hash joins' dynamic filters it was handed, takes a ticket, reads the filters, and starts every
/// partition on blocking threads.
async fn start(
    spec: ScanSpec,
    dynamic: Vec<Arc<dyn PhysicalExpr>>,
    launched: Arc<Launched>,
    partition: usize,
) -> BatchStream {
    let table = spec.table_name().to_string();
    let receivers = launched.get_or_init(|| launch(spec, dynamic)).await;
    let rx = receivers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_mut(partition)
        .and_then(Option::take);
    match rx {
        Some(rx) => {
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) }).boxed()
        }
        None => {
            let err = datafusion::error::DataFusionError::Internal(format!(
                "DeviceScanExec of {table}: partition {partition} executed twice"
            ));
            futures::stream::once(async move { Err(err) }).boxed()
        }
    }
}

/// Starts the scan (module docs) and returns its partitions' receivers.
async fn launch(
    mut spec: ScanSpec,
    dynamic: Vec<Arc<dyn PhysicalExpr>>,
) -> Mutex<Vec<Option<tokio::sync::mpsc::UnboundedReceiver<DfResult<RecordBatch>>>>> {
    // A hash join's filter is complete once its build side is: a scan polled before that
    // (an operator above polling all partitions of its input at once) waits for it, so that
    // what it takes does not depend on how tasks interleave. Other filters (a TopK's) are
    // taken only if already complete.
    for f in &dynamic {
        if spec.gate.is_join_filter(f) {
            if let Some(d) = f.downcast_ref::<DynamicFilterPhysicalExpr>() {
                d.wait_complete().await;
            }
        }
    }
    let ticket = spec.gate.ticket();
    let mut early = Vec::new();
    for f in &dynamic {
        early.extend(early_filter(&mut spec, f));
    }
    let (txs, rxs): (Vec<BatchTx>, Vec<_>) = spec
        .parts
        .iter()
        .map(|_| tokio::sync::mpsc::unbounded_channel::<DfResult<RecordBatch>>())
        .map(|(tx, rx)| (tx, Some(rx)))
        .unzip();
    tokio::task::spawn_blocking(move || {
        // INVARIANT(scans-take-turns): this scan runs after every earlier ticket's
        spec.gate.wait_turn(ticket);
        let _turn = Turn(Arc::clone(&spec.gate));
        run(&spec, early, txs);
    });
    Mutex::new(rxs)
}

/// The bounds a complete dynamic filter `f` puts on the scan's columns, added to `spec.filter`;
/// returns what was taken and what was left, in words.
fn early_filter(spec: &mut ScanSpec, f: &Arc<dyn PhysicalExpr>) -> Vec<String> {
    use futures::FutureExt;
    let Some(d) = f.downcast_ref::<DynamicFilterPhysicalExpr>() else {
        return Vec::new();
    };
    if d.wait_complete().now_or_never().is_none() {
        return vec![
            "a join's dynamic filter was not complete when the scan started: left to the join".into(),
        ];
    }
    let snap = match snapshot_physical_expr(Arc::clone(f)) {
        Ok(s) => s,
        Err(e) => {
            return vec![format!(
                "a join's dynamic filter could not be read ({e}): left to the join"
            )]
        }
    };
    let schema = spec.schema().clone();
    let mut out = Vec::new();
    let mut left = 0;
    for part in split_conjunction(&snap) {
        let taken = bound_of(part).and_then(|p| p.bind(&schema).ok());
        match taken {
            Some(b) => {
                out.push(format!("from a hash join's build side: {b}"));
                spec.host_filter.push(b);
            }
            None if is_true(part) => {}
            None => left += 1,
        }
    }
    if left > 0 {
        out.push(format!(
            "{left} part(s) of a join's dynamic filter (sets, hash lookups or computed keys) left to the join"
        ));
    }
    out
}

fn is_true(e: &Arc<dyn PhysicalExpr>) -> bool {
    e.downcast_ref::<Literal>()
        .is_some_and(|l| l.value() == &datafusion::common::ScalarValue::Boolean(Some(true)))
}

/// `column op literal` (either side) as a predicate on the column's name.
fn bound_of(e: &Arc<dyn PhysicalExpr>) -> Option<Predicate> {
    let b = e.downcast_ref::<BinaryExpr>()?;
    let op = match b.op() {
        Operator::GtEq => CmpOp::Ge,
        Operator::LtEq => CmpOp::Le,
        Operator::Gt => CmpOp::Gt,
        Operator::Lt => CmpOp::Lt,
        Operator::Eq => CmpOp::Eq,
        _ => return None,
    };
    let (col, lit, op) = match (
        b.left().downcast_ref::<Column>(),
        b.right().downcast_ref::<Literal>(),
    ) {
        (Some(c), Some(l)) => (c, l, op),
        _ => (
            b.right().downcast_ref::<Column>()?,
            b.left().downcast_ref::<Literal>()?,
            crate::convert::flip(op),
        ),
    };
    let value: Value = crate::convert::scalar(lit.value()).ok()?;
    Some(Predicate::cmp(col.name(), op, value))
}

/// Runs the scan's partitions, partition `p` sending its batches on `txs[p]`, and records the
/// scan when every partition succeeded.
fn run(spec: &ScanSpec, early: Vec<String>, txs: Vec<BatchTx>) {
    // `txs` close when this returns, after the record is pushed: the query's end (the streams'
    // end) comes after its scans' records.
    let Some(done) = scan_parts::run_all(spec, &txs) else {
        return;
    };
    // The parts that were scanned say whether an offload fell back (they agree: the reason is
    // the predicate's, not the part's).
    let fallback = done
        .iter()
        .filter(|(s, _)| s.pages_total > 0)
        .find_map(|(_, f)| f.clone());
    let parts: Vec<_> = done.into_iter().map(|(s, _)| s).collect();
    let Some(stats) = scan_parts::merge(&parts) else {
        return;
    };
    spec.scans
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(ScanRecord {
            table: spec.table_name().to_string(),
            predicate: match spec.filter.as_slice() {
                [] => None,
                many => Some(
                    many.iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(" AND "),
                ),
            },
            rows: stats.rows_out,
            fallback,
            early,
            stats,
            parts,
        });
}
