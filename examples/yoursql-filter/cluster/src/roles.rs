//! The three roles of a cluster, as the in-process [`crate::Cluster`] and the
//! `yoursql-cluster scheduler` / `executor` / `tpch --scheduler` processes start them:
//! - [`start_scheduler`]: Ballista's scheduler, pull-staged, with the cluster's codecs and task
//!   placement ([`crate::placement`]);
//! - [`start_executor`]: one node's executor, polling the scheduler, with its own shuffle work
//!   directory and Flight service, as many task slots as devices, the recording execution
//!   engine ([`crate::recording`]) and a config producer whose `SessionConfig` carries the
//!   node's devices ([`ExecutorDevices`]). Built from Ballista's executor parts as its
//!   standalone executor is (not `start_executor_process`, which takes fixed ports, installs
//!   signal handlers and sets a process-wide "terminating" flag when it stops);
//! - [`client_context`]: a DataFusion context connected to the scheduler, with every table
//!   registered as a [`ClusterTableProvider`] in the query's scan mode. Ballista's query
//!   settings (sort-merge joins, no dynamic filters), Ballista's adaptive planner off unless
//!   asked for (stage shapes fixed at submission), one partition per task, and partial
//!   aggregates that never skip.

use std::path::Path;
use std::sync::Arc;

use ballista::prelude::SessionContextExt;
use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::extension::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::ExecutorRegistration;
use ballista_core::serde::scheduler::{ExecutorOperatingSystemSpecification, ExecutorSpecification};
use ballista_core::serde::BallistaCodec;
use ballista_core::utils::{create_grpc_server, GrpcServerConfig};
use ballista_core::{ConfigProducer, RuntimeProducer, BALLISTA_PROTOCOL_VERSION};
use ballista_executor::execution_loop::poll_loop;
use ballista_executor::executor::Executor;
use ballista_executor::flight_service::BallistaFlightService;
use ballista_executor::health::ExecutorHealth;
use ballista_executor::metrics::LoggingMetricsCollector;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::{SchedulerConfig, TaskDistributionPolicy};
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use ballista_scheduler::scheduler_server::SchedulerServer;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use tokio::task::AbortHandle;
use yoursql_core::ScanMode;

use crate::codec::{ClusterLogicalCodec, ClusterPhysicalCodec};
use crate::descriptor::TableDescriptor;
use crate::error::ClusterError;
use crate::placement::{executor_id, NodeAffinity};
use crate::provider::ClusterTableProvider;
use crate::recording::{RecordingEngine, TaskLog};
use crate::registry::{ExecutorDevices, NodeDevices};
use crate::{ClusterOptions, Placement};

/// The scheduler's server.
pub type Scheduler = SchedulerServer<LogicalPlanNode, PhysicalPlanNode>;

/// Starts the scheduler of a cluster of `nodes` nodes on `listener` (module docs).
pub async fn start_scheduler(
    listener: tokio::net::TcpListener,
    nodes: u32,
    options: &ClusterOptions,
) -> Result<Scheduler, ClusterError> {
    let ballista = |e: &dyn std::fmt::Display| ClusterError::Ballista(e.to_string());
    let addr = listener.local_addr()?;
    let config = SchedulerConfig {
        bind_host: addr.ip().to_string(),
        external_host: addr.ip().to_string(),
        bind_port: addr.port(),
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        task_distribution: match options.placement {
            Placement::NodeAffinity => TaskDistributionPolicy::Custom(Arc::new(NodeAffinity { nodes })),
            Placement::BallistaBias => TaskDistributionPolicy::Bias,
        },
        override_logical_codec: Some(Arc::new(ClusterLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(ClusterPhysicalCodec::default())),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| ballista(&e))?;
    let scheduler: Scheduler = create_scheduler(cluster, Arc::new(config))
        .await
        .map_err(|e| ballista(&e))?;
    tokio::spawn(start_grpc_service_with_listener(listener, scheduler.clone()));
    Ok(scheduler)
}

/// A client context on the scheduler at `url` (`df://host:port`) with `tables` registered,
/// scanned in `mode` (module docs).
pub async fn client_context(
    url: &str,
    tables: &[TableDescriptor],
    mode: ScanMode,
    target_partitions: usize,
    adaptive: bool,
) -> Result<SessionContext, ClusterError> {
    let config = SessionConfig::new_with_ballista()
        .with_target_partitions(target_partitions.max(1))
        .with_ballista_logical_extension_codec(Arc::new(ClusterLogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(ClusterPhysicalCodec::default()))
        .set_bool(ballista_core::config::BALLISTA_ADAPTIVE_PLANNER_ENABLED, adaptive)
        // One partition per task: how many partitions a task takes would otherwise depend on
        // which executor polls when, and a task builds a collected join side once for all its
        // partitions, so the engine work would too.
        .set_usize(
            ballista_core::config::BALLISTA_SCHEDULER_MAX_PARTITIONS_PER_TASK,
            1,
        )
        // Partial aggregates never switch to passing rows through: DataFusion decides that
        // from the first rows a task sees, and a shuffle's rows arrive in varying order.
        .set_usize(
            "datafusion.execution.skip_partial_aggregation_probe_rows_threshold",
            usize::MAX,
        );
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .build();
    let ctx = SessionContext::remote_with_state(url, state).await?;
    for t in tables {
        let provider = ClusterTableProvider::new(t.clone().with_mode(mode))?;
        ctx.register_table(t.table.as_str(), Arc::new(provider))?;
    }
    Ok(ctx)
}

/// Starts node `n`'s executor (module docs) against the scheduler at `scheduler_url`
/// (`http://host:port`), its work directory under `work`; returns its tasks.
pub async fn start_executor(
    n: &NodeDevices,
    devices: Arc<ExecutorDevices>,
    task_log: Arc<TaskLog>,
    scheduler_url: &str,
    work: &Path,
) -> Result<Vec<AbortHandle>, ClusterError> {
    let ballista = |e: &dyn std::fmt::Display| ClusterError::Ballista(e.to_string());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let flight = listener.local_addr()?;
    let vcores = n.devices.len();
    let registration = ExecutorRegistration {
        id: executor_id(n.node),
        host: Some(flight.ip().to_string()),
        port: u32::from(flight.port()),
        // No executor gRPC service in pull mode.
        grpc_port: 0,
        specification: Some(ExecutorSpecification::default().with_vcores(vcores as u32).into()),
        os_info: Some(ExecutorOperatingSystemSpecification::default().into()),
        ballista_protocol_version: BALLISTA_PROTOCOL_VERSION,
    };
    let work_dir = work.join(executor_id(n.node));
    std::fs::create_dir_all(&work_dir)?;
    let work_dir = work_dir
        .to_str()
        .ok_or_else(|| ClusterError::Setup(format!("work directory {} is not UTF-8", work_dir.display())))?
        .to_string();
    let config_producer: ConfigProducer =
        Arc::new(move || SessionConfig::new_with_ballista().with_extension(Arc::clone(&devices)));
    let runtime_producer: RuntimeProducer = Arc::new(|_| Ok(Arc::new(RuntimeEnv::default())));
    let executor = Arc::new(Executor::new(
        registration,
        &work_dir,
        runtime_producer,
        config_producer,
        Arc::new(BallistaFunctionRegistry::default()),
        Arc::new(LoggingMetricsCollector::default()),
        vcores,
        Arc::new(RecordingEngine::new(n.node, task_log)),
    ));
    let flight_service =
        arrow_flight::flight_service_server::FlightServiceServer::new(BallistaFlightService::new(work_dir));
    let flight_task = tokio::spawn(
        create_grpc_server(&GrpcServerConfig::default())
            .add_service(flight_service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let client = SchedulerGrpcClient::connect(scheduler_url.to_string())
        .await
        .map_err(|e| ballista(&e))?;
    let codec: BallistaCodec = BallistaCodec::new(
        Arc::new(ClusterLogicalCodec::default()),
        Arc::new(ClusterPhysicalCodec::default()),
    );
    let poll_task = tokio::spawn(poll_loop(
        client,
        executor,
        codec,
        None,
        None,
        ExecutorHealth::new(),
    ));
    Ok(vec![poll_task.abort_handle(), flight_task.abort_handle()])
}
