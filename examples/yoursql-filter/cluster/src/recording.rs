//! What each task did, for the query's simulated time ([`crate::timing`]): the executors run
//! their tasks through [`RecordingEngine`], Ballista's own execution engine with a
//! [`StageTap`] under each task's shuffle writer. When a task ends, its [`TaskRecord`] goes to
//! the cluster's [`TaskLog`]:
//! - its engine work ([`EngineWork`], `yoursql-filter`'s: the operators it ran, with the rows
//!   each consumed, read from the executed plan's metrics) and the shuffle writer's own rows;
//! - its device scans (`yoursql-filter`'s [`ScanRecord`]s, with their simulated times);
//! - the shuffle output it read: for each location, the stage and node that wrote it and its
//!   rows (a broadcast read once per task, which builds its join side once; a range read, with Ballista's
//!   adaptive planner, whole, even when it skips some of a location's batches: an upper
//!   bound);
//! - the rows and value bytes it wrote ([`crate::tap`]).
//!
//! Rows, operators and scans do not depend on how the executors' threads interleave, so
//! neither does anything computed from the records.
//!
//! Like the scan log, the task log is shared by the executors of this process.

use std::sync::{Arc, Mutex, PoisonError};

use ballista_core::execution_plans::{RangeShuffleReaderExec, ShuffleReaderExec};
use ballista_core::serde::protobuf::{self, ShuffleWritePartition, TaskColumnStats};
use ballista_core::serde::scheduler::PartitionLocation;
use ballista_core::JobId;
use ballista_executor::execution_engine::{DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::{replace_children_if_necessary, ExecutionPlan};
use datafusion::prelude::SessionConfig;
use yoursql_filter::engine::{EngineWork, OperatorWork};
use yoursql_filter::ScanRecord;

use crate::placement::node_of;
use crate::scan::ClusterScanExec;
use crate::tap::StageTap;

/// Rows a task read from one location of an earlier stage's shuffle output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShuffleRead {
    /// The stage that wrote it.
    pub stage: usize,
    /// The node whose executor wrote it.
    pub from_node: u32,
    /// Its rows.
    pub rows: u64,
}

/// One task's work (module docs).
#[derive(Debug, Clone)]
pub struct TaskRecord {
    /// Ballista's job id.
    pub job: String,
    /// The stage.
    pub stage: usize,
    /// The task, within the stage.
    pub task: usize,
    /// The node whose executor ran it.
    pub node: u32,
    /// Its operators' work, the shuffle writer's included, device scans excluded.
    pub work: EngineWork,
    /// Its device scans.
    pub scans: Vec<ScanRecord>,
    /// The shuffle output it read.
    pub reads: Vec<ShuffleRead>,
    /// A shuffle read the records cannot count (from an executor that is not a node's, or of
    /// unreported rows), if any.
    pub uncounted: Option<String>,
    /// Rows it wrote.
    pub rows_written: u64,
    /// Value bytes it wrote ([`crate::tap::value_bytes`]).
    pub bytes_written: u64,
}

/// The task records of one process's executors.
#[derive(Debug, Default)]
pub struct TaskLog {
    tasks: Mutex<Vec<TaskRecord>>,
}

impl TaskLog {
    /// Records `t`.
    pub fn push(&self, t: TaskRecord) {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner).push(t);
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// No records held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The records since the last call, oldest first.
    pub fn take(&self) -> Vec<TaskRecord> {
        std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// An executor's execution engine: Ballista's default, recording every task (module docs).
pub struct RecordingEngine {
    node: u32,
    log: Arc<TaskLog>,
    inner: DefaultExecutionEngine,
}

impl RecordingEngine {
    /// The engine of node `node`'s executor, recording into `log`.
    pub fn new(node: u32, log: Arc<TaskLog>) -> Self {
        RecordingEngine {
            node,
            log,
            inner: DefaultExecutionEngine::new(),
        }
    }
}

impl ExecutionEngine for RecordingEngine {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> DfResult<Arc<dyn QueryStageExecutor>> {
        let [input] = <[_; 1]>::try_from(plan.children()).map_err(|c| {
            DataFusionError::Internal(format!(
                "stage {stage_id}: a task's plan starts with a shuffle writer of one input, not {} ({} inputs)",
                plan.name(),
                c.len()
            ))
        })?;
        let tap = StageTap::new(Arc::clone(input));
        let writer = plan.name().to_string();
        let tapped = replace_children_if_necessary(Arc::clone(&plan), vec![Arc::new(tap.clone())])?;
        let inner = self.inner.create_query_stage_exec(
            job_id.clone(),
            stage_id,
            task_id,
            global_output_partition_ids,
            tapped,
            work_dir,
            config,
        )?;
        Ok(Arc::new(RecordingStageExec {
            inner,
            tap,
            writer,
            job: job_id.to_string(),
            stage: stage_id,
            task: task_id,
            node: self.node,
            log: Arc::clone(&self.log),
        }))
    }
}

/// One task's stage executor: Ballista's, recording the task when it succeeds.
#[derive(Debug)]
struct RecordingStageExec {
    inner: Arc<dyn QueryStageExecutor>,
    tap: StageTap,
    writer: String,
    job: String,
    stage: usize,
    task: usize,
    node: u32,
    log: Arc<TaskLog>,
}

impl std::fmt::Display for RecordingStageExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.inner, f)
    }
}

impl RecordingStageExec {
    fn record(&self) -> TaskRecord {
        let input = self.tap.executed_input();
        let mut work = EngineWork::of(&input);
        work.operators.insert(
            0,
            OperatorWork {
                operator: self.writer.clone(),
                rows_in: self.tap.rows(),
                expr_nodes: 0,
                rows_out: self.tap.rows(),
                elapsed_compute_ns: 0,
            },
        );
        let mut scans = Vec::new();
        let mut reads = Vec::new();
        let mut uncounted = None;
        // A visitor that cannot fail: every node is seen.
        let _ = input.apply(|p| {
            if let Some(s) = p.downcast_ref::<ClusterScanExec>() {
                scans.extend(s.take_scans());
            } else if let Some(r) = p.downcast_ref::<ShuffleReaderExec>() {
                if r.broadcast {
                    // A collected join side: built once per task.
                    self.count_reads(
                        r.partition.get(..1).unwrap_or_default(),
                        &mut reads,
                        &mut uncounted,
                    );
                } else {
                    self.count_reads(&r.partition, &mut reads, &mut uncounted);
                }
            } else if let Some(r) = p.downcast_ref::<RangeShuffleReaderExec>() {
                // Whole locations: an upper bound when the range read skips batches.
                self.count_reads(&r.partition, &mut reads, &mut uncounted);
            }
            Ok(TreeNodeRecursion::Continue)
        });
        TaskRecord {
            job: self.job.clone(),
            stage: self.stage,
            task: self.task,
            node: self.node,
            work,
            scans,
            reads,
            uncounted,
            rows_written: self.tap.rows(),
            bytes_written: self.tap.bytes(),
        }
    }
}

impl RecordingStageExec {
    /// Appends the reads of `locations` (each output partition's list) to `reads`.
    fn count_reads(
        &self,
        locations: &[Vec<PartitionLocation>],
        reads: &mut Vec<ShuffleRead>,
        uncounted: &mut Option<String>,
    ) {
        for loc in locations.iter().flatten() {
            let stats: protobuf::PartitionStats = loc.partition_stats.into();
            let rows = u64::try_from(stats.num_rows).ok();
            match (node_of(&loc.executor_meta.id), rows) {
                (Some(from_node), Some(rows)) => reads.push(ShuffleRead {
                    stage: loc.partition_id.stage_id,
                    from_node,
                    rows,
                }),
                (Some(_), None) => {
                    *uncounted = Some(format!(
                        "stage {} read output of stage {} whose rows the writer did not report",
                        self.stage, loc.partition_id.stage_id
                    ))
                }
                (None, _) => {
                    *uncounted = Some(format!(
                        "stage {} read from executor `{}`, which is not a node's",
                        self.stage, loc.executor_meta.id
                    ))
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl QueryStageExecutor for RecordingStageExec {
    async fn execute_query_stage(
        &self,
        task_id: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<Vec<ShuffleWritePartition>> {
        let written = self.inner.execute_query_stage(task_id, context).await?;
        self.log.push(self.record());
        Ok(written)
    }

    fn collect_plan_metrics(&self) -> Vec<MetricsSet> {
        self.inner.collect_plan_metrics()
    }

    fn collect_runtime_stats_reports(&self) -> Vec<protobuf::RuntimeStatsReport> {
        self.inner.collect_runtime_stats_reports()
    }

    fn collect_window_state_reports(&self) -> DfResult<Vec<protobuf::WindowStateReport>> {
        self.inner.collect_window_state_reports()
    }

    fn collect_column_stats(&self) -> Vec<TaskColumnStats> {
        self.inner.collect_column_stats()
    }
}
