//! `ndp inspect MODULE.so [--json]`: prints a module's metadata (ABI version, SSDlets, their
//! arguments and ports with message-type signatures) read from its `.ssdlet_meta` section,
//! without loading or running it. A bad module is refused with the loader's own error, and
//! the command exits non-zero.

use std::path::PathBuf;

use clap::Args;
use device_runtime::loader::{inspect, Inspected, Slot};

/// Arguments of `ndp inspect`.
#[derive(Args)]
pub struct InspectArgs {
    /// The module file (a cdylib built with ssdlet_sdk::register_module!).
    module: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `ndp inspect`.
pub fn run(args: InspectArgs) -> anyhow::Result<()> {
    let inspected = inspect(&args.module)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&inspected)?);
    } else {
        print!("{}", render(&inspected));
    }
    Ok(())
}

fn slots(out: &mut String, kind: &str, list: &[Slot]) {
    for s in list {
        out.push_str(&format!("    {kind:<4} {:<12} {}\n", s.name, s.ty));
    }
}

fn render(i: &Inspected) -> String {
    let m = &i.meta;
    let mut out = format!(
        "module {} {} ({})\n  ABI version {}, {} machine, {} imports\n",
        m.name,
        m.version,
        i.path.display(),
        m.abi_version,
        i.machine,
        i.imports.len()
    );
    for (index, s) in m.ssdlets.iter().enumerate() {
        out.push_str(&format!("  ssdlet {} (index {index})\n", s.id));
        slots(&mut out, "arg", &s.args);
        slots(&mut out, "in", &s.inputs);
        slots(&mut out, "out", &s.outputs);
    }
    for w in i.warnings() {
        out.push_str(&format!("  warning: {w}\n"));
    }
    out
}
