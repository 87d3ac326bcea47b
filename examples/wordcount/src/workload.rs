//! The wordcount as the programs run it: the chosen runs on an [`Env`] (the data already on
//! the device), their counts compared, and an [`Outcome`] for the report.

use std::collections::HashMap;
use std::path::Path as FsPath;

use serde_json::json;

use app_support::cli::Mode;
use app_support::progress::Progress;
use app_support::setup::{DataInfo, Env};
use app_support::size::human;
use app_support::workload::{both, write_out};
use app_support::{Outcome, SuiteError};

use crate::cli::WordcountOpts;
use crate::ndp::WordcountPlan;
use crate::{conv, ndp, MODULE};

/// Wordcount of device file `file`. `output`: all counts as `word\tcount`, most frequent first.
pub fn run(
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
        &env.profile,
        progress,
        || {
            conv::word_count(&env.device, file, env.page_bytes(), env.host(W)?)
                .map_err(|e| SuiteError::conv(W, e))
        },
        || {
            let module = env.load(MODULE)?;
            ndp::word_count(&env.device, &module, file, plan).map_err(|e| SuiteError::ndp(W, e))
        },
        |c: &HashMap<String, u64>, n| {
            let diff = c.iter().filter(|(w, k)| n.get(*w) != Some(k)).count();
            format!("{} vs {} distinct words, {diff} counts differ", c.len(), n.len())
        },
    )?;
    let all = app_support::baseline::top_words(&counts, if output.is_some() { usize::MAX } else { opts.top });
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
            human(data.bytes),
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
