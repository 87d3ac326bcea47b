//! What every workload does around its own two runs: make the chosen runs and compare their
//! results ([`both`]), describe a difference ([`first_difference`]), write the full result to
//! a file ([`write_out`]). Each application's `workload` module turns the result into an
//! [`Outcome`](crate::Outcome).

use std::io::Write;
use std::path::Path as FsPath;

use crate::cli::Mode;
use crate::error::SuiteError;
use crate::measure::Measured;
use crate::outcome::Figures;
use crate::progress::Progress;

/// The result a workload keeps, the figures of the runs made, and whether both were made and
/// found identical (`Some(true)`; `None` with one run).
pub type Compared<T> = (T, Vec<Figures>, Option<bool>);

/// Runs the paths `mode` chooses (`conv` first) and compares their results; `differ`
/// describes a difference for [`SuiteError::Mismatch`].
pub fn both<T: PartialEq>(
    workload: &'static str,
    mode: Mode,
    profile: &sim_nvme::DeviceProfile,
    progress: &mut Progress,
    conv: impl FnOnce() -> Result<Measured<T>, SuiteError>,
    ndp: impl FnOnce() -> Result<Measured<T>, SuiteError>,
    differ: impl Fn(&T, &T) -> String,
) -> Result<Compared<T>, SuiteError> {
    let mut runs = Vec::new();
    let c = if mode.conv() {
        progress.step(format!("{workload}: conventional run"));
        Some(conv()?)
    } else {
        None
    };
    let n = if mode.ndp() {
        progress.step(format!("{workload}: NDP run"));
        Some(ndp()?)
    } else {
        None
    };
    progress.done();
    runs.extend(c.as_ref().map(|m| Figures::of(m, profile)));
    runs.extend(n.as_ref().map(|m| Figures::of(m, profile)));
    match (c, n) {
        (Some(c), Some(n)) if c.result != n.result => Err(SuiteError::Mismatch {
            workload,
            detail: differ(&c.result, &n.result),
        }),
        (Some(_), Some(n)) => Ok((n.result, runs, Some(true))),
        (Some(m), None) | (None, Some(m)) => Ok((m.result, runs, None)),
        (None, None) => unreachable!("every mode makes at least one run"),
    }
}

/// Writes file `path` with `f` (buffered); an error names the file.
pub fn write_out(
    path: &FsPath,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), SuiteError> {
    let err = |source| SuiteError::Output {
        path: path.to_path_buf(),
        source,
    };
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).map_err(err)?);
    f(&mut w).map_err(err)?;
    w.flush().map_err(err)
}

/// How two result lists differ: their lengths and the first index where they disagree.
pub fn first_difference<T: PartialEq>(c: &[T], n: &[T], items: &str, item: &str) -> String {
    let first = c
        .iter()
        .zip(n)
        .position(|(a, b)| a != b)
        .unwrap_or(c.len().min(n.len()));
    format!(
        "{} vs {} {items}, first difference at {item} {first}",
        c.len(),
        n.len()
    )
}
