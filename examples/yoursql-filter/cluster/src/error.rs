//! [`ClusterError`]: what can go wrong setting up the cluster, moving descriptors and plans
//! between its processes' roles, and running a query on it.

use datafusion::error::DataFusionError;

/// An error of the cluster crate.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The cluster's shape or set-up is not usable (no nodes, a node without devices, tables
    /// missing on a device).
    #[error("cluster set-up: {0}")]
    Setup(String),
    /// A descriptor or scan node could not be encoded or decoded.
    #[error("cluster codec: {0}")]
    Codec(String),
    /// An executor was handed a partition that lives on another node (INVARIANT: each executor
    /// scans only its own node's devices).
    #[error(
        "partition {partition} of table `{table}` is on node {owner} (device {device}); \
         the executor of node {executor} scans only its own node's devices"
    )]
    ForeignPart {
        /// The table.
        table: String,
        /// The partition, in the scan as planned on the scheduler.
        partition: usize,
        /// The node that holds it.
        owner: u32,
        /// That node's device.
        device: u32,
        /// The node of the executor that was asked to scan it.
        executor: u32,
    },
    /// A descriptor names a device or table part that the node does not hold as described.
    #[error("node {node}: {message}")]
    Resolve {
        /// The node.
        node: u32,
        /// What does not match.
        message: String,
    },
    /// A plan shape the placement does not handle.
    #[error("placement: {0}")]
    Placement(String),
    /// A node's executor stopped polling the scheduler during a query: the query was cancelled.
    #[error(
        "node {node} (executor node-{node}) {silent} (the limit is {limit_s} s); its devices' \
         partitions run on no other node, so the query was cancelled"
    )]
    NodeDown {
        /// The node.
        node: u32,
        /// How long it has been silent ("has not polled the scheduler for 9 s", "has never
        /// polled the scheduler").
        silent: String,
        /// The limit ([`crate::ClusterOptions::node_timeout`]).
        limit_s: u64,
    },
    /// The records of a query's tasks do not give its simulated time.
    #[error("cluster timing: {0}")]
    Timing(String),
    /// Starting or talking to the scheduler or an executor failed.
    #[error("ballista: {0}")]
    Ballista(String),
    /// DataFusion (planning or running the query).
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    /// The single-process engine of `yoursql-filter`.
    #[error(transparent)]
    Filter(#[from] yoursql_filter::Error),
    /// I/O (work directories, sockets).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<ClusterError> for DataFusionError {
    fn from(e: ClusterError) -> Self {
        match e {
            ClusterError::DataFusion(e) => e,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}
