//! The report's HTML page: inline CSS, the charts inline as SVG, the comparison table as an
//! HTML table; nothing is fetched from anywhere and no script runs.

use std::fmt::Write;

use app_support::report::thousands;
use app_support::{Outcome, Path};

/// `&`, `<`, `>`, `"` escaped for HTML text and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// The comparison table (the columns of the suite's printed table) as an HTML table.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut s = String::from("<table>\n<thead><tr>");
    for h in [
        "workload",
        "conv s",
        "NDP s",
        "speed-up",
        "conv PCIe B",
        "NDP PCIe B",
        "conv NAND pages",
        "NDP NAND pages",
        "conv J",
        "NDP J",
    ] {
        let _ = write!(s, "<th>{h}</th>");
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for o in outcomes {
        let (c, n) = (o.run(Path::Conv), o.run(Path::Ndp));
        let cell = |f: Option<&app_support::outcome::Figures>,
                    g: &dyn Fn(&app_support::outcome::Figures) -> String| {
            f.map_or("-".to_owned(), g)
        };
        let secs = |f: &app_support::outcome::Figures| format!("{:.4}", f.simulated_ns as f64 / 1e9);
        let pcie = |f: &app_support::outcome::Figures| thousands(f.pcie_bytes);
        let nand = |f: &app_support::outcome::Figures| thousands(f.nand_pages);
        let joules = |f: &app_support::outcome::Figures| format!("{:.2}", f.energy.total_j);
        let _ = write!(s, "<tr><td class=\"w\">{}</td>", escape(&o.title));
        for v in [
            cell(c, &secs),
            cell(n, &secs),
            o.speedup().map_or("-".to_owned(), |x| format!("{x:.2}x")),
            cell(c, &pcie),
            cell(n, &pcie),
            cell(c, &nand),
            cell(n, &nand),
            cell(c, &joules),
            cell(n, &joules),
        ] {
            let _ = write!(s, "<td>{}</td>", escape(&v));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>\n");
    s
}

/// A titled section of charts.
pub struct Section {
    /// Heading.
    pub title: String,
    /// A sentence under it.
    pub note: String,
    /// SVG documents.
    pub charts: Vec<String>,
}

const STYLE: &str = "body{font-family:sans-serif;margin:24px;color:#222;max-width:1260px}\
h1{font-size:24px}h2{font-size:19px;margin-top:28px;border-bottom:1px solid #ccc}\
p.meta,p.note{color:#555;font-size:14px}.charts{display:flex;flex-wrap:wrap;gap:12px}\
.charts svg{border:1px solid #ddd}table{border-collapse:collapse;font-size:13px}\
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}td.w{text-align:left}\
th{background:#f0f0f0}";

/// The whole page.
pub fn html(title: &str, meta: &str, table: &str, sections: &[Section]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n\
         <p class=\"meta\">{m}</p>\n<h2>Comparison</h2>\n{table}",
        t = escape(title),
        m = escape(meta),
    );
    for sec in sections {
        let _ = write!(
            s,
            "<h2>{}</h2>\n<p class=\"note\">{}</p>\n<div class=\"charts\">\n",
            escape(&sec.title),
            escape(&sec.note)
        );
        for c in &sec.charts {
            s.push_str(c);
            s.push('\n');
        }
        s.push_str("</div>\n");
    }
    s.push_str("</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
        let page = html("t<", "m", "<table></table>", &[]);
        assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<h1>t&lt;</h1>"));
    }
}
