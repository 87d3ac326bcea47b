//! A cluster of separate processes (`yoursql_cluster::roles`): `scheduler`, one `executor` per
//! storage node over its devices served by `ndp serve`, and `tpch --scheduler` as the client.
//!
//! Each device holds its part of the TPC-H set as `yoursql-filter tpch --devices N --image
//! PATH` stored it (part `g` of `N` on `PATH.dev<g>`); nodes own consecutive devices. An
//! executor checks that the parts it is given are its node's, the client that the devices it is
//! given hold parts `0..N` in order.
//!
//! The answers are the same as in one process. The simulated time is not reported here: each
//! task's record stays in the executor that ran it (the in-process cluster reports it).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use app_support::calibration::Calibration;
use host_sdk::cpu::HostCharge;
use host_sdk::Device;
use serde::Serialize;
use yoursql_cluster::cluster::table_descriptors;
use yoursql_cluster::recording::TaskLog;
use yoursql_cluster::registry::{ExecutorDevices, NodeDevice, NodeDevices, ScanLog};
use yoursql_cluster::roles::{client_context, start_executor, start_scheduler};
use yoursql_cluster::turn::DeviceTurn;
use yoursql_cluster::{ClusterOptions, Reach};
use yoursql_core::{open_tpch_part, Catalog, Part, Scanner};
use yoursql_filter::reference::rows_as_text;

use yoursql_filter::queries;

use crate::TpchArgs;

/// How long a device connection and its welcome may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(clap::Args, Debug)]
pub(crate) struct SchedulerArgs {
    /// Address to listen on (port 0: one the OS picks; the address is printed).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    listen: String,
    /// The cluster's storage nodes (executors `node-0` .. `node-<N-1>`).
    #[arg(long, value_name = "N")]
    nodes: u32,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ExecutorArgs {
    /// The scheduler's address.
    #[arg(long, value_name = "HOST:PORT")]
    scheduler: String,
    /// This node's number (0 .. nodes - 1).
    #[arg(long, value_name = "K")]
    node: u32,
    /// The node's devices, in order (a Unix socket of `ndp serve`, or `tcp:HOST:PORT` with
    /// --token-file).
    #[arg(long = "device", value_name = "SOCKET|tcp:HOST:PORT", required = true)]
    devices: Vec<String>,
    /// The file holding the `ndp serve --listen` token, for tcp: devices.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Build the filter module in debug (faster to build, slower device-side code).
    #[arg(long)]
    debug_module: bool,
    /// The calibration file the host's scan work is charged from [default: the shipped one].
    #[arg(long, value_name = "FILE")]
    calibration: Option<PathBuf>,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()?)
}

/// Connects to `spec`: a Unix socket path, or `tcp:HOST:PORT` with the token in `token_file`.
fn connect(spec: &str, token_file: Option<&PathBuf>) -> Result<Device> {
    match spec.strip_prefix("tcp:") {
        Some(addr) => {
            let file =
                token_file.with_context(|| format!("device {spec}: a tcp: device needs --token-file"))?;
            let token =
                std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            Device::connect_tcp_within(addr, token.trim(), CONNECT_TIMEOUT)
                .with_context(|| format!("device {spec}"))
        }
        None => Device::connect(spec).with_context(|| format!("device {spec}")),
    }
}

/// Each device's TPC-H part, checked to be part `first + i` of one set.
fn open_parts(
    devs: &[Device],
    specs: &[String],
    first: usize,
    of: Option<usize>,
) -> Result<Vec<(Catalog, Part)>> {
    let mut out = Vec::new();
    for (i, (dev, spec)) in devs.iter().zip(specs).enumerate() {
        let (catalog, _sf, part) = open_tpch_part(dev).with_context(|| format!("device {spec}"))?;
        let of = of.unwrap_or(part.of);
        if part.index != first + i || part.of != of {
            bail!(
                "device {spec} holds part {} of {} of the TPC-H set; expected part {} of {of} here",
                part.index,
                part.of,
                first + i
            );
        }
        out.push((catalog, part));
    }
    Ok(out)
}

pub(crate) fn scheduler(a: &SchedulerArgs) -> Result<()> {
    if a.nodes == 0 {
        bail!("--nodes 0: expected at least one storage node");
    }
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("listening on {}", a.listen))?;
        let addr = listener.local_addr()?;
        start_scheduler(listener, a.nodes, &ClusterOptions::default()).await?;
        println!("scheduler listening on {addr} for {} node(s)", a.nodes);
        until_stopped().await
    })
}

pub(crate) fn executor(a: &ExecutorArgs) -> Result<()> {
    let devs = a
        .devices
        .iter()
        .map(|d| connect(d, a.token_file.as_ref()))
        .collect::<Result<Vec<_>>>()?;
    let per_node = devs.len();
    let first = a.node as usize * per_node;
    let parts = open_parts(&devs, &a.devices, first, None)?;
    let module = yoursql_core::build_filter_module(!a.debug_module).context("building the filter module")?;
    let calibration = Calibration::load_or_shipped(a.calibration.as_deref())?;
    let scan = calibration
        .host
        .get("filter-scan")
        .context("the calibration has no host.filter-scan cost")?;
    let mut devices = Vec::new();
    for (dev, (catalog, _)) in devs.iter().zip(parts) {
        let mut scanner = Scanner::new(dev, &module).context("loading the filter module")?;
        scanner.config.host_cost = HostCharge::PerUnit { ps: scan.ps_per_unit };
        devices.push(NodeDevice {
            scanner,
            catalog,
            turn: DeviceTurn::default(),
        });
    }
    let node = Arc::new(NodeDevices {
        node: a.node,
        devices,
    });
    let reach = Arc::new(ExecutorDevices::new(
        a.node,
        std::slice::from_ref(&node),
        Reach::OwnNode,
        Arc::new(ScanLog::default()),
    )?);
    let work = tempfile::TempDir::new()?;
    runtime()?.block_on(async {
        let url = format!("http://{}", a.scheduler);
        start_executor(&node, reach, Arc::new(TaskLog::default()), &url, work.path()).await?;
        println!(
            "node {} serving {per_node} device(s) (parts {first}..{}) to {}",
            a.node,
            first + per_node,
            a.scheduler
        );
        until_stopped().await
    })
}

/// Returns at SIGINT or SIGTERM (the process then ends cleanly: work directories removed).
async fn until_stopped() -> Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct RemoteQuery {
    query: String,
    mode: &'static str,
    rows: usize,
    answer: Vec<Vec<String>>,
    wall_ms: f64,
}

pub(crate) fn tpch_remote(a: &TpchArgs) -> Result<()> {
    let Some(scheduler) = &a.scheduler else {
        bail!("tpch_remote without --scheduler");
    };
    let (&[nodes], &[per_node]) = (a.nodes.as_slice(), a.devices_per_node.as_slice()) else {
        bail!("--scheduler: expected one --nodes and one --devices-per-node (the cluster's layout)");
    };
    if nodes.checked_mul(per_node) != Some(a.devices.len()) {
        bail!(
            "{} --device given; expected {nodes} node(s) x {per_node} = {} (every device, node by node)",
            a.devices.len(),
            nodes.saturating_mul(per_node)
        );
    }
    let qs = queries::tpch_list(a.queries.as_deref())?;
    let devs = a
        .devices
        .iter()
        .map(|d| connect(d, a.token_file.as_ref()))
        .collect::<Result<Vec<_>>>()?;
    let parts = open_parts(&devs, &a.devices, 0, Some(devs.len()))?;
    let catalogs: Vec<&Catalog> = parts.iter().map(|(c, _)| c).collect();
    let tables = table_descriptors(&catalogs, per_node)?;
    let url = format!("df://{scheduler}");
    let mut out = Vec::new();
    let rt = runtime()?;
    for q in &qs {
        for mode in a.mode.modes() {
            let started = Instant::now();
            let limit = Duration::from_secs(a.timeout);
            let batches = rt
                .block_on(async {
                    let query = async {
                        let ctx = client_context(&url, &tables, mode, devs.len(), false).await?;
                        let batches = ctx.sql(q.sql).await?.collect().await?;
                        Ok::<_, yoursql_cluster::ClusterError>(batches)
                    };
                    match tokio::time::timeout(limit, query).await {
                        Ok(done) => Ok(done?),
                        Err(_) => bail!(
                            "no answer within {} s (--timeout); expected every node's executor \
                             (`executor --node K` for K from 0 to {}) to be running: a node's \
                             partitions run on no other",
                            a.timeout,
                            nodes - 1
                        ),
                    }
                })
                .with_context(|| format!("{} {} on the cluster at {scheduler}", q.name, mode.name()))?;
            let answer = rows_as_text(&batches)?;
            let r = RemoteQuery {
                query: q.name.to_string(),
                mode: mode.name(),
                rows: answer.len(),
                answer,
                wall_ms: started.elapsed().as_secs_f64() * 1e3,
            };
            if !a.json {
                println!(
                    "{:<5} {:<8} {:>7} rows {:>9.0} ms",
                    r.query, r.mode, r.rows, r.wall_ms
                );
            }
            out.push(r);
        }
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("(simulated time: reported by the in-process cluster only; each task's record stays in its executor)");
    }
    Ok(())
}
