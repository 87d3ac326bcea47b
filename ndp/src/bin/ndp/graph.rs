//! What `ndp run` runs: one SSDlet from the command line, or a small graph from a TOML file
//! (`ndp run --graph FILE`):
//!
//! ```toml
//! [ssdlets.lines]                      # an instance, by the name the graph gives it
//! module = "target/release/libfirst_ssdlet.so"   # relative to this file's directory
//! id = "count_lines"
//! args = { file = "@in.txt", needle = "the" }    # as `--arg`; arrays and tables: JSON values
//!
//! [ssdlets.sum]
//! module = "target/modules/release/libssdlet_testkit.so"
//! id = "sum"
//!
//! [[connect]]
//! from = "lines.hits"                  # instance.output (a name or an index)
//! to = "sum.in"                        # instance.input
//!
//! [inputs]                             # optional: messages for inputs nothing feeds
//! "other.in" = "[1, 2, 3]"             # as `--input`; `--input other.in=...` adds to these
//! ```
//!
//! Outputs connected to nothing are printed as `instance.output`; inputs connected to nothing
//! are fed from `inputs` (or closed empty).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

/// One SSDlet of a plan.
#[derive(Debug)]
pub struct Node {
    /// The name the plan gives it (its id for a single SSDlet).
    pub name: String,
    /// Its module file.
    pub module: PathBuf,
    /// Its id in the module.
    pub id: String,
    /// Its arguments as text, by declared name (`--arg` syntax).
    pub args: BTreeMap<String, String>,
}

/// What to run.
#[derive(Debug)]
pub struct Plan {
    /// The SSDlets, in the file's order.
    pub nodes: Vec<Node>,
    /// `(instance.output, instance.input)` pairs.
    pub connects: Vec<(String, String)>,
    /// Messages for inputs, by `instance.input` (a single SSDlet's: by input name).
    pub inputs: BTreeMap<String, String>,
    /// Whether ports are named `instance.port` (a graph) or `port` (one SSDlet).
    pub qualified: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GraphFile {
    ssdlets: BTreeMap<String, NodeFile>,
    #[serde(default)]
    connect: Vec<ConnectFile>,
    #[serde(default)]
    inputs: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeFile {
    module: PathBuf,
    id: String,
    #[serde(default)]
    args: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectFile {
    from: String,
    to: String,
}

/// A TOML value in `--arg` / `--input` syntax: a string as it is, anything else as JSON.
fn text(v: toml::Value) -> anyhow::Result<String> {
    Ok(match v {
        toml::Value::String(s) => s,
        other => serde_json::to_string(&other)?,
    })
}

/// Reads a graph file (module docs).
pub fn load(path: &Path) -> anyhow::Result<Plan> {
    let body = std::fs::read_to_string(path).with_context(|| format!("reading graph {}", path.display()))?;
    let file: GraphFile = toml::from_str(&body).with_context(|| format!("graph {}", path.display()))?;
    if file.ssdlets.is_empty() {
        bail!(
            "graph {}: no [ssdlets.NAME] table; expected at least one SSDlet",
            path.display()
        );
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut nodes = Vec::new();
    for (name, n) in file.ssdlets {
        if name.contains('.') {
            bail!(
                "graph {}: SSDlet name `{name}` holds a `.`; expected a plain name",
                path.display()
            );
        }
        let args = (n.args.into_iter())
            .map(|(k, v)| Ok((k, text(v)?)))
            .collect::<anyhow::Result<_>>()?;
        nodes.push(Node {
            name,
            module: dir.join(n.module),
            id: n.id,
            args,
        });
    }
    let inputs = (file.inputs.into_iter())
        .map(|(k, v)| Ok((k, text(v)?)))
        .collect::<anyhow::Result<_>>()?;
    Ok(Plan {
        nodes,
        connects: file.connect.into_iter().map(|c| (c.from, c.to)).collect(),
        inputs,
        qualified: true,
    })
}

/// Splits `instance.port` (module docs).
pub fn port_ref(s: &str) -> anyhow::Result<(&str, &str)> {
    s.split_once('.')
        .filter(|(n, p)| !n.is_empty() && !p.is_empty())
        .ok_or_else(|| anyhow::anyhow!("`{s}`: expected INSTANCE.PORT (a port name or index)"))
}
