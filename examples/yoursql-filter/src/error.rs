//! Errors of the DataFusion integration.

/// What went wrong turning device tables into Arrow data or running a query over them.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A decoded row holds a value of the wrong kind for its column.
    #[error("table `{table}`, column `{column}`: expected a value of type {expected}, got {got}")]
    RowValue {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// The column type.
        expected: String,
        /// The kind of value found.
        got: &'static str,
    },
    /// A row with a different number of values than the columns asked for.
    #[error("table `{table}`: a row has {got} values; expected {expected} (one per projected column)")]
    RowWidth {
        /// Table name.
        table: String,
        /// Values in the row.
        got: usize,
        /// Columns projected.
        expected: usize,
    },
    /// Arrow refused a schema or batch.
    #[error("arrow: {0}")]
    Arrow(String),
    /// The device scan failed.
    #[error("scan of table `{table}` failed: {message}")]
    Scan {
        /// Table name.
        table: String,
        /// The scan's error.
        message: String,
    },
    /// Generating or loading TPC-H data failed.
    #[error("loading TPC-H at scale factor {sf}: {message}")]
    Load {
        /// Scale factor.
        sf: f64,
        /// The loader's error.
        message: String,
    },
    /// Writing a reference copy (CSV or Parquet) failed.
    #[error("writing {path}: {message}")]
    Write {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// DataFusion refused or failed a query.
    #[error("datafusion: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// The device or its filter module could not be set up.
    #[error("device setup: {0}")]
    Setup(String),
    /// Modeled compute without the cost it needs in the calibration.
    #[error("the calibration has no `{what}` cost for modeled compute; expected one from `yoursql-filter calibrate-engine` (engine) or `suite calibrate --parts filter-scan` (host filter), or use --compute measured")]
    NoCost {
        /// The missing entry.
        what: String,
    },
    /// A named query that does not exist.
    #[error("no query named `{0}`; expected filter or a TPC-H query q1 to q22")]
    UnknownQuery(String),
    /// A TPC-H query number that does not exist.
    #[error("no TPC-H query `{0}`; expected a query number from 1 to 22")]
    UnknownTpchQuery(String),
    /// A query named twice in a list.
    #[error("--queries names {0} twice; expected each query number (1 to 22) at most once")]
    RepeatedQuery(String),
}

impl From<Error> for datafusion::error::DataFusionError {
    fn from(e: Error) -> Self {
        datafusion::error::DataFusionError::External(Box::new(e))
    }
}
