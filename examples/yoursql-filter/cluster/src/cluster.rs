//! [`Cluster`]: an in-process Ballista cluster over the device tables: one scheduler and one
//! executor per storage node, each node owning its own simulated devices.
//!
//! **Shape.** [`Cluster::from_setup`] splits a `yoursql-filter` [`Setup`] of `N x D` devices
//! (tables spread over all of them, device `g` holding part `g` of every table) into `N` nodes
//! of `D` devices each: node `k` owns devices `k*D .. (k+1)*D`, so partition `g` of every table
//! is device `g % D` of node `g / D`.
//!
//! **Processes, in one process.** Everything listens on loopback ports the OS picks: the
//! scheduler, per node an executor named `node-<k>` ([`crate::placement::executor_id`]), and
//! the client, as [`crate::roles`] starts them. Everything runs on the cluster's own
//! multi-thread tokio runtime and stops when the [`Cluster`] is dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use tokio::task::AbortHandle;
use yoursql_core::{Catalog, ScanMode};
use yoursql_filter::engine::EngineCharge;
use yoursql_filter::reference::rows_as_text;
use yoursql_filter::Setup;

use crate::descriptor::{PartDesc, PartLocation, TableDescriptor};
use crate::error::ClusterError;
use crate::placement::executor_id;
use crate::recording::{TaskLog, TaskRecord};
use crate::registry::{ExecutorDevices, NodeDevice, NodeDevices, Reach, ScanEvent, ScanLog};
use crate::roles::{client_context, start_executor, start_scheduler, Scheduler};
use crate::timing::{ClusterModel, QueryTime};
use crate::turn::DeviceTurn;

/// The shortest [`ClusterOptions::node_timeout`]: an executor whose task slots are all busy
/// polls the scheduler only every 5 s (Ballista's `HEARTBEAT_POLL_INTERVAL`), the scheduler
/// keeps heartbeats in whole seconds (1 s), and the watch looks every 200 ms (rounded up, 1 s).
pub const MIN_NODE_TIMEOUT: Duration = Duration::from_secs(7);

/// Which task placement the scheduler uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Each device scan partition once, on its node's executor ([`NodeAffinity`]).
    NodeAffinity,
    /// Ballista's own `Bias` policy: wrong answers for device scans over several partitions
    /// (every task scans every partition; [`crate::placement`]), kept to show that.
    BallistaBias,
}

/// How to run the cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The scheduler's task placement (default [`Placement::NodeAffinity`]).
    pub placement: Placement,
    /// Which nodes' parts an executor may scan (default [`Reach::OwnNode`]).
    pub reach: Reach,
    /// DataFusion's `target_partitions` for the queries: the partitions of the stages above
    /// the scans (default `None`: one per device of the cluster, so every node's cores get
    /// some of them).
    pub target_partitions: Option<usize>,
    /// Ballista's adaptive planner (`ballista.planner.adaptive.enabled`; default off: stage
    /// shapes fixed at submission).
    pub adaptive: bool,
    /// How long a node's executor may go without polling the scheduler (its heartbeat) before
    /// a running query is cancelled with [`ClusterError::NodeDown`]: default 15 s, at least
    /// [`MIN_NODE_TIMEOUT`]. Whole seconds, as the scheduler records heartbeats. A node's
    /// partitions run only on its own executor, so no other node can take them over.
    pub node_timeout: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            placement: Placement::NodeAffinity,
            reach: Reach::OwnNode,
            target_partitions: None,
            adaptive: false,
            node_timeout: Duration::from_secs(15),
        }
    }
}

/// One query's run on the cluster.
#[derive(Debug, Clone)]
pub struct ClusterRun {
    /// The result.
    pub batches: Vec<RecordBatch>,
    /// The result rows as text, sorted (as `yoursql_filter::QueryRun::rows`).
    pub rows: Vec<Vec<String>>,
    /// The partitions the executors scanned, in the order they finished.
    pub scans: Vec<ScanEvent>,
    /// What each task did, in the order they finished.
    pub tasks: Vec<TaskRecord>,
    /// The query's simulated time ([`crate::timing`]).
    pub time: QueryTime,
    /// Wall time of planning and running the query.
    pub wall: Duration,
}

impl ClusterRun {
    /// The query's simulated time, in ns.
    pub fn simulated_ns(&self) -> u64 {
        self.time.total_ns
    }
}

/// An in-process Ballista cluster over device tables (module docs).
pub struct Cluster {
    rt: tokio::runtime::Runtime,
    url: String,
    tables: Vec<TableDescriptor>,
    nodes: Vec<Arc<NodeDevices>>,
    log: Arc<ScanLog>,
    task_log: Arc<TaskLog>,
    scheduler: Scheduler,
    scheduler_url: String,
    /// Each node's executor tasks (its poll loop and Flight service), by node.
    executors: Mutex<BTreeMap<u32, Vec<AbortHandle>>>,
    model: ClusterModel,
    /// One query at a time: the logs are the cluster's, not the query's. Holds the jobs of
    /// earlier queries (a cancelled one's tasks may still finish and record).
    running: Mutex<BTreeSet<String>>,
    options: ClusterOptions,
    work: tempfile::TempDir,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("url", &self.url)
            .field("nodes", &self.nodes.len())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// The cluster of `setup`'s devices as `nodes` nodes of an equal number of devices each
    /// (module docs).
    pub fn from_setup(setup: &Setup, nodes: usize, options: ClusterOptions) -> Result<Cluster, ClusterError> {
        let total = setup.device_count();
        if nodes == 0 || !total.is_multiple_of(nodes) {
            return Err(ClusterError::Setup(format!(
                "{total} device(s) do not split into {nodes} node(s) of equal size"
            )));
        }
        let per_node = total / nodes;
        let node_devices = (0..nodes)
            .map(|k| NodeDevices {
                node: k as u32,
                devices: setup.devices[k * per_node..(k + 1) * per_node]
                    .iter()
                    .map(|d| NodeDevice {
                        scanner: d.scanner.clone(),
                        catalog: d.catalog.clone(),
                        turn: DeviceTurn::default(),
                    })
                    .collect(),
            })
            .collect();
        let catalogs: Vec<&Catalog> = setup.devices.iter().map(|d| &d.catalog).collect();
        let tables = table_descriptors(&catalogs, per_node)?;
        let costs = match &setup.engine {
            EngineCharge::Modeled(costs) => costs.clone(),
            EngineCharge::Measured => {
                return Err(ClusterError::Setup(
                    "the cluster charges the engine's modeled costs; this setup measures CPU time".into(),
                ))
            }
        };
        let model = ClusterModel {
            network: setup.profile.network.clone(),
            costs,
            cores_per_node: per_node as u32,
        };
        Cluster::start(node_devices, tables, model, options)
    }

    /// Starts a scheduler and one executor per node of `nodes`, serving `tables` (module docs).
    pub fn start(
        nodes: Vec<NodeDevices>,
        tables: Vec<TableDescriptor>,
        model: ClusterModel,
        options: ClusterOptions,
    ) -> Result<Cluster, ClusterError> {
        if nodes.is_empty() || nodes.iter().any(|n| n.devices.is_empty()) {
            return Err(ClusterError::Setup("every node needs at least one device".into()));
        }
        if options.node_timeout < MIN_NODE_TIMEOUT {
            return Err(ClusterError::Setup(format!(
                "node timeout {:?}; expected at least {MIN_NODE_TIMEOUT:?} (a busy executor polls every 5 s)",
                options.node_timeout
            )));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .thread_name("ballista-cluster")
            .enable_all()
            .build()?;
        let work = tempfile::TempDir::new()?;
        let nodes: Vec<Arc<NodeDevices>> = nodes.into_iter().map(Arc::new).collect();
        let log = Arc::new(ScanLog::default());
        let task_log = Arc::new(TaskLog::default());
        let started = rt.block_on(start_all(&nodes, &options, &log, &task_log, work.path()))?;
        Ok(Cluster {
            rt,
            url: started.url,
            tables,
            nodes,
            log,
            task_log,
            scheduler: started.scheduler,
            scheduler_url: started.scheduler_url,
            executors: Mutex::new(started.executors),
            model,
            running: Mutex::new(BTreeSet::new()),
            options,
            work,
        })
    }

    /// The scheduler's address, as a client connects to it (`df://host:port`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The nodes.
    pub fn nodes(&self) -> &[Arc<NodeDevices>] {
        &self.nodes
    }

    /// The tables it serves.
    pub fn tables(&self) -> &[TableDescriptor] {
        &self.tables
    }

    /// A client context with every table registered, scanned in `mode` (module docs).
    pub async fn context(&self, mode: ScanMode) -> Result<SessionContext, ClusterError> {
        client_context(
            &self.url,
            &self.tables,
            mode,
            self.target_partitions(),
            self.options.adaptive,
        )
        .await
    }

    /// The queries' `target_partitions` ([`ClusterOptions::target_partitions`]).
    pub fn target_partitions(&self) -> usize {
        let devices = self.nodes.iter().map(|n| n.devices.len()).sum::<usize>();
        self.options.target_partitions.unwrap_or(devices).max(1)
    }

    /// Runs `sql` on the cluster with every scan in `mode`, one query at a time; blocks (call
    /// it outside a tokio runtime).
    pub fn run_query(&self, sql: &str, mode: ScanMode) -> Result<ClusterRun, ClusterError> {
        let mut earlier = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        earlier.extend(self.running_jobs());
        self.log.take();
        for t in self.task_log.take() {
            earlier.insert(t.job);
        }
        let started = Instant::now();
        let batches = self.rt.block_on(async {
            let query = async {
                let ctx = self.context(mode).await?;
                let batches = ctx.sql(sql).await?.collect().await?;
                Ok::<_, ClusterError>(batches)
            };
            tokio::select! {
                done = query => done,
                down = self.watch_nodes() => {
                    self.cancel_running_jobs().await;
                    Err(down)
                }
            }
        })?;
        let wall = started.elapsed();
        // Only this query's tasks: a cancelled query's may still have finished meanwhile.
        let (mut tasks, stale): (Vec<TaskRecord>, Vec<TaskRecord>) = self
            .task_log
            .take()
            .into_iter()
            .partition(|t| !earlier.contains(&t.job));
        earlier.extend(stale.into_iter().map(|t| t.job));
        earlier.extend(tasks.iter().map(|t| t.job.clone()));
        tasks.sort_by_key(|t| (t.stage, t.task));
        Ok(ClusterRun {
            rows: rows_as_text(&batches)?,
            batches,
            scans: self.log.take(),
            time: self.model.query_time(&tasks)?,
            tasks,
            wall,
        })
    }
}

impl Cluster {
    /// Tasks finished since the current query started (its task records so far).
    pub fn finished_tasks(&self) -> usize {
        self.task_log.len()
    }

    /// Stops node `node`'s executor as a crash would: it stops polling the scheduler and
    /// serving its shuffle output, at once. Its devices and their tables stay as they are.
    pub fn stop_node(&self, node: u32) -> Result<(), ClusterError> {
        let mut executors = self.executors.lock().unwrap_or_else(PoisonError::into_inner);
        let tasks = executors.get_mut(&node).ok_or_else(|| self.no_node(node))?;
        for t in tasks.drain(..) {
            t.abort();
        }
        Ok(())
    }

    /// Starts node `node`'s executor again (after [`Cluster::stop_node`]) over the same
    /// devices; returns once it has polled the scheduler.
    pub fn restart_node(&self, node: u32) -> Result<(), ClusterError> {
        let n = self
            .nodes
            .iter()
            .find(|n| n.node == node)
            .ok_or_else(|| self.no_node(node))?;
        self.stop_node(node)?;
        let devices = Arc::new(ExecutorDevices::new(
            node,
            &self.nodes,
            self.options.reach,
            Arc::clone(&self.log),
        )?);
        let work = self.work.path().to_path_buf();
        let tasks = self.rt.block_on(async {
            // The scheduler refuses an executor id it holds with other addresses (the new
            // Flight port): forget the stopped one first.
            self.scheduler
                .state
                .executor_manager
                .remove_executor(&executor_id(node), Some("restarted".into()))
                .await
                .map_err(|e| ClusterError::Ballista(e.to_string()))?;
            let tasks =
                start_executor(n, devices, Arc::clone(&self.task_log), &self.scheduler_url, &work).await?;
            let since = epoch_secs();
            let deadline = Instant::now() + Duration::from_secs(30);
            while self.heartbeat(node).is_none_or(|at| at < since) {
                if Instant::now() > deadline {
                    return Err(ClusterError::Ballista(format!(
                        "the restarted executor of node {node} did not poll the scheduler within 30 s"
                    )));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(tasks)
        })?;
        self.executors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(node, tasks);
        Ok(())
    }

    fn no_node(&self, node: u32) -> ClusterError {
        ClusterError::Setup(format!("no node {node}; the cluster has {}", self.nodes.len()))
    }

    /// When node `node`'s executor last polled the scheduler, in seconds since the epoch.
    fn heartbeat(&self, node: u32) -> Option<u64> {
        self.scheduler
            .state
            .executor_manager
            .get_executor_hearbeat(&executor_id(node))
            .map(|h| h.timestamp)
    }

    /// Returns the first node whose executor has not polled the scheduler for
    /// [`ClusterOptions::node_timeout`]; never returns while all poll.
    async fn watch_nodes(&self) -> ClusterError {
        let limit = self.options.node_timeout.as_secs().max(1);
        loop {
            let now = epoch_secs();
            for n in &self.nodes {
                let silent = self.heartbeat(n.node).map(|at| now.saturating_sub(at));
                if silent.is_none_or(|s| s >= limit) {
                    return ClusterError::NodeDown {
                        node: n.node,
                        silent: silent.map_or_else(
                            || "has never polled the scheduler".to_string(),
                            |s| format!("has not polled the scheduler for {s} s"),
                        ),
                        limit_s: limit,
                    };
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The jobs the scheduler is running.
    fn running_jobs(&self) -> Vec<String> {
        self.scheduler
            .state
            .task_manager
            .get_running_job_cache()
            .keys()
            .map(|j| j.to_string())
            .collect()
    }

    /// Cancels every job the scheduler is running (queries run one at a time; tasks already
    /// running on the other nodes still finish).
    async fn cancel_running_jobs(&self) {
        let jobs: Vec<_> = self
            .scheduler
            .state
            .task_manager
            .get_running_job_cache()
            .keys()
            .cloned()
            .collect();
        for job in jobs {
            // A job that ended meanwhile has nothing to cancel.
            let _ = self.scheduler.cancel_job(job).await;
        }
    }
}

/// The descriptors of the tables on `catalogs` (device `g`'s catalog holding part `g` of every
/// table of device 0's), on nodes of `per_node` devices: partition `g` is device `g % per_node`
/// of node `g / per_node`.
pub fn table_descriptors(
    catalogs: &[&Catalog],
    per_node: usize,
) -> Result<Vec<TableDescriptor>, ClusterError> {
    let per_node = per_node.max(1);
    let first = catalogs
        .first()
        .ok_or_else(|| ClusterError::Setup("no devices, so no tables".into()))?;
    let mut tables = Vec::new();
    for t in &first.tables {
        let parts = catalogs
            .iter()
            .enumerate()
            .map(|(g, c)| {
                let part = c.get(t.name()).ok_or_else(|| {
                    ClusterError::Setup(format!("device {g} holds no part of table `{}`", t.name()))
                })?;
                Ok(PartDesc {
                    at: PartLocation {
                        node: (g / per_node) as u32,
                        device: (g % per_node) as u32,
                    },
                    file: part.file.clone(),
                    rows: part.rows,
                    pages: part.pages,
                })
            })
            .collect::<Result<Vec<_>, ClusterError>>()?;
        tables.push(TableDescriptor::new(&t.schema, ScanMode::Conv, parts)?);
    }
    Ok(tables)
}

/// Seconds since the Unix epoch (the scheduler's heartbeat clock).
fn epoch_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What [`start_all`] started.
struct Started {
    url: String,
    scheduler: Scheduler,
    scheduler_url: String,
    executors: BTreeMap<u32, Vec<AbortHandle>>,
}

/// Starts the scheduler and the executors; returns once every executor has registered.
async fn start_all(
    nodes: &[Arc<NodeDevices>],
    options: &ClusterOptions,
    log: &Arc<ScanLog>,
    task_log: &Arc<TaskLog>,
    work: &Path,
) -> Result<Started, ClusterError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    let scheduler = start_scheduler(listener, nodes.len() as u32, options).await?;
    let scheduler_url = format!("http://{addr}");

    let mut executors = BTreeMap::new();
    for n in nodes {
        let devices = Arc::new(ExecutorDevices::new(
            n.node,
            nodes,
            options.reach,
            Arc::clone(log),
        )?);
        let tasks = start_executor(n, devices, Arc::clone(task_log), &scheduler_url, work).await?;
        executors.insert(n.node, tasks);
    }

    // An executor registers at its first poll; wait for all before a query is submitted.
    let deadline = Instant::now() + Duration::from_secs(30);
    for n in nodes {
        let id = executor_id(n.node);
        while scheduler
            .state
            .executor_manager
            .get_executor_metadata(&id)
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                return Err(ClusterError::Ballista(format!(
                    "executor {id} did not register within 30 s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(Started {
        url: format!("df://{addr}"),
        scheduler,
        scheduler_url,
        executors,
    })
}
