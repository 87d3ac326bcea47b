//! The TPC-H queries over the device tables on an in-process DataFusion Ballista cluster: one
//! scheduler and one executor per storage node, each node owning its own simulated devices
//! (`yoursql-filter`'s scans, unchanged, run on the executors).
//!
//! Ballista is confined to this crate (no other crate depends on it).
//!
//! Modules: [`descriptor`] (what travels instead of device handles: a table's name, schema,
//! scan mode and where each partition lives; a task's scan), [`provider`] (the table the
//! client registers and the scheduler plans), [`scan`] (the scan node: planned on the
//! scheduler, restricted per task, resolved to devices on the executor), [`codec`] (the
//! logical and physical extension codecs, falling back to Ballista's), [`registry`] (an
//! executor's devices, as a `SessionConfig` extension, and the scan log), [`placement`] (the
//! scheduler's task placement: each scan partition once, on its node), [`turn`] (one scan at a
//! time per device), [`tap`], [`recording`] and [`timing`] (what each task did, and the
//! query's simulated time from it), [`roles`] (starting a scheduler, an executor, a client),
//! [`cluster`] (the whole cluster in one process, and running queries on it).

pub mod cluster;
pub mod codec;
pub mod descriptor;
pub mod error;
pub mod placement;
pub mod provider;
pub mod recording;
pub mod registry;
pub mod roles;
pub mod scan;
pub mod tap;
pub mod timing;
pub mod turn;

pub use cluster::{Cluster, ClusterOptions, ClusterRun, Placement};
pub use error::ClusterError;
pub use registry::{Reach, ScanEvent};
