//! A query's simulated time on the cluster, from its tasks' records ([`crate::recording`]).
//!
//! **Stages one after another.** Ballista runs a query as stages, each a set of tasks that
//! ends by writing its shuffle output, and a stage starts when the stages it reads have
//! ended. The model runs the stages one after another (assumed: Ballista may run two stages
//! that do not read each other at once, which would shorten a query only when they use
//! different nodes' devices and cores; the single-process engine likewise runs a query's scans
//! one after another). The query's time is the sum of its stages' times and the transfer of
//! its result to the client.
//!
//! **A stage** takes its shuffle, then its slowest node (the critical path over nodes):
//! - **shuffle**: the bytes its tasks read from shuffle output written on *other* nodes cross
//!   the network ([`sim_nvme`]'s `network` profile section: one full-duplex link per node).
//!   The stage waits one round trip, then the busiest link's bytes at the link's bandwidth
//!   (the busiest of any node's incoming and outgoing bytes); nothing when every read is
//!   local. Output read on the node that wrote it is not charged (the local disk and page
//!   cache are not modeled).
//! - **a node**: its device scans (each task's scans run one after another; tasks on different
//!   devices at once, so the node's scan time is its slowest task's) and then the engine
//!   compute of all its tasks in the stage, charged by `yoursql-filter`'s calibrated costs per
//!   operator ([`EngineCosts`]) and spread over the node's cores (as many as its devices, the
//!   executor's task slots; perfect scaling assumed, as in one process), but never less than
//!   its longest task's (a task, one partition, runs on one core).
//!
//! **Bytes of a read.** A shuffle read knows its rows; its bytes are its rows at the writing
//! stage's mean value bytes per row (the stage's value bytes over its rows, [`crate::tap`]).
//!
//! **The result** (the output of the stage no other stage reads) crosses the client's link:
//! one round trip and its bytes at the link's bandwidth (nothing for an empty result). The
//! client is a host of its own.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sim_nvme::profile::NetworkLink;
use sim_nvme::SimDuration;
use yoursql_filter::engine::EngineCosts;

use crate::error::ClusterError;
use crate::recording::TaskRecord;

/// What the model charges with (module docs).
#[derive(Debug, Clone)]
pub struct ClusterModel {
    /// Every node's network link.
    pub network: NetworkLink,
    /// The engine's calibrated costs per operator.
    pub costs: EngineCosts,
    /// Cores of each node that run its tasks' operators.
    pub cores_per_node: u32,
}

/// Bytes over the network and the time they take.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Transfer {
    /// All bytes that crossed a link.
    pub bytes: u64,
    /// The bytes of the busiest link direction.
    pub busiest_link_bytes: u64,
    /// Round trip plus the busiest link's bytes at its bandwidth (0 with no bytes), in ns.
    pub ns: u64,
}

/// One node's part of a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeStage {
    /// The node.
    pub node: u32,
    /// Its tasks in the stage.
    pub tasks: usize,
    /// Its device scans' critical path, in ns.
    pub scan_ns: u64,
    /// Its tasks' engine compute over all its cores, in ns.
    pub engine_cpu_ns: u64,
    /// `engine_cpu_ns` over its cores, at least its longest task's compute, in ns.
    pub engine_ns: u64,
    /// `scan_ns + engine_ns`.
    pub ns: u64,
}

/// One stage's time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageTime {
    /// Ballista's stage id.
    pub stage: usize,
    /// Its shuffle reads from other nodes.
    pub shuffle: Transfer,
    /// Each node that ran a task of it, by node.
    pub nodes: Vec<NodeStage>,
    /// `shuffle.ns` plus the slowest node's time, in ns.
    pub ns: u64,
}

impl StageTime {
    /// The node that took longest (the first of them on a tie).
    pub fn slowest(&self) -> Option<&NodeStage> {
        self.nodes.iter().rev().max_by_key(|n| n.ns)
    }
}

/// A query's simulated time on the cluster (module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryTime {
    /// The stages, by stage id.
    pub stages: Vec<StageTime>,
    /// The result's transfer to the client.
    pub result: Transfer,
    /// The query's simulated time, in ns.
    pub total_ns: u64,
}

impl QueryTime {
    /// Network time: the stages' shuffles and the result, in ns.
    pub fn network_ns(&self) -> u64 {
        self.stages.iter().map(|s| s.shuffle.ns).sum::<u64>() + self.result.ns
    }

    /// Device scan time on the critical path: each stage's slowest node's, in ns.
    pub fn critical_scan_ns(&self) -> u64 {
        self.stages
            .iter()
            .map(|s| s.slowest().map_or(0, |n| n.scan_ns))
            .sum()
    }

    /// Engine time on the critical path: each stage's slowest node's, in ns.
    pub fn critical_engine_ns(&self) -> u64 {
        self.stages
            .iter()
            .map(|s| s.slowest().map_or(0, |n| n.engine_ns))
            .sum()
    }

    /// Bytes that crossed the network.
    pub fn network_bytes(&self) -> u64 {
        self.stages.iter().map(|s| s.shuffle.bytes).sum::<u64>() + self.result.bytes
    }
}

impl ClusterModel {
    fn transfer(&self, bytes: u64, busiest: u64) -> Transfer {
        let ns = if busiest == 0 {
            0
        } else {
            self.network.round_trip_ns
                + SimDuration::for_bytes(busiest, self.network.bandwidth_mb_per_s).as_nanos()
        };
        Transfer {
            bytes,
            busiest_link_bytes: busiest,
            ns,
        }
    }

    /// The simulated time of the query whose tasks are `tasks` (module docs).
    pub fn query_time(&self, tasks: &[TaskRecord]) -> Result<QueryTime, ClusterError> {
        if let Some(why) = tasks.iter().find_map(|t| t.uncounted.clone()) {
            return Err(ClusterError::Timing(why));
        }
        // Each stage's value bytes and rows written.
        let mut written: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
        for t in tasks {
            let w = written.entry(t.stage).or_default();
            w.0 += t.bytes_written;
            w.1 += t.rows_written;
        }
        let bytes_of = |stage: usize, rows: u64| -> u64 {
            match written.get(&stage) {
                Some(&(bytes, all)) if all > 0 => {
                    u64::try_from(u128::from(rows) * u128::from(bytes) / u128::from(all)).unwrap_or(u64::MAX)
                }
                _ => 0,
            }
        };
        let mut by_stage: BTreeMap<usize, Vec<&TaskRecord>> = BTreeMap::new();
        for t in tasks {
            by_stage.entry(t.stage).or_default().push(t);
        }
        let read: BTreeSet<usize> = tasks
            .iter()
            .flat_map(|t| t.reads.iter().map(|r| r.stage))
            .collect();
        let cores = u64::from(self.cores_per_node.max(1));

        let mut stages = Vec::with_capacity(by_stage.len());
        for (&stage, ts) in &by_stage {
            let (mut into, mut out_of) = (BTreeMap::<u32, u64>::new(), BTreeMap::<u32, u64>::new());
            let mut remote = 0;
            for t in ts {
                for r in t.reads.iter().filter(|r| r.from_node != t.node) {
                    let b = bytes_of(r.stage, r.rows);
                    *into.entry(t.node).or_default() += b;
                    *out_of.entry(r.from_node).or_default() += b;
                    remote += b;
                }
            }
            let busiest = into.values().chain(out_of.values()).copied().max().unwrap_or(0);
            let shuffle = self.transfer(remote, busiest);

            let mut per_node: BTreeMap<u32, NodeStage> = BTreeMap::new();
            // Per node: all its tasks' compute, and its longest task's.
            let mut cpu_ps: BTreeMap<u32, (u128, u128)> = BTreeMap::new();
            for t in ts {
                let n = per_node.entry(t.node).or_insert(NodeStage {
                    node: t.node,
                    tasks: 0,
                    scan_ns: 0,
                    engine_cpu_ns: 0,
                    engine_ns: 0,
                    ns: 0,
                });
                n.tasks += 1;
                let task_scan: u64 = t.scans.iter().map(|s| s.stats.simulated_ns).sum();
                n.scan_ns = n.scan_ns.max(task_scan);
                let task_ps = self.costs.charge_ps(&t.work);
                let c = cpu_ps.entry(t.node).or_default();
                c.0 += task_ps;
                c.1 = c.1.max(task_ps);
            }
            let nodes: Vec<NodeStage> = per_node
                .into_values()
                .map(|mut n| {
                    let (all, longest) = cpu_ps.get(&n.node).copied().unwrap_or((0, 0));
                    let ns = |ps: u128| u64::try_from(ps / 1000).unwrap_or(u64::MAX);
                    n.engine_cpu_ns = ns(all);
                    // A task runs on one core: the node takes at least its longest task.
                    n.engine_ns = n.engine_cpu_ns.div_ceil(cores).max(ns(longest));
                    n.ns = n.scan_ns + n.engine_ns;
                    n
                })
                .collect();
            let slowest = nodes.iter().map(|n| n.ns).max().unwrap_or(0);
            stages.push(StageTime {
                stage,
                ns: shuffle.ns + slowest,
                shuffle,
                nodes,
            });
        }
        let result_bytes: u64 = by_stage
            .keys()
            .filter(|s| !read.contains(s))
            .map(|&s| written.get(&s).map_or(0, |w| w.0))
            .sum();
        let result = self.transfer(result_bytes, result_bytes);
        let total_ns = stages.iter().map(|s| s.ns).sum::<u64>() + result.ns;
        Ok(QueryTime {
            stages,
            result,
            total_ns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::ShuffleRead;
    use yoursql_filter::engine::{EngineWork, OperatorWork};

    fn task(
        stage: usize,
        node: u32,
        rows_in: u64,
        reads: Vec<ShuffleRead>,
        written: (u64, u64),
    ) -> TaskRecord {
        TaskRecord {
            job: "j".into(),
            stage,
            task: 0,
            node,
            work: EngineWork {
                operators: vec![OperatorWork {
                    operator: "HashJoinExec".into(),
                    rows_in,
                    expr_nodes: 0,
                    rows_out: 0,
                    elapsed_compute_ns: 0,
                }],
            },
            scans: Vec::new(),
            reads,
            uncounted: None,
            rows_written: written.0,
            bytes_written: written.1,
        }
    }

    fn model() -> ClusterModel {
        ClusterModel {
            network: NetworkLink {
                bandwidth_mb_per_s: 1000,
                round_trip_ns: 10_000,
            },
            costs: EngineCosts {
                ps_per_row: [("HashJoinExec".to_string(), 2_000)].into(),
            },
            cores_per_node: 2,
        }
    }

    #[test]
    fn a_stage_takes_its_remote_reads_then_its_slowest_node() {
        let read = |from_node, rows| ShuffleRead {
            stage: 1,
            from_node,
            rows,
        };
        let tasks = vec![
            // Stage 1 writes 100 rows of 10 bytes on each node.
            task(1, 0, 0, vec![], (100, 1000)),
            task(1, 1, 0, vec![], (100, 1000)),
            // Stage 2 on node 0 reads 50 rows from node 0 and 50 from node 1; node 1 reads
            // 50 and 50. Node 0 computes 1000 rows x 2 ns, node 1 3000 rows.
            task(2, 0, 1000, vec![read(0, 50), read(1, 50)], (1, 8)),
            task(2, 1, 3000, vec![read(0, 50), read(1, 50)], (1, 8)),
        ];
        let t = model().query_time(&tasks).unwrap();
        assert_eq!(t.stages.len(), 2);
        assert_eq!(t.stages[0].ns, 0);
        let s = &t.stages[1];
        // 500 bytes each way on each link: 10 us + 500 ns.
        assert_eq!(s.shuffle.bytes, 1000);
        assert_eq!(s.shuffle.busiest_link_bytes, 500);
        assert_eq!(s.shuffle.ns, 10_500);
        // Node 1: 6000 ns of compute on 2 cores, but in one task, on one core.
        assert_eq!(s.nodes[1].engine_cpu_ns, 6000);
        assert_eq!(s.nodes[1].engine_ns, 6000);
        assert_eq!(s.ns, 10_500 + 6000);
        // The result (stage 2's 16 bytes) crosses the client's link.
        assert_eq!(t.result.bytes, 16);
        assert_eq!(t.result.ns, 10_016);
        assert_eq!(t.total_ns, 16_500 + 10_016);
    }

    #[test]
    fn local_reads_cross_no_link() {
        let tasks = vec![
            task(1, 0, 0, vec![], (10, 100)),
            task(
                2,
                0,
                0,
                vec![ShuffleRead {
                    stage: 1,
                    from_node: 0,
                    rows: 10,
                }],
                (1, 8),
            ),
        ];
        let t = model().query_time(&tasks).unwrap();
        assert_eq!(t.stages[1].shuffle, Transfer::default());
    }

    #[test]
    fn a_read_the_model_cannot_count_is_an_error() {
        let mut t = task(1, 0, 0, vec![], (1, 8));
        t.uncounted = Some("stage 1 read from executor `x`, which is not a node's".into());
        let err = model().query_time(&[t]).unwrap_err();
        assert!(err.to_string().contains("not a node's"), "{err}");
    }
}
