//! [`ClusterScanExec`]: a device table scan in a distributed plan.
//!
//! **Planned on the scheduler.** The scheduler plans the query's physical plan from the
//! logical plan the client sent, so [`crate::provider::ClusterTableProvider::scan`] runs there,
//! without devices: the node holds the table's descriptor (partition `p` is `parts[p]`, on its
//! node and device), the projection and the pushed-down filters, and reports one partition per
//! part with its stored row count, as `yoursql-filter`'s `DeviceScanExec` does.
//!
//! **Restricted per task.** Ballista restricts the leaves it knows (file scans, shuffle readers)
//! to each task's partitions, not this one; the placement policy ([`crate::placement`]) puts a
//! [`ClusterScanExec::restricted`] copy (only the task's partitions, all on the executor's node)
//! into each task's plan.
//!
//! **Resolved on the executor.** The physical codec ([`crate::codec`]) decodes the node on the
//! executor and [`ClusterScanExec::resolve`]s it to the executor's own devices: a
//! `DeviceTableProvider` over those parts builds the `DeviceScanExec` that runs the scan (one
//! partition per part, all at once, on the device's host clocks) with the filters converted and
//! bound by `yoursql-filter`, exactly as in one process. Each partition's end is recorded in
//! the executor's [`ScanLog`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::Statistics;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};
use datafusion_proto::bytes::Serializeable;
use futures::Stream;
use yoursql_core::Schema;
use yoursql_filter::arrow_map::arrow_schema;
use yoursql_filter::convert::conjunction;
use yoursql_filter::scan_exec::{DeviceScanExec, ScanGate};
use yoursql_filter::{DeviceTableProvider, ScanRecord};

use crate::descriptor::{ScanDescriptor, TableDescriptor};
use crate::error::ClusterError;
use crate::registry::{ExecutorDevices, ScanEvent, ScanLog};
use crate::turn::{DeviceTurn, Pass, ScanTurn};

/// The device scan the executor runs, its devices' turns, and where to record its partitions.
#[derive(Debug, Clone)]
struct Resolved {
    exec: Arc<DeviceScanExec>,
    provider: Arc<DeviceTableProvider>,
    turn: Arc<ScanTurn>,
    node: u32,
    log: Arc<ScanLog>,
}

/// A device table scan in a distributed plan (module docs).
#[derive(Clone)]
pub struct ClusterScanExec {
    table: TableDescriptor,
    schema_core: Schema,
    /// For each partition, its index in the scan as first planned.
    planned: Vec<usize>,
    projection: Option<Vec<usize>>,
    filters: Vec<Expr>,
    schema: SchemaRef,
    props: Arc<PlanProperties>,
    resolved: Option<Resolved>,
}

impl fmt::Debug for ClusterScanExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterScanExec")
            .field("table", &self.table.table)
            .field("planned", &self.planned)
            .field("resolved", &self.resolved.is_some())
            .finish_non_exhaustive()
    }
}

impl ClusterScanExec {
    /// The scan of `table`'s columns `projection` (`None`: all) with `filters` (each one the
    /// provider reported exact), one partition per part, not resolved to devices.
    pub fn planned(
        table: TableDescriptor,
        projection: Option<Vec<usize>>,
        filters: Vec<Expr>,
    ) -> Result<Self, ClusterError> {
        let planned = (0..table.parts.len()).collect();
        Self::build(table, planned, projection, filters)
    }

    fn build(
        table: TableDescriptor,
        planned: Vec<usize>,
        projection: Option<Vec<usize>>,
        filters: Vec<Expr>,
    ) -> Result<Self, ClusterError> {
        let schema_core = table.schema()?;
        // The filters convert here as they will on the executor (a failure is a bug).
        conjunction(&filters, &schema_core).map_err(|e| ClusterError::Codec(e.to_string()))?;
        let arrow = arrow_schema(&schema_core);
        let schema = match &projection {
            Some(p) => Arc::new(arrow.project(p).map_err(DataFusionError::from)?),
            None => arrow,
        };
        let props = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(table.parts.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(ClusterScanExec {
            table,
            schema_core,
            planned,
            projection,
            filters,
            schema,
            props: Arc::new(props),
            resolved: None,
        })
    }

    /// The table, with the partitions of this node.
    pub fn table(&self) -> &TableDescriptor {
        &self.table
    }

    /// For each partition, its index in the scan as the scheduler planned it.
    pub fn planned_partitions(&self) -> &[usize] {
        &self.planned
    }

    /// Resolved to an executor's devices.
    pub fn is_resolved(&self) -> bool {
        self.resolved.is_some()
    }

    /// The device scans this node ran since the last call (none unless resolved).
    pub fn take_scans(&self) -> Vec<ScanRecord> {
        self.resolved
            .as_ref()
            .map_or_else(Vec::new, |r| r.provider.take_scans())
    }

    /// This scan restricted to its partitions `partitions` (partition `i` of the result is
    /// partition `partitions[i]` of this one), not resolved.
    pub fn restricted(&self, partitions: &[usize]) -> Result<Self, ClusterError> {
        let bad = || {
            ClusterError::Placement(format!(
                "table `{}`: partitions {partitions:?} out of range",
                self.table.table
            ))
        };
        let table = self.table.restricted(partitions).ok_or_else(bad)?;
        let planned = partitions
            .iter()
            .map(|&p| self.planned.get(p).copied())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        Self::build(table, planned, self.projection.clone(), self.filters.clone())
    }

    /// The descriptor the physical codec sends.
    pub fn descriptor(&self) -> Result<ScanDescriptor, ClusterError> {
        let filters = self
            .filters
            .iter()
            .map(|e| e.to_bytes().map(|b| b.to_vec()))
            .collect::<DfResult<Vec<_>>>()?;
        Ok(ScanDescriptor {
            table: self.table.clone(),
            planned: self.planned.clone(),
            projection: self.projection.clone(),
            filters,
        })
    }

    /// The node a descriptor describes (filters decoded with `ctx`'s functions), not resolved.
    pub fn from_descriptor(d: ScanDescriptor, ctx: &TaskContext) -> Result<Self, ClusterError> {
        if d.planned.len() != d.table.parts.len() {
            return Err(ClusterError::Codec(format!(
                "scan of `{}`: {} planned partitions for {} parts",
                d.table.table,
                d.planned.len(),
                d.table.parts.len()
            )));
        }
        let filters = d
            .filters
            .iter()
            .map(|b| Expr::from_bytes_with_ctx(b, ctx))
            .collect::<DfResult<Vec<_>>>()?;
        Self::build(d.table, d.planned, d.projection, filters)
    }

    /// This scan over `devices`' own devices: every part must be on the executor's node (or
    /// reachable: [`crate::registry::Reach`]); see the module docs.
    pub fn resolve(mut self, devices: &ExecutorDevices) -> Result<Self, ClusterError> {
        let mode = self.table.mode()?;
        let mut parts = Vec::with_capacity(self.table.parts.len());
        let mut turns: Vec<((u32, u32), DeviceTurn)> = Vec::with_capacity(self.table.parts.len());
        for i in 0..self.table.parts.len() {
            let (scanner, table, turn) =
                devices.resolve(&self.table, &self.schema_core, i, self.planned[i])?;
            parts.push((scanner, table));
            let at = self.table.parts[i].at;
            turns.push(((at.node, at.device), turn));
        }
        // In (node, device) order, each device once (INVARIANT(one-scan-per-device)).
        turns.sort_by_key(|(at, _)| *at);
        turns.dedup_by_key(|(at, _)| *at);
        let turn = ScanTurn::new(turns.into_iter().map(|(_, t)| t).collect());
        let provider = Arc::new(DeviceTableProvider::new(
            parts,
            mode,
            Arc::new(ScanGate::default()),
        )?);
        let exec = provider.scan_plan(self.projection.as_ref(), &self.filters)?;
        if exec.schema() != self.schema {
            return Err(ClusterError::Codec(format!(
                "scan of `{}`: the device scan's schema differs from the planned one",
                self.table.table
            )));
        }
        self.resolved = Some(Resolved {
            exec,
            provider,
            turn,
            node: devices.node(),
            log: Arc::clone(devices.log()),
        });
        Ok(self)
    }
}

impl DisplayAs for ClusterScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let parts: Vec<String> = self.table.parts.iter().map(|p| p.at.to_string()).collect();
        write!(
            f,
            "ClusterScanExec: table={}, partitions=[{}], filters={}",
            self.table.table,
            parts.join(", "),
            self.filters.len()
        )
    }
}

impl ExecutionPlan for ClusterScanExec {
    fn name(&self) -> &'static str {
        "ClusterScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    /// The device scan's metrics (its `output_rows` are what the operator above consumed).
    fn metrics(&self) -> Option<MetricsSet> {
        self.resolved.as_ref()?.exec.metrics()
    }

    fn partition_statistics(&self, partition: Option<usize>) -> DfResult<Arc<Statistics>> {
        // As DeviceScanExec: the stored rows (before the filters), for the join planner.
        let rows = match partition {
            Some(p) => self.table.parts.get(p).map_or(0, |t| t.rows),
            None => self.table.parts.iter().map(|t| t.rows).sum(),
        };
        let rows = usize::try_from(rows).unwrap_or(usize::MAX);
        Ok(Arc::new(
            Statistics::new_unknown(&self.schema).with_num_rows(Precision::Inexact(rows)),
        ))
    }

    fn execute(&self, partition: usize, ctx: Arc<TaskContext>) -> DfResult<SendableRecordBatchStream> {
        let Some(r) = &self.resolved else {
            return Err(DataFusionError::Internal(format!(
                "ClusterScanExec of `{}` was not resolved to an executor's devices \
                 (was it decoded without the executor's ExecutorDevices?)",
                self.table.table
            )));
        };
        let (Some(part), Some(&planned)) = (self.table.parts.get(partition), self.planned.get(partition))
        else {
            return Err(DataFusionError::Internal(format!(
                "ClusterScanExec of `{}`: partition {partition} asked for; it has {}",
                self.table.table,
                self.table.parts.len()
            )));
        };
        let inner = r.exec.execute(partition, ctx)?;
        let logged = Logged {
            phase: Phase::Entering(Box::pin(Arc::clone(&r.turn).enter())),
            inner,
            event: Some(ScanEvent {
                node: r.node,
                table: self.table.table.clone(),
                partition: planned,
                at: part.at,
                rows: 0,
                complete: false,
            }),
            log: Arc::clone(&r.log),
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            logged,
        )))
    }
}

/// Where a partition's stream is with its devices' turns.
enum Phase {
    /// Waiting for them (nothing polled yet).
    Entering(Pin<Box<dyn Future<Output = Pass> + Send>>),
    /// Holding them.
    Running {
        /// Held for its `Drop`.
        _pass: Pass,
    },
    /// Ended: given back.
    Ended,
}

/// A partition's stream: takes its scan's device turns before the scan starts
/// (INVARIANT(one-scan-per-device)), gives them back when it ends, and records its
/// [`ScanEvent`] when it ends or is dropped.
struct Logged {
    phase: Phase,
    inner: SendableRecordBatchStream,
    event: Option<ScanEvent>,
    log: Arc<ScanLog>,
}

impl Stream for Logged {
    type Item = DfResult<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Phase::Entering(enter) = &mut self.phase {
            match enter.as_mut().poll(cx) {
                Poll::Ready(pass) => self.phase = Phase::Running { _pass: pass },
                Poll::Pending => return Poll::Pending,
            }
        }
        let next = match self.inner.as_mut().poll_next(cx) {
            // Say which node's scan failed (the error travels through the scheduler to the
            // client).
            Poll::Ready(Some(Err(e))) => {
                let at = self.event.as_ref().map_or_else(String::new, |e| {
                    format!("node {}, table `{}` partition {}", e.node, e.table, e.partition)
                });
                Poll::Ready(Some(Err(DataFusionError::Context(at, Box::new(e)))))
            }
            other => other,
        };
        match &next {
            Poll::Ready(Some(Ok(b))) => {
                if let Some(e) = self.event.as_mut() {
                    e.rows += b.num_rows() as u64;
                }
            }
            Poll::Ready(None) => {
                self.phase = Phase::Ended;
                if let Some(mut e) = self.event.take() {
                    e.complete = true;
                    self.log.push(e);
                }
            }
            _ => {}
        }
        next
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if let Some(e) = self.event.take() {
            self.log.push(e);
        }
    }
}
