//! The eight TPC-H schemas, in the column order of the specification (clause 1.4).
//!
//! Keys and other integers are `BIGINT`; money and quantities `DECIMAL(15,2)`; dates `DATE`.
//! Text follows the specification's lengths, with one rule: this format's `CHAR(n)` holds exactly
//! `n` bytes (no padding), so a column is `CHAR(n)` only when every generated value has `n`
//! bytes (the one-letter flags, phone numbers, clerks); the specification's other `CHAR(n)`
//! columns (names, segments, priorities, modes) are `VARCHAR(n)`, which compares as the
//! specification's blank-padded `CHAR(n)` does.

use crate::value::{ColumnType, Schema};

const KEY: ColumnType = ColumnType::Int64;
const INT: ColumnType = ColumnType::Int64;
const D2: ColumnType = ColumnType::Decimal { scale: 2 };
const DATE: ColumnType = ColumnType::Date;

const fn char_(n: u16) -> ColumnType {
    ColumnType::FixedStr(n)
}

const fn varchar(n: u16) -> ColumnType {
    ColumnType::VarStr(n)
}

/// The `region` schema.
pub fn region_schema() -> Schema {
    Schema::trusted(
        "region",
        &[
            ("r_regionkey", KEY),
            ("r_name", varchar(25)),
            ("r_comment", varchar(152)),
        ],
    )
}

/// The `nation` schema.
pub fn nation_schema() -> Schema {
    Schema::trusted(
        "nation",
        &[
            ("n_nationkey", KEY),
            ("n_name", varchar(25)),
            ("n_regionkey", KEY),
            ("n_comment", varchar(152)),
        ],
    )
}

/// The `supplier` schema.
pub fn supplier_schema() -> Schema {
    Schema::trusted(
        "supplier",
        &[
            ("s_suppkey", KEY),
            ("s_name", varchar(25)),
            ("s_address", varchar(40)),
            ("s_nationkey", KEY),
            ("s_phone", char_(15)),
            ("s_acctbal", D2),
            ("s_comment", varchar(101)),
        ],
    )
}

/// The `customer` schema.
pub fn customer_schema() -> Schema {
    Schema::trusted(
        "customer",
        &[
            ("c_custkey", KEY),
            ("c_name", varchar(25)),
            ("c_address", varchar(40)),
            ("c_nationkey", KEY),
            ("c_phone", char_(15)),
            ("c_acctbal", D2),
            ("c_mktsegment", varchar(10)),
            ("c_comment", varchar(117)),
        ],
    )
}

/// The `part` schema.
pub fn part_schema() -> Schema {
    Schema::trusted(
        "part",
        &[
            ("p_partkey", KEY),
            ("p_name", varchar(55)),
            ("p_mfgr", varchar(25)),
            ("p_brand", varchar(10)),
            ("p_type", varchar(25)),
            ("p_size", INT),
            ("p_container", varchar(10)),
            ("p_retailprice", D2),
            ("p_comment", varchar(23)),
        ],
    )
}

/// The `partsupp` schema.
pub fn partsupp_schema() -> Schema {
    Schema::trusted(
        "partsupp",
        &[
            ("ps_partkey", KEY),
            ("ps_suppkey", KEY),
            ("ps_availqty", INT),
            ("ps_supplycost", D2),
            ("ps_comment", varchar(199)),
        ],
    )
}

/// The `orders` schema.
pub fn orders_schema() -> Schema {
    Schema::trusted(
        "orders",
        &[
            ("o_orderkey", KEY),
            ("o_custkey", KEY),
            ("o_orderstatus", char_(1)),
            ("o_totalprice", D2),
            ("o_orderdate", DATE),
            ("o_orderpriority", varchar(15)),
            ("o_clerk", char_(15)),
            ("o_shippriority", INT),
            ("o_comment", varchar(79)),
        ],
    )
}

/// The `lineitem` schema.
pub fn lineitem_schema() -> Schema {
    Schema::trusted(
        "lineitem",
        &[
            ("l_orderkey", KEY),
            ("l_partkey", KEY),
            ("l_suppkey", KEY),
            ("l_linenumber", INT),
            ("l_quantity", D2),
            ("l_extendedprice", D2),
            ("l_discount", D2),
            ("l_tax", D2),
            ("l_returnflag", char_(1)),
            ("l_linestatus", char_(1)),
            ("l_shipdate", DATE),
            ("l_commitdate", DATE),
            ("l_receiptdate", DATE),
            ("l_shipinstruct", varchar(25)),
            ("l_shipmode", varchar(10)),
            ("l_comment", varchar(44)),
        ],
    )
}
