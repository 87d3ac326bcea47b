//! Pointer chasing as the programs run it: the chosen runs on an [`Env`] (the graph already on
//! the device), their paths compared, and an [`Outcome`] for the report.

use std::path::Path as FsPath;

use serde_json::json;

use app_support::cli::Mode;
use app_support::progress::Progress;
use app_support::setup::{DataInfo, Env};
use app_support::size::human;
use app_support::workload::{both, first_difference, write_out};
use app_support::{Outcome, SuiteError};

use crate::{conv, ndp, MODULE};

/// Pointer chasing over adjacency-page file `file` from `starts`, `hops` hops each.
/// `output`: one path per line, nodes separated by spaces.
#[allow(clippy::too_many_arguments)]
pub fn run(
    env: &Env,
    mode: Mode,
    file: &str,
    data: DataInfo,
    starts: &[u64],
    hops: u32,
    output: Option<&FsPath>,
    progress: &mut Progress,
) -> Result<Outcome, SuiteError> {
    const W: &str = "pointer-chase";
    for (what, value) in [("--starts", starts.len() as u64), ("--hops", u64::from(hops))] {
        if value == 0 {
            return Err(SuiteError::Walks { what, value });
        }
    }
    let (paths, runs, identical) = both(
        W,
        mode,
        &env.profile,
        progress,
        || {
            conv::pointer_chase(&env.device, file, starts, hops, env.host(W)?)
                .map_err(|e| SuiteError::conv(W, e))
        },
        || {
            let module = env.load(MODULE)?;
            ndp::pointer_chase(&env.device, &module, file, starts, hops).map_err(|e| SuiteError::ndp(W, e))
        },
        |c: &Vec<Vec<u64>>, n| first_difference(c, n, "paths", "path"),
    )?;
    if let Some(path) = output {
        write_out(path, |w| {
            paths.iter().try_for_each(|p| {
                let nodes: Vec<String> = p.iter().map(u64::to_string).collect();
                writeln!(w, "{}", nodes.join(" "))
            })
        })?;
    }
    let ends: Vec<String> = paths
        .iter()
        .take(5)
        .filter_map(|p| Some(format!("{} -> {}", p.first()?, p.last()?)))
        .collect();
    let summary = vec![format!(
        "{} walks of {hops} hops; first ends: {}",
        paths.len(),
        ends.join(", ")
    )];
    let mut result = json!({"starts": starts.len(), "hops": hops});
    if output.is_none() {
        result["paths"] = json!(paths);
    }
    Ok(Outcome {
        workload: W,
        title: format!(
            "pointer chase {} x {hops} hops over {}",
            starts.len(),
            human(data.bytes)
        ),
        data,
        runs,
        identical,
        result,
        summary,
        output: output.map(FsPath::to_path_buf),
    })
}
