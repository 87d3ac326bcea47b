//! `--trace FILE.json`: the programs' simulated timeline as Chrome trace-event JSON
//! ([`sim_nvme::trace`]), for Perfetto UI (<https://ui.perfetto.dev>, "Open trace file") or
//! `chrome://tracing`.
//!
//! [`Tracing::start`] creates the file at once (a bad path fails before anything runs) and
//! turns the recorder on; [`Tracing::finish`] turns it off, writes the file and returns the
//! [`Trace`] for anything else that wants to read it in process.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use sim_nvme::trace::{self, Trace, TraceConfig, TraceError};

use crate::cli::TraceArgs;
use crate::error::SuiteError;

/// A trace being recorded into a file.
#[derive(Debug)]
pub struct Tracing {
    path: PathBuf,
    file: File,
}

fn error(path: &Path, source: std::io::Error) -> SuiteError {
    SuiteError::Trace(TraceError::Write {
        path: path.to_owned(),
        source,
    })
}

impl Tracing {
    /// Starts recording if `--trace` was given: creates its file now (an error names the
    /// path) and turns the recorder on with the cap of `--trace-max-events`.
    pub fn start(args: &TraceArgs) -> Result<Option<Tracing>, SuiteError> {
        let Some(path) = &args.trace else {
            return Ok(None);
        };
        if args.trace_max_events == 0 {
            return Err(SuiteError::TraceCap);
        }
        let file = File::create(path).map_err(|e| error(path, e))?;
        trace::start(TraceConfig {
            max_events: args.trace_max_events,
        });
        Ok(Some(Tracing {
            path: path.clone(),
            file,
        }))
    }

    /// The trace file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops recording and writes the file; `program` (and `extra`) go into its metadata.
    pub fn finish(self, program: &str, extra: Map<String, Value>) -> Result<Trace, SuiteError> {
        let t = trace::finish().unwrap_or_default();
        let mut meta = extra;
        meta.insert("program".into(), json!(program));
        t.write_chrome(&self.file, &meta)
            .map_err(|e| error(&self.path, e))?;
        Ok(t)
    }
}

/// Runs `f` with a trace recorded into `args`' file if one was given; the file is written
/// when `f` succeeds (a note goes to standard error unless `quiet`).
pub fn traced<T>(
    args: &TraceArgs,
    program: &str,
    quiet: bool,
    f: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let tracing = Tracing::start(args)?;
    let out = f();
    let Some(tracing) = tracing else {
        return out;
    };
    let out = out?;
    let path = tracing.path().to_owned();
    let t = tracing.finish(program, Map::new())?;
    if !quiet {
        eprintln!(
            "trace: {} ({} events{}); open it in https://ui.perfetto.dev or chrome://tracing",
            path.display(),
            t.recorded,
            if t.dropped > 0 {
                format!(", {} dropped at the cap", t.dropped)
            } else {
                String::new()
            }
        );
    }
    Ok(out)
}
