//! [`DeviceTableProvider`]: a DataFusion table whose scans run on the simulated SSD through
//! `yoursql_core`, with filter pushdown.
//!
//! **Pushdown.** Each filter DataFusion offers is converted ([`crate::convert`]); the ones that
//! convert and bind are reported [`TableProviderFilterPushDown::Exact`]: the scan's software
//! filter evaluates them on every row it returns, in offloaded and conventional scans alike
//! (the matcher only chooses which pages are read; false positives are removed on the host).
//! Everything else is `Unsupported` and DataFusion filters it after the scan.
//!
//! **Scan.** The accepted filters are ANDed and bound at planning into a
//! [`DeviceScanExec`]; the device scan runs when DataFusion first polls it (one partition per
//! device the table is spread over, all at once on blocking threads, after the query's earlier
//! scans: [`crate::scan_exec`]), in the provider's
//! [`ScanMode`] (`Auto` offloads only when the sampler and limiting score say it pays, else
//! reads conventionally; `Offload` reads conventionally a scan with nothing to offload, such as
//! an unfiltered table, and records why in [`ScanRecord::fallback`]), and its projected rows
//! stream to DataFusion as Arrow batches. Each
//! finished scan's [`ScanStats`] is recorded and can be read with
//! [`DeviceTableProvider::last_stats`] or taken with [`DeviceTableProvider::take_scans`].

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use yoursql_core::{DeviceTable, ScanMode, ScanStats, Scanner, Schema};

use crate::arrow_map::arrow_schema;
use crate::convert::{conjunction, to_predicate};
use crate::error::Error;
use crate::scan_exec::{DeviceScanExec, ScanGate, ScanSpec};
use crate::scan_parts::TablePart;

/// One scan the provider ran: what was pushed down and what it cost.
#[derive(Debug, Clone)]
pub struct ScanRecord {
    /// Table name.
    pub table: String,
    /// The pushed-down predicate as bound (`None`: a full scan).
    pub predicate: Option<String>,
    /// Rows returned to DataFusion.
    pub rows: u64,
    /// Why an offload asked for was read conventionally instead (nothing to offload), if so.
    pub fallback: Option<String>,
    /// Early filtering through joins: the bounds taken from hash joins' dynamic filters (applied
    /// by the host's software filter, not in `predicate`), and what was left to the joins (see
    /// [`crate::scan_exec`]).
    pub early: Vec<String>,
    /// The device scan's figures: over all its partitions ([`crate::scan_parts`]'s merge: the
    /// slowest partition's time, the sum of pages, bytes, rows and host compute).
    pub stats: ScanStats,
    /// Each partition's figures, in device order (one with one device).
    pub parts: Vec<ScanStats>,
}

/// A device table as a DataFusion [`TableProvider`].
pub struct DeviceTableProvider {
    parts: Vec<TablePart>,
    arrow: SchemaRef,
    mode: ScanMode,
    scans: Arc<Mutex<Vec<ScanRecord>>>,
    gate: Arc<ScanGate>,
}

impl fmt::Debug for DeviceTableProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceTableProvider")
            .field("table", &self.schema_of().table())
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl DeviceTableProvider {
    /// A provider over a table spread over devices: `parts[p]` is device `p`'s part and the
    /// scanner of that device (one DataFusion partition each), scanned in `mode`; its scans take
    /// turns with the other scans of `gate` (one gate per query: [`crate::scan_exec`]). The
    /// parts must be of one table (same schema), at least one.
    pub fn new(
        parts: Vec<(Scanner, DeviceTable)>,
        mode: ScanMode,
        gate: Arc<ScanGate>,
    ) -> Result<Self, Error> {
        let Some((_, first)) = parts.first() else {
            return Err(Error::Setup(
                "a device table provider needs at least one device".into(),
            ));
        };
        if let Some((_, other)) = parts.iter().find(|(_, t)| t.schema != first.schema) {
            return Err(Error::Setup(format!(
                "the parts of table `{}` differ: one is table `{}` with another schema",
                first.name(),
                other.name()
            )));
        }
        let arrow = arrow_schema(&first.schema);
        Ok(DeviceTableProvider {
            parts: parts
                .into_iter()
                .map(|(scanner, t)| TablePart {
                    scanner,
                    table: Arc::new(t),
                })
                .collect(),
            arrow,
            mode,
            scans: Arc::new(Mutex::new(Vec::new())),
            gate,
        })
    }

    fn schema_of(&self) -> &Schema {
        &self.parts[0].table.schema
    }

    /// The gate its scans take turns at.
    pub fn gate(&self) -> &Arc<ScanGate> {
        &self.gate
    }

    /// Devices (DataFusion partitions) the table is spread over.
    pub fn devices(&self) -> usize {
        self.parts.len()
    }

    /// The scan mode.
    pub fn mode(&self) -> ScanMode {
        self.mode
    }

    /// The figures of the most recent scan, if any.
    pub fn last_stats(&self) -> Option<ScanStats> {
        let scans = self.scans.lock().unwrap_or_else(PoisonError::into_inner);
        scans.last().map(|s| s.stats.clone())
    }

    /// The scans run since the last call, oldest first.
    pub fn take_scans(&self) -> Vec<ScanRecord> {
        std::mem::take(&mut *self.scans.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// How a device table takes each of `filters` over `schema`: exactly when it converts to a
/// predicate the scan applies, else not at all (DataFusion filters it).
pub fn pushdown(filters: &[&Expr], schema: &Schema) -> Vec<TableProviderFilterPushDown> {
    filters
        .iter()
        .map(|f| match to_predicate(f, schema) {
            Ok(_) => TableProviderFilterPushDown::Exact,
            Err(_) => TableProviderFilterPushDown::Unsupported,
        })
        .collect()
}

#[async_trait]
impl TableProvider for DeviceTableProvider {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.arrow)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(pushdown(filters, self.schema_of()))
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let plan: Arc<dyn ExecutionPlan> = self.scan_plan(projection, filters)?;
        Ok(plan)
    }
}

impl DeviceTableProvider {
    /// The plan [`TableProvider::scan`] returns, built without a session: a [`DeviceScanExec`] of
    /// the columns `projection` picks (`None`: all), applying `filters` (each one this provider
    /// reported `Exact`). For a node that rebuilds a scan planned elsewhere (a distributed
    /// engine decoding a serialized plan).
    pub fn scan_plan(
        &self,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
    ) -> DfResult<Arc<DeviceScanExec>> {
        let schema = self.schema_of();
        // Only filters reported Exact arrive here; a failure now is a bug, not a fallback.
        let pred = conjunction(filters, schema).map_err(|e| DataFusionError::Plan(e.to_string()))?;
        let filter = match &pred {
            Some(p) => vec![p.bind(schema).map_err(|e| DataFusionError::Plan(e.to_string()))?],
            None => Vec::new(),
        };
        let projected = match projection {
            Some(p) => Arc::new(self.arrow.project(p)?),
            None => Arc::clone(&self.arrow),
        };
        let spec = ScanSpec {
            parts: self.parts.clone(),
            filter,
            host_filter: Vec::new(),
            projection: projection.cloned(),
            mode: self.mode,
            scans: Arc::clone(&self.scans),
            gate: Arc::clone(&self.gate),
        };
        Ok(Arc::new(DeviceScanExec::new(spec, projected)))
    }
}
