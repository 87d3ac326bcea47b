//! YourSQL-style filter offload without a query engine (no DataFusion or Arrow:
//! INVARIANT(datafusion-only-in-filter)): TPC-H tables in a row-page format stored as device
//! files, predicates turned into keys for the per-channel pattern matcher, the `ssdlet-yoursql`
//! filter and sampler SSDlets, host bulk prefetch of hinted pages, and the software filter that
//! removes the matcher's false positives.
//!
//! A query engine (the DataFusion provider in `examples/yoursql-filter`) uses:
//! - [`load_tpch`] / [`store_table`] / [`open_catalog`]: tables on a [`host_sdk::Device`]
//!   ([`DeviceTable`], [`Catalog`]);
//! - [`Predicate::bind`] to a table's schema, then [`Scanner::scan`] with a conjunction of
//!   [`BoundPredicate`]s, a projection and a [`ScanMode`] (`Conv`, `Offload`, `Auto`): row
//!   batches in table order and [`ScanStats`] (simulated time, pages, PCIe bytes, the offload
//!   [`Decision`] with its limiting score and sampled ratio). The software filter applies every
//!   predicate, so pushed-down filters are exact.
//!
//! ```
//! use host_sdk::{Device, DeviceProfile, ImageSpec};
//! use yoursql_core::{load_tpch, CmpOp, Predicate, ScanMode, Scanner, TpchTable, Value};
//!
//! let dev = Device::embedded(DeviceProfile::tiny(), ImageSpec::Memory)?;
//! let catalog = load_tpch(&dev, 0.001, &[TpchTable::Lineitem])?;
//! let lineitem = catalog.get("lineitem").unwrap();
//! let pred = Predicate::cmp("l_shipdate", CmpOp::Eq, Value::date("1995-01-17")?).bind(&lineitem.schema)?;
//! // Scanner::new(&dev, &yoursql_core::build_filter_module(false)?) can also offload.
//! let scanner = Scanner::conventional(&dev);
//! let out = scanner.scan_collect(lineitem, &[pred], Some(&[0, 10, 3]), ScanMode::Auto)?;
//! assert!(!out.stats.decision.offloaded && out.stats.simulated_ns > 0);
//! assert!(out.rows.iter().all(|r| r[1] == Value::date("1995-01-17").unwrap()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The matcher underneath, straight on a simulated SSD:
//!
//! ```
//! use sim_nvme::{DeviceProfile, Lba, SimTime, Ssd};
//! use yoursql_core::{tpch, CmpOp, Predicate, Value};
//!
//! let mut ssd = Ssd::in_memory(DeviceProfile::tiny())?;
//! let (table, _done) = tpch::load_lineitem(&mut ssd, 0.001, Lba(0), SimTime::ZERO)?;
//! let pred = Predicate::cmp("l_shipdate", CmpOp::Eq, Value::date("1995-01-17")?).bind(&table.schema)?;
//! let plan = pred.match_plan(&ssd.profile().matcher)?;
//! let (hints, _) = ssd.match_scan(SimTime::ZERO, &plan.request(table.first_lba, table.pages))?;
//! assert!(hints.count() < table.pages);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: [`value`] (types and schemas), [`row`] (the byte encoding and why), [`page`] (4 KiB
//! pages), [`predicate`] (AST, software filter, limiting score), [`keys`] (matcher keys),
//! [`tpch`] (generation), [`store`] (tables as device files), [`parts`] (tables partitioned
//! over several devices), [`scan`] (the scan API), [`decide`]
//! (the offload decision), [`habp`] (the offloaded scan's timeline), [`wire`] (what the module
//! gets and sends).

pub mod decide;
pub mod error;
pub mod habp;
pub mod keys;
pub mod page;
pub mod parts;
pub mod pool;
pub mod predicate;
pub mod row;
pub mod scan;
pub mod store;
pub mod tpch;
pub mod value;
pub mod wire;

pub use error::{FormatError, LoadError, NotOffloadable, PredicateError, ScanError, StoreError};
pub use keys::MatchPlan;
pub use page::{decode_page, EncodedTable, PageWriter, PAGE_BYTES};
pub use parts::{load_tpch_parts, open_tpch_part, open_tpch_parts, tpch_tables_parts, Part};
pub use pool::{BufferPool, PoolStats};
pub use predicate::{BoundPredicate, CmpOp, LikeKind, Predicate};
pub use scan::{
    build_filter_module, Decision, RowBatch, ScanConfig, ScanMode, ScanOutput, ScanStats, Scanner,
};
pub use store::{
    load_tpch, open_catalog, open_table, open_tpch, store_table, tpch_tables, Catalog, DeviceTable, TpchRows,
    TpchTable,
};
pub use tpch::TableDesc;
pub use value::{Column, ColumnType, Date, Decimal, Schema, Value};
