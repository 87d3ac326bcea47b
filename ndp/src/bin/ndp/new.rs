//! `ndp new NAME [--dir DIR] [--sdk PATH]`: a ready SSDlet module crate — one SSDlet
//! (`count_lines`), a unit test, and a `Cargo.toml` that points at the SDK by path — that
//! builds and passes its test as generated (`cargo test`, then `cargo build --release` for the
//! module to load).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;

/// Arguments of `ndp new`.
#[derive(Args)]
pub struct NewArgs {
    /// The crate's name (letters, digits, `-` and `_`; starting with a letter).
    name: String,
    /// Where to create it (default: `./NAME`); must not exist yet.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The `ssdlet-sdk` crate to depend on by path (default: the one this `ndp` was built
    /// from).
    #[arg(long, value_name = "PATH")]
    sdk: Option<PathBuf>,
}

const CARGO_TOML: &str = include_str!("template/Cargo.toml.tmpl");
const LIB_RS: &str = include_str!("template/lib.rs.tmpl");

/// The SDK this `ndp` was built beside.
fn default_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ssdlets/sdk")
}

fn valid_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Runs `ndp new`.
pub fn run(a: NewArgs) -> anyhow::Result<()> {
    if !valid_name(&a.name) {
        bail!(
            "`{}` is not a crate name; expected letters, digits, `-` and `_`, starting with a letter",
            a.name
        );
    }
    let sdk = a.sdk.unwrap_or_else(default_sdk);
    let sdk = sdk.canonicalize().with_context(|| {
        format!(
            "finding the SSDlet SDK at {}; expected the `ssdlets/sdk` directory of this repository (--sdk PATH)",
            sdk.display()
        )
    })?;
    if !sdk.join("Cargo.toml").is_file() {
        bail!(
            "{} has no Cargo.toml; expected the `ssdlets/sdk` crate (--sdk PATH)",
            sdk.display()
        );
    }
    let dir = a.dir.unwrap_or_else(|| PathBuf::from(&a.name));
    if dir.exists() {
        bail!("{} already exists; expected a new directory", dir.display());
    }
    let lib = a.name.replace('-', "_");
    let sdk_text = sdk.display().to_string();
    if sdk_text.contains('"') || sdk_text.contains('\\') {
        bail!("the SDK path {sdk_text} has a quote or backslash; expected a plain path (--sdk PATH)");
    }
    let fill = |t: &str| {
        t.replace("{{name}}", &a.name)
            .replace("{{lib}}", &lib)
            .replace("{{sdk}}", &sdk_text)
    };
    std::fs::create_dir_all(dir.join("src")).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("Cargo.toml"), fill(CARGO_TOML))?;
    std::fs::write(dir.join("src/lib.rs"), fill(LIB_RS))?;
    std::fs::write(dir.join(".gitignore"), "/target\n")?;
    println!("created SSDlet module crate `{}` in {}", a.name, dir.display());
    println!("  cd {} && cargo test && cargo build --release", dir.display());
    println!("  ndp run target/release/lib{lib}.so count_lines --arg file=@SOME_FILE --arg needle=WORD");
    Ok(())
}
