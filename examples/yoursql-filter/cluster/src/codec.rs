//! The cluster's extension codecs: [`ClusterLogicalCodec`] carries a [`ClusterTableProvider`]
//! as its [`TableDescriptor`] (client to scheduler), [`ClusterPhysicalCodec`] carries a
//! [`ClusterScanExec`] as its [`ScanDescriptor`] (scheduler to executors). Everything else goes
//! to Ballista's own codecs (its shuffle readers and writers, its cache node, file formats),
//! which is also where a buffer without this crate's magic tag goes on decode.
//!
//! **Resolving on decode.** The physical codec decodes a scan with the task's context: when
//! that context's `SessionConfig` carries the executor's [`ExecutorDevices`] (set by the
//! executor's config producer, [`crate::cluster`]), the scan is resolved to that executor's
//! devices, and a part on another node is refused ([`crate::error::ClusterError::ForeignPart`]).
//! Without it (on the scheduler) the scan stays a plan.

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::Result as DfResult;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use crate::descriptor::{ScanDescriptor, TableDescriptor};
use crate::provider::ClusterTableProvider;
use crate::registry::ExecutorDevices;
use crate::scan::ClusterScanExec;

/// The logical codec of the client, the scheduler and the executors (module docs).
#[derive(Debug, Default)]
pub struct ClusterLogicalCodec {
    inner: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for ClusterLogicalCodec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> DfResult<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> DfResult<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> DfResult<Arc<dyn TableProvider>> {
        match TableDescriptor::decode(buf) {
            Some(desc) => {
                let provider = ClusterTableProvider::new(desc?)?;
                Ok(Arc::new(provider))
            }
            None => self.inner.try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> DfResult<()> {
        match node.downcast_ref::<ClusterTableProvider>() {
            Some(p) => {
                buf.extend_from_slice(&p.descriptor().encode()?);
                Ok(())
            }
            None => self.inner.try_encode_table_provider(table_ref, node, buf),
        }
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> DfResult<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> DfResult<()> {
        self.inner.try_encode_file_format(buf, node)
    }
}

/// The physical codec of the scheduler and the executors (module docs).
#[derive(Debug, Default)]
pub struct ClusterPhysicalCodec {
    inner: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for ClusterPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let Some(desc) = ScanDescriptor::decode(buf) else {
            return self.inner.try_decode(buf, inputs, ctx, proto_converter);
        };
        let mut scan = ClusterScanExec::from_descriptor(desc?, ctx)?;
        if let Some(devices) = ctx.session_config().get_extension::<ExecutorDevices>() {
            scan = scan.resolve(&devices)?;
        }
        Ok(Arc::new(scan))
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<()> {
        match node.downcast_ref::<ClusterScanExec>() {
            Some(scan) => {
                buf.extend_from_slice(&scan.descriptor()?.encode()?);
                Ok(())
            }
            None => self.inner.try_encode(node, buf, proto_converter),
        }
    }
}
