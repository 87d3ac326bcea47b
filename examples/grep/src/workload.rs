//! The string search as the programs run it: the chosen runs on an [`Env`] (the data already
//! on the device), their lines compared, and an [`Outcome`] for the report.

use std::path::Path as FsPath;

use serde_json::json;

use app_support::cli::Mode;
use app_support::progress::Progress;
use app_support::setup::{DataInfo, Env};
use app_support::size::human;
use app_support::workload::{both, first_difference, write_out};
use app_support::{Outcome, SuiteError};

use crate::text::LineHit;
use crate::{conv, ndp, MODULE};

/// Lines of device file `file` containing `pattern`. `output`: the lines as `offset\tline`.
pub fn run(
    env: &Env,
    mode: Mode,
    file: &str,
    data: DataInfo,
    pattern: &str,
    output: Option<&FsPath>,
    progress: &mut Progress,
) -> Result<Outcome, SuiteError> {
    const W: &str = "grep";
    if pattern.is_empty() || pattern.contains('\n') {
        return Err(SuiteError::Pattern {
            pattern: pattern.to_owned(),
            reason: "expected a non-empty string without a newline",
        });
    }
    let (hits, runs, identical) = both(
        W,
        mode,
        &env.profile,
        progress,
        || {
            conv::grep(
                &env.device,
                file,
                pattern.as_bytes(),
                env.page_bytes(),
                env.host(W)?,
            )
            .map_err(|e| SuiteError::conv(W, e))
        },
        || {
            let module = env.load(MODULE)?;
            ndp::grep(&env.device, &module, file, pattern).map_err(|e| SuiteError::ndp(W, e))
        },
        |c: &Vec<LineHit>, n| first_difference(c, n, "lines", "line"),
    )?;
    let text = |l: &[u8]| String::from_utf8_lossy(l).into_owned();
    if let Some(path) = output {
        write_out(path, |w| {
            hits.iter().try_for_each(|(o, l)| writeln!(w, "{o}\t{}", text(l)))
        })?;
    }
    let mut summary = vec![format!("{} lines contain {pattern:?}", hits.len())];
    summary.extend(hits.iter().take(3).map(|(o, l)| {
        let l = text(l);
        let cut: String = l.chars().take(60).collect();
        format!(
            "  at byte {o}: {cut}{}",
            if cut.len() < l.len() { " ..." } else { "" }
        )
    }));
    let mut result = json!({"pattern": pattern, "lines": hits.len()});
    if output.is_none() {
        result["matches"] = hits
            .iter()
            .map(|(o, l)| json!({"offset": o, "line": text(l)}))
            .collect();
    }
    Ok(Outcome {
        workload: W,
        title: format!("grep {pattern:?} in {}", human(data.bytes)),
        data,
        runs,
        identical,
        result,
        summary,
        output: output.map(FsPath::to_path_buf),
    })
}
