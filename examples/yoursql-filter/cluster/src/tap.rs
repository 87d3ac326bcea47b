//! [`StageTap`]: the pass-through node the executors' execution engine
//! ([`crate::recording`]) puts between each task's shuffle writer and the writer's input. It
//! counts the rows and bytes the task writes and keeps the subtree that actually ran, so the
//! task's engine work can be read from the executed operators' metrics afterwards.
//!
//! **Bytes, deterministically.** A shuffle file's size depends on how its rows fell into
//! batches, which can change from run to run. The tap counts each batch's **value bytes**
//! instead ([`value_bytes`]): a fixed-width column's width times its rows, a string or binary
//! column's value bytes plus one offset per row (a 16-byte view per row for the view types), a
//! boolean one byte per row (assumed). They sum
//! to the same figure however the rows are batched. Other types (none in TPC-H) count their
//! Arrow buffers' sizes, which is not batching-independent.
//!
//! **Kept through rewrites.** Ballista's engine rebuilds the nodes above each shuffle reader
//! when it points the readers at the executor's work directory; the tap's counters and its
//! record of the subtree it runs live in shared state that every rebuilt copy carries.
//!
//! The tap is put in on the executor only, after the plan is decoded: it is never encoded.

use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};
use futures::Stream;

/// What a tap and all its rebuilt copies share.
#[derive(Debug)]
struct TapState {
    rows: AtomicU64,
    bytes: AtomicU64,
    /// The subtree under the latest copy (the one the writer runs).
    input: Mutex<Arc<dyn ExecutionPlan>>,
}

/// Counts what passes from a task's plan into its shuffle writer (module docs).
#[derive(Debug, Clone)]
pub struct StageTap {
    input: Arc<dyn ExecutionPlan>,
    state: Arc<TapState>,
}

impl StageTap {
    /// A tap over `input`.
    pub fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        StageTap {
            state: Arc::new(TapState {
                rows: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
                input: Mutex::new(Arc::clone(&input)),
            }),
            input,
        }
    }

    /// Rows that passed.
    pub fn rows(&self) -> u64 {
        self.state.rows.load(Ordering::Relaxed)
    }

    /// Value bytes that passed (module docs).
    pub fn bytes(&self) -> u64 {
        self.state.bytes.load(Ordering::Relaxed)
    }

    /// The subtree the latest copy of this tap ran over.
    pub fn executed_input(&self) -> Arc<dyn ExecutionPlan> {
        Arc::clone(&self.state.input.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl DisplayAs for StageTap {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "StageTap")
    }
}

impl ExecutionPlan for StageTap {
    fn name(&self) -> &'static str {
        "StageTap"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children).map_err(|c| {
            DataFusionError::Internal(format!("StageTap takes one input, was given {}", c.len()))
        })?;
        *self.state.input.lock().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&input);
        Ok(Arc::new(StageTap {
            input,
            state: Arc::clone(&self.state),
        }))
    }

    fn execute(&self, partition: usize, ctx: Arc<TaskContext>) -> DfResult<SendableRecordBatchStream> {
        let inner = self.input.execute(partition, ctx)?;
        let counted = Counted {
            inner,
            state: Arc::clone(&self.state),
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.input.schema(),
            counted,
        )))
    }
}

/// A partition's stream, counted into the tap's state.
struct Counted {
    inner: SendableRecordBatchStream,
    state: Arc<TapState>,
}

impl Stream for Counted {
    type Item = DfResult<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Ok(b))) = &next {
            self.state.rows.fetch_add(b.num_rows() as u64, Ordering::Relaxed);
            self.state.bytes.fetch_add(value_bytes(b), Ordering::Relaxed);
        }
        next
    }
}

/// The value bytes of `batch` (module docs): the same total however rows are batched.
pub fn value_bytes(batch: &RecordBatch) -> u64 {
    batch.columns().iter().map(|c| column_bytes(c.as_ref())).sum()
}

fn column_bytes(a: &dyn Array) -> u64 {
    let rows = a.len() as u64;
    let span = |first: u64, last: u64| last.saturating_sub(first);
    match a.data_type() {
        DataType::Null => 0,
        DataType::Boolean => rows,
        DataType::Utf8 => {
            let o = a.as_string::<i32>().value_offsets();
            span(o[0] as u64, o[o.len() - 1] as u64) + 4 * rows
        }
        DataType::LargeUtf8 => {
            let o = a.as_string::<i64>().value_offsets();
            span(o[0] as u64, o[o.len() - 1] as u64) + 8 * rows
        }
        DataType::Binary => {
            let o = a.as_binary::<i32>().value_offsets();
            span(o[0] as u64, o[o.len() - 1] as u64) + 4 * rows
        }
        DataType::LargeBinary => {
            let o = a.as_binary::<i64>().value_offsets();
            span(o[0] as u64, o[o.len() - 1] as u64) + 8 * rows
        }
        DataType::Utf8View => {
            let v = a.as_string_view();
            (0..v.len()).map(|i| v.value(i).len() as u64).sum::<u64>() + 16 * rows
        }
        t => match t.primitive_width() {
            Some(w) => w as u64 * rows,
            None => a.to_data().get_slice_memory_size().map_or(0, |b| b as u64),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, Decimal128Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    fn batch(ids: Vec<i64>, names: Vec<&str>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, false),
            Field::new("price", DataType::Decimal128(15, 2), false),
        ]));
        let n = ids.len();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(names)),
            Arc::new(
                Decimal128Array::from(vec![100_i128; n])
                    .with_precision_and_scale(15, 2)
                    .unwrap(),
            ),
        ];
        RecordBatch::try_new(schema, cols).unwrap()
    }

    #[test]
    fn value_bytes_do_not_depend_on_batching() {
        let whole = batch(vec![1, 2, 3, 4], vec!["a", "bb", "ccc", "dddd"]);
        // 4 x 8 + (10 + 4 x 4) + 4 x 16
        assert_eq!(value_bytes(&whole), 32 + 26 + 64);
        let split = value_bytes(&whole.slice(0, 1)) + value_bytes(&whole.slice(1, 3));
        assert_eq!(split, value_bytes(&whole));
        let rebuilt = value_bytes(&batch(vec![1, 2], vec!["a", "bb"]))
            + value_bytes(&batch(vec![3, 4], vec!["ccc", "dddd"]));
        assert_eq!(rebuilt, value_bytes(&whole));
    }
}
