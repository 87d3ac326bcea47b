//! Scanning a device table: the API a query engine calls ([`Scanner::scan`]).
//!
//! Three modes ([`ScanMode`]):
//! - **Conv**: the host reads every page with the deep sequential reader
//!   ([`host_sdk::HostFile::scan`]) and runs the software filter on every row, column first
//!   (the predicate's columns are decoded and tested before a row is built).
//! - **Offload** (YourSQL's filtering condition pushdown): the filter predicates become matcher
//!   keys ([`crate::keys`]); the `filter` SSDlet runs the per-channel matchers over the table
//!   and streams match hints; the host prefetches the hinted pages in bulk while it filters the
//!   pages already arrived (HABP, [`crate::habp`]); the software filter drops false positives.
//! - **Auto**: YourSQL's decision ([`crate::decide`]): the limiting score, a small-table cut, and
//!   the `sampler` SSDlet's estimate of the hinted-page ratio on a seeded sample of pages. The
//!   decision and its numbers are in [`ScanStats::decision`].
//!
//! **Results are the same in every mode**: the rows that satisfy every filter predicate, in
//! table (page, then row) order, projected. The software filter always evaluates every
//! predicate, so [`ScanStats::exact`] is always true: an engine may report the pushed-down
//! filters as exact.
//!
//! **Time.** Everything happens on the [`Device`]'s host clock: a scan starts at
//! [`Device::now`] and leaves the clock at its end; [`ScanStats::simulated_ns`] is the
//! difference. Host work (decoding, filtering, projecting, and the consumer's handling of each
//! batch) is measured thread CPU time charged to the clock, in every mode, or with
//! [`ScanConfig::host_cost`] the rows examined times a calibrated cost (deterministic).

use std::path::{Path, PathBuf};

use host_sdk::cpu::HostCharge;
use host_sdk::{Device, Module, ReadAhead, SimTime};

use crate::error::{FormatError, ScanError};
use crate::page::PAGE_BYTES;
use crate::pool::BufferPool;
use crate::predicate::{BoundPredicate, Node};
use crate::store::DeviceTable;
use crate::value::Value;

/// The name of the filter module crate (built by `ssdlet_module_build`).
pub const FILTER_MODULE_CRATE: &str = "ssdlet-yoursql";

/// How to scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanMode {
    /// Read every page on the host.
    Conv,
    /// Offload the filter to the device (fails if it cannot be offloaded).
    Offload,
    /// Decide with the limiting score and the sampler.
    Auto,
}

impl ScanMode {
    /// `conv`, `offload` or `auto`.
    pub fn name(self) -> &'static str {
        match self {
            ScanMode::Conv => "conv",
            ScanMode::Offload => "offload",
            ScanMode::Auto => "auto",
        }
    }
}

impl std::str::FromStr for ScanMode {
    type Err = String;

    /// `conv`, `offload` or `auto` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "conv" => Ok(ScanMode::Conv),
            "offload" => Ok(ScanMode::Offload),
            "auto" => Ok(ScanMode::Auto),
            _ => Err(format!(
                "scan mode `{s}` is unknown; expected conv, offload or auto"
            )),
        }
    }
}

/// Scan settings. Every field has a default ([`ScanConfig::default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ScanConfig {
    /// Shape of the conventional reader. Default 128 KiB requests, 64 outstanding.
    pub read_ahead: ReadAhead,
    /// Most bytes per bulk prefetch read (runs of consecutive hinted pages are merged up to
    /// this). Default 128 KiB.
    pub prefetch_request_bytes: u64,
    /// Prefetch reads kept outstanding. Default 64.
    pub prefetch_depth: usize,
    /// Pages the filter SSDlet scans per matcher request; one hint message each. Default 4096
    /// (16 MiB).
    pub hint_chunk_pages: u64,
    /// Fraction of the table's pages the sampler scans. Default 0.01.
    pub sample_fraction: f64,
    /// Fewest pages the sampler scans (all of a smaller table). Default 64.
    pub sample_min_pages: u64,
    /// Consecutive pages per sampled run. Default 32 (128 KiB): the sampler's matcher requests
    /// run one after another, each paying the NAND read latency, so fewer, longer runs keep
    /// sampling short (about 65 runs for 1% of SF 1 `lineitem`).
    pub sample_run_pages: u64,
    /// Seed of the sampler's choice of pages. Default 7.
    pub sample_seed: u64,
    /// Auto offloads when the sampled hinted-page ratio is at most this. Default 0.5: offload
    /// pays when the matcher saves the host reading and decoding at least half the pages.
    pub max_hint_ratio: f64,
    /// Auto does not offload tables with fewer pages (YourSQL's small-table cut). Default 64.
    pub min_table_pages: u64,
    /// Most rows per batch handed to the consumer. Default 8192.
    pub batch_rows: usize,
    /// How the host's filtering is charged: measured (the default), or rows examined times a
    /// calibrated cost (`HostCharge::PerUnit`, deterministic; calibrated on the whole
    /// conventional scan, `suite calibrate --parts filter-scan`, so it covers a plain consumer,
    /// not a heavier consumer's own work).
    pub host_cost: HostCharge,
    /// The host's buffer pool, which conventional scans read through (`None`, the default: no
    /// pool, every page comes from the device). See [`crate::pool`].
    pub buffer_pool: Option<BufferPool>,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            read_ahead: ReadAhead::default(),
            prefetch_request_bytes: 128 << 10,
            prefetch_depth: 64,
            hint_chunk_pages: 4096,
            sample_fraction: 0.01,
            sample_min_pages: 64,
            sample_run_pages: 32,
            sample_seed: 7,
            max_hint_ratio: 0.5,
            min_table_pages: 64,
            batch_rows: 8192,
            host_cost: HostCharge::Measured,
            buffer_pool: None,
        }
    }
}

/// Whether a scan was offloaded, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Whether the filter ran on the device.
    pub offloaded: bool,
    /// YourSQL's limiting score of the filter (0 without predicates).
    pub limiting_score: u32,
    /// Matcher keys of the plan (0 if not offloadable).
    pub keys: usize,
    /// Pages the sampler scanned (0 if it did not run).
    pub sampled_pages: u64,
    /// Of those, pages the matcher hinted.
    pub sampled_hinted: u64,
    /// `sampled_hinted / sampled_pages`, the estimated fraction of pages offload still reads
    /// (`None` if the sampler did not run). YourSQL's filtering ratio is `1 -` this.
    pub sampled_ratio: Option<f64>,
    /// Simulated time the sampler took, in ns (part of the scan's time).
    pub sample_ns: u64,
    /// Why, in words.
    pub reason: String,
}

/// What a scan did.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanStats {
    /// The mode asked for.
    pub mode: ScanMode,
    /// Host clock at the start.
    pub started_at: SimTime,
    /// Host clock at the end.
    pub finished_at: SimTime,
    /// `finished_at - started_at`: the scan's simulated time, in ns.
    pub simulated_ns: u64,
    /// Pages in the table.
    pub pages_total: u64,
    /// Table pages read from NAND: pages the matchers scanned (sampler and filter) plus pages
    /// read by the host (a hinted page counts twice: the matcher read it, then the host).
    pub pages_read: u64,
    /// Pages the device's matchers scanned (sampler and filter).
    pub pages_scanned_on_device: u64,
    /// Pages the filter's matchers hinted.
    pub pages_hinted: u64,
    /// Pages moved device-to-host by NVMe reads.
    pub pages_transferred: u64,
    /// Pages a conventional scan found in the host buffer pool (no device read).
    pub pages_from_pool: u64,
    /// Bytes moved device-to-host over PCIe: NVMe read data plus SSDlet messages (hints).
    pub pcie_bytes: u64,
    /// Rows the host examined (the predicate's columns decoded and tested).
    pub rows_scanned: u64,
    /// Rows returned.
    pub rows_out: u64,
    /// Host compute charged to the clock, in ns ([`ScanConfig::host_cost`]: measured, or rows
    /// examined times a calibrated cost).
    pub host_compute_ns: u64,
    /// Simulated time from the start until the last page read by the host arrived, in ns (the
    /// scan's I/O; the rest of `simulated_ns` is host processing not overlapped with it).
    pub io_ns: u64,
    /// Simulated time of the device's early filtering (the `filter` Application, start to
    /// last hint), in ns; 0 without offload. With HABP the host's reads and row processing
    /// overlap it, so `simulated_ns` is less than the sum.
    pub filter_ns: u64,
    /// Whether the rows returned are exactly those satisfying every filter predicate (the
    /// software filter applies all of them; always true).
    pub exact: bool,
    /// The offload decision.
    pub decision: Decision,
}

impl ScanStats {
    /// A scan of `table` in `mode` starting at `at` with `decision`: nothing read or counted
    /// yet (the sampler's pages, if it sampled, are the device's scans so far).
    pub fn starting(mode: ScanMode, table: &DeviceTable, at: SimTime, decision: Decision) -> ScanStats {
        ScanStats {
            mode,
            started_at: at,
            finished_at: at,
            simulated_ns: 0,
            pages_total: table.pages,
            pages_read: 0,
            pages_scanned_on_device: decision.sampled_pages,
            pages_hinted: 0,
            pages_transferred: 0,
            pages_from_pool: 0,
            pcie_bytes: 0,
            rows_scanned: 0,
            rows_out: 0,
            host_compute_ns: 0,
            io_ns: 0,
            filter_ns: 0,
            exact: true,
            decision,
        }
    }
}

/// Rows and statistics of a collected scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanOutput {
    /// The rows, in table order, projected.
    pub rows: Vec<Vec<Value>>,
    /// What the scan did.
    pub stats: ScanStats,
}

/// A batch of rows (projected) handed to the consumer.
pub type RowBatch = Vec<Vec<Value>>;

/// Scans device tables; holds the device and, for offload, the loaded filter module. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct Scanner {
    pub(crate) device: Device,
    pub(crate) module: Option<Module>,
    /// The device's matcher limits and transfer limit (from Identify), with the module.
    pub(crate) limits: Option<Limits>,
    /// Settings.
    pub config: ScanConfig,
}

/// Builds the filter module (`ssdlet-yoursql`) with cargo and returns its path (see
/// `ssdlet_module_build`; `release` for measurements, since module code is timed).
pub fn build_filter_module(release: bool) -> Result<PathBuf, ssdlet_module_build::BuildError> {
    let profile = if release {
        ssdlet_module_build::Profile::Release
    } else {
        ssdlet_module_build::Profile::Debug
    };
    Ok(ssdlet_module_build::build(profile)?.path(FILTER_MODULE_CRATE))
}

impl Scanner {
    /// A scanner without the filter module: conventional scans only (`Auto` falls back to
    /// `Conv`, `Offload` fails).
    pub fn conventional(device: &Device) -> Scanner {
        Scanner {
            device: device.clone(),
            module: None,
            limits: None,
            config: ScanConfig::default(),
        }
    }

    /// A scanner that loads the filter module from host path `module` onto the device.
    pub fn new(device: &Device, module: &Path) -> Result<Scanner, ScanError> {
        let limits = identify(device)?;
        Ok(Scanner {
            device: device.clone(),
            module: Some(device.load_module(module)?),
            limits: Some(limits),
            config: ScanConfig::default(),
        })
    }

    /// The device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Uses another handle on the same device, for instance one with its own host clock
    /// ([`Device::with_own_clock`]) for another thread. The filter module stays the one loaded
    /// by [`Scanner::new`], so `device` must reach the same device.
    pub fn set_device(&mut self, device: Device) {
        self.device = device;
    }

    /// Scans `table`: the rows satisfying every predicate of `filter` (a conjunction; empty:
    /// every row), projected to `projection` (column indices of the table's schema, in the
    /// order wanted; `None`: all columns), handed to `sink` in batches of at most
    /// [`ScanConfig::batch_rows`] rows in table order. A `sink` error stops the scan
    /// ([`ScanError::Sink`]). The host clock moves by the scan's simulated time.
    pub fn scan(
        &self,
        table: &DeviceTable,
        filter: &[BoundPredicate],
        projection: Option<&[usize]>,
        mode: ScanMode,
        sink: &mut dyn FnMut(RowBatch) -> Result<(), String>,
    ) -> Result<ScanStats, ScanError> {
        self.scan_with_host_filter(table, filter, &[], projection, mode, sink)
    }

    /// [`Scanner::scan`] with `host_filter`: more predicates the host's software filter applies
    /// to every row but the offload decision and the matcher plan ignore (e.g. a join's key
    /// bounds, which span nearly every page and would only slow the matchers down).
    pub fn scan_with_host_filter(
        &self,
        table: &DeviceTable,
        filter: &[BoundPredicate],
        host_filter: &[BoundPredicate],
        projection: Option<&[usize]>,
        mode: ScanMode,
        sink: &mut dyn FnMut(RowBatch) -> Result<(), String>,
    ) -> Result<ScanStats, ScanError> {
        let mut rf = RowFilter::new(table, filter, projection)?;
        if !host_filter.is_empty() {
            let all: Vec<BoundPredicate> = filter.iter().chain(host_filter).cloned().collect();
            rf.rows = RowFilter::new(table, &all, projection)?.rows;
        }
        let started_at = self.device.now();
        let decision = crate::decide::decide(self, table, &rf, mode)?;
        let mut stats = ScanStats::starting(mode, table, started_at, decision.decision.clone());
        let mut out = Batcher::new(self.config.batch_rows, sink);
        match decision.plan {
            Some(plan) => crate::habp::offload(self, table, &rf, &plan, &mut out, &mut stats)?,
            None => conv(self, table, &rf, &mut out, &mut stats)?,
        }
        // INVARIANT(scan-modes-agree): the consumer's last batches are charged too
        let (flushed, spent) = self.config.host_cost.uncounted(|| out.flush());
        flushed?;
        stats.host_compute_ns += nanos(spent);
        self.device.charge(spent);
        stats.rows_out = out.rows;
        stats.pages_read = stats.pages_scanned_on_device + stats.pages_transferred;
        stats.finished_at = self.device.now();
        stats.simulated_ns = stats.finished_at.saturating_since(started_at).0;
        stats.decision = decision.decision;
        Ok(stats)
    }

    /// [`Scanner::scan`], collecting every row.
    pub fn scan_collect(
        &self,
        table: &DeviceTable,
        filter: &[BoundPredicate],
        projection: Option<&[usize]>,
        mode: ScanMode,
    ) -> Result<ScanOutput, ScanError> {
        let mut rows = Vec::new();
        let stats = self.scan(table, filter, projection, mode, &mut |b| {
            rows.extend(b);
            Ok(())
        })?;
        Ok(ScanOutput { rows, stats })
    }

    /// The offload decision `mode` would take for `filter` on `table`, without scanning
    /// (`Auto` runs the sampler, which moves the host clock).
    pub fn decide(
        &self,
        table: &DeviceTable,
        filter: &[BoundPredicate],
        mode: ScanMode,
    ) -> Result<Decision, ScanError> {
        let rf = RowFilter::new(table, filter, None)?;
        Ok(crate::decide::decide(self, table, &rf, mode)?.decision)
    }
}

/// What the host learns from Identify.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) matcher: sim_nvme::profile::MatcherLimits,
    pub(crate) max_transfer_bytes: u64,
}

fn identify(device: &Device) -> Result<Limits, ScanError> {
    use sim_nvme::nvme::{Command, Payload};
    let c = device.submit(Command::Identify).map_err(ScanError::Device)?;
    match &c.payload {
        Payload::Identify(id) => Ok(Limits {
            matcher: sim_nvme::profile::MatcherLimits {
                max_keys: id.matcher_max_keys,
                max_key_bytes: id.matcher_max_key_bytes,
                ns_per_page: 0,
            },
            max_transfer_bytes: u64::from(id.max_transfer_bytes),
        }),
        other => Err(ScanError::Identify(format!("{other:?}"))),
    }
}

pub(crate) fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The conjunction and the projection, checked against the table.
#[derive(Debug, Clone)]
pub(crate) struct RowFilter {
    /// The conjunction of the filter predicates (`None`: no predicate): what may be offloaded.
    pub(crate) pred: Option<BoundPredicate>,
    /// What every row is tested against: `pred` and any host-only predicates.
    rows: RowTest,
    projection: Option<Vec<usize>>,
    /// Per column: its value's width if fixed.
    widths: Vec<Option<usize>>,
    file: String,
}

/// The software filter's conjunction and the columns it reads.
#[derive(Debug, Clone)]
struct RowTest {
    pred: Option<BoundPredicate>,
    /// Per column: whether the predicate reads it (decoded before the row is kept).
    tested: Vec<bool>,
}

impl RowFilter {
    pub(crate) fn new(
        table: &DeviceTable,
        filter: &[BoundPredicate],
        projection: Option<&[usize]>,
    ) -> Result<RowFilter, ScanError> {
        for p in filter {
            if p.schema() != &table.schema {
                return Err(ScanError::WrongTable {
                    predicate: p.to_string(),
                    bound: p.schema().table().to_string(),
                    table: table.name().to_string(),
                });
            }
        }
        let columns = table.schema.columns().len();
        if let Some(&index) = projection.unwrap_or_default().iter().find(|&&i| i >= columns) {
            return Err(ScanError::Projection {
                index,
                table: table.name().to_string(),
                columns,
            });
        }
        let pred = match filter {
            [] => None,
            [one] => Some(one.clone()),
            many => Some(BoundPredicate {
                schema: table.schema.clone(),
                node: Node::And(many.iter().map(|p| p.node.clone()).collect()),
            }),
        };
        let mut tested = vec![false; columns];
        for c in pred.as_ref().map(BoundPredicate::columns).unwrap_or_default() {
            if let Some(t) = tested.get_mut(c) {
                *t = true;
            }
        }
        Ok(RowFilter {
            rows: RowTest {
                pred: pred.clone(),
                tested,
            },
            pred,
            projection: projection.map(<[usize]>::to_vec),
            widths: table
                .schema
                .columns()
                .iter()
                .map(|c| crate::row::fixed_width(c.ty))
                .collect(),
            file: table.file.clone(),
        })
    }

    // INVARIANT(scan-modes-agree): every mode filters every row here, in table order
    /// Filters page `index` column first, as a competent engine does: for each row only the
    /// columns the predicate reads are decoded (the others are skipped over, not built), the
    /// predicate is tested on them, and only a row that satisfies it has its projected columns
    /// decoded into `out`. Returns the rows examined. A skipped column's structure (tag, length,
    /// terminator) is checked, its contents are not: invalid text or an impossible date in a
    /// column that is neither tested nor returned no longer fails the scan (the rows returned
    /// are exactly those a whole-row decode would return from a well-formed page).
    pub(crate) fn page(
        &self,
        schema: &crate::value::Schema,
        index: u64,
        page: &[u8],
        out: &mut Vec<Vec<Value>>,
    ) -> Result<u64, ScanError> {
        use crate::row::{decode_column, skip_column};
        let err = |source: FormatError| ScanError::Page {
            file: self.file.clone(),
            page: index,
            source,
        };
        let n = usize::from(crate::page::page_rows(page).map_err(err)?);
        let columns = schema.columns().len();
        let mut starts = vec![0usize; columns];
        // The predicate reads only the tested columns; the others hold a placeholder.
        let mut probe = vec![Value::Int(0); columns];
        let mut pos = crate::page::HEADER_BYTES;
        for row in 0..n {
            for (c, start) in starts.iter_mut().enumerate() {
                *start = pos;
                if self.rows.tested[c] {
                    probe[c] = decode_column(schema, c, page, &mut pos, row).map_err(err)?;
                    continue;
                }
                // The fast path over a well-formed value; anything else is checked (and
                // reported) by `skip_column`.
                let next = match (page.get(pos), self.widths[c]) {
                    (Some(&t), Some(w)) if t == crate::row::tag(c) => Some(pos + 1 + w),
                    (Some(&t), None) if t == crate::row::tag(c) => {
                        memchr::memchr(0, &page[pos + 1..]).map(|e| pos + 2 + e)
                    }
                    _ => None,
                };
                match next {
                    Some(n) if n <= page.len() => pos = n,
                    _ => skip_column(schema, c, page, &mut pos, row).map_err(err)?,
                }
            }
            if self.rows.pred.as_ref().is_some_and(|p| !p.matches(&probe)) {
                continue;
            }
            let value = |c: usize| -> Result<Value, ScanError> {
                if self.rows.tested[c] {
                    Ok(probe[c].clone())
                } else {
                    decode_column(schema, c, page, &mut starts[c].clone(), row).map_err(err)
                }
            };
            out.push(match &self.projection {
                None => (0..columns).map(value).collect::<Result<_, _>>()?,
                Some(cols) => cols.iter().map(|&c| value(c)).collect::<Result<_, _>>()?,
            });
        }
        Ok(n as u64)
    }
}

/// Collects rows into batches for the consumer.
pub(crate) struct Batcher<'a> {
    size: usize,
    buf: Vec<Vec<Value>>,
    sink: &'a mut dyn FnMut(RowBatch) -> Result<(), String>,
    pub(crate) rows: u64,
}

impl<'a> Batcher<'a> {
    fn new(size: usize, sink: &'a mut dyn FnMut(RowBatch) -> Result<(), String>) -> Self {
        Batcher {
            size: size.max(1),
            buf: Vec::new(),
            sink,
            rows: 0,
        }
    }

    pub(crate) fn buf(&mut self) -> &mut Vec<Vec<Value>> {
        &mut self.buf
    }

    /// Hands full batches to the consumer.
    pub(crate) fn drain_full(&mut self) -> Result<(), ScanError> {
        while self.buf.len() >= self.size {
            let rest = self.buf.split_off(self.size);
            let batch = std::mem::replace(&mut self.buf, rest);
            self.rows += batch.len() as u64;
            (self.sink)(batch).map_err(ScanError::Sink)?;
        }
        Ok(())
    }

    /// Hands every remaining row to the consumer.
    pub(crate) fn flush(&mut self) -> Result<(), ScanError> {
        self.drain_full()?;
        if !self.buf.is_empty() {
            let batch = std::mem::take(&mut self.buf);
            self.rows += batch.len() as u64;
            (self.sink)(batch).map_err(ScanError::Sink)?;
        }
        Ok(())
    }
}

/// The conventional scan: every page over NVMe, the software filter on every row.
fn conv(
    s: &Scanner,
    table: &DeviceTable,
    rf: &RowFilter,
    out: &mut Batcher<'_>,
    stats: &mut ScanStats,
) -> Result<(), ScanError> {
    let file = s.device.host_file(&table.file)?;
    let mut failed: Option<ScanError> = None;
    let mut next_page = 0u64;
    let mut rows_scanned = 0u64;
    let mut pool = s.config.buffer_pool.as_ref().map(|p| p.file(&table.file));
    let cache = pool.as_mut().map(|p| p as &mut dyn host_sdk::ScanCache);
    let report = file.scan_through(s.config.read_ahead, cache, |chunk| {
        let ((), _, spent) = s.config.host_cost.run(|| {
            let mut rows = 0;
            if failed.is_some() {
                return ((), rows);
            }
            for page in chunk.chunks(PAGE_BYTES) {
                let r = rf.page(&table.schema, next_page, page, out.buf()).and_then(|n| {
                    rows += n;
                    out.drain_full()
                });
                next_page += 1;
                if let Err(e) = r {
                    failed = Some(e);
                    break;
                }
            }
            rows_scanned += rows;
            ((), rows)
        });
        spent
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    stats.rows_scanned = rows_scanned;
    stats.pages_transferred = report.bytes_read / PAGE_BYTES as u64;
    stats.pages_from_pool = report.bytes_cached / PAGE_BYTES as u64;
    stats.pcie_bytes = report.bytes_read;
    stats.host_compute_ns += nanos(report.host_compute);
    stats.io_ns = report.io.0;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query engine keeps a scanner in shared, thread-crossing state.
    #[test]
    fn scanners_cross_threads() {
        fn shared<T: Send + Sync + Clone + std::fmt::Debug>() {}
        shared::<Scanner>();
        shared::<ScanStats>();
    }

    #[test]
    fn modes_parse() {
        for m in [ScanMode::Conv, ScanMode::Offload, ScanMode::Auto] {
            assert_eq!(m.name().parse::<ScanMode>(), Ok(m));
        }
        assert_eq!("AUTO".parse::<ScanMode>(), Ok(ScanMode::Auto));
        let e = "both".parse::<ScanMode>().unwrap_err();
        assert!(e.contains("`both`") && e.contains("offload"), "{e}");
    }
}
