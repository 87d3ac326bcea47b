//! The programs' common frame: open the device, put the data, run, print the report or the
//! JSON object.

use std::io::Write;

use serde_json::Value;

use crate::cli::Common;
use crate::error::SuiteError;
use crate::outcome::Outcome;
use crate::progress::Progress;
use crate::report;
use crate::setup::Env;

/// Opens the device of `common` (building the modules, release) with progress.
pub fn open(common: &Common, progress: &mut Progress) -> Result<Env, SuiteError> {
    progress.step(format!("building the SSDlet modules (cargo, {:?})", common.modules).to_lowercase());
    let env = Env::open(common)?;
    progress.done();
    Ok(env)
}

/// Puts `data` on the device as file `name`.
pub fn put(env: &Env, name: &str, data: &[u8], progress: &mut Progress) -> Result<(), SuiteError> {
    progress.step(format!(
        "putting {name} ({}) on the device",
        crate::size::human(data.len() as u64)
    ));
    env.device.put_bytes(name, data)?;
    progress.done();
    Ok(())
}

/// Prints one workload's outcome: its report, or its JSON object with `--json`.
pub fn print_one(common: &Common, o: &Outcome) -> Result<(), SuiteError> {
    if common.json {
        print_json(&report::json(o, common.mode, &common.profile))
    } else {
        print!("{}", report::human(o, &common.profile));
        Ok(())
    }
}

/// Prints a JSON value as one line on standard output.
pub fn print_json(v: &Value) -> Result<(), SuiteError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{v}").map_err(|source| SuiteError::Output {
        path: "<stdout>".into(),
        source,
    })
}

/// A program's `main`: runs `run` and prints its error, with every cause its message does not
/// already include, as one `Error: ...` line (no backtrace, whatever `RUST_BACKTRACE` says),
/// exiting with status 1.
pub fn main(run: impl FnOnce() -> anyhow::Result<()>) -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", error_text(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// `e` and its causes, each once.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}
