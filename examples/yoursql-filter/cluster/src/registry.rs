//! What an executor holds: its node's devices ([`NodeDevices`]: each device's scanner and its
//! part of the tables), reached through [`ExecutorDevices`], a `SessionConfig` extension its
//! config producer sets, so the physical codec finds it in the task's context when it decodes a
//! scan ([`crate::codec`]). Extensions added with `with_extension` are not task properties: a
//! client or the scheduler cannot override them.
//!
//! **Own node only.** [`ExecutorDevices::resolve`] refuses a part on another node
//! ([`ClusterError::ForeignPart`]): in this process every node's devices exist, but an executor
//! scans only its own. [`Reach::AnyNode`] lifts that, for the test that shows what Ballista's
//! own task placement does to a device scan (every task scans every partition).
//!
//! **The scan log** ([`ScanLog`]): every partition an executor's scan nodes return, with the
//! node that scanned it and the rows, recorded when the partition's stream ends. Shared by the
//! cluster's executors in this process; a test reads it to see which node scanned what.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use yoursql_core::{Catalog, DeviceTable, Scanner};

use crate::descriptor::{PartLocation, TableDescriptor};
use crate::error::ClusterError;
use crate::turn::DeviceTurn;

/// One device of a node: its scanner and its part of the tables.
#[derive(Debug, Clone)]
pub struct NodeDevice {
    /// Scans the device's tables (with the filter module when offload is possible).
    pub scanner: Scanner,
    /// The device's tables (each its part).
    pub catalog: Catalog,
    /// Its scans' turn (INVARIANT(one-scan-per-device), [`crate::turn`]).
    pub turn: DeviceTurn,
}

/// A storage node's devices, in device order.
#[derive(Debug, Clone)]
pub struct NodeDevices {
    /// The node's id.
    pub node: u32,
    /// Its devices (at least one).
    pub devices: Vec<NodeDevice>,
}

/// Which nodes' parts an executor may scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Only its own node's (the cluster's rule).
    OwnNode,
    /// Any node's in this process: only to show what happens without node placement.
    AnyNode,
}

/// One partition a scan node returned on an executor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanEvent {
    /// The node of the executor that scanned it.
    pub node: u32,
    /// The table.
    pub table: String,
    /// The partition's place in the scan as the scheduler planned it.
    pub partition: usize,
    /// Where the partition lives.
    pub at: PartLocation,
    /// Rows the partition returned.
    pub rows: u64,
    /// The stream ended (false: dropped before its end, e.g. under a limit).
    pub complete: bool,
}

/// The partitions scanned by the executors of one process (module docs).
#[derive(Debug, Default)]
pub struct ScanLog {
    events: Mutex<Vec<ScanEvent>>,
}

impl ScanLog {
    /// Records `e`.
    pub fn push(&self, e: ScanEvent) {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).push(e);
    }

    /// The events since the last call, oldest first.
    pub fn take(&self) -> Vec<ScanEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The devices one executor reaches: its node's (and, with [`Reach::AnyNode`], the others'),
/// and the scan log. A `SessionConfig` extension (module docs).
#[derive(Debug)]
pub struct ExecutorDevices {
    node: u32,
    nodes: BTreeMap<u32, Arc<NodeDevices>>,
    reach: Reach,
    log: Arc<ScanLog>,
}

impl ExecutorDevices {
    /// The executor of `own` (which must be among `nodes`), reaching `reach`.
    pub fn new(
        own: u32,
        nodes: &[Arc<NodeDevices>],
        reach: Reach,
        log: Arc<ScanLog>,
    ) -> Result<Self, ClusterError> {
        let nodes: BTreeMap<u32, Arc<NodeDevices>> = nodes
            .iter()
            .filter(|n| reach == Reach::AnyNode || n.node == own)
            .map(|n| (n.node, Arc::clone(n)))
            .collect();
        if !nodes.contains_key(&own) {
            return Err(ClusterError::Setup(format!("node {own} has no devices")));
        }
        Ok(ExecutorDevices {
            node: own,
            nodes,
            reach,
            log,
        })
    }

    /// The executor's node.
    pub fn node(&self) -> u32 {
        self.node
    }

    /// The scan log.
    pub fn log(&self) -> &Arc<ScanLog> {
        &self.log
    }

    /// Partition `i` of `table` (planned as partition `planned`) as a scanner of the device
    /// holding it, its part of the table and the device's scan turn, checked against that device's catalog; refuses a
    /// part on another node unless the executor reaches any node.
    pub fn resolve(
        &self,
        table: &TableDescriptor,
        schema: &yoursql_core::Schema,
        i: usize,
        planned: usize,
    ) -> Result<(Scanner, DeviceTable, DeviceTurn), ClusterError> {
        let part = table
            .parts
            .get(i)
            .ok_or_else(|| ClusterError::Codec(format!("table `{}` has no part {i}", table.table)))?;
        let at = part.at;
        if at.node != self.node && self.reach == Reach::OwnNode {
            return Err(ClusterError::ForeignPart {
                table: table.table.clone(),
                partition: planned,
                owner: at.node,
                device: at.device,
                executor: self.node,
            });
        }
        let resolve_err = |message: String| ClusterError::Resolve {
            node: at.node,
            message,
        };
        let node = self
            .nodes
            .get(&at.node)
            .ok_or_else(|| resolve_err(format!("no such node (partition {planned} of `{}`)", table.table)))?;
        let dev = node
            .devices
            .get(at.device as usize)
            .ok_or_else(|| resolve_err(format!("no device {} (it has {})", at.device, node.devices.len())))?;
        let held = dev
            .catalog
            .get(&table.table)
            .ok_or_else(|| resolve_err(format!("device {} holds no table `{}`", at.device, table.table)))?;
        if held.schema != *schema
            || held.file != part.file
            || held.rows != part.rows
            || held.pages != part.pages
        {
            return Err(resolve_err(format!(
                "device {} holds table `{}` as {} ({} rows, {} pages), not as described ({} rows, {} pages in {})",
                at.device, table.table, held.file, held.rows, held.pages, part.rows, part.pages, part.file
            )));
        }
        Ok((dev.scanner.clone(), held.clone(), Arc::clone(&dev.turn)))
    }
}
