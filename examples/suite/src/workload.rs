//! The three workloads as the programs run them: the chosen runs on an [`Env`], their results
//! compared, and an [`Outcome`] for the report. The data must already be on the device.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path as FsPath;

use serde_json::json;

use crate::cli::{Mode, WordcountOpts};
use crate::error::SuiteError;
use crate::measure::Measured;
use crate::ndp::WordcountPlan;
use crate::outcome::{Figures, Outcome};
use crate::progress::Progress;
use crate::setup::{DataInfo, Env};
use crate::{conv, ndp, LineHit};

/// Runs the chosen paths and compares their results.
fn both<T: PartialEq>(
    workload: &'static str,
    mode: Mode,
    progress: &mut Progress,
    conv: impl FnOnce() -> Result<Measured<T>, SuiteError>,
    ndp: impl FnOnce() -> Result<Measured<T>, SuiteError>,
    differ: impl Fn(&T, &T) -> String,
) -> Result<(T, Vec<Figures>, Option<bool>), SuiteError> {
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
    runs.extend(c.as_ref().map(Figures::from));
    runs.extend(n.as_ref().map(Figures::from));
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

fn write_out(path: &FsPath, f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), SuiteError> {
    let err = |source| SuiteError::Output {
        path: path.to_path_buf(),
        source,
    };
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).map_err(err)?);
    f(&mut w).map_err(err)?;
    w.flush().map_err(err)
}

/// Wordcount of device file `file`. `output`: all counts as `word\tcount`, most frequent first.
pub fn wordcount(
    env: &Env,
    mode: Mode,
    file: &str,
    data: DataInfo,
    opts: &WordcountOpts,
    output: Option<&FsPath>,
    progress: &mut Progress,
) -> Result<Outcome, SuiteError> {
    const W: &str = "wordcount";
    let plan = WordcountPlan {
        mappers: opts.mappers,
        reducers: opts.reducers,
    };
    let (counts, runs, identical) = both(
        W,
        mode,
        progress,
        || {
            conv::word_count(&env.device, file, env.page_bytes())
                .map_err(|source| SuiteError::Conv { workload: W, source })
        },
        || {
            ndp::word_count(&env.device, &env.wordcount, file, plan)
                .map_err(|source| SuiteError::Ndp { workload: W, source })
        },
        |c: &HashMap<String, u64>, n| {
            let diff = c.iter().filter(|(w, k)| n.get(*w) != Some(k)).count();
            format!("{} vs {} distinct words, {diff} counts differ", c.len(), n.len())
        },
    )?;
    let all = ndp_data::baseline::top_words(&counts, if output.is_some() { usize::MAX } else { opts.top });
    if let Some(path) = output {
        write_out(path, |w| {
            all.iter().try_for_each(|(word, c)| writeln!(w, "{word}\t{c}"))
        })?;
    }
    let top = &all[..all.len().min(opts.top)];
    let total: u64 = counts.values().sum();
    let summary = vec![
        format!("{total} words, {} distinct; top {}:", counts.len(), top.len()),
        top.iter()
            .map(|(w, c)| format!("{w} {c}"))
            .collect::<Vec<_>>()
            .join(", "),
    ];
    Ok(Outcome {
        workload: W,
        title: format!(
            "wordcount of {} ({} mappers, {} reducers)",
            crate::size::human(data.bytes),
            opts.mappers,
            opts.reducers
        ),
        data,
        runs,
        identical,
        result: json!({
            "words": total,
            "distinct": counts.len(),
            "top": top.iter().map(|(w, c)| json!({"word": w, "count": c})).collect::<Vec<_>>(),
        }),
        summary,
        output: output.map(FsPath::to_path_buf),
    })
}

/// Lines of device file `file` containing `pattern`. `output`: the lines as `offset\tline`.
pub fn grep(
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
        progress,
        || {
            conv::grep(&env.device, file, pattern.as_bytes(), env.page_bytes())
                .map_err(|source| SuiteError::Conv { workload: W, source })
        },
        || {
            ndp::grep(&env.device, &env.grep, file, pattern)
                .map_err(|source| SuiteError::Ndp { workload: W, source })
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
        title: format!("grep {pattern:?} in {}", crate::size::human(data.bytes)),
        data,
        runs,
        identical,
        result,
        summary,
        output: output.map(FsPath::to_path_buf),
    })
}

/// Pointer chasing over adjacency-page file `file` from `starts`, `hops` hops each.
/// `output`: one path per line, nodes separated by spaces.
#[allow(clippy::too_many_arguments)]
pub fn pointer_chase(
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
        progress,
        || {
            conv::pointer_chase(&env.device, file, starts, hops)
                .map_err(|source| SuiteError::Conv { workload: W, source })
        },
        || {
            ndp::pointer_chase(&env.device, &env.chase, file, starts, hops)
                .map_err(|source| SuiteError::Ndp { workload: W, source })
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
            crate::size::human(data.bytes)
        ),
        data,
        runs,
        identical,
        result,
        summary,
        output: output.map(FsPath::to_path_buf),
    })
}

/// How two result lists differ: their lengths and the first index where they disagree.
fn first_difference<T: PartialEq>(c: &[T], n: &[T], items: &str, item: &str) -> String {
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
