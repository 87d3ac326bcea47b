//! One device scan over a table partitioned across devices ([`yoursql_core::parts`]): its
//! partitions run at once, one host thread per partition, each on its own device's host clock,
//! and their figures merge into the scan's.
//!
//! **Time.** Every device's host clock is first moved to the latest of them (the scan starts on
//! all devices at one instant, after the query's earlier scans and engine work), each partition
//! then scans its device's part (host compute charged to that device's clock: one host core per
//! partition), and at the end every clock is moved to the slowest partition's end. The scan's
//! simulated time is that critical path ([`merge`]).
//!
//! **An empty part** (a table with fewer pages than devices) is not scanned: it returns no rows
//! and takes no time.

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::Result as DfResult;
use yoursql_core::{Decision, DeviceTable, ScanError, ScanMode, ScanStats, Scanner, Value};

use crate::arrow_map::rows_to_batch;
use crate::error::Error;
use crate::scan_exec::ScanSpec;

/// A sender of one partition's batches.
pub(crate) type BatchTx = tokio::sync::mpsc::UnboundedSender<DfResult<RecordBatch>>;

/// One device's part of a table and the scanner of that device.
#[derive(Debug, Clone)]
pub(crate) struct TablePart {
    pub(crate) scanner: Scanner,
    pub(crate) table: Arc<DeviceTable>,
}

/// A finished partition: its figures and why an offload asked for read conventionally.
type PartDone = (ScanStats, Option<String>);

/// Runs every partition of `spec` at once (module docs), partition `p` sending its batches on
/// `txs[p]`. Returns the per-partition figures, in device order, when all succeeded (a failed
/// partition has sent its error on its channel). The caller keeps `txs` open until it has
/// recorded the scan: the query ends when the channels close.
pub(crate) fn run_all(spec: &ScanSpec, txs: &[BatchTx]) -> Option<Vec<PartDone>> {
    let devices: Vec<_> = spec.parts.iter().map(|p| p.scanner.device()).collect();
    let start = devices.iter().map(|d| d.now()).max()?;
    for d in &devices {
        d.advance_to(start);
    }
    let done: Vec<Option<PartDone>> = if txs.len() == 1 {
        txs.iter()
            .enumerate()
            .map(|(p, tx)| run_part(spec, p, tx))
            .collect()
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = txs
                .iter()
                .enumerate()
                .map(|(p, tx)| (tx, s.spawn(move || run_part(spec, p, tx))))
                .collect();
            handles
                .into_iter()
                .map(|(tx, h)| {
                    h.join().unwrap_or_else(|_| {
                        let err = Error::Scan {
                            table: spec.table_name().to_string(),
                            message: "a partition's scan thread panicked".into(),
                        };
                        let _ = tx.send(Err(err.into()));
                        None
                    })
                })
                .collect()
        })
    };
    let end = devices.iter().map(|d| d.now()).max().unwrap_or(start);
    for d in &devices {
        d.advance_to(end);
    }
    done.into_iter().collect()
}

/// Scans partition `p` (device `p`'s part), sending its batches on `tx`; `None` on an error
/// (sent on `tx`).
fn run_part(spec: &ScanSpec, p: usize, tx: &BatchTx) -> Option<PartDone> {
    let part = &spec.parts[p];
    let table = &part.table;
    let s = &part.scanner;
    if table.pages == 0 {
        return Some((empty(spec.mode, s, table), None));
    }
    let schema = table.schema.clone();
    let projection = spec.projection.as_deref();
    let mut sink = |rows: Vec<Vec<Value>>| -> Result<(), String> {
        let batch = rows_to_batch(&schema, &rows, projection).map_err(|e| e.to_string())?;
        tx.send(Ok(batch))
            .map_err(|_| "the query stopped reading".to_string())
    };
    let host = &spec.host_filter;
    let mut result = s.scan_with_host_filter(table, &spec.filter, host, projection, spec.mode, &mut sink);
    // Offload asked for but nothing to offload (no predicate, no matcher keys, no filter
    // module): the core refuses before reading anything; read conventionally and say why.
    let mut fallback = None;
    if let Err(ScanError::CannotOffload { reason, .. }) = &result {
        fallback = Some(reason.clone());
        result = s.scan_with_host_filter(table, &spec.filter, host, projection, ScanMode::Conv, &mut sink);
    }
    match result {
        Ok(stats) => Some((stats, fallback)),
        Err(e) => {
            let err = Error::Scan {
                table: table.name().to_string(),
                message: e.to_string(),
            };
            // The receiver may be gone (the query stopped reading); nothing to tell then.
            let _ = tx.send(Err(err.into()));
            None
        }
    }
}

/// The figures of an empty part: nothing read, no time.
fn empty(mode: ScanMode, s: &Scanner, table: &DeviceTable) -> ScanStats {
    let decision = Decision {
        offloaded: false,
        limiting_score: 0,
        keys: 0,
        sampled_pages: 0,
        sampled_hinted: 0,
        sampled_ratio: None,
        sample_ns: 0,
        reason: "this device's part of the table is empty: not scanned".into(),
    };
    ScanStats::starting(mode, table, s.device().now(), decision)
}

/// The scan's figures from its partitions' (`parts`, in device order; `None` if none; empty parts
/// left out unless all are empty): the scan runs from the earliest start to the latest end (the
/// slowest partition: the critical path); pages, bytes, rows and host compute are sums;
/// `io_ns` and the sampler's time are the slowest partition's; `filter_ns` sums the devices'
/// filter times (busy time, for energy). The decision is offloaded when any partition
/// offloaded; its reason is the partitions' one reason, or each device's in turn when they
/// differ.
pub(crate) fn merge(parts: &[ScanStats]) -> Option<ScanStats> {
    let first = parts.first()?;
    if parts.len() == 1 {
        return Some(first.clone());
    }
    let scanned: Vec<&ScanStats> = parts.iter().filter(|s| s.pages_total > 0).collect();
    let all: Vec<&ScanStats> = if scanned.is_empty() {
        parts.iter().collect()
    } else {
        scanned
    };
    let sum = |f: fn(&ScanStats) -> u64| parts.iter().map(f).sum::<u64>();
    let max = |f: fn(&ScanStats) -> u64| parts.iter().map(f).max().unwrap_or(0);
    let started_at = parts
        .iter()
        .map(|s| s.started_at)
        .min()
        .unwrap_or(first.started_at);
    let finished_at = parts
        .iter()
        .map(|s| s.finished_at)
        .max()
        .unwrap_or(first.finished_at);
    let sampled_pages = sum(|s| s.decision.sampled_pages);
    let sampled_hinted = sum(|s| s.decision.sampled_hinted);
    let mut reasons: Vec<String> = Vec::new();
    for s in &all {
        if !reasons.contains(&s.decision.reason) {
            reasons.push(s.decision.reason.clone());
        }
    }
    let reason = if reasons.len() == 1 {
        reasons.remove(0)
    } else {
        parts
            .iter()
            .enumerate()
            .map(|(i, s)| format!("device {i}: {}", s.decision.reason))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let lead = all[0];
    Some(ScanStats {
        mode: first.mode,
        started_at,
        finished_at,
        simulated_ns: finished_at.saturating_since(started_at).0,
        pages_total: sum(|s| s.pages_total),
        pages_read: sum(|s| s.pages_read),
        pages_scanned_on_device: sum(|s| s.pages_scanned_on_device),
        pages_hinted: sum(|s| s.pages_hinted),
        pages_transferred: sum(|s| s.pages_transferred),
        pages_from_pool: sum(|s| s.pages_from_pool),
        pcie_bytes: sum(|s| s.pcie_bytes),
        rows_scanned: sum(|s| s.rows_scanned),
        rows_out: sum(|s| s.rows_out),
        host_compute_ns: sum(|s| s.host_compute_ns),
        io_ns: max(|s| s.io_ns),
        filter_ns: sum(|s| s.filter_ns),
        exact: parts.iter().all(|s| s.exact),
        decision: Decision {
            offloaded: parts.iter().any(|s| s.decision.offloaded),
            limiting_score: lead.decision.limiting_score,
            keys: max(|s| s.decision.keys as u64) as usize,
            sampled_pages,
            sampled_hinted,
            sampled_ratio: (sampled_pages > 0).then(|| sampled_hinted as f64 / sampled_pages as f64),
            sample_ns: max(|s| s.decision.sample_ns),
            reason,
        },
    })
}
