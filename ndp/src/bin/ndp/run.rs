//! `ndp run MODULE.so ID [--arg NAME=VALUE]...`: runs one SSDlet on a device with no host
//! program — a fresh in-memory device of `--profile` (default), an image (`--image`) or
//! `ndp serve` (`--socket`) — and prints what each of its outputs sent (decoded by the port's
//! type signature, as JSON), the lines it logged (`--log-level`, default `info`), and the run
//! report (simulated time, NAND pages, PCIe bytes); `--json` prints all of it as one object.
//!
//! Arguments are given by their declared names: integers, `bool`s and strings as written; a
//! `file` argument names a device file, or `@PATH` puts host file PATH onto the device first
//! (under its file name); any other message type as JSON, in the shape outputs are printed.
//! Inputs are fed by name, `--input in=[1,2,3]` (a JSON array of messages) or `--input
//! in=@values.jsonl` (one JSON message per line), each encoded by the port's signature, then
//! closed; an input not given is closed empty. `--graph FILE` runs several SSDlets connected as
//! a TOML file says ([`crate::graph`]); their ports are then named `instance.port`.
//!
//! `--mode conv` runs the same SSDlets the conventional way, as an Application at the host
//! site (`host_sdk::Site::Host`: the host's cores at the reference core's speed, files read
//! with NVMe reads over PCIe, matcher scans done in host software); `--mode both` runs near-data
//! then conventional on the same device, checks that their outputs are the same, and prints
//! both reports and the speedup (conventional simulated time over near-data).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use host_sdk::{Application, Arg, Device, DeviceProfile, ImageSpec, LogLevel, Module, Site, SsdletMeta};
use serde_json::{json, Value};

use crate::graph::{self, Node, Plan};
use crate::sigjson;

/// Arguments of `ndp run`.
#[derive(Args)]
pub struct RunArgs {
    /// The SSDlet module (a built `.so`).
    #[arg(required_unless_present = "graph")]
    module: Option<PathBuf>,
    /// The SSDlet's id in the module (`ndp inspect MODULE` lists them).
    #[arg(required_unless_present = "graph")]
    id: Option<String>,
    /// An argument, by its declared name: `--arg n=3 --arg file=@input.txt` (repeatable).
    #[arg(long = "arg", value_name = "NAME=VALUE", conflicts_with = "graph")]
    args: Vec<String>,
    /// A graph of SSDlets in a TOML file instead of MODULE and ID (its format: `ndp run`'s
    /// `graph.rs`, and the README); ports are then named `instance.port`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["module", "id"])]
    graph: Option<PathBuf>,
    /// Messages for an input, by its declared name: `--input in=[1,2,3]` (a JSON array) or
    /// `--input in=@values.jsonl` (one JSON message per line) (repeatable).
    #[arg(long = "input", value_name = "NAME=MESSAGES")]
    inputs: Vec<String>,
    /// An image file to run on (an embedded device) instead of a fresh in-memory one.
    #[arg(long, conflicts_with = "socket")]
    image: Option<PathBuf>,
    /// The socket of an `ndp serve` daemon to run on.
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Device profile of an embedded device: a built-in name (pm1725, tiny) or a TOML file.
    #[arg(long, default_value = "pm1725")]
    profile: String,
    /// The least severe log lines printed: error, warn, info, debug.
    #[arg(long, default_value = "info")]
    log_level: LogLevel,
    /// Where the SSDlets run: `ndp` on the device, `conv` on the host the conventional way
    /// (host cores, NVMe reads over PCIe, software matching), or `both`, compared.
    #[arg(long, value_enum, default_value = "ndp")]
    mode: Mode,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn open(a: &RunArgs) -> anyhow::Result<Device> {
    if let Some(s) = &a.socket {
        return Ok(Device::connect(s)?);
    }
    let profile = DeviceProfile::load_with(&a.profile, &[]).context("loading the device profile")?;
    let image = match &a.image {
        Some(p) => ImageSpec::File(p.clone()),
        None => ImageSpec::Memory,
    };
    Ok(Device::embedded(profile, image)?)
}

/// The value of declared argument `name` of type `ty`, from `text`.
fn arg(dev: &Device, name: &str, ty: &str, text: &str) -> anyhow::Result<Arg> {
    let bad = |e: &dyn std::fmt::Display| anyhow::anyhow!("--arg {name}={text}: {e}; expected a `{ty}`");
    Ok(match ty {
        "u64" => Arg::U64(text.parse().map_err(|e| bad(&e))?),
        "u32" => Arg::U32(text.parse().map_err(|e| bad(&e))?),
        "i64" => Arg::I64(text.parse().map_err(|e| bad(&e))?),
        "bool" => Arg::Bool(text.parse().map_err(|e| bad(&e))?),
        "str" => Arg::Str(text.to_owned()),
        "file" => match text.strip_prefix('@') {
            Some(path) => {
                let host = PathBuf::from(path);
                let file = host
                    .file_name()
                    .and_then(|n| n.to_str())
                    .ok_or_else(|| bad(&"no file name"))?
                    .to_owned();
                dev.put_file(&file, &host)
                    .with_context(|| format!("putting {} onto the device", host.display()))?;
                dev.file(file)
            }
            None => dev.file(text),
        },
        other => {
            // Any other message type: the value as JSON, in the shape `ndp run` prints outputs.
            let sig = sigjson::parse(other).map_err(|e| bad(&e))?;
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(&e))?;
            let bytes = sigjson::encode(&sig, &value).map_err(|e| bad(&e))?;
            Arg::Message {
                sig: other.to_owned(),
                bytes,
            }
        }
    })
}

/// `NAME=VALUE` options by name, each name once.
fn by_name(option: &str, given: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for kv in given {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("{option} {kv}: expected NAME=VALUE"))?;
        if out.insert(k.to_owned(), v.to_owned()).is_some() {
            bail!("{option} {k} is given twice; expected each name once");
        }
    }
    Ok(out)
}

/// The messages for input `name` of type `ty`, from `text`: a JSON array, or `@PATH` of a file
/// with one JSON message per line (blank lines skipped), each encoded by the type.
fn messages(name: &str, ty: &str, text: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    let sig = sigjson::parse(ty).map_err(|e| anyhow::anyhow!("input `{name}`: {e}"))?;
    let values: Vec<(String, Value)> = match text.strip_prefix('@') {
        Some(path) => {
            let body =
                std::fs::read_to_string(path).with_context(|| format!("--input {name}: reading {path}"))?;
            let mut values = Vec::new();
            for (i, line) in body.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let v = serde_json::from_str(line)
                    .map_err(|e| anyhow::anyhow!("--input {name}: {path} line {}: {e}", i + 1))?;
                values.push((format!("{path} line {}", i + 1), v));
            }
            values
        }
        None => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => (items.into_iter().enumerate())
                .map(|(i, v)| (format!("message {i}"), v))
                .collect(),
            Ok(other) => bail!("--input {name}={other}: expected a JSON array of `{ty}` messages, or @FILE"),
            Err(e) => bail!("--input {name}={text}: {e}; expected a JSON array of `{ty}` messages, or @FILE"),
        },
    };
    values
        .iter()
        .map(|(at, v)| {
            sigjson::encode(&sig, v)
                .map_err(|e| anyhow::anyhow!("--input {name}, {at}: {e}; expected a `{ty}`"))
        })
        .collect()
}

/// The plan of a single SSDlet from the command line.
fn single(a: &RunArgs) -> anyhow::Result<Plan> {
    let (Some(module), Some(id)) = (&a.module, &a.id) else {
        bail!("expected MODULE and ID, or --graph FILE");
    };
    Ok(Plan {
        nodes: vec![Node {
            name: id.clone(),
            module: module.clone(),
            id: id.clone(),
            args: by_name("--arg", &a.args)?,
        }],
        connects: Vec::new(),
        inputs: BTreeMap::new(),
        qualified: false,
    })
}

/// A port's name in messages and the output: `port`, or `instance.port` in a graph.
fn port_name(plan: &Plan, node: &str, port: &str) -> String {
    if plan.qualified {
        format!("{node}.{port}")
    } else {
        port.to_owned()
    }
}

/// The arguments of `node` (SSDlet `meta`) from their text.
fn node_args(dev: &Device, node: &Node, meta: &SsdletMeta) -> anyhow::Result<Vec<Arg>> {
    let declared: Vec<&str> = meta.args.iter().map(|s| s.name.as_str()).collect();
    if let Some(extra) = node.args.keys().find(|k| !declared.contains(&k.as_str())) {
        bail!(
            "SSDlet `{}` has no argument `{extra}`; expected {}",
            node.name,
            describe_args(meta)
        );
    }
    let mut args = Vec::new();
    for slot in &meta.args {
        let Some(text) = node.args.get(&slot.name) else {
            bail!(
                "--arg {} is missing; SSDlet `{}` takes {}",
                slot.name,
                node.name,
                describe_args(meta)
            );
        };
        args.push(arg(dev, &slot.name, &slot.ty, text)?);
    }
    Ok(args)
}

/// How `ndp run` runs the SSDlets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// On the device: near-data processing.
    Ndp,
    /// The conventional way: the same SSDlets on the host's cores, reading files over NVMe.
    Conv,
    /// Both, one after the other on the same device, compared.
    Both,
}

impl Mode {
    fn sites(self) -> &'static [Site] {
        match self {
            Mode::Ndp => &[Site::Device],
            Mode::Conv => &[Site::Host],
            Mode::Both => &[Site::Device, Site::Host],
        }
    }
}

/// The run's name for a site: `ndp` or `conv`.
fn mode_name(site: Site) -> &'static str {
    match site {
        Site::Device => "ndp",
        Site::Host => "conv",
    }
}

/// Everything both runs share: the plan, the device, the loaded modules and the SSDlets'
/// arguments (a `@PATH` file is put onto the device once).
struct Prepared {
    plan: Plan,
    dev: Device,
    modules: BTreeMap<PathBuf, Module>,
    nodes: Vec<(SsdletMeta, Vec<Arg>)>,
}

fn prepare(a: &RunArgs) -> anyhow::Result<Prepared> {
    let mut plan = match &a.graph {
        Some(g) => graph::load(g)?,
        None => single(a)?,
    };
    plan.inputs.extend(by_name("--input", &a.inputs)?);
    let dev = open(a)?;
    let mut modules: BTreeMap<PathBuf, Module> = BTreeMap::new();
    for n in &plan.nodes {
        if !modules.contains_key(&n.module) {
            modules.insert(n.module.clone(), dev.load_module(&n.module)?);
        }
    }
    let mut nodes = Vec::new();
    for n in &plan.nodes {
        let module = &modules[&n.module];
        let Some((_, meta)) = module.meta().ssdlet(&n.id) else {
            bail!(
                "module `{}` has no SSDlet `{}`; expected one of {}",
                module.meta().name,
                n.id,
                module.meta().ids()
            );
        };
        let meta = meta.clone();
        let args = node_args(&dev, n, &meta)?;
        nodes.push((meta, args));
    }
    Ok(Prepared {
        plan,
        dev,
        modules,
        nodes,
    })
}

/// What one run did.
struct Outcome {
    site: Site,
    /// Output name -> (type, messages as JSON).
    outputs: Vec<(String, String, Vec<Value>)>,
    logs: Vec<host_sdk::LogLine>,
    report: Option<host_sdk::RunReport>,
    failure: Option<String>,
}

/// Runs the plan once with its SSDlets at `site`.
fn run_at(p: &Prepared, site: Site, log_level: LogLevel) -> anyhow::Result<Outcome> {
    let plan = &p.plan;
    let app_name = plan.nodes.first().map_or("run", |n| n.name.as_str());
    let config = host_sdk::AppConfig {
        site,
        ..host_sdk::AppConfig::default()
    };
    let app = Application::with_config(&p.dev, app_name, config);
    let mut placed = Vec::new();
    for (n, (meta, args)) in plan.nodes.iter().zip(&p.nodes) {
        let s = app.ssdlet(&p.modules[&n.module], &n.id, args.clone())?;
        placed.push((n.name.clone(), meta, s));
    }
    let find = |name: &str| {
        let names: Vec<&str> = placed.iter().map(|(n, _, _)| n.as_str()).collect();
        (placed.iter().find(|(n, _, _)| n == name))
            .ok_or_else(|| anyhow::anyhow!("no SSDlet `{name}` in the graph; it has {}", names.join(", ")))
    };
    let sel = |port: &str| -> host_sdk::PortSel {
        match port.parse::<usize>() {
            Ok(i) => i.into(),
            Err(_) => port.into(),
        }
    };
    // (instance, port name) pairs connected inside the graph.
    let mut wired_out = Vec::new();
    let mut wired_in = Vec::new();
    for (from, to) in &plan.connects {
        let ((fname, fport), (tname, tport)) = (graph::port_ref(from)?, graph::port_ref(to)?);
        let ((_, fmeta, fs), (_, tmeta, ts)) = (find(fname)?, find(tname)?);
        app.connect(fs.out(sel(fport)), ts.input(sel(tport)))?;
        let named = |slots: &[ndp_protocol::Slot], p: &str| {
            (p.parse::<usize>().ok().and_then(|i| slots.get(i)))
                .map_or_else(|| p.to_owned(), |s| s.name.clone())
        };
        wired_out.push((fname.to_owned(), named(&fmeta.outputs, fport)));
        wired_in.push((tname.to_owned(), named(&tmeta.inputs, tport)));
    }
    let mut fed = plan.inputs.clone();
    let mut feedable = Vec::new();
    let mut feeds = Vec::new();
    let mut outputs = Vec::new();
    for (name, meta, s) in &placed {
        for (i, slot) in meta.inputs.iter().enumerate() {
            if wired_in.contains(&(name.clone(), slot.name.clone())) {
                continue;
            }
            let key = port_name(plan, name, &slot.name);
            feedable.push(key.clone());
            let (tx, ty) = app.connect_from_encoded(s.input(i))?;
            let text = fed.remove(&key).unwrap_or_else(|| "[]".to_owned());
            feeds.push((tx, messages(&key, &ty, &text)?));
        }
        for (i, slot) in meta.outputs.iter().enumerate() {
            if wired_out.contains(&(name.clone(), slot.name.clone())) {
                continue;
            }
            let key = port_name(plan, name, &slot.name);
            let (rx, ty) = app.connect_to_encoded(s.out(i))?;
            let sig = sigjson::parse(&ty).map_err(|e| anyhow::anyhow!("output `{key}`: {e}"))?;
            outputs.push((key, ty, sig, rx));
        }
    }
    if let Some(extra) = fed.keys().next() {
        let expected = if feedable.is_empty() {
            "none".to_owned()
        } else {
            feedable.join(", ")
        };
        bail!("--input {extra}: no input `{extra}` to feed (unknown, or connected in the graph); inputs to feed: {expected}");
    }
    app.start()?;
    for (tx, messages) in feeds {
        // Batches of at most 1 MiB of messages (or one larger message) keep each command far
        // below a daemon's request limit (`ndp serve --max-request-bytes`, 16 MiB).
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let mut bytes = 0;
        for m in messages {
            if !batch.is_empty() && bytes + m.len() > 1 << 20 {
                tx.put_encoded(std::mem::take(&mut batch))?;
                bytes = 0;
            }
            bytes += m.len();
            batch.push(m);
        }
        if !batch.is_empty() {
            tx.put_encoded(batch)?;
        }
        tx.close()?;
    }
    let mut sent = Vec::new();
    let mut failure = None;
    for (name, ty, sig, rx) in &mut outputs {
        let mut values = Vec::new();
        loop {
            match rx.try_get() {
                Ok(Some(bytes)) => {
                    values.push(sigjson::decode(sig, &bytes).unwrap_or_else(|e| json!({ "undecoded": e })))
                }
                Ok(None) => break,
                Err(e) => {
                    failure.get_or_insert(e.to_string());
                    break;
                }
            }
        }
        sent.push((name.clone(), ty.clone(), values));
    }
    let report = app.wait();
    let logs = app.logs(log_level)?;
    let report = match report {
        Ok(r) => Some(r),
        Err(e) => {
            failure.get_or_insert(e.to_string());
            None
        }
    };
    Ok(Outcome {
        site,
        outputs: sent,
        logs,
        report,
        failure,
    })
}

/// One run as JSON: its outputs, logs, report and error.
fn outcome_json(o: &Outcome) -> Value {
    let outputs: serde_json::Map<String, Value> = (o.outputs.iter())
        .map(|(name, _, values)| (name.clone(), Value::Array(values.clone())))
        .collect();
    json!({
        "outputs": outputs,
        "logs": o.logs.iter().map(|l| json!({
            "ssdlet": l.ssdlet, "level": l.level.to_string(), "text": l.text, "at_ns": l.at.0,
        })).collect::<Vec<_>>(),
        "report": o.report.as_ref().map(|r| json!({
            "simulated_ns": r.elapsed.0,
            "nand_pages_read": r.nand_pages_read,
            "pcie_bytes_to_host": r.pcie_bytes_to_host,
            "pcie_bytes_to_device": r.pcie_bytes_to_device,
            "dram_peak": r.dram_peak,
        })),
        "error": o.failure,
    })
}

/// Prints one run's outputs (unless `outputs` is false), logs and report.
fn print_outcome(o: &Outcome, outputs: bool, label: &str) {
    if outputs {
        for (name, ty, values) in &o.outputs {
            println!("output `{name}` ({ty}): {} message(s)", values.len());
            for v in values {
                println!("  {v}");
            }
        }
    }
    let start = o.report.as_ref().map_or(0, |r| r.started_at.0);
    for l in &o.logs {
        println!(
            "{label}[+{:.3} ms] {:<5} {}: {}",
            l.at.0.saturating_sub(start) as f64 / 1e6,
            l.level.to_string().to_uppercase(),
            l.ssdlet,
            l.text
        );
    }
    if let Some(r) = &o.report {
        println!(
            "{label}simulated {:.3} ms; NAND pages read {}; PCIe {} bytes to the host, {} to the device",
            r.elapsed.0 as f64 / 1e6,
            r.nand_pages_read,
            r.pcie_bytes_to_host,
            r.pcie_bytes_to_device
        );
    }
}

/// Where the conventional run's outputs first differ from the near-data run's, if they do.
fn difference(ndp: &Outcome, conv: &Outcome) -> Option<String> {
    for ((name, _, a), (_, _, b)) in ndp.outputs.iter().zip(&conv.outputs) {
        if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
            let show = |v: Option<&Value>| v.map_or("nothing".to_owned(), Value::to_string);
            return Some(format!(
                "output `{name}` message {i}: ndp sent {}, conv sent {}",
                show(a.get(i)),
                show(b.get(i))
            ));
        }
    }
    None
}

/// Runs `ndp run`.
pub fn run(a: RunArgs) -> anyhow::Result<()> {
    let p = prepare(&a)?;
    let mut runs = Vec::new();
    for &site in a.mode.sites() {
        runs.push(run_at(&p, site, a.log_level)?);
    }
    let warnings: Vec<&String> = p.modules.values().flat_map(|m| m.warnings()).collect();
    let both = runs.len() > 1;
    let (diff, speedup) = match &runs[..] {
        [ndp, conv] => (
            difference(ndp, conv),
            match (&ndp.report, &conv.report) {
                (Some(n), Some(c)) if n.elapsed.0 > 0 => Some(c.elapsed.0 as f64 / n.elapsed.0 as f64),
                _ => None,
            },
        ),
        _ => (None, None),
    };
    if a.json {
        let first = &p.plan.nodes[0];
        let mut j = match &runs[..] {
            [one] => outcome_json(one),
            _ => json!({
                "runs": runs.iter().map(|o| (mode_name(o.site).to_owned(), outcome_json(o)))
                    .collect::<serde_json::Map<_, _>>(),
                "outputs_equal": diff.is_none(),
                "difference": diff,
                "speedup": speedup,
            }),
        };
        j["mode"] = json!(a.mode.to_possible_value().map(|v| v.get_name().to_owned()));
        j["warnings"] = json!(warnings);
        if p.plan.qualified {
            j["ssdlets"] = (p.plan.nodes.iter())
                .map(|n| json!({ "name": n.name, "module": p.modules[&n.module].meta().name, "id": n.id }))
                .collect();
        } else {
            j["module"] = json!(p.modules[&first.module].meta().name);
            j["ssdlet"] = json!(first.id);
        }
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        for (i, o) in runs.iter().enumerate() {
            let label = if both {
                format!("{}: ", mode_name(o.site))
            } else {
                String::new()
            };
            print_outcome(o, i == 0, &label);
        }
        if both {
            match &diff {
                None => println!("conv: the same outputs as ndp"),
                Some(d) => println!("conv: outputs differ from ndp: {d}"),
            }
            if let Some(s) = speedup {
                println!("ndp is {s:.2}x the speed of conv (simulated time, conv / ndp)");
            }
        }
    }
    if let Some((site, e)) = runs.iter().find_map(|o| o.failure.as_ref().map(|e| (o.site, e))) {
        if both {
            bail!("the {} run failed: {e}", mode_name(site));
        }
        bail!("{e}");
    }
    if let Some(d) = diff {
        bail!(
            "the conventional run's outputs differ from the near-data run's: {d}; expected the same outputs"
        );
    }
    Ok(())
}

fn describe_args(meta: &host_sdk::SsdletMeta) -> String {
    if meta.args.is_empty() {
        return "no arguments".into();
    }
    meta.args
        .iter()
        .map(|s| format!("`{}: {}`", s.name, s.ty))
        .collect::<Vec<_>>()
        .join(", ")
}
