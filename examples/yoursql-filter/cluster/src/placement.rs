//! [`NodeAffinity`]: the scheduler's task placement, a Ballista `DistributionPolicy` that runs
//! each partition of a device scan exactly once, on the executor of the node that holds it.
//!
//! **Why.** Before a task is sent, Ballista restricts its stage plan to the task's slice of the
//! stage's input partitions, but only for the leaves it knows (file and memory scans, shuffle
//! readers): a custom leaf such as [`ClusterScanExec`] keeps all its partitions, and the
//! executor runs every one of them, so each task of a scan stage would scan every device and the
//! rows would come back as many times as there are tasks. Nothing in Ballista ties a partition
//! to an executor either.
//!
//! **How.** The executors are named `node-<k>` ([`executor_id`]). In pull mode Ballista calls
//! the policy on every poll of an executor with that executor's free vcores. For each running
//! stage of each running job:
//! - a stage without a device scan runs its partition `p` on node `p mod nodes`, a slice of up
//!   to the free vcores per task, capped by `ballista.scheduler.max_partitions_per_task` (a
//!   stage whose input collapses to one partition in one task, where its first pending
//!   partition belongs). Ballista's own `Bias` policy gives such partitions to whichever
//!   executor polls first; fixing them makes which node reads which shuffle output, and so
//!   the simulated network time ([`crate::timing`]), the same in every run;
//! - a stage with a device scan whose partitions are the stage's input partitions (the scan is
//!   not under a `CoalescePartitionsExec`, a `SortPreservingMergeExec` or a single-partition
//!   input of an operator: Ballista's own scoping rule, restated) takes from the stage's pending
//!   partitions those held by the polling executor's node, up to its free vcores, puts the rest
//!   back, and binds a task whose plan has the scan replaced by a
//!   [`ClusterScanExec::restricted`] copy holding just those partitions (Ballista's later
//!   restriction then slices the stage's shuffle readers and leaves the scan as it is);
//! - a scan a task must read whole (under one of those operators) is bound, unrestricted, to
//!   the node holding its first partition: that executor refuses any part of another node when
//!   it decodes the plan, so a plan that would need two nodes' devices in one task fails
//!   loudly instead of scanning a partition twice.
//!
//! A stage this placement does not split (two or more partition-aligned device scans, a scan
//! under a union, a scan whose partitions are not the stage's; Ballista's planner gives none
//! of these for the TPC-H queries, a union's unrestrictable branches getting stages of their
//! own) runs as one task over the whole queue, where the first scan's first part lives: right
//! when all its parts are on that node, refused on decode otherwise.
//!
//! Ballista's binding rules that are private to its scheduler (how `bind_one` describes a
//! task, `stage_has_input_collapse`, `child_scopes`) are restated here, so this placement binds
//! and scopes exactly as Ballista 55 does.

use std::collections::HashMap;
use std::sync::Arc;

use ballista_core::config::BallistaConfig;
use ballista_core::execution_plans::{RangeShuffleReaderExec, ShuffleReaderExec};
use ballista_core::serde::protobuf::{job_status, AvailableVcores};
use ballista_core::serde::scheduler::TaskKey;
use ballista_core::JobId;
use ballista_scheduler::cluster::{BoundTask, DistributionPolicy};
use ballista_scheduler::state::execution_graph::{create_task_info, TaskDescription};
use ballista_scheduler::state::execution_stage::RunningStage;
use ballista_scheduler::state::task_manager::JobInfoCache;
use datafusion::error::Result as DfResult;
use datafusion::physical_expr::Distribution;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{replace_children_if_necessary, ExecutionPlan};

use crate::scan::ClusterScanExec;

/// The executor id of node `node`'s executor.
pub fn executor_id(node: u32) -> String {
    format!("node-{node}")
}

/// The node of executor `id`, if it is a node's executor.
pub fn node_of(id: &str) -> Option<u32> {
    id.strip_prefix("node-")?.parse().ok()
}

/// Each device scan partition once, on its node's executor, and every other stage's
/// partition `p` on node `p mod nodes` (module docs).
#[derive(Debug)]
pub struct NodeAffinity {
    /// The cluster's nodes (`node-0` to `node-<nodes - 1>`).
    pub nodes: u32,
}

#[async_trait::async_trait]
impl DistributionPolicy for NodeAffinity {
    async fn bind_tasks(
        &self,
        budgets: Vec<&mut AvailableVcores>,
        running_jobs: Arc<HashMap<JobId, JobInfoCache>>,
    ) -> DfResult<Vec<BoundTask>> {
        let mut bound = Vec::new();
        for budget in budgets {
            let node = node_of(&budget.executor_id);
            for (job_id, job) in running_jobs.iter() {
                if budget.vcores == 0 {
                    break;
                }
                if !matches!(job.status, Some(job_status::Status::Running(_))) {
                    continue;
                }
                let mut graph = job.execution_graph.write().await;
                let session_id = graph.session_id().to_string();
                let mut done_here = Vec::new();
                while budget.vcores > 0 {
                    let Some(stage) = graph.fetch_running_stage(&done_here) else {
                        break;
                    };
                    let stage_id = stage.stage_id;
                    match bind_stage(stage, &session_id, job_id, budget, node, self.nodes)? {
                        Some(task) => bound.push(task),
                        None => done_here.push(stage_id),
                    }
                }
            }
        }
        Ok(bound)
    }

    fn name(&self) -> &str {
        "node-affinity"
    }
}

/// How a task reads a device scan of its stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Partition-aligned with the stage's input: restricted to the task's partitions.
    Sliced,
    /// Whole: under a collapse or a single-partition input.
    Whole,
    /// Under a union, where the stage's partitions map to a child's by offset.
    InUnion,
}

/// The device scans of `plan` and how a task reads each.
fn device_scans(plan: &Arc<dyn ExecutionPlan>) -> Vec<(ClusterScanExec, Scope)> {
    fn walk(plan: &Arc<dyn ExecutionPlan>, scope: Scope, out: &mut Vec<(ClusterScanExec, Scope)>) {
        if let Some(s) = plan.downcast_ref::<ClusterScanExec>() {
            out.push((s.clone(), scope));
            return;
        }
        let under_union = scope == Scope::InUnion || (scope == Scope::Sliced && plan.is::<UnionExec>());
        for (child, whole) in plan
            .children()
            .into_iter()
            .zip(child_scopes(plan, scope == Scope::Whole))
        {
            let s = if whole {
                Scope::Whole
            } else if under_union {
                Scope::InUnion
            } else {
                Scope::Sliced
            };
            walk(child, s, out);
        }
    }
    let mut out = Vec::new();
    walk(plan, Scope::Sliced, &mut out);
    out
}

/// `plan` with its partition-aligned device scan restricted to `partitions`.
fn restrict_scans(
    plan: Arc<dyn ExecutionPlan>,
    partitions: &[usize],
    whole: bool,
) -> DfResult<Arc<dyn ExecutionPlan>> {
    if let Some(s) = plan.downcast_ref::<ClusterScanExec>() {
        if whole {
            return Ok(plan);
        }
        return Ok(Arc::new(s.restricted(partitions)?));
    }
    let children: Vec<Arc<dyn ExecutionPlan>> = plan.children().into_iter().cloned().collect();
    if children.is_empty() {
        return Ok(plan);
    }
    let scopes = child_scopes(&plan, whole);
    let new_children = children
        .into_iter()
        .zip(scopes)
        .map(|(c, w)| restrict_scans(c, partitions, w))
        .collect::<DfResult<Vec<_>>>()?;
    replace_children_if_necessary(plan, new_children)
}

/// Binds one task of `stage` on `budget`'s executor of node `node`, or `None` when the stage has
/// nothing for it (module docs).
fn bind_stage(
    stage: &mut RunningStage,
    session_id: &str,
    job_id: &JobId,
    budget: &mut AvailableVcores,
    node: Option<u32>,
    nodes: u32,
) -> DfResult<Option<BoundTask>> {
    let scans = device_scans(&stage.plan);
    let collapse = stage_has_input_collapse(&stage.plan);
    let cap = stage
        .session_config
        .options()
        .extensions
        .get::<BallistaConfig>()
        .map(|bc| bc.max_partitions_per_task())
        .filter(|&n| n > 0)
        .unwrap_or(usize::MAX);
    // Which node each of the stage's input partitions must run on, whether the task's plan gets
    // a restricted scan, and whether one task takes the whole queue.
    let n = stage.partitions;
    let first_owner = scans.first().map_or(0, |(s, _)| s.table().parts[0].at.node);
    let in_union = scans.iter().any(|(_, s)| *s == Scope::InUnion);
    let sliced: Vec<&ClusterScanExec> = scans
        .iter()
        .filter(|(_, s)| *s == Scope::Sliced)
        .map(|(s, _)| s)
        .collect();
    let (owners, restrict, collapse): (Vec<u32>, bool, bool) = match sliced.as_slice() {
        // No device scan: partition p on node p mod nodes.
        [] if scans.is_empty() => (
            (0..n).map(|p| (p % nodes.max(1) as usize) as u32).collect(),
            false,
            collapse,
        ),
        // Every scan read whole: the stage runs where the first one's first part is.
        [] if !in_union => (vec![first_owner; n], false, collapse),
        [scan] if !in_union && scan.table().parts.len() == n => (
            scan.table().parts.iter().map(|p| p.at.node).collect(),
            true,
            collapse,
        ),
        // A shape this placement does not split (module docs): one task takes the whole queue,
        // unrestricted, where the first scan's first part is; it fails on decode if it needs
        // another node's devices.
        _ => (vec![first_owner; n], false, true),
    };
    let owner = |p: usize| owners.get(p).copied();
    let pending = stage.pending.next_slice(usize::MAX);
    let (mut mine, mut rest): (Vec<usize>, Vec<usize>) = if collapse {
        // One task takes the whole queue; it runs where the first pending partition lives (and
        // fails on decode if another partition lives elsewhere).
        match pending.first().and_then(|&p| owner(p)) {
            Some(o) if Some(o) == node => (pending, Vec::new()),
            _ => (Vec::new(), pending),
        }
    } else {
        pending
            .into_iter()
            .partition(|&p| node.is_some() && owner(p) == node)
    };
    if !collapse {
        let max = (budget.vcores as usize).min(cap);
        if mine.len() > max {
            let over = mine.split_off(max);
            rest.splice(0..0, over);
        }
    }
    stage.pending.reschedule(rest);
    if mine.is_empty() {
        return Ok(None);
    }
    let plan = if restrict {
        restrict_scans(Arc::clone(&stage.plan), &mine, false)?
    } else {
        Arc::clone(&stage.plan)
    };
    mine.sort_unstable();
    Ok(Some(bind(
        stage, session_id, job_id, budget, mine, plan, collapse,
    )))
}

/// Appends a task of `partitions` with `plan` to `stage` and describes it (Ballista's
/// `bind_one`, after the partitions are chosen).
fn bind(
    stage: &mut RunningStage,
    session_id: &str,
    job_id: &JobId,
    budget: &mut AvailableVcores,
    partitions: Vec<usize>,
    plan: Arc<dyn ExecutionPlan>,
    collapse: bool,
) -> BoundTask {
    let vcores_consumed = if collapse { 1 } else { partitions.len() as u32 };
    let executor_id = budget.executor_id.clone();
    let task_id = stage.task_infos.len();
    let task_attempt = partitions
        .iter()
        .filter_map(|&p| stage.task_failure_numbers.get(p).copied())
        .max()
        .unwrap_or(0);
    let mut info = create_task_info(executor_id.clone(), task_id);
    info.global_input_partition_ids = partitions.clone();
    info.vcores_consumed = vcores_consumed;
    stage.task_infos.push(info);
    let task = TaskDescription {
        session_id: session_id.to_string(),
        key: TaskKey {
            job_id: job_id.clone(),
            stage_id: stage.stage_id,
            task_id,
        },
        stage_attempt_num: stage.stage_attempt_num,
        task_attempt,
        global_input_partition_ids: partitions,
        vcores_consumed,
        plan,
        session_config: Arc::clone(&stage.session_config),
    };
    budget.vcores = budget.vcores.saturating_sub(vcores_consumed);
    (executor_id, task)
}

/// Whether the stage's input narrows to a single partition somewhere on the chain of only
/// children below its root (the shuffle writer) before any shuffle read: then one task has to
/// take the whole input. Ballista's scheduler applies the same rule to its own stages (its
/// private `stage_has_input_collapse`); this restates it so the placement binds as it does.
fn stage_has_input_collapse(plan_root: &Arc<dyn ExecutionPlan>) -> bool {
    let mut node = match plan_root.children().as_slice() {
        [only] => Arc::clone(only),
        _ => return false,
    };
    loop {
        let reads_shuffle = node.downcast_ref::<ShuffleReaderExec>().is_some()
            || node.downcast_ref::<RangeShuffleReaderExec>().is_some();
        if reads_shuffle {
            return false;
        }
        if node.properties().output_partitioning().partition_count() == 1 {
            return true;
        }
        let next = match node.children().as_slice() {
            [only] => Arc::clone(only),
            _ => return false,
        };
        node = next;
    }
}

/// For each child of `plan`: whether one task must read it whole. True below a
/// `CoalescePartitionsExec` or `SortPreservingMergeExec`, or anywhere under one
/// (`under_collect`), and for a child the operator requires as a single partition; false
/// otherwise, and for all children when the operator's requirements do not name each child.
/// This is the scoping Ballista's task builder uses (its private `child_scopes`), restated
/// so the placement restricts exactly the scans Ballista would.
fn child_scopes(plan: &Arc<dyn ExecutionPlan>, under_collect: bool) -> Vec<bool> {
    let count = plan.children().len();
    let collects = plan.is::<CoalescePartitionsExec>() || plan.is::<SortPreservingMergeExec>();
    if under_collect || collects {
        return vec![true; count];
    }
    let required = plan.input_distribution_requirements();
    let per_child: Vec<bool> = required
        .per_child_distributions()
        .map(|d| matches!(d, Distribution::SinglePartition))
        .collect();
    if per_child.len() == count {
        per_child
    } else {
        vec![false; count]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executor_ids_name_their_node() {
        assert_eq!(node_of(&executor_id(3)), Some(3));
        assert_eq!(node_of("3f2a-uuid"), None);
        assert_eq!(node_of("node-x"), None);
    }
}
