//! The descriptors that travel between the client, the scheduler and the executors in place of
//! device handles: [`TableDescriptor`] (a device table: its name, schema, scan mode and where
//! each partition lives) inside the logical plan, and [`ScanDescriptor`] (a table descriptor
//! restricted to the partitions one task scans, the projection and the pushed-down filters)
//! inside each task's physical plan.
//!
//! **Wire form.** A magic tag (`YSQLTBL1` or `YSQLSCN1`) and then the descriptor as postcard
//! bytes; the codecs ([`crate::codec`]) hand anything without the tag to Ballista's own codecs.
//! The filters are DataFusion `Expr`s in datafusion-proto's bytes, so the executor rebuilds the
//! scan through `yoursql-filter`'s own filter conversion and binding.
//!
//! **Partitions.** Partition `p` of a table is `parts[p]`: device `device` of node `node`, which
//! holds that part of the table as its own device table ([`yoursql_core::parts`]) in file
//! `file`, with `rows` rows in `pages` pages. The executor checks the file, rows and pages
//! against its own catalog when it resolves a part ([`crate::registry`]).

use serde::{Deserialize, Serialize};
use yoursql_core::{ColumnType, DeviceTable, ScanMode, Schema};

use crate::error::ClusterError;

const TABLE_MAGIC: &[u8; 8] = b"YSQLTBL1";
const SCAN_MAGIC: &[u8; 8] = b"YSQLSCN1";

/// Where a partition lives: device `device` (from 0, within the node) of node `node`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PartLocation {
    /// The storage node (one executor each).
    pub node: u32,
    /// The device within the node.
    pub device: u32,
}

impl std::fmt::Display for PartLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "node {} device {}", self.node, self.device)
    }
}

/// One partition of a table: where it lives and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartDesc {
    /// Its node and device.
    pub at: PartLocation,
    /// The device file holding its pages.
    pub file: String,
    /// Rows in the part.
    pub rows: u64,
    /// Pages in the part.
    pub pages: u64,
}

/// A column type as the descriptor carries it (`yoursql_core::ColumnType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum TypeDesc {
    Int64,
    Decimal(u8),
    Date,
    FixedStr(u16),
    VarStr(u16),
}

impl From<ColumnType> for TypeDesc {
    fn from(t: ColumnType) -> Self {
        match t {
            ColumnType::Int64 => TypeDesc::Int64,
            ColumnType::Decimal { scale } => TypeDesc::Decimal(scale),
            ColumnType::Date => TypeDesc::Date,
            ColumnType::FixedStr(n) => TypeDesc::FixedStr(n),
            ColumnType::VarStr(n) => TypeDesc::VarStr(n),
        }
    }
}

impl From<TypeDesc> for ColumnType {
    fn from(t: TypeDesc) -> Self {
        match t {
            TypeDesc::Int64 => ColumnType::Int64,
            TypeDesc::Decimal(scale) => ColumnType::Decimal { scale },
            TypeDesc::Date => ColumnType::Date,
            TypeDesc::FixedStr(n) => ColumnType::FixedStr(n),
            TypeDesc::VarStr(n) => ColumnType::VarStr(n),
        }
    }
}

/// A device table spread over the cluster's nodes (module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDescriptor {
    /// The table's name.
    pub table: String,
    /// The scan mode's name (`conv`, `offload` or `auto`).
    mode: String,
    /// The columns, in storage order.
    columns: Vec<(String, TypeDesc)>,
    /// The partitions, in partition order (at least one).
    pub parts: Vec<PartDesc>,
}

impl TableDescriptor {
    /// The descriptor of a table of `schema` whose partition `p` is `parts[p]`, scanned in
    /// `mode`.
    pub fn new(schema: &Schema, mode: ScanMode, parts: Vec<PartDesc>) -> Result<Self, ClusterError> {
        if parts.is_empty() {
            return Err(ClusterError::Setup(format!(
                "table `{}` has no partitions",
                schema.table()
            )));
        }
        Ok(TableDescriptor {
            table: schema.table().to_string(),
            mode: mode.name().to_string(),
            columns: schema
                .columns()
                .iter()
                .map(|c| (c.name.clone(), TypeDesc::from(c.ty)))
                .collect(),
            parts,
        })
    }

    /// The scan mode.
    pub fn mode(&self) -> Result<ScanMode, ClusterError> {
        self.mode.parse().map_err(ClusterError::Codec)
    }

    /// The same table scanned in `mode`.
    pub fn with_mode(mut self, mode: ScanMode) -> Self {
        self.mode = mode.name().to_string();
        self
    }

    /// The table's schema.
    pub fn schema(&self) -> Result<Schema, ClusterError> {
        let cols: Vec<(&str, ColumnType)> = self
            .columns
            .iter()
            .map(|(n, t)| (n.as_str(), ColumnType::from(*t)))
            .collect();
        Schema::new(&self.table, &cols).map_err(|e| ClusterError::Codec(e.to_string()))
    }

    /// Partition `p` as the device table its node holds (schema, file, rows, pages).
    pub fn device_table(&self, schema: &Schema, p: usize) -> Option<DeviceTable> {
        let part = self.parts.get(p)?;
        Some(DeviceTable {
            schema: schema.clone(),
            file: part.file.clone(),
            rows: part.rows,
            pages: part.pages,
        })
    }

    /// This table restricted to the partitions `partitions` (in that order: partition `i` of
    /// the result is partition `partitions[i]` of this one); `None` if one is out of range.
    pub fn restricted(&self, partitions: &[usize]) -> Option<TableDescriptor> {
        let parts = partitions
            .iter()
            .map(|&p| self.parts.get(p).cloned())
            .collect::<Option<Vec<_>>>()?;
        Some(TableDescriptor {
            parts,
            ..self.clone()
        })
    }

    /// The wire form (module docs).
    pub fn encode(&self) -> Result<Vec<u8>, ClusterError> {
        encode(TABLE_MAGIC, self)
    }

    /// A table descriptor from its wire form; `None` if `buf` is not one (no magic tag).
    pub fn decode(buf: &[u8]) -> Option<Result<Self, ClusterError>> {
        decode(TABLE_MAGIC, buf)
    }
}

/// What one task's scan node carries to its executor (module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanDescriptor {
    /// The table, restricted to the partitions the task scans (partition `i` of the node is
    /// `table.parts[i]`), with the scan mode.
    pub table: TableDescriptor,
    /// For each of those partitions, its index in the scan as planned on the scheduler (for
    /// error messages and the scan log).
    pub planned: Vec<usize>,
    /// The columns the scan returns (`None`: all).
    pub projection: Option<Vec<usize>>,
    /// The pushed-down filters, each a DataFusion `Expr` in datafusion-proto's bytes.
    pub filters: Vec<Vec<u8>>,
}

impl ScanDescriptor {
    /// The wire form (module docs).
    pub fn encode(&self) -> Result<Vec<u8>, ClusterError> {
        encode(SCAN_MAGIC, self)
    }

    /// A scan descriptor from its wire form; `None` if `buf` is not one (no magic tag).
    pub fn decode(buf: &[u8]) -> Option<Result<Self, ClusterError>> {
        decode(SCAN_MAGIC, buf)
    }
}

fn encode<T: Serialize>(magic: &[u8; 8], value: &T) -> Result<Vec<u8>, ClusterError> {
    let mut out = magic.to_vec();
    let body = postcard::to_stdvec(value).map_err(|e| ClusterError::Codec(e.to_string()))?;
    out.extend_from_slice(&body);
    Ok(out)
}

fn decode<T: for<'de> Deserialize<'de>>(magic: &[u8; 8], buf: &[u8]) -> Option<Result<T, ClusterError>> {
    let body = buf.strip_prefix(magic.as_slice())?;
    Some(postcard::from_bytes(body).map_err(|e| ClusterError::Codec(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use yoursql_core::TpchTable;

    fn lineitem() -> TableDescriptor {
        let parts = (0..4)
            .map(|i| PartDesc {
                at: PartLocation {
                    node: i / 2,
                    device: i % 2,
                },
                file: "lineitem.tbl".into(),
                rows: 100 + u64::from(i),
                pages: 3,
            })
            .collect();
        TableDescriptor::new(&TpchTable::Lineitem.schema(), ScanMode::Offload, parts).unwrap()
    }

    #[test]
    fn table_descriptors_round_trip_with_schema_and_mode() {
        let d = lineitem();
        let back = TableDescriptor::decode(&d.encode().unwrap()).unwrap().unwrap();
        assert_eq!(back, d);
        assert_eq!(back.schema().unwrap(), TpchTable::Lineitem.schema());
        assert_eq!(back.mode().unwrap(), ScanMode::Offload);
    }

    #[test]
    fn foreign_bytes_are_not_descriptors() {
        assert!(TableDescriptor::decode(b"\x0a\x03abc").is_none());
        let scan = ScanDescriptor {
            table: lineitem(),
            planned: vec![0, 1, 2, 3],
            projection: None,
            filters: vec![],
        };
        let bytes = scan.encode().unwrap();
        assert!(TableDescriptor::decode(&bytes).is_none());
        assert_eq!(ScanDescriptor::decode(&bytes).unwrap().unwrap(), scan);
        assert!(ScanDescriptor::decode(b"YSQLSCN1\xff").unwrap().is_err());
    }

    #[test]
    fn restriction_keeps_the_order_asked_for() {
        let d = lineitem().restricted(&[3, 1]).unwrap();
        assert_eq!(d.parts[0].rows, 103);
        assert_eq!(d.parts[1].rows, 101);
        assert!(lineitem().restricted(&[4]).is_none());
    }
}
