//! YourSQL-style filter offload, the groundwork: TPC-H tables in a row-page format on the
//! simulated SSD, predicates turned into keys for the per-channel pattern matcher, and the
//! software filter that removes the matcher's false positives.
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
//! [`tpch`] (generation and loading onto the device).

mod decide;
pub mod error;
mod habp;
pub mod keys;
pub mod page;
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
pub use predicate::{BoundPredicate, CmpOp, LikeKind, Predicate};
pub use scan::{
    build_filter_module, Decision, RowBatch, ScanConfig, ScanMode, ScanOutput, ScanStats, Scanner,
};
pub use store::{load_tpch, open_catalog, open_table, store_table, Catalog, DeviceTable, TpchTable};
pub use tpch::TableDesc;
pub use value::{Column, ColumnType, Date, Decimal, Schema, Value};
