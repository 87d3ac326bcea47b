//! [`DeviceTableProvider`]: a DataFusion table whose scans run on the simulated SSD through
//! `yoursql_core`, with filter pushdown.
//!
//! **Pushdown.** Each filter DataFusion offers is converted ([`crate::convert`]); the ones that
//! convert and bind are reported [`TableProviderFilterPushDown::Exact`]: the scan's software
//! filter evaluates them on every row it returns, in offloaded and conventional scans alike
//! (the matcher only chooses which pages are read; false positives are removed on the host).
//! Everything else is `Unsupported` and DataFusion filters it after the scan.
//!
//! **Scan.** The accepted filters are ANDed and bound at planning; the device scan runs when
//! DataFusion executes the plan (one partition, on a blocking thread), in the provider's
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
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use yoursql_core::{BoundPredicate, DeviceTable, ScanError, ScanMode, ScanStats, Scanner, Schema, Value};

use crate::arrow_map::{arrow_schema, rows_to_batch};
use crate::convert::{conjunction, to_predicate};
use crate::error::Error;

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
    /// The device scan's figures.
    pub stats: ScanStats,
}

/// A device table as a DataFusion [`TableProvider`].
pub struct DeviceTableProvider {
    scanner: Scanner,
    table: Arc<DeviceTable>,
    arrow: SchemaRef,
    mode: ScanMode,
    scans: Arc<Mutex<Vec<ScanRecord>>>,
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
    /// A provider over `table`, scanned by `scanner` in `mode`.
    pub fn new(scanner: Scanner, table: DeviceTable, mode: ScanMode) -> Self {
        let arrow = arrow_schema(&table.schema);
        DeviceTableProvider {
            scanner,
            table: Arc::new(table),
            arrow,
            mode,
            scans: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn schema_of(&self) -> &Schema {
        &self.table.schema
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

#[async_trait]
impl TableProvider for DeviceTableProvider {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.arrow)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| match to_predicate(f, self.schema_of()) {
                Ok(_) => TableProviderFilterPushDown::Exact,
                Err(_) => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
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
        let stream = DeviceScan {
            scanner: self.scanner.clone(),
            table: Arc::clone(&self.table),
            filter,
            projection: projection.cloned(),
            mode: self.mode,
            schema: Arc::clone(&projected),
            scans: Arc::clone(&self.scans),
        };
        let exec = StreamingTableExec::try_new(
            projected,
            vec![Arc::new(stream) as Arc<dyn PartitionStream>],
            None,
            Vec::<LexOrdering>::new(),
            false,
            None,
        )?;
        Ok(Arc::new(exec))
    }
}

/// One device scan as a DataFusion partition: run when executed, on a blocking thread, its
/// batches sent to DataFusion as they are produced.
struct DeviceScan {
    scanner: Scanner,
    table: Arc<DeviceTable>,
    filter: Vec<BoundPredicate>,
    projection: Option<Vec<usize>>,
    mode: ScanMode,
    schema: SchemaRef,
    scans: Arc<Mutex<Vec<ScanRecord>>>,
}

impl fmt::Debug for DeviceScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceScan")
            .field("table", &self.table.name())
            .field("mode", &self.mode)
            .field(
                "filter",
                &self.filter.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl PartitionStream for DeviceScan {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        // Unbounded: the scan never waits for DataFusion, so its simulated time (which charges
        // the host's handling of each batch) does not include DataFusion's operators.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<DfResult<RecordBatch>>();
        let (scanner, table, filter, mode) = (
            self.scanner.clone(),
            Arc::clone(&self.table),
            self.filter.clone(),
            self.mode,
        );
        let (projection, scans) = (self.projection.clone(), Arc::clone(&self.scans));
        tokio::task::spawn_blocking(move || {
            let schema = table.schema.clone();
            let mut sink = |rows: Vec<Vec<Value>>| -> Result<(), String> {
                let batch =
                    rows_to_batch(&schema, &rows, projection.as_deref()).map_err(|e| e.to_string())?;
                tx.send(Ok(batch))
                    .map_err(|_| "the query stopped reading".to_string())
            };
            let cols = projection.as_deref();
            let mut result = scanner.scan(&table, &filter, cols, mode, &mut sink);
            // Offload asked for but nothing to offload (no predicate, no matcher keys, no filter
            // module): the core refuses before reading anything; read conventionally and say why.
            let mut fallback = None;
            if let Err(ScanError::CannotOffload { reason, .. }) = &result {
                fallback = Some(reason.clone());
                result = scanner.scan(&table, &filter, cols, ScanMode::Conv, &mut sink);
            }
            match result {
                Ok(stats) => scans
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(ScanRecord {
                        table: table.name().to_string(),
                        predicate: match filter.as_slice() {
                            [p] => Some(p.to_string()),
                            _ => None,
                        },
                        rows: stats.rows_out,
                        fallback,
                        stats,
                    }),
                Err(e) => {
                    let err = Error::Scan {
                        table: table.name().to_string(),
                        message: e.to_string(),
                    };
                    // The receiver may be gone (the query stopped reading); nothing to tell then.
                    let _ = tx.send(Err(err.into()));
                }
            }
        });
        let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
        Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), stream))
    }
}
