//! `--trace FILE.json`: the programs' simulated timeline as Chrome trace-event JSON
//! ([`sim_nvme::trace`]), for Perfetto UI (<https://ui.perfetto.dev>, "Open trace file") or
//! `chrome://tracing`.
//!
//! [`Tracing::start`] creates the file at once (a bad path fails before anything runs) and
//! turns the recorder on; [`Tracing::finish`] turns it off, writes the file and returns the
//! [`Trace`] for anything else that wants to read it in process. [`recorded`] records even
//! without a file when the caller reads the trace itself (`suite`'s report).

use std::fs::File;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use sim_nvme::trace::{self, Trace, TraceConfig, TraceError};

use crate::cli::TraceArgs;
use crate::error::SuiteError;

/// A trace being recorded, into a file (`--trace`) and/or for the process to read (a report).
#[derive(Debug)]
pub struct Tracing {
    file: Option<(PathBuf, File)>,
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
        match &args.trace {
            Some(_) => Tracing::start_in_process(args).map(Some),
            None => Ok(None),
        }
    }

    /// Starts recording whether or not `--trace` was given (a report reads the trace in
    /// process); the file of `--trace`, if given, is created now.
    pub fn start_in_process(args: &TraceArgs) -> Result<Tracing, SuiteError> {
        if args.trace_max_events == 0 {
            return Err(SuiteError::TraceCap);
        }
        let file = match &args.trace {
            Some(path) => Some((path.clone(), File::create(path).map_err(|e| error(path, e))?)),
            None => None,
        };
        trace::start(TraceConfig {
            max_events: args.trace_max_events,
        });
        Ok(Tracing { file })
    }

    /// The trace file, if one is written.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(p, _)| p.as_path())
    }

    /// Stops recording and writes the file if there is one; `program` (and `extra`) go into
    /// its metadata.
    pub fn finish(self, program: &str, extra: Map<String, Value>) -> Result<Trace, SuiteError> {
        let t = trace::finish().unwrap_or_default();
        if let Some((path, file)) = &self.file {
            let mut meta = extra;
            meta.insert("program".into(), json!(program));
            t.write_chrome(file, &meta).map_err(|e| error(path, e))?;
        }
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
    recorded(args, program, quiet, false, f).map(|(out, _)| out)
}

/// [`traced`], recording the trace also when no file was asked for if `in_process` is set,
/// and returning it then (for a report); `None` when nothing was recorded.
pub fn recorded<T>(
    args: &TraceArgs,
    program: &str,
    quiet: bool,
    in_process: bool,
    f: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<(T, Option<Trace>)> {
    let tracing = if in_process {
        Some(Tracing::start_in_process(args)?)
    } else {
        Tracing::start(args)?
    };
    let out = f();
    let Some(tracing) = tracing else {
        return out.map(|o| (o, None));
    };
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            // The recorder is process-wide: turn it off before the error goes up.
            let _ = trace::finish();
            return Err(e);
        }
    };
    let path = tracing.path().map(Path::to_owned);
    let t = tracing.finish(program, Map::new())?;
    if let (false, Some(path)) = (quiet, path) {
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
    Ok((out, in_process.then_some(t)))
}
