//! Device image and file subcommands, all through the host API: `ndp init` (create an
//! image), `ndp put`, `ndp get`, `ndp ls`, `ndp rm`. Each works on an image file (an embedded
//! device, `--image`) or on a device served by `ndp serve` (`--socket`); `--json` prints
//! data as JSON, and long transfers show a progress bar on a terminal (not with `--json` or
//! `--quiet`).

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use host_sdk::{Device, DeviceProfile, ImageSpec};
use indicatif::{ProgressBar, ProgressStyle};

/// Transfers at least this long (bytes) get a progress bar: 4 MiB.
const PROGRESS_MIN: u64 = 4 << 20;

/// The device every file subcommand works on.
#[derive(Args)]
pub struct ImageArgs {
    /// The device image file (an embedded device).
    #[arg(long, required_unless_present = "socket", conflicts_with = "socket")]
    image: Option<PathBuf>,
    /// The socket of an `ndp serve` daemon (instead of --image).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Device profile: a built-in name (pm1725, tiny) or a TOML file; must be the one the
    /// image was created with (with --image).
    #[arg(long, default_value = "pm1725")]
    profile: String,
    /// Sets one device profile field, e.g. `--set arm.arm_slowdown=5` (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    set: Vec<String>,
}

impl ImageArgs {
    fn open(&self, create: bool) -> anyhow::Result<Device> {
        let image = match (&self.image, &self.socket) {
            (_, Some(socket)) => return Ok(Device::connect(socket)?),
            (Some(image), None) => image,
            (None, None) => bail!("no device: expected --image FILE or --socket PATH"),
        };
        if !create && !image.exists() {
            bail!(
                "no device image at {}; expected one made by `ndp init --image {} --profile {}`",
                image.display(),
                image.display(),
                self.profile
            );
        }
        let profile =
            DeviceProfile::load_with(&self.profile, &self.set).context("loading the device profile")?;
        tracing::debug!(image = %image.display(), profile = %self.profile, "opening an embedded device");
        Ok(Device::embedded(profile, ImageSpec::File(image.clone()))?)
    }
}

/// Output options of the data subcommands.
#[derive(Args)]
pub struct OutputArgs {
    /// Print JSON instead of text (no progress bar).
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

impl OutputArgs {
    /// A progress bar for a transfer of `bytes`, hidden for short transfers, with --json or
    /// --quiet, and when stderr is not a terminal (indicatif's default draw target).
    fn progress(&self, bytes: u64, what: &str) -> ProgressBar {
        if self.json || self.quiet || bytes < PROGRESS_MIN {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(bytes);
        let style =
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .map(|s| s.progress_chars("=> "));
        if let Ok(style) = style {
            bar.set_style(style);
        }
        bar.set_message(what.to_owned());
        bar
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
    #[command(flatten)]
    output: OutputArgs,
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
    #[command(flatten)]
    output: OutputArgs,
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
    /// Print JSON instead of nothing.
    #[arg(long)]
    json: bool,
}

/// Arguments of `ndp share`.
#[derive(Args)]
pub struct ShareArgs {
    #[command(flatten)]
    device: ImageArgs,
    /// The device file (one of yours).
    name: String,
    /// Stop sharing it instead.
    #[arg(long)]
    off: bool,
    /// Print JSON instead of nothing.
    #[arg(long)]
    json: bool,
}

/// Runs `ndp init`.
pub fn init(args: InitArgs) -> anyhow::Result<()> {
    let Some(image) = &args.device.image else {
        bail!("`ndp init` creates an image file: expected --image FILE, not --socket");
    };
    if image.exists() {
        bail!(
            "{} already exists; expected a new path for the image",
            image.display()
        );
    }
    args.device.open(true)?;
    println!("created {} (profile {})", image.display(), args.device.profile);
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
    let dev = args.device.open(false)?;
    let host = &args.host_path;
    let file = std::fs::File::open(host).with_context(|| format!("opening host file {}", host.display()))?;
    let size = file
        .metadata()
        .with_context(|| format!("reading {}", host.display()))?
        .len();
    let bar = args.output.progress(size, &format!("put {name}"));
    let f = dev.put_stream(&name, size, bar.wrap_read(std::io::BufReader::new(file)))?;
    bar.finish_and_clear();
    tracing::info!(name = %f.name, size = f.size, "put");
    if args.output.json {
        println!("{}", serde_json::json!({ "name": f.name, "size": f.size }));
    } else {
        println!("{}\t{}", f.name, f.size);
    }
    Ok(())
}

/// Runs `ndp get`.
pub fn get(args: GetArgs) -> anyhow::Result<()> {
    let path = args.host_path.unwrap_or_else(|| PathBuf::from(&args.name));
    let dev = args.device.open(false)?;
    let size = dev.file_info(&args.name)?.size;
    let out =
        std::fs::File::create(&path).with_context(|| format!("creating host file {}", path.display()))?;
    let bar = args.output.progress(size, &format!("get {}", args.name));
    let mut w = std::io::BufWriter::new(bar.wrap_write(out));
    let n = dev.get_to(&args.name, &mut w)?;
    std::io::Write::flush(&mut w).with_context(|| format!("writing {}", path.display()))?;
    bar.finish_and_clear();
    tracing::info!(name = %args.name, bytes = n, path = %path.display(), "got");
    if args.output.json {
        println!(
            "{}",
            serde_json::json!({ "name": args.name, "path": path, "size": n })
        );
    } else {
        println!("{}\t{n}", path.display());
    }
    Ok(())
}

/// Runs `ndp ls`.
pub fn ls(args: LsArgs) -> anyhow::Result<()> {
    let files = args.device.open(false)?.list_files()?;
    if args.json {
        let list: Vec<serde_json::Value> = files
            .iter()
            .map(|f| {
                let owner = f.owner.map(|t| t.to_string());
                serde_json::json!({ "name": f.name, "size": f.size, "owner": owner, "shared": f.shared })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for f in files {
            // Marks: `s` shared; the owner when it is not the device owner.
            let shared = if f.shared { "s" } else { "-" };
            match f.owner {
                None => println!("{:>14} {shared} {}", f.size, f.name),
                Some(t) => println!("{:>14} {shared} {}  ({t})", f.size, f.name),
            }
        }
    }
    Ok(())
}

/// Runs `ndp rm`.
pub fn rm(args: RmArgs) -> anyhow::Result<()> {
    args.device.open(false)?.remove_file(&args.name)?;
    if args.json {
        println!("{}", serde_json::json!({ "removed": args.name }));
    }
    Ok(())
}

/// Runs `ndp share`.
pub fn share(args: ShareArgs) -> anyhow::Result<()> {
    args.device.open(false)?.share_file(&args.name, !args.off)?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "name": args.name, "shared": !args.off })
        );
    }
    Ok(())
}
