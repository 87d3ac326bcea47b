//! Typed errors. Each message names the thing that is wrong and what was expected.

/// A value, row, page or schema that does not fit the row-page format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// A date that is not `YYYY-MM-DD` on the calendar (years 1 to 9999).
    #[error("date `{text}` is not a calendar date; expected YYYY-MM-DD with year 0001 to 9999")]
    BadDate {
        /// The text or parts given.
        text: String,
    },
    /// A decimal literal that is not `[-]digits[.digits]` within 18 digits.
    #[error("decimal `{text}` is not a number; expected [-]digits[.digits] fitting in 18 digits")]
    BadDecimal {
        /// The text given.
        text: String,
    },
    /// A schema with no columns or too many.
    #[error("table `{table}` has {count} columns; expected 1 to {max}")]
    ColumnCount {
        /// Table name.
        table: String,
        /// Columns given.
        count: usize,
        /// Most columns supported.
        max: usize,
    },
    /// Two columns with one name.
    #[error("table `{table}` has two columns named `{column}`; expected unique names")]
    DuplicateColumn {
        /// Table name.
        table: String,
        /// The repeated name.
        column: String,
    },
    /// A row with the wrong number of values.
    #[error("row for table `{table}` has {got} values; expected {expected}")]
    Arity {
        /// Table name.
        table: String,
        /// Values given.
        got: usize,
        /// Columns in the schema.
        expected: usize,
    },
    /// A value of the wrong kind for its column.
    #[error("column `{column}` of type {expected} cannot hold {got}")]
    TypeMismatch {
        /// Column name.
        column: String,
        /// The column type.
        expected: String,
        /// The kind of value given.
        got: &'static str,
    },
    /// A string that does not fit its column.
    #[error("string for column `{column}` is {len} bytes; expected {expected}")]
    StringLength {
        /// Column name.
        column: String,
        /// Bytes given.
        len: usize,
        /// What the column allows.
        expected: String,
    },
    /// A NUL byte inside a variable-length string (NUL is the terminator).
    #[error("string for column `{column}` contains a NUL byte; expected none (NUL ends a VARCHAR)")]
    NulInString {
        /// Column name.
        column: String,
    },
    /// A row whose encoding is larger than a page's payload.
    #[error("row for table `{table}` encodes to {len} bytes; expected at most {max} (one page)")]
    RowTooLarge {
        /// Table name.
        table: String,
        /// Encoded size.
        len: usize,
        /// Page payload size.
        max: usize,
    },
    /// A page buffer of the wrong size.
    #[error("page is {len} bytes; expected {expected}")]
    PageSize {
        /// Bytes given.
        len: usize,
        /// The page size.
        expected: usize,
    },
    /// A page that does not start with the row-page magic byte.
    #[error("page starts with {found:#04x}; expected the row-page magic {expected:#04x}")]
    BadMagic {
        /// Byte found.
        found: u8,
        /// The magic byte.
        expected: u8,
    },
    /// A page written by another format version.
    #[error("page has format version {found}; expected {expected}")]
    BadVersion {
        /// Version found.
        found: u8,
        /// This crate's version.
        expected: u8,
    },
    /// A row that ends or breaks inside a column.
    #[error("row {row} of the page is malformed at column `{column}`: {problem}")]
    Corrupt {
        /// Row index within the page.
        row: usize,
        /// Column name.
        column: String,
        /// What was wrong.
        problem: String,
    },
}

/// A predicate that cannot be bound to a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PredicateError {
    /// A column that is not in the table.
    #[error("table `{table}` has no column `{column}`")]
    UnknownColumn {
        /// Table name.
        table: String,
        /// Column named by the predicate.
        column: String,
    },
    /// A literal of the wrong kind for its column.
    #[error("column `{column}` of type {expected} cannot be compared with {got} `{literal}`")]
    TypeMismatch {
        /// Column name.
        column: String,
        /// The column type.
        expected: String,
        /// The kind of literal.
        got: &'static str,
        /// The literal.
        literal: String,
    },
    /// A decimal literal with more fraction digits than the column keeps, or out of range.
    #[error("literal `{literal}` does not fit column `{column}` of type {expected} exactly")]
    Inexact {
        /// Column name.
        column: String,
        /// The column type.
        expected: String,
        /// The literal.
        literal: String,
    },
    /// A LIKE on a column that is not a string.
    #[error("LIKE needs a string column; `{column}` is {expected}")]
    LikeOnNonString {
        /// Column name.
        column: String,
        /// The column type.
        expected: String,
    },
    /// A LIKE pattern this engine does not evaluate.
    #[error("LIKE pattern `{pattern}` is not supported; expected 'X', 'X%', '%X' or '%X%' without `_`")]
    UnsupportedLike {
        /// The pattern.
        pattern: String,
    },
    /// `AND` of nothing.
    #[error("AND has no operands; expected at least one predicate")]
    EmptyAnd,
}

/// Why a predicate cannot be turned into matcher keys. Not a failure: the query then scans
/// conventionally.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotOffloadable {
    /// A range so wide that its keys would be no more than the column's tag.
    #[error("range on `{column}` has no common byte prefix; a key would match every row")]
    RangeTooWide {
        /// Column name.
        column: String,
    },
    /// A range that holds no value (the software filter returns nothing).
    #[error("range on `{column}` is empty; nothing to match")]
    EmptyRange {
        /// Column name.
        column: String,
    },
    /// A one-sided comparison on a string column.
    #[error("`{op}` on string column `{column}` has no byte prefix; expected =, BETWEEN or LIKE")]
    StringInequality {
        /// Column name.
        column: String,
        /// The operator.
        op: &'static str,
    },
    /// A LIKE that matches every string.
    #[error("LIKE on `{column}` matches every string; a key would match every row")]
    LikeMatchesAll {
        /// Column name.
        column: String,
    },
    /// The matcher takes no keys (`max_keys` or `max_key_bytes` below what a key needs).
    #[error(
        "the matcher takes {max_keys} keys of {max_key_bytes} bytes; expected at least 1 key of 2 bytes"
    )]
    MatcherTooSmall {
        /// The profile's `matcher.max_keys`.
        max_keys: u32,
        /// The profile's `matcher.max_key_bytes`.
        max_key_bytes: u32,
    },
    /// An AND none of whose operands can be offloaded; the first reason is kept.
    #[error("no operand of the AND can be offloaded: {first}")]
    NoOperand {
        /// Why the first operand could not be offloaded.
        first: Box<NotOffloadable>,
    },
}

/// Loading a table onto the device failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A scale factor that is not a positive finite number.
    #[error("scale factor {0} is not usable; expected a positive finite number such as 0.01")]
    ScaleFactor(f64),
    /// The table does not fit between the start LBA and the end of the device.
    #[error("table `{table}` needs {pages} blocks from LBA {start}; the device has {capacity} blocks")]
    NoRoom {
        /// Table name.
        table: String,
        /// Pages to write.
        pages: u64,
        /// First LBA.
        start: u64,
        /// Device capacity in blocks.
        capacity: u64,
    },
    /// A row or page could not be encoded or decoded.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The device refused a command.
    #[error("device I/O: {0}")]
    Io(#[from] sim_nvme::IoError),
}

/// Storing or opening a table on a device failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The table could not be generated or encoded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The device refused a file command.
    #[error("device: {0}")]
    Device(#[from] host_sdk::Error),
    /// A table description file that does not decode.
    #[error("table description `{file}` is malformed: {problem}")]
    Meta {
        /// The description file.
        file: String,
        /// What is wrong.
        problem: String,
    },
    /// A table the caller needs is not on the device.
    #[error("table `{table}` is not on the device; it holds: {held}")]
    MissingTable {
        /// The table.
        table: String,
        /// The tables it holds (`none` if none).
        held: String,
    },
    /// The device holds the TPC-H tables at another scale factor than asked for.
    #[error("the device holds TPC-H tables at scale factor {stored}; expected scale factor {wanted}")]
    OtherScale {
        /// The stored tables' scale factor.
        stored: f64,
        /// The one asked for.
        wanted: f64,
    },
    /// The device holds another part of the tables than asked for (another partitioning over
    /// devices, see `crate::parts`).
    #[error("the device holds part {stored} of the TPC-H tables; expected part {wanted}")]
    OtherPart {
        /// The stored part (`I of N`).
        stored: String,
        /// The part asked for.
        wanted: String,
    },
    /// An error on one device of several.
    #[error("device {device} of {of}: {source}")]
    OnDevice {
        /// The device's index (from 0).
        device: usize,
        /// The number of devices.
        of: usize,
        /// What went wrong there.
        source: Box<StoreError>,
    },
}

/// A scan failed.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A filter predicate bound to another table.
    #[error("filter predicate `{predicate}` is bound to table `{bound}`; expected table `{table}`")]
    WrongTable {
        /// The predicate.
        predicate: String,
        /// The table it is bound to.
        bound: String,
        /// The scanned table.
        table: String,
    },
    /// A projection naming a column the table does not have.
    #[error("projection asks for column {index} of table `{table}`; it has {columns} columns")]
    Projection {
        /// The column index asked for.
        index: usize,
        /// The table.
        table: String,
        /// Its column count.
        columns: usize,
    },
    /// Offload was asked for but cannot run.
    #[error("table `{table}` cannot be scanned with offload: {reason}")]
    CannotOffload {
        /// The table.
        table: String,
        /// Why.
        reason: String,
    },
    /// A page of the table does not decode.
    #[error("page {page} of `{file}`: {source}")]
    Page {
        /// The table's page file.
        file: String,
        /// Page index.
        page: u64,
        /// The decoding error.
        source: FormatError,
    },
    /// The device refused a command, or an SSDlet failed.
    #[error("device: {0}")]
    Device(#[from] host_sdk::Error),
    /// The device's file table does not decode or does not hold the table's file.
    #[error("device file table: {0}")]
    FileTable(String),
    /// Identify did not return identify data.
    #[error("the device answered Identify with {0}; expected identify data")]
    Identify(String),
    /// The consumer of the rows stopped the scan with an error.
    #[error("row consumer: {0}")]
    Sink(String),
}
