//! `suite paper --report DIR`: the papers' figures beside ours as a page of the report
//! (`DIR/paper.html`): every row with its published value, ours, the tolerance, the verdict and
//! the note; then the fitted and derived parameters. Self-contained, as the main page.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use app_support::SuiteError;

use super::page::{escape, html};
use crate::paper::Paper;

fn value(v: Option<f64>) -> String {
    v.map_or("-".to_owned(), |x| format!("{x:.3}"))
}

/// The page's HTML.
pub fn render(p: &Paper, meta: &str) -> String {
    let mut t = String::from("<table>\n<thead><tr>");
    for h in [
        "figure",
        "source",
        "published",
        "ours",
        "unit",
        "tolerance",
        "verdict",
        "note",
    ] {
        let _ = write!(t, "<th>{h}</th>");
    }
    t.push_str("</tr></thead>\n<tbody>\n");
    for r in &p.rows {
        let _ = writeln!(
            t,
            "<tr><td class=\"w\">{}</td><td class=\"w\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td class=\"w\"><b>{}</b></td><td class=\"w\">{}</td></tr>",
            escape(&r.figure),
            escape(r.source),
            value(r.published),
            value(r.ours),
            escape(r.unit),
            escape(&r.tolerance),
            escape(r.verdict),
            escape(&r.note)
        );
    }
    t.push_str("</tbody>\n</table>\n<h2>Fitted and derived parameters</h2>\n<table>\n<thead><tr>");
    for h in ["parameter", "value", "how", "rows it was fitted to"] {
        let _ = write!(t, "<th>{h}</th>");
    }
    t.push_str("</tr></thead>\n<tbody>\n");
    for f in &p.fitted {
        let _ = writeln!(
            t,
            "<tr><td class=\"w\">{}</td><td>{}</td><td class=\"w\">{}</td><td class=\"w\">{}</td></tr>",
            escape(f.parameter),
            escape(&f.value),
            escape(f.how),
            escape(f.rows)
        );
    }
    t.push_str("</tbody>\n</table>\n");
    html(
        "Biscuit and YourSQL: published figures beside ours",
        meta,
        &t,
        &[],
    )
}

/// Writes `dir/paper.html` (creating `dir`); returns its path. An unwritable directory is
/// [`SuiteError::Report`] naming it.
pub fn write(dir: &Path, p: &Paper, meta: &str) -> Result<PathBuf, SuiteError> {
    super::prepare(dir)?;
    let file = dir.join("paper.html");
    std::fs::write(&file, render(p, meta)).map_err(|source| SuiteError::Report {
        path: file.clone(),
        source,
    })?;
    Ok(file)
}
