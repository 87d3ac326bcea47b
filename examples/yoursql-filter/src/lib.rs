//! DataFusion over YourSQL-style filter offload.
//!
//! [`DeviceTableProvider`] is a DataFusion `TableProvider` over a table stored on the simulated
//! SSD by `yoursql_core`: filters that convert to `yoursql_core` predicates ([`convert`]) are
//! pushed down and reported exact (the scan's software filter applies them to every row it
//! returns); the scan runs conventionally, offloaded to the device's pattern matchers, or as
//! YourSQL's sampler decides. DataFusion (and Arrow) is confined to this crate and
//! `yoursql-cluster`, which runs these scans on a Ballista cluster
//! (INVARIANT(datafusion-only-in-filter)).
//!
//! Modules: [`arrow_map`] (types and rows as Arrow), [`convert`] (filters to predicates),
//! [`provider`] (the table provider), [`scan_exec`] (its scan node: turns, early filtering
//! through joins), [`scan_parts`] (a scan's partitions, one per device, at once), [`engine`] (the engine's compute in a query's time), [`session`] (device setup and query runs), [`reference`]
//! (DataFusion's own answer over CSV or Parquet copies), [`queries`] (the named queries),
//! [`tpch_queries`] (the 22 TPC-H queries), [`tpch_pass`] (one pass over them in each mode),
//! [`tpch_report`] (their runs in each mode, totals
//! and the top five beside YourSQL's figures),
//! [`report`] (text and JSON reports).

pub mod arrow_map;
pub mod convert;
pub mod engine;
pub mod error;
pub mod provider;
pub mod queries;
pub mod reference;
pub mod report;
pub mod scan_exec;
pub mod scan_parts;
pub mod session;
pub mod tpch_pass;
pub mod tpch_queries;
pub mod tpch_report;

pub use error::Error;
pub use provider::{DeviceTableProvider, ScanRecord};
pub use session::{run_query, QueryRun, Setup};
