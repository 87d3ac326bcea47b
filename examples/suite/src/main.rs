//! `suite`: Biscuit's three applications (pointer chasing, string search, wordcount) on one
//! embedded device, each run conventionally and near the data, ending with the comparison
//! table; `suite bench-wall` times the NDP wordcount against a native count.
//!
//! `cargo run --release -p suite` (defaults: pm1725, 64 MiB of generated text, 64 MiB graph,
//! 100 walks of 100 hops, seed 42).
//!
//! A thin runner: each application's runs are its own crate's (`pointer_chase`, `grep`,
//! `wordcount`); what the programs share is `app_support`.

mod bench;
mod bench_trace;
mod calibrate;
mod compare;
mod html_report;
mod paper;
mod paper_tpch;
mod runs;
mod sweep;

use std::path::PathBuf;
use std::sync::Arc;

use app_support::calibration::Calibration;
use app_support::cli::{Common, Compute, Mode, ModuleBuild, TextSource};
use app_support::progress::Progress;
use app_support::size::{human, parse_size};
use app_support::{program, report};
use clap::{Args, Parser, Subcommand};
use grep::cli::GrepOpts;
use pointer_chase::cli::Walks;
use wordcount::cli::WordcountOpts;
use wordcount::ndp::WordcountPlan;

/// Biscuit's application suite, conventional vs near-data, on a simulated SSD.
#[derive(Parser)]
#[command(name = "suite", args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    text: TextSource,
    /// Size of the generated pointer-chasing graph (4 KiB adjacency pages).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64MiB")]
    graph_size: u64,
    #[command(flatten)]
    walks: Walks,
    #[command(flatten)]
    wordcount: WordcountOpts,
    #[command(flatten)]
    grep: GrepOpts,
    /// Write the HTML report (SVG charts, the comparison table) to DIR/index.html. Default:
    /// target/ndp-report under the current directory (not with --json unless given).
    #[arg(long, value_name = "DIR", conflicts_with = "no_report")]
    report: Option<PathBuf>,
    /// Do not write the HTML report.
    #[arg(long)]
    no_report: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Wall time of the NDP wordcount of a generated file vs a plain single-threaded native
    /// count of the same file, and their ratio (medians).
    BenchWall(BenchArgs),
    /// The conventional host paths (wordcount, grep) against a plain native count and
    /// `memchr::memmem` over the same bytes, thread CPU time (medians).
    BenchHost(HostArgs),
    /// Wall time of the suite's pass with `--trace` off and on (recording and writing the
    /// file), medians side by side with their ratio, and the cost of the trace when off.
    BenchTrace(BenchTraceArgs),
    /// Measures every workload's SSDlets and host paths on this machine and writes the
    /// per-unit costs the modeled compute charges (the calibration file).
    Calibrate(CalibrateArgs),
    /// Biscuit's and YourSQL's published figures beside ours, with a tolerance and a
    /// verdict per row, and the fitted parameters.
    Paper(PaperArgs),
    /// What-if: the suite once per value of one device profile field
    /// (`sweep arm.arm_slowdown=3,5,10,20`), every figure per value.
    Sweep(SweepArgs),
    /// Simulated times with modeled compute beside measured compute (median, min - max of
    /// several runs) for every workload and path.
    CompareCompute(CompareArgs),
}

/// What the calibration and the comparison run on.
#[derive(Args)]
struct PassArgs {
    /// Device profile: a built-in name or a TOML file.
    #[arg(long, default_value = "pm1725")]
    profile: String,
    /// Sets one device profile field, e.g. `--set arm.arm_slowdown=5` (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    set: Vec<String>,
    /// Seed of the generated data and the start nodes.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Which build of the SSDlet modules to use.
    #[arg(long, value_enum, default_value_t = ModuleBuild::Release)]
    modules: ModuleBuild,
    /// Measured runs of each workload at each size.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

impl PassArgs {
    fn common(&self, compute: Compute, calibration: Option<PathBuf>) -> Common {
        Common {
            mode: Mode::Both,
            profile: self.profile.clone(),
            seed: self.seed,
            compute,
            calibration,
            set: self.set.clone(),
            modules: self.modules,
            json: self.json,
            trace: Default::default(),
        }
    }

    fn plan(&self, bytes: u64) -> runs::Plan {
        runs::Plan {
            mode: Mode::Both,
            seed: self.seed,
            input: None,
            text_bytes: bytes,
            graph_bytes: bytes,
            walks: pointer_chase::cli::Walks {
                starts: 100,
                hops: 100,
            },
            wordcount: WordcountOpts {
                top: 10,
                mappers: 2,
                reducers: 2,
            },
            grep: GrepOpts {
                pattern: grep::cli::DEFAULT_PATTERN.to_owned(),
                plant: 10,
            },
        }
    }
}

#[derive(Args)]
struct CalibrateArgs {
    #[command(flatten)]
    pass: PassArgs,
    /// Sizes of the generated text and graph to measure at (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = parse_size, default_value = "16MiB,64MiB")]
    sizes: Vec<u64>,
    /// What to measure: `suite` (the three workloads at `--sizes`) and/or `filter-scan` (the
    /// filter query's conventional scan at TPC-H SF 0.1). The rest of the file is kept.
    #[arg(long, value_delimiter = ',', default_value = "suite,filter-scan")]
    parts: Vec<Part>,
    /// The calibration file to update (default: the shipped one in the source tree).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct HostArgs {
    /// Bytes of generated text.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "256MiB")]
    size: u64,
    /// Rounds; each runs every computation in turn (the searches six times), medians reported.
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Seed of the text.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// `median (min-max)` in milliseconds.
fn cpu_spread(s: &bench::CpuSpread) -> String {
    let ms = |ns: u64| ns as f64 / 1e6;
    format!(
        "{:>8.1} ms ({:.1}-{:.1})",
        ms(s.median_ns),
        ms(s.min_ns),
        ms(s.max_ns)
    )
}

fn bench_host(a: HostArgs) -> anyhow::Result<()> {
    let mut progress = Progress::new(!a.json);
    let b = bench::host(a.size, a.seed, a.runs, &mut progress)?;
    progress.finish();
    if a.json {
        program::print_json(&serde_json::to_value(&b)?)?;
    } else {
        println!(
            "{} of generated text, {} interleaved rounds, thread CPU time, median (min-max); ratios of medians and of the fastest runs:",
            human(b.bytes),
            b.runs
        );
        for (path, limit, v, target) in [
            (
                "wordcount: conventional",
                "plain native count",
                &b.wordcount,
                " (target <= 1)",
            ),
            (
                "grep:      conventional",
                "memchr::memmem",
                &b.grep,
                " (target <= 1)",
            ),
            (
                "grep:      conventional",
                "memmem, same chunks",
                &b.grep_chunks,
                "",
            ),
        ] {
            println!(
                "  {path} {}   {limit:<19} {}   ratio {:.2} / {:.2}{target}",
                cpu_spread(&v.ours),
                cpu_spread(&v.limit),
                v.median_ratio,
                v.min_ratio
            );
        }
    }
    Ok(())
}

#[derive(Args)]
struct PaperArgs {
    #[command(flatten)]
    pass: PassArgs,
    /// How the filter query's host filtering is charged: modeled (calibrated, deterministic)
    /// or measured (`--runs` runs: median, min and max).
    #[arg(long, value_enum, default_value_t = Compute::Modeled)]
    compute: Compute,
    /// TPC-H scale factor of the filter query.
    #[arg(long, default_value_t = 1.0)]
    sf: f64,
    /// Bytes written then read by the bandwidth rows.
    #[arg(long, value_parser = parse_size, default_value = "1GiB")]
    working_set: u64,
    /// Size of the pointer-chasing graph.
    #[arg(long, value_parser = parse_size, default_value = "64MiB")]
    graph_size: u64,
    /// Calibration file (default: the shipped one).
    #[arg(long, value_name = "FILE")]
    calibration: Option<PathBuf>,
    /// Also write the table as a page of the HTML report: DIR/paper.html.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
}

#[derive(Args)]
struct SweepArgs {
    /// The field and its values: `section.key=v1,v2,...` (any key `--set` takes).
    #[arg(value_name = "SECTION.KEY=V1,V2,...")]
    spec: String,
    #[command(flatten)]
    pass: PassArgs,
    /// Size of the generated text and graph.
    #[arg(long, value_parser = parse_size, default_value = "64MiB")]
    size: u64,
    /// Calibration file (default: the shipped one).
    #[arg(long, value_name = "FILE")]
    calibration: Option<PathBuf>,
}

/// What `suite calibrate` measures.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    /// The three workloads.
    Suite,
    /// The filter query's conventional scan.
    FilterScan,
}

#[derive(Args)]
struct CompareArgs {
    #[command(flatten)]
    pass: PassArgs,
    /// Size of the generated text and graph.
    #[arg(long, value_parser = parse_size, default_value = "64MiB")]
    size: u64,
    /// Calibration file (default: the shipped one).
    #[arg(long, value_name = "FILE")]
    calibration: Option<PathBuf>,
    /// Largest relative difference that counts as agreeing.
    #[arg(long, default_value_t = 0.15)]
    tolerance: f64,
    /// First calibrate on this machine now, on held-out data (the next seed; same size and
    /// runs), and compare with that calibration; the shipped one's ratio is shown beside it.
    #[arg(long)]
    fit_now: bool,
}

fn calibrate_cmd(a: CalibrateArgs) -> anyhow::Result<()> {
    let common = a.pass.common(Compute::Measured, None);
    let mut progress = Progress::new(!a.pass.json);
    let profile = app_support::setup::profile_of(&common)?;
    let modules = app_support::setup::modules(common.modules)?;
    let path = a.output.unwrap_or_else(calibrate::shipped_path);
    let old = if path.exists() {
        Calibration::load(&path)?
    } else {
        Calibration::default()
    };
    let plan = a.pass.plan(a.sizes[0]);
    let fitted = calibrate::run(
        &profile,
        &modules,
        &plan,
        &calibrate::Parts {
            sizes: if a.parts.contains(&Part::Suite) {
                a.sizes.clone()
            } else {
                Vec::new()
            },
            filter_scan: a.parts.contains(&Part::FilterScan),
            runs: a.pass.runs,
        },
        old,
        &mut progress,
    )?;
    progress.finish();
    std::fs::write(&path, fitted.calibration.to_toml())?;
    if a.pass.json {
        program::print_json(&serde_json::json!({
            "file": path.display().to_string(),
            "fits": fitted.lines,
        }))?;
    } else {
        for l in &fitted.lines {
            println!("{l}");
        }
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn paper_cmd(a: PaperArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.sf > 0.0 && a.sf.is_finite(),
        "--sf {}: expected a scale factor above 0",
        a.sf
    );
    let common = a.pass.common(a.compute, a.calibration.clone());
    let mut progress = Progress::new(!a.pass.json);
    let sizes = paper::Sizes {
        sf: a.sf,
        working_set: a.working_set,
        graph: a.graph_size,
    };
    if let Some(dir) = &a.report {
        html_report::prepare(dir)?;
    }
    let p = paper::run(&common, sizes, a.pass.runs, &mut progress)?;
    progress.finish();
    let head = format!(
        "{} (seed {}); filter query at TPC-H SF {}, host filtering {}",
        p.profile,
        a.pass.seed,
        p.sf,
        match a.compute {
            Compute::Modeled => "modeled (one run, deterministic)".to_owned(),
            Compute::Measured => format!("measured ({} runs)", p.runs),
        }
    );
    let page = match &a.report {
        Some(dir) => Some(html_report::paper_page::write(dir, &p, &head)?),
        None => None,
    };
    if a.pass.json {
        let mut v = serde_json::to_value(&p)?;
        if let (Some(page), Some(o)) = (&page, v.as_object_mut()) {
            o.insert("report".into(), page.display().to_string().into());
        }
        program::print_json(&v)?;
    } else {
        println!("{head}");
        print!("{}", paper::table(&p));
        if let Some(page) = &page {
            println!("report: {}", page.display());
        }
    }
    Ok(())
}

fn sweep_cmd(a: SweepArgs) -> anyhow::Result<()> {
    let (key, values) = sweep::parse(&a.spec)?;
    let common = a.pass.common(Compute::Modeled, a.calibration.clone());
    // A bad key or value fails before anything runs.
    for v in &values {
        let mut c = common.clone();
        c.set.push(format!("{key}={v}"));
        app_support::setup::profile_of(&c)?;
    }
    let mut progress = Progress::new(!a.pass.json);
    let rows = sweep::run(&common, &key, &values, &a.pass.plan(a.size), &mut progress)?;
    progress.finish();
    if a.pass.json {
        program::print_json(&serde_json::json!({
            "key": key,
            "values": values,
            "profile": a.pass.profile,
            "size": a.size,
            "rows": rows,
        }))?;
    } else {
        println!(
            "{} of generated data, seed {}, {} with {key} swept; compute modeled",
            human(a.size),
            a.pass.seed,
            a.pass.profile
        );
        print!("{}", sweep::table(&key, &rows));
    }
    Ok(())
}

fn compare_cmd(a: CompareArgs) -> anyhow::Result<()> {
    let common = a.pass.common(Compute::Modeled, a.calibration.clone());
    let mut progress = Progress::new(!a.pass.json);
    let profile = app_support::setup::profile_of(&common)?;
    let modules = app_support::setup::modules(common.modules)?;
    let calibration = Arc::new(Calibration::load_or_shipped(a.calibration.as_deref())?);
    let plan = a.pass.plan(a.size);
    let (calibration, reference) = if a.fit_now {
        let held_out = runs::Plan {
            seed: plan.seed.wrapping_add(1),
            ..plan.clone()
        };
        let fitted = calibrate::run(
            &profile,
            &modules,
            &held_out,
            &calibrate::Parts {
                sizes: vec![a.size],
                filter_scan: false,
                runs: a.pass.runs,
            },
            (*calibration).clone(),
            &mut progress,
        )?;
        (Arc::new(fitted.calibration), Some(calibration))
    } else {
        (calibration, None)
    };
    let rows = compare::run(
        &profile,
        &modules,
        calibration,
        reference,
        &plan,
        a.pass.runs,
        a.tolerance,
        &mut progress,
    )?;
    progress.finish();
    if a.pass.json {
        program::print_json(&serde_json::json!({
            "profile": a.pass.profile,
            "size": a.size,
            "runs": a.pass.runs,
            "tolerance": a.tolerance,
            "fit_now": a.fit_now,
            "rows": rows,
        }))?;
    } else {
        println!(
            "{} of generated data, seed {}, {}; measured: {} runs; modeled with {}",
            human(a.size),
            a.pass.seed,
            a.pass.profile,
            a.pass.runs,
            if a.fit_now {
                format!(
                    "costs fitted now on seed {} (the shipped calibration's ratios on the right)",
                    a.pass.seed.wrapping_add(1)
                )
            } else {
                match &a.calibration {
                    Some(f) => format!("the calibration {}", f.display()),
                    None => "the shipped calibration".to_owned(),
                }
            }
        );
        print!("{}", compare::table(&rows, a.tolerance));
    }
    Ok(())
}

#[derive(Args)]
struct BenchArgs {
    /// Bytes of generated text.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "1GiB")]
    size: u64,
    /// Runs of each side (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Device profile: a built-in name or a TOML file.
    #[arg(long, default_value = "pm1725")]
    profile: String,
    /// Seed of the text.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// How SSDlet compute is charged.
    #[arg(long, value_enum, default_value_t = Compute::Modeled)]
    compute: Compute,
    /// Which build of the SSDlet modules to use.
    #[arg(long, value_enum, default_value_t = ModuleBuild::Release)]
    modules: ModuleBuild,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn bench(a: BenchArgs) -> anyhow::Result<()> {
    let common = Common {
        mode: Mode::Ndp,
        profile: a.profile,
        seed: a.seed,
        compute: a.compute,
        calibration: None,
        set: Vec::new(),
        modules: a.modules,
        json: a.json,
        trace: Default::default(),
    };
    let mut progress = Progress::new(!a.json);
    let env = program::open(&common, &mut progress)?;
    let b = bench::wall(
        &env,
        a.size,
        a.seed,
        a.runs,
        WordcountPlan::default(),
        &mut progress,
    )?;
    progress.finish();
    if a.json {
        program::print_json(&serde_json::to_value(&b)?)?;
    } else {
        let s = |ns: u64| ns as f64 / 1e9;
        println!(
            "wordcount of {} generated text (seed {}) on {}, {} runs each, medians:",
            human(b.bytes),
            b.seed,
            common.profile,
            b.runs
        );
        println!(
            "  NDP run (wall)                {:>8.3} s   (simulated {:.3} s)",
            s(b.ndp_median_ns),
            s(b.ndp_simulated_ns)
        );
        println!("  native single-threaded (wall) {:>8.3} s", s(b.native_median_ns));
        println!(
            "  ratio NDP / native            {:>8.2}x  (target <= 2x)",
            b.ratio
        );
    }
    Ok(())
}

#[derive(Args)]
struct BenchTraceArgs {
    #[command(flatten)]
    pass: PassArgs,
    /// Size of the generated text and graph (the suite's default).
    #[arg(long, value_parser = parse_size, default_value = "64MiB")]
    size: u64,
}

fn bench_trace_cmd(a: BenchTraceArgs) -> anyhow::Result<()> {
    let common = a.pass.common(Compute::Modeled, None);
    let mut progress = Progress::new(!a.pass.json);
    let b = bench_trace::run(&common, &a.pass.plan(a.size), a.pass.runs, &mut progress)?;
    progress.finish();
    if a.pass.json {
        program::print_json(&serde_json::to_value(&b)?)?;
    } else {
        let s = |ns: u64| ns as f64 / 1e9;
        println!(
            "the suite's pass ({} of generated text and graph, {}, compute modeled), {} interleaved rounds, wall time medians:",
            human(a.size),
            a.pass.profile,
            b.runs
        );
        println!(
            "  trace off {:>8.3} s   trace on {:>8.3} s   ratio on/off {:.3}  (target <= 1.30)",
            s(b.off_median_ns),
            s(b.on_median_ns),
            b.on_ratio
        );
        println!(
            "  trace on: {} events ({} dropped at the cap), file {}",
            b.events,
            b.dropped,
            human(b.file_bytes)
        );
        println!(
            "  trace off: {:.2} ns per event site x {} sites = {:.4}% of the pass  (target <= 2%)",
            b.off_site_ns,
            b.sites,
            b.off_share * 100.0
        );
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    app_support::program::main(run)
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Some(Cmd::BenchWall(a)) => return bench(a),
        Some(Cmd::BenchHost(a)) => return bench_host(a),
        Some(Cmd::BenchTrace(a)) => return bench_trace_cmd(a),
        Some(Cmd::Calibrate(a)) => return calibrate_cmd(a),
        Some(Cmd::CompareCompute(a)) => return compare_cmd(a),
        Some(Cmd::Sweep(a)) => return sweep_cmd(a),
        Some(Cmd::Paper(a)) => return paper_cmd(a),
        None => {}
    }
    let c = &cli.common;
    // The report is written by default for people; with --json only when asked for.
    let report_dir = match (&cli.report, cli.no_report || c.json) {
        (Some(d), _) => Some(d.clone()),
        (None, false) => Some(PathBuf::from(html_report::DEFAULT_DIR)),
        (None, true) => None,
    };
    if let Some(d) = &report_dir {
        html_report::prepare(d)?;
    }
    let ((outcomes, profile), trace) =
        app_support::trace::recorded(&c.trace, "suite", c.json, report_dir.is_some(), || {
            run_suite(&cli)
        })?;
    let written = match (&report_dir, &trace) {
        (Some(dir), Some(trace)) => Some(html_report::write(
            dir,
            &html_report::Inputs {
                outcomes: &outcomes,
                trace,
                profile: &profile,
                meta: format!(
                    "profile {}, seed {}, compute {}; simulated figures of one deterministic pass",
                    c.profile,
                    c.seed,
                    match c.compute {
                        Compute::Modeled => "modeled",
                        Compute::Measured => "measured",
                    }
                ),
            },
        )?),
        _ => None,
    };
    print_suite(c, &outcomes, written.as_deref())
}

/// The suite itself: the three workloads (and the device's profile, for the report).
fn run_suite(cli: &Cli) -> anyhow::Result<(Vec<app_support::Outcome>, sim_nvme::DeviceProfile)> {
    let c = &cli.common;
    let mut progress = Progress::new(!c.json);
    let env = program::open(c, &mut progress)?;
    let plan = runs::Plan {
        mode: c.mode,
        seed: c.seed,
        input: cli.text.input.clone(),
        text_bytes: cli.text.generate,
        graph_bytes: cli.graph_size,
        walks: cli.walks.clone(),
        wordcount: cli.wordcount.clone(),
        grep: cli.grep.clone(),
    };
    let outcomes = runs::all(&env, &plan, &mut progress)?;
    progress.finish();
    Ok((outcomes, env.profile.clone()))
}

/// Prints the reports and the comparison table (or one JSON object), then where the HTML
/// report was written, on the last line.
fn print_suite(
    c: &Common,
    outcomes: &[app_support::Outcome],
    written: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    if c.json {
        let all: Vec<_> = outcomes
            .iter()
            .map(|o| report::json(o, c.mode, &c.profile))
            .collect();
        let mut v = serde_json::json!({
            "mode": c.mode,
            "profile": c.profile,
            "compute": c.compute,
            "seed": c.seed,
            "workloads": all,
        });
        if let Some(p) = written {
            v["report"] = serde_json::json!(p);
        }
        program::print_json(&v)?;
    } else {
        for o in outcomes {
            println!("{}", report::human(o, &c.profile));
        }
        println!(
            "profile {}, seed {}, compute {}; simulated seconds on the host clock; PCIe bytes device-to-host",
            c.profile,
            c.seed,
            match c.compute {
                Compute::Modeled => "modeled (counted work x calibrated costs)",
                Compute::Measured => "measured (thread CPU time)",
            }
        );
        print!("{}", report::table(outcomes));
        if let Some(p) = written {
            println!("report: {}", p.display());
        }
    }
    Ok(())
}
