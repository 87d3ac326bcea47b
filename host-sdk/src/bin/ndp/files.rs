//! Device image and file subcommands, all through the host API on an embedded device:
//! `ndp init` (create an image), `ndp put`, `ndp get`, `ndp ls [--json]`, `ndp rm`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use host_sdk::{Device, DeviceProfile, ImageSpec};

/// The device image every file subcommand works on.
#[derive(Args)]
pub struct ImageArgs {
    /// The device image file.
    #[arg(long)]
    image: PathBuf,
    /// Device profile: a built-in name (pm1725, tiny) or a TOML file; must be the one the
    /// image was created with.
    #[arg(long, default_value = "pm1725")]
    profile: String,
}

impl ImageArgs {
    fn open(&self, create: bool) -> anyhow::Result<Device> {
        if !create && !self.image.exists() {
            bail!(
                "no device image at {}; expected one made by `ndp init --image {} --profile {}`",
                self.image.display(),
                self.image.display(),
                self.profile
            );
        }
        let profile = DeviceProfile::load(&self.profile).context("loading the device profile")?;
        Ok(Device::embedded(profile, ImageSpec::File(self.image.clone()))?)
    }
}

/// Arguments of `ndp init`.
#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    device: ImageArgs,
}

/// Arguments of `ndp put`.
#[derive(Args)]
pub struct PutArgs {
    #[command(flatten)]
    device: ImageArgs,
    /// The host file to copy.
    host_path: PathBuf,
    /// Its name on the device (default: the host file's name).
    name: Option<String>,
}

/// Arguments of `ndp get`.
#[derive(Args)]
pub struct GetArgs {
    #[command(flatten)]
    device: ImageArgs,
    /// The device file.
    name: String,
    /// Where to write it on the host (default: its name, in the current directory).
    host_path: Option<PathBuf>,
}

/// Arguments of `ndp ls`.
#[derive(Args)]
pub struct LsArgs {
    #[command(flatten)]
    device: ImageArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `ndp rm`.
#[derive(Args)]
pub struct RmArgs {
    #[command(flatten)]
    device: ImageArgs,
    /// The device file.
    name: String,
}

/// Runs `ndp init`.
pub fn init(args: InitArgs) -> anyhow::Result<()> {
    if args.device.image.exists() {
        bail!(
            "{} already exists; expected a new path for the image",
            args.device.image.display()
        );
    }
    args.device.open(true)?;
    println!(
        "created {} (profile {})",
        args.device.image.display(),
        args.device.profile
    );
    Ok(())
}

/// Runs `ndp put`.
pub fn put(args: PutArgs) -> anyhow::Result<()> {
    let name = match args.name {
        Some(n) => n,
        None => match args.host_path.file_name() {
            Some(n) => n.to_string_lossy().into_owned(),
            None => bail!(
                "{} has no file name; give the device name",
                args.host_path.display()
            ),
        },
    };
    let f = args.device.open(false)?.put_file(&name, &args.host_path)?;
    println!("{}\t{}", f.name, f.size);
    Ok(())
}

/// Runs `ndp get`.
pub fn get(args: GetArgs) -> anyhow::Result<()> {
    let path = args.host_path.unwrap_or_else(|| PathBuf::from(&args.name));
    let n = args.device.open(false)?.get_file(&args.name, &path)?;
    println!("{}\t{n}", path.display());
    Ok(())
}

/// Runs `ndp ls`.
pub fn ls(args: LsArgs) -> anyhow::Result<()> {
    let files = args.device.open(false)?.list_files()?;
    if args.json {
        let list: Vec<serde_json::Value> = files
            .iter()
            .map(|f| serde_json::json!({ "name": f.name, "size": f.size }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for f in files {
            println!("{:>14}  {}", f.size, f.name);
        }
    }
    Ok(())
}

/// Runs `ndp rm`.
pub fn rm(args: RmArgs) -> anyhow::Result<()> {
    args.device.open(false)?.remove_file(&args.name)?;
    Ok(())
}
