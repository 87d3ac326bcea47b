//! Setting up a device with TPC-H tables ([`Setup`], from [`SetupOptions`]) and running SQL
//! over it through DataFusion in one scan mode ([`run_query`]), with the figures of every
//! device scan and of the engine's own work.
//!
//! **A query's simulated time** ([`QueryRun::simulated_ns`]) is its device scans' times (run one
//! after another on the host clock: device work, NVMe and PCIe transfers, the host's decoding and
//! filtering) plus the engine's compute ([`crate::engine`]), on `host_cores` host cores. The
//! engine runs with one partition (`target_partitions = 1`), as MariaDB ran a query on one
//! thread, and the query must run on a current-thread tokio runtime (the engine's measured
//! compute is that thread's CPU time).
//!
//! **Compute is modeled by default** (deterministic: the same figures on any machine, under any
//! load): the host filter at the calibration's `filter-scan` cost per row examined, the engine's
//! operators at their `[engine.*]` costs per row consumed, the SSDlets at their calibrated costs.
//! `Compute::Measured` charges measured CPU time instead.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app_support::calibration::Calibration;
use app_support::cli::Compute;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::context::SessionConfig;
use datafusion::physical_plan::collect;
use datafusion::prelude::SessionContext;
use device_runtime::compute::ComputeModel;
use host_sdk::cpu::HostCharge;
use host_sdk::{Device, DeviceProfile, ImageSpec, RuntimeConfig};
use yoursql_core::{open_tpch, tpch_tables, BufferPool, Catalog, ScanMode, Scanner, TpchTable};

use crate::engine::{EngineCharge, EngineCosts, EngineTime, EngineWork};
use crate::error::Error;
use crate::provider::{DeviceTableProvider, ScanRecord};
use crate::reference::rows_as_text;
use crate::scan_exec::ScanGate;

/// The host memory YourSQL's TPC-H set-up had per unit of scale factor: 16 GiB for SF 100.
pub const PAPER_HOST_MEMORY_PER_SF: f64 = (16u64 << 30) as f64 / 100.0;

/// How to set up a [`Setup`].
#[derive(Debug, Clone)]
pub struct SetupOptions {
    /// The device model.
    pub profile: DeviceProfile,
    /// TPC-H scale factor (`None` with `reuse_only`: whatever the image holds).
    pub sf: Option<f64>,
    /// The tables to store (or find).
    pub tables: Vec<TpchTable>,
    /// The filter module (`None`: conventional scans only).
    pub module: Option<PathBuf>,
    /// Modeled (calibrated, deterministic; the default) or measured compute.
    pub compute: Compute,
    /// The costs modeled compute charges.
    pub calibration: Arc<Calibration>,
    /// A persistent device image: its tables are reused when they were loaded at the same scale
    /// factor and page format (`None`: a fresh in-memory device).
    pub image: Option<PathBuf>,
    /// With `image`: never load; a missing table or another scale factor is an error.
    pub reuse_only: bool,
    /// Host cores the engine's compute is spread over (default 1).
    pub host_cores: u32,
}

impl SetupOptions {
    /// `tables` at `sf` on a fresh in-memory device of `profile`, modeled compute with the
    /// shipped calibration, one host core, conventional scans only (and no buffer pool until
    /// [`Setup::set_buffer_pool`]).
    pub fn new(profile: DeviceProfile, sf: f64, tables: &[TpchTable]) -> SetupOptions {
        SetupOptions {
            profile,
            sf: Some(sf),
            tables: tables.to_vec(),
            module: None,
            compute: Compute::Modeled,
            calibration: Arc::new(Calibration::shipped()),
            image: None,
            reuse_only: false,
            host_cores: 1,
        }
    }
}

/// An embedded device holding TPC-H tables, a scanner for them, and how the host is charged.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The device.
    pub dev: Device,
    /// The device model.
    pub profile: DeviceProfile,
    /// Scans the tables; with the filter module loaded when offload is possible.
    pub scanner: Scanner,
    /// The stored tables.
    pub catalog: Catalog,
    /// Scale factor of the tables.
    pub sf: f64,
    /// How the engine's compute is charged.
    pub engine: EngineCharge,
    /// Host cores the engine's compute is spread over.
    pub host_cores: u32,
    /// Why the tables were generated and stored (`None`: reused from the image).
    pub loaded: Option<String>,
    /// Wall time of finding or generating and storing the tables.
    pub load_wall: Duration,
}

/// The TPC-H tables a query names (any of the eight), by a plain word match on its text.
pub fn tables_for(sql: &str) -> Vec<TpchTable> {
    let lower = sql.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    TpchTable::ALL
        .into_iter()
        .filter(|t| words.contains(&t.name()))
        .collect()
}

impl Setup {
    /// A fresh in-memory device of `profile` with `tables` generated at `sf`; the scanner loads
    /// the filter module from `module` (`None`: conventional scans only); the rest as
    /// [`SetupOptions::new`].
    pub fn new(
        profile: DeviceProfile,
        sf: f64,
        tables: &[TpchTable],
        module: Option<&Path>,
    ) -> Result<Setup, Error> {
        let mut o = SetupOptions::new(profile, sf, tables);
        o.module = module.map(Path::to_path_buf);
        Setup::open(&o)
    }

    /// The device, tables and charges `o` describes.
    pub fn open(o: &SetupOptions) -> Result<Setup, Error> {
        let setup_err = |e: &dyn std::fmt::Display| Error::Setup(e.to_string());
        let cal = &o.calibration;
        let (config, host_cost, engine) = match o.compute {
            Compute::Measured => (
                ComputeModel::measured(&o.profile),
                HostCharge::Measured,
                EngineCharge::Measured,
            ),
            Compute::Modeled => {
                let missing = |what: &str| Error::NoCost {
                    what: what.to_owned(),
                };
                let scan = cal
                    .host
                    .get("filter-scan")
                    .ok_or_else(|| missing("host.filter-scan"))?;
                if cal.engine.is_empty() {
                    return Err(missing("engine.*"));
                }
                let costs = EngineCosts {
                    ps_per_row: cal
                        .engine
                        .iter()
                        .map(|(k, c)| (k.clone(), c.ps_per_unit))
                        .collect(),
                };
                (
                    ComputeModel::modeled(&o.profile, cal.cost_table()),
                    HostCharge::PerUnit { ps: scan.ps_per_unit },
                    EngineCharge::Modeled(costs),
                )
            }
        };
        let runtime = RuntimeConfig {
            compute: config,
            ..RuntimeConfig::default()
        };
        let image = match &o.image {
            Some(p) => ImageSpec::File(p.clone()),
            None => ImageSpec::Memory,
        };
        let dev = Device::embedded_with(o.profile.clone(), image, runtime).map_err(|e| setup_err(&e))?;
        let load_started = Instant::now();
        let (catalog, sf, loaded) = match (o.reuse_only, o.sf) {
            (true, sf) => {
                let (c, sf) = open_tpch(&dev, sf, &o.tables).map_err(|e| setup_err(&e))?;
                (c, sf, None)
            }
            (false, Some(sf)) => {
                let (c, why) = tpch_tables(&dev, sf, &o.tables).map_err(|e| Error::Load {
                    sf,
                    message: e.to_string(),
                })?;
                (c, sf, why)
            }
            (false, None) => return Err(Error::Setup("no scale factor given and loading allowed".into())),
        };
        let mut scanner = match &o.module {
            Some(p) => Scanner::new(&dev, p).map_err(|e| setup_err(&e))?,
            None => Scanner::conventional(&dev),
        };
        scanner.config.host_cost = host_cost;
        Ok(Setup {
            dev,
            profile: o.profile.clone(),
            scanner,
            catalog,
            sf,
            engine,
            host_cores: o.host_cores.max(1),
            loaded,
            load_wall: load_started.elapsed(),
        })
    }

    /// The host buffer pool, if there is one.
    pub fn buffer_pool(&self) -> Option<&BufferPool> {
        self.scanner.config.buffer_pool.as_ref()
    }

    /// Gives conventional scans a fresh, empty host buffer pool of `bytes` (`None`: no pool; see
    /// [`yoursql_core::pool`]).
    pub fn set_buffer_pool(&mut self, bytes: Option<u64>) {
        self.scanner.config.buffer_pool = bytes.map(BufferPool::new);
    }

    /// A DataFusion context with every stored table registered as a [`DeviceTableProvider`]
    /// scanning in `mode`; the providers are returned for their scan records.
    /// One partition per operator (module docs); the scans of the context take turns.
    pub fn context(&self, mode: ScanMode) -> Result<(SessionContext, Vec<Arc<DeviceTableProvider>>), Error> {
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
        let gate = Arc::new(ScanGate::default());
        let mut providers = Vec::new();
        for t in &self.catalog.tables {
            let p = Arc::new(DeviceTableProvider::new(
                self.scanner.clone(),
                t.clone(),
                mode,
                Arc::clone(&gate),
            ));
            ctx.register_table(t.name(), p.clone())?;
            providers.push(p);
        }
        Ok((ctx, providers))
    }
}

/// One query run in one mode.
#[derive(Debug, Clone)]
pub struct QueryRun {
    /// The mode the tables were scanned in.
    pub mode: ScanMode,
    /// The result.
    pub batches: Vec<RecordBatch>,
    /// The result rows as text, sorted (for comparing runs).
    pub rows: Vec<Vec<String>>,
    /// The device scans the query ran, in the order they ran.
    pub scans: Vec<ScanRecord>,
    /// The engine's own work and its compute.
    pub engine: EngineTime,
    /// Wall time of planning and running the query (device simulation included).
    pub wall: Duration,
}

impl QueryRun {
    /// The query's simulated time, in ns: [`QueryRun::scan_ns`] plus the engine's time.
    pub fn simulated_ns(&self) -> u64 {
        self.scan_ns() + self.engine.time_ns
    }

    /// Simulated time of all device scans (device work, transfers, the host's decoding and
    /// filtering), in ns.
    pub fn scan_ns(&self) -> u64 {
        self.scans.iter().map(|s| s.stats.simulated_ns).sum()
    }

    /// Host compute of the scans (decoding and filtering), in ns.
    pub fn scan_host_ns(&self) -> u64 {
        self.scans.iter().map(|s| s.stats.host_compute_ns).sum()
    }

    /// Pages found in the host buffer pool.
    pub fn pages_from_pool(&self) -> u64 {
        self.scans.iter().map(|s| s.stats.pages_from_pool).sum()
    }

    /// The query's energy on a device of `profile` (`sim_nvme::energy`): the host busy for the
    /// scans' and the engine's compute, the device's filter on its cores, the NAND pages read, the
    /// PCIe bytes and the matchers' pages.
    pub fn energy(&self, profile: &DeviceProfile) -> sim_nvme::Energy {
        let per_nand_page = (u64::from(profile.geometry.page_bytes) / 4096).max(1);
        let sum =
            |f: fn(&yoursql_core::ScanStats) -> u64| self.scans.iter().map(|s| f(&s.stats)).sum::<u64>();
        let a = sim_nvme::Activity {
            elapsed_ns: self.simulated_ns(),
            host_busy_ns: self.scan_host_ns() + self.engine.cpu_ns,
            host_cores: self.engine.host_cores,
            arm_busy_ns: sum(|s| s.filter_ns),
            arm_cores: profile.arm.cores,
            nand_pages_read: sum(|s| s.pages_read).div_ceil(per_nand_page),
            nand_pages_programmed: 0,
            nand_blocks_erased: 0,
            pcie_bytes_to_host: sum(|s| s.pcie_bytes),
            pcie_bytes_to_device: 0,
            matcher_pages_scanned: sum(|s| s.pages_scanned_on_device),
        };
        sim_nvme::energy(&a, &profile.power)
    }

    /// Table pages read from NAND by all scans (see `ScanStats::pages_read`).
    pub fn pages_read(&self) -> u64 {
        self.scans.iter().map(|s| s.stats.pages_read).sum()
    }

    /// Pages moved to the host by all scans.
    pub fn pages_transferred(&self) -> u64 {
        self.scans.iter().map(|s| s.stats.pages_transferred).sum()
    }

    /// Bytes over PCIe device-to-host in all scans.
    pub fn pcie_bytes(&self) -> u64 {
        self.scans.iter().map(|s| s.stats.pcie_bytes).sum()
    }
}

/// The runtime [`run_query`] needs: current-thread (the engine runs on the query's one thread;
/// the device scans run on its blocking pool).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

/// Runs `sql` over `setup`'s tables with every scan in `mode`, on a current-thread tokio
/// runtime (module docs); the engine's time is charged to the device's host clock after the
/// query.
pub async fn run_query(setup: &Setup, sql: &str, mode: ScanMode) -> Result<QueryRun, Error> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::current().runtime_flavor() != RuntimeFlavor::CurrentThread {
        return Err(Error::Setup(
            "run_query needs a current-thread tokio runtime (the engine runs on one thread)".into(),
        ));
    }
    let (ctx, providers) = setup.context(mode)?;
    let t = Instant::now();
    let plan = ctx.sql(sql).await?.create_physical_plan().await?;
    let cpu = host_sdk::cpu::thread_cpu_time();
    let batches = collect(Arc::clone(&plan), ctx.task_ctx()).await?;
    let measured = host_sdk::cpu::thread_cpu_time().saturating_sub(cpu);
    let wall = t.elapsed();
    let engine = setup
        .engine
        .time(EngineWork::of(&plan), measured, setup.host_cores);
    setup.dev.charge(Duration::from_nanos(engine.time_ns));
    let mut scans: Vec<ScanRecord> = providers.iter().flat_map(|p| p.take_scans()).collect();
    scans.sort_by_key(|s| s.stats.started_at);
    Ok(QueryRun {
        mode,
        rows: rows_as_text(&batches)?,
        batches,
        scans,
        engine,
        wall,
    })
}
