//! DataFusion's own answer: the same `tpchgen` tables written as CSV or Parquet files and read by
//! DataFusion's built-in readers, with no device in between ([`write_csv`], [`write_parquet`],
//! [`register_files`]); and [`run_sql`], which runs a query and returns its rows as text.
//!
//! The CSV copy goes through text (values printed, then parsed by DataFusion's CSV reader), so
//! it shares no conversion code with the device path; the Parquet copy is built from the same
//! Arrow conversion as the provider ([`crate::arrow_map`]) and is what the bench times.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
#[cfg(feature = "parquet")]
use datafusion::parquet::arrow::ArrowWriter;
#[cfg(feature = "parquet")]
use datafusion::prelude::ParquetReadOptions;
use datafusion::prelude::{CsvReadOptions, SessionContext};
use yoursql_core::{Schema, TpchRows, TpchTable, Value};

use crate::arrow_map::arrow_schema;
#[cfg(feature = "parquet")]
use crate::arrow_map::rows_to_batch;
use crate::error::Error;

/// Rows per Parquet batch written.
#[cfg(feature = "parquet")]
const PARQUET_BATCH_ROWS: usize = 64 * 1024;

/// A file format for the reference copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `|`-separated text, strings quoted, no header.
    Csv,
    /// Parquet, uncompressed (the `parquet` feature).
    #[cfg(feature = "parquet")]
    Parquet,
}

fn table_rows(table: &str, sf: f64) -> Result<(Schema, TpchRows), Error> {
    let load = |message: String| Error::Load { sf, message };
    let t = TpchTable::named(table).ok_or_else(|| {
        let names: Vec<&str> = TpchTable::ALL.iter().map(|t| t.name()).collect();
        load(format!(
            "no TPC-H table `{table}`; expected one of {}",
            names.join(", ")
        ))
    })?;
    Ok((t.schema(), t.rows(sf).map_err(|e| load(e.to_string()))?))
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Writes TPC-H `table` (any of the eight) at `sf` as `dir/table.csv`.
pub fn write_csv(dir: &Path, table: &str, sf: f64) -> Result<PathBuf, Error> {
    let (_, rows) = table_rows(table, sf)?;
    let path = dir.join(format!("{table}.csv"));
    let mut out = BufWriter::new(File::create(&path).map_err(|e| write_err(&path, e))?);
    let mut line = String::new();
    for row in rows {
        let row = row.map_err(|e| Error::Load {
            sf,
            message: e.to_string(),
        })?;
        line.clear();
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                line.push('|');
            }
            match v {
                Value::Str(s) => {
                    line.push('"');
                    line.push_str(&s.replace('"', "\"\""));
                    line.push('"');
                }
                other => line.push_str(&other.to_string()),
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes()).map_err(|e| write_err(&path, e))?;
    }
    out.flush().map_err(|e| write_err(&path, e))?;
    Ok(path)
}

/// Writes TPC-H `table` at `sf` as `dir/table.parquet` (the `parquet` feature).
#[cfg(feature = "parquet")]
pub fn write_parquet(dir: &Path, table: &str, sf: f64) -> Result<PathBuf, Error> {
    let (schema, rows) = table_rows(table, sf)?;
    let path = dir.join(format!("{table}.parquet"));
    let file = File::create(&path).map_err(|e| write_err(&path, e))?;
    let mut w = ArrowWriter::try_new(file, arrow_schema(&schema), None).map_err(|e| write_err(&path, e))?;
    let mut batch = Vec::with_capacity(PARQUET_BATCH_ROWS);
    let flush = |batch: &mut Vec<Vec<Value>>, w: &mut ArrowWriter<File>| -> Result<(), Error> {
        if !batch.is_empty() {
            let b = rows_to_batch(&schema, batch, None)?;
            w.write(&b).map_err(|e| write_err(&path, e))?;
            batch.clear();
        }
        Ok(())
    };
    for row in rows {
        batch.push(row.map_err(|e| Error::Load {
            sf,
            message: e.to_string(),
        })?);
        if batch.len() == PARQUET_BATCH_ROWS {
            flush(&mut batch, &mut w)?;
        }
    }
    flush(&mut batch, &mut w)?;
    w.close().map_err(|e| write_err(&path, e))?;
    Ok(path)
}

/// Writes `tables` at `sf` into `dir` in `format` and registers them in `ctx` under their names.
pub async fn register_files(
    ctx: &SessionContext,
    dir: &Path,
    tables: &[&str],
    sf: f64,
    format: Format,
) -> Result<(), Error> {
    for &t in tables {
        let (schema, _) = table_rows(t, sf)?;
        let path = match format {
            Format::Csv => write_csv(dir, t, sf)?,
            #[cfg(feature = "parquet")]
            Format::Parquet => write_parquet(dir, t, sf)?,
        };
        let p = path
            .to_str()
            .ok_or_else(|| write_err(&path, "the path is not UTF-8"))?;
        match format {
            Format::Csv => {
                let schema = arrow_schema(&schema);
                let opts = CsvReadOptions::new()
                    .has_header(false)
                    .delimiter(b'|')
                    .schema(&schema)
                    .file_extension(".csv");
                ctx.register_csv(t, p, opts).await?;
            }
            #[cfg(feature = "parquet")]
            Format::Parquet => {
                let opts = ParquetReadOptions::default().file_extension(".parquet");
                ctx.register_parquet(t, p, opts).await?;
            }
        }
    }
    Ok(())
}

/// The rows of `batches` as text cells, sorted (queries without ORDER BY return rows in any
/// order).
pub fn rows_as_text(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, Error> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            out.push(
                b.columns()
                    .iter()
                    .map(|c| array_value_to_string(c, r))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| Error::Arrow(e.to_string()))?,
            );
        }
    }
    out.sort();
    Ok(out)
}

/// Runs `sql` in `ctx` and returns its rows as sorted text (see [`rows_as_text`]).
pub async fn run_sql(ctx: &SessionContext, sql: &str) -> Result<Vec<Vec<String>>, Error> {
    let batches = ctx.sql(sql).await?.collect().await?;
    rows_as_text(&batches)
}
