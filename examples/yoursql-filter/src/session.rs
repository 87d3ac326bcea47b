//! Setting up a device with TPC-H tables ([`Setup`], from [`SetupOptions`]) and running SQL
//! over it through DataFusion in one scan mode ([`run_query`]), with the figures of every
//! device scan and of the engine's own work.
//!
//! **Many devices** ([`SetupOptions::devices`], default 1): N embedded devices of the same
//! profile, each with its own channels, controller, PCIe link and host clock, each holding part
//! `i of N` of every table (contiguous row-page ranges: [`yoursql_core::parts`]) and the filter
//! module; a table's scan has one DataFusion partition per device, run at once
//! ([`crate::scan_parts`]). Each device has its own host buffer pool, of an even share of the
//! host memory ([`Setup::set_buffer_pool`]). With a device image and N > 1, device `i`'s image
//! is `PATH.dev<i>`.
//!
//! **A query's simulated time** ([`QueryRun::simulated_ns`]) is its device scans' times (run one
//! after another on the host clock: device work, NVMe and PCIe transfers, the host's decoding and
//! filtering; a scan over several devices takes its slowest partition's time) plus the engine's
//! compute ([`crate::engine`]), on `host_cores` host cores. Above the scans the engine runs with
//! one partition (`target_partitions = 1`), as MariaDB ran a query on one thread, and the query
//! must run on a current-thread tokio runtime (the engine's measured compute is that thread's
//! CPU time).
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
use yoursql_core::{open_tpch_parts, tpch_tables_parts, BufferPool, Catalog, ScanMode, Scanner, TpchTable};

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
    /// factor, page format and partitioning (`None`: fresh in-memory devices; with more than one
    /// device, device `i` uses [`device_image`]`(path, i)`).
    pub image: Option<PathBuf>,
    /// With `image`: never load; a missing table or another scale factor is an error.
    pub reuse_only: bool,
    /// Host cores the engine's compute is spread over (default 1).
    pub host_cores: u32,
    /// Devices the tables are spread over (default 1; module docs).
    pub devices: usize,
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
            devices: 1,
        }
    }
}

/// One device of a [`Setup`]: its part of the tables and a scanner for them.
#[derive(Debug, Clone)]
pub struct SetupDevice {
    /// The device.
    pub dev: Device,
    /// Scans its part of the tables; with the filter module loaded when offload is possible.
    pub scanner: Scanner,
    /// Its part of the stored tables.
    pub catalog: Catalog,
}

/// Embedded devices holding TPC-H tables (each its part), scanners for them, and how the host
/// is charged.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The devices, in partition order (at least one).
    pub devices: Vec<SetupDevice>,
    /// The device model (of every device).
    pub profile: DeviceProfile,
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

/// Device `i`'s image when a setup of several devices is given image `path`: `path.dev<i>`.
pub fn device_image(path: &Path, i: usize) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".dev{i}"));
    PathBuf::from(s)
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
        let n = o.devices;
        if n == 0 {
            return Err(Error::Setup(
                "0 devices; expected at least 1 device to store the tables on".into(),
            ));
        }
        let mut devs = Vec::with_capacity(n);
        for i in 0..n {
            let image = match &o.image {
                Some(p) if n == 1 => ImageSpec::File(p.clone()),
                Some(p) => ImageSpec::File(device_image(p, i)),
                None => ImageSpec::Memory,
            };
            let dev = Device::embedded_with(o.profile.clone(), image, runtime.clone())
                .map_err(|e| setup_err(&format!("device {i} of {n}: {e}")))?;
            devs.push(dev);
        }
        let load_started = Instant::now();
        let (catalogs, sf, loaded) = match (o.reuse_only, o.sf) {
            (true, sf) => {
                let (c, sf) = open_tpch_parts(&devs, sf, &o.tables).map_err(|e| setup_err(&e))?;
                (c, sf, None)
            }
            (false, Some(sf)) => {
                let (c, why) = tpch_tables_parts(&devs, sf, &o.tables).map_err(|e| Error::Load {
                    sf,
                    message: e.to_string(),
                })?;
                (c, sf, why)
            }
            (false, None) => return Err(Error::Setup("no scale factor given and loading allowed".into())),
        };
        let mut devices = Vec::with_capacity(n);
        for (dev, catalog) in devs.into_iter().zip(catalogs) {
            let mut scanner = match &o.module {
                Some(p) => Scanner::new(&dev, p).map_err(|e| setup_err(&e))?,
                None => Scanner::conventional(&dev),
            };
            scanner.config.host_cost = host_cost;
            devices.push(SetupDevice {
                dev,
                scanner,
                catalog,
            });
        }
        Ok(Setup {
            devices,
            profile: o.profile.clone(),
            sf,
            engine,
            host_cores: o.host_cores.max(1),
            loaded,
            load_wall: load_started.elapsed(),
        })
    }

    /// The tables (device 0's catalog: every device holds the same tables, each its part).
    pub fn catalog(&self) -> &Catalog {
        &self.devices[0].catalog
    }

    /// The number of devices.
    pub fn device_count(&self) -> usize {
        self.devices.len()
    }

    /// This setup with every scanner on a host clock of its own (for another thread, e.g. a test
    /// running beside others on the same devices; [`Device::with_own_clock`]).
    pub fn with_own_clocks(&self) -> Setup {
        let mut s = self.clone();
        for d in &mut s.devices {
            d.scanner.set_device(d.dev.with_own_clock());
        }
        s
    }

    /// The host buffer pools (one per device), if there are any.
    pub fn buffer_pools(&self) -> Vec<&BufferPool> {
        self.devices
            .iter()
            .filter_map(|d| d.scanner.config.buffer_pool.as_ref())
            .collect()
    }

    /// Empties every host buffer pool.
    pub fn clear_buffer_pools(&self) {
        for p in self.buffer_pools() {
            p.clear();
        }
    }

    /// Gives conventional scans fresh, empty host buffer pools of `bytes` in all (`None`: no
    /// pool; see [`yoursql_core::pool`]): one per device, each of an even share (the pools are
    /// the host memory spent caching each device's pages; one pool per device keeps each
    /// device's hits independent of how the partitions interleave).
    pub fn set_buffer_pool(&mut self, bytes: Option<u64>) {
        let n = self.devices.len() as u64;
        for d in &mut self.devices {
            d.scanner.config.buffer_pool = bytes.map(|b| BufferPool::new(b / n));
        }
    }

    /// Charges `d` of host work to every device's host clock (the scanners' clocks).
    pub fn charge(&self, d: Duration) {
        for dev in &self.devices {
            dev.scanner.device().charge(d);
        }
    }

    /// A DataFusion context with every stored table registered as a [`DeviceTableProvider`]
    /// scanning in `mode`; the providers are returned for their scan records.
    /// One partition per device in the scans and one above them (module docs); the scans of the
    /// context take turns.
    pub fn context(&self, mode: ScanMode) -> Result<(SessionContext, Vec<Arc<DeviceTableProvider>>), Error> {
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
        let gate = Arc::new(ScanGate::default());
        let mut providers = Vec::new();
        for t in &self.catalog().tables {
            let mut parts = Vec::with_capacity(self.devices.len());
            for d in &self.devices {
                let part = d.catalog.get(t.name()).ok_or_else(|| {
                    Error::Setup(format!("table `{}` has no part on every device", t.name()))
                })?;
                parts.push((d.scanner.clone(), part.clone()));
            }
            let p = Arc::new(DeviceTableProvider::new(parts, mode, Arc::clone(&gate))?);
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

    /// The query's energy on devices of `profile` (`sim_nvme::energy`): the host busy for the
    /// scans' and the engine's compute, the devices' filters on their cores, the NAND pages read,
    /// the PCIe bytes and the matchers' pages; with several devices (the scans' partitions) each
    /// device's controller idles through the query and the scans' partitions run on a host core
    /// each.
    pub fn energy(&self, profile: &DeviceProfile) -> sim_nvme::Energy {
        let devices = self.scans.iter().map(|s| s.parts.len()).max().unwrap_or(1).max(1);
        let n = u32::try_from(devices).unwrap_or(u32::MAX);
        let per_nand_page = (u64::from(profile.geometry.page_bytes) / 4096).max(1);
        let sum =
            |f: fn(&yoursql_core::ScanStats) -> u64| self.scans.iter().map(|s| f(&s.stats)).sum::<u64>();
        let a = sim_nvme::Activity {
            elapsed_ns: self.simulated_ns(),
            host_busy_ns: self.scan_host_ns() + self.engine.cpu_ns,
            host_cores: self.engine.host_cores.max(n),
            arm_busy_ns: sum(|s| s.filter_ns),
            arm_cores: profile.arm.cores.saturating_mul(n),
            nand_pages_read: sum(|s| s.pages_read).div_ceil(per_nand_page),
            nand_pages_programmed: 0,
            nand_blocks_erased: 0,
            pcie_bytes_to_host: sum(|s| s.pcie_bytes),
            pcie_bytes_to_device: 0,
            matcher_pages_scanned: sum(|s| s.pages_scanned_on_device),
        };
        let mut e = sim_nvme::energy(&a, &profile.power);
        // sim_nvme::energy counts one device's idle controller.
        let others = profile.power.ssd_idle_w * (devices - 1) as f64 * self.simulated_ns() as f64 * 1e-9;
        e.ssd_controller_j += others;
        e.total_j += others;
        e
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
/// runtime (module docs); the engine's time is charged to the devices' host clocks after the
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
    if let Some(p) = providers.first() {
        p.gate().note_join_filters(&plan);
    }
    let cpu = host_sdk::cpu::thread_cpu_time();
    let batches = collect(Arc::clone(&plan), ctx.task_ctx()).await?;
    let measured = host_sdk::cpu::thread_cpu_time().saturating_sub(cpu);
    let wall = t.elapsed();
    let engine = setup
        .engine
        .time(EngineWork::of(&plan), measured, setup.host_cores);
    setup.charge(Duration::from_nanos(engine.time_ns));
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
