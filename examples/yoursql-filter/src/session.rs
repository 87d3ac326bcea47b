//! Setting up a device with TPC-H tables ([`Setup`]) and running SQL over it through
//! DataFusion in one scan mode ([`run_query`]), with the figures of every device scan.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use host_sdk::{Device, DeviceProfile, ImageSpec};
use yoursql_core::{load_tpch, Catalog, ScanMode, Scanner, TpchTable};

use crate::error::Error;
use crate::provider::{DeviceTableProvider, ScanRecord};
use crate::reference::rows_as_text;

/// An embedded device holding TPC-H tables, and a scanner for them.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The device (in memory).
    pub dev: Device,
    /// Scans the tables; with the filter module loaded when offload is possible.
    pub scanner: Scanner,
    /// The stored tables.
    pub catalog: Catalog,
    /// Scale factor of the tables.
    pub sf: f64,
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
    /// the filter module from `module` (`None`: conventional scans only).
    pub fn new(
        profile: DeviceProfile,
        sf: f64,
        tables: &[TpchTable],
        module: Option<&Path>,
    ) -> Result<Setup, Error> {
        let dev = Device::embedded(profile, ImageSpec::Memory).map_err(|e| Error::Setup(e.to_string()))?;
        let catalog = load_tpch(&dev, sf, tables).map_err(|e| Error::Load {
            sf,
            message: e.to_string(),
        })?;
        let scanner = match module {
            Some(p) => Scanner::new(&dev, p).map_err(|e| Error::Setup(e.to_string()))?,
            None => Scanner::conventional(&dev),
        };
        Ok(Setup {
            dev,
            scanner,
            catalog,
            sf,
        })
    }

    /// A DataFusion context with every stored table registered as a [`DeviceTableProvider`]
    /// scanning in `mode`; the providers are returned for their scan records.
    pub fn context(&self, mode: ScanMode) -> Result<(SessionContext, Vec<Arc<DeviceTableProvider>>), Error> {
        let ctx = SessionContext::new();
        let mut providers = Vec::new();
        for t in &self.catalog.tables {
            let p = Arc::new(DeviceTableProvider::new(self.scanner.clone(), t.clone(), mode));
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
    /// Wall time of planning and running the query (device simulation included).
    pub wall: Duration,
}

impl QueryRun {
    /// Simulated time of all device scans (device work plus the host's decoding and
    /// filtering), in ns. DataFusion's own operators (joins, aggregates) are not included.
    pub fn simulated_ns(&self) -> u64 {
        self.scans.iter().map(|s| s.stats.simulated_ns).sum()
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

/// Runs `sql` over `setup`'s tables with every scan in `mode`.
pub async fn run_query(setup: &Setup, sql: &str, mode: ScanMode) -> Result<QueryRun, Error> {
    let (ctx, providers) = setup.context(mode)?;
    let t = Instant::now();
    let batches = ctx.sql(sql).await?.collect().await?;
    let wall = t.elapsed();
    let mut scans: Vec<ScanRecord> = providers.iter().flat_map(|p| p.take_scans()).collect();
    scans.sort_by_key(|s| s.stats.started_at);
    Ok(QueryRun {
        mode,
        rows: rows_as_text(&batches)?,
        batches,
        scans,
        wall,
    })
}
