//! The reports: a side-by-side human report per workload, the suite's comparison table, and
//! the JSON objects of `--json`.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use crate::measure::Path;
use crate::outcome::{Figures, Outcome};

fn secs(ns: u64) -> String {
    format!("{:.4} s", ns as f64 / 1e9)
}

/// `n` with thousands separators (`40,960,000`).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The side-by-side report of one workload.
pub fn human(o: &Outcome, profile: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} on {profile}", o.title);
    let cols: Vec<&Figures> = o.runs.iter().collect();
    let head: Vec<&str> = cols
        .iter()
        .map(|f| match f.path {
            Path::Conv => "conventional",
            Path::Ndp => "NDP",
        })
        .collect();
    let line = |s: &mut String, name: &str, cell: &dyn Fn(&Figures) -> String| {
        let _ = write!(s, "  {name:<24}");
        for f in &cols {
            let _ = write!(s, "{:>18}", cell(f));
        }
        s.push('\n');
    };
    let _ = write!(s, "  {:<24}", "");
    for h in head {
        let _ = write!(s, "{h:>18}");
    }
    s.push('\n');
    line(&mut s, "simulated time", &|f| secs(f.simulated_ns));
    line(&mut s, "bytes over PCIe (to host)", &|f| thousands(f.pcie_bytes));
    line(&mut s, "NAND pages read", &|f| thousands(f.nand_pages));
    line(&mut s, "energy (model)", &|f| joules(f.energy.total_j));
    line(&mut s, "wall time (this machine)", &|f| {
        format!("{:.3} s", f.wall_ns as f64 / 1e9)
    });
    if let Some(x) = o.speedup() {
        let _ = writeln!(s, "  speed-up (conv / NDP)   {x:>18.2}x");
    }
    if o.identical == Some(true) {
        let _ = writeln!(s, "  results: identical");
    }
    for l in &o.summary {
        let _ = writeln!(s, "  {l}");
    }
    if let Some(p) = &o.output {
        let _ = writeln!(s, "  full result written to {}", p.display());
    }
    s
}

/// Joules with a sensible unit.
fn joules(j: f64) -> String {
    if j >= 1000.0 {
        format!("{:.2} kJ", j / 1000.0)
    } else if j >= 1.0 {
        format!("{j:.2} J")
    } else {
        format!("{:.2} mJ", j * 1000.0)
    }
}

/// The suite's comparison table, one row per workload.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<44} {:>10} {:>10} {:>9} {:>14} {:>12} {:>10} {:>10} {:>10} {:>10}",
        "workload",
        "conv s",
        "NDP s",
        "speed-up",
        "conv PCIe B",
        "NDP PCIe B",
        "conv NAND",
        "NDP NAND",
        "conv J",
        "NDP J"
    );
    let opt = |f: Option<&Figures>, g: fn(&Figures) -> String| f.map_or("-".to_owned(), g);
    for o in outcomes {
        let (c, n) = (o.run(Path::Conv), o.run(Path::Ndp));
        let _ = writeln!(
            s,
            "{:<44} {:>10} {:>10} {:>9} {:>14} {:>12} {:>10} {:>10} {:>10} {:>10}",
            o.title,
            opt(c, |f| format!("{:.4}", f.simulated_ns as f64 / 1e9)),
            opt(n, |f| format!("{:.4}", f.simulated_ns as f64 / 1e9)),
            o.speedup().map_or("-".to_owned(), |x| format!("{x:.2}x")),
            opt(c, |f| thousands(f.pcie_bytes)),
            opt(n, |f| thousands(f.pcie_bytes)),
            opt(c, |f| thousands(f.nand_pages)),
            opt(n, |f| thousands(f.nand_pages)),
            opt(c, |f| format!("{:.2}", f.energy.total_j)),
            opt(n, |f| format!("{:.2}", f.energy.total_j)),
        );
    }
    s
}

fn per_path(o: &Outcome, g: fn(&Figures) -> Value) -> Value {
    let mut m = Map::new();
    for f in &o.runs {
        m.insert(f.path.name().to_owned(), g(f));
    }
    Value::Object(m)
}

/// The JSON object of one workload.
pub fn json(o: &Outcome, mode: crate::cli::Mode, profile: &str) -> Value {
    let mut v = json!({
        "workload": o.workload,
        "mode": mode,
        "profile": profile,
        "data": o.data,
        "simulated_ns": per_path(o, |f| json!(f.simulated_ns)),
        "pcie_bytes": per_path(o, |f| json!(f.pcie_bytes)),
        "nand_pages": per_path(o, |f| json!(f.nand_pages)),
        "wall_ns": per_path(o, |f| json!(f.wall_ns)),
        "energy_j": per_path(o, |f| json!(f.energy)),
        "runs": o.runs,
        "speedup": o.speedup(),
        "identical": o.identical,
        "result": o.result,
    });
    if let Some(p) = &o.output {
        v["output"] = json!(p);
    }
    v
}
