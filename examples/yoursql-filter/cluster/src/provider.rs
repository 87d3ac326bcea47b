//! [`ClusterTableProvider`]: a device table of the cluster as a DataFusion `TableProvider`,
//! holding only its [`TableDescriptor`]: the client registers it, the logical codec carries it
//! to the scheduler as that descriptor, and the scheduler plans its scans
//! ([`ClusterScanExec`], resolved to devices only on the executors).
//!
//! Filter pushdown is `yoursql-filter`'s: a filter that converts to a predicate on the table is
//! `Exact` (the scan's software filter applies it), anything else `Unsupported`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use yoursql_core::Schema;
use yoursql_filter::arrow_map::arrow_schema;

use crate::descriptor::TableDescriptor;
use crate::error::ClusterError;
use crate::scan::ClusterScanExec;

/// A device table of the cluster (module docs).
#[derive(Debug)]
pub struct ClusterTableProvider {
    desc: TableDescriptor,
    schema: Schema,
    arrow: SchemaRef,
}

impl ClusterTableProvider {
    /// The table `desc` describes.
    pub fn new(desc: TableDescriptor) -> Result<Self, ClusterError> {
        let schema = desc.schema()?;
        desc.mode()?;
        let arrow = arrow_schema(&schema);
        Ok(ClusterTableProvider { desc, schema, arrow })
    }

    /// Its descriptor.
    pub fn descriptor(&self) -> &TableDescriptor {
        &self.desc
    }
}

#[async_trait]
impl TableProvider for ClusterTableProvider {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.arrow)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(yoursql_filter::provider::pushdown(filters, &self.schema))
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let scan = ClusterScanExec::planned(self.desc.clone(), projection.cloned(), filters.to_vec())?;
        Ok(Arc::new(scan))
    }
}
