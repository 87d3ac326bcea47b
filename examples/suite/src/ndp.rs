//! The near-data path, driven through the device runtime directly (the host SDK of issue 5
//! will take this over): load the suite's SSDlet modules, put the data on a fresh simulated
//! device, wire the Application, run it and collect the result with its [`RunReport`].
//!
//! Module paths come from the caller (tests and benches get them from
//! `ssdlet_module_build::build`). Wall time is measured around `start` .. last `recv`, not
//! around putting the data on the device.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use device_runtime::loader::{LoadError, Loader, Module};
use device_runtime::runtime::{
    AppConfig, ArgValue, HostReceiver, RunReport, Runtime, RuntimeConfig, RuntimeError,
};
use sim_nvme::DeviceProfile;

use crate::conv::LineHit;

/// Why an NDP run failed.
#[derive(Debug, thiserror::Error)]
pub enum NdpError {
    /// A module did not load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The runtime refused an operation.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The Application failed.
    #[error("application `{app}` failed: {error}")]
    Failed {
        /// The Application.
        app: String,
        /// Its first failure.
        error: String,
    },
    /// A plan the modules cannot wire.
    #[error("unsupported plan: {0}")]
    Plan(String),
}

/// The outcome of one NDP run.
#[derive(Debug, Clone)]
pub struct NdpRun<T> {
    /// What the host received.
    pub result: T,
    /// The Application's report (`elapsed` is the simulated time).
    pub report: RunReport,
    /// Wall time from `start` to the last `recv`.
    pub wall: Duration,
}

/// Loads a module from `path` with a fresh temporary staging directory.
pub fn load(path: &Path) -> Result<Module, NdpError> {
    Ok(Loader::with_temp_staging()?.load(path)?)
}

fn finish<T: serde::de::DeserializeOwned>(
    rt: &mut Runtime,
    app: device_runtime::runtime::AppId,
    outs: &[HostReceiver],
    t0: Instant,
) -> Result<(Vec<T>, RunReport, Duration), NdpError> {
    rt.start(app)?;
    let report = rt.wait(app)?;
    let mut all = Vec::new();
    for &o in outs {
        all.extend(rt.recv::<T>(o)?);
    }
    let wall = t0.elapsed();
    if let Some(error) = report.error.clone() {
        return Err(NdpError::Failed {
            app: report.app.clone(),
            error,
        });
    }
    Ok((all, report, wall))
}

/// How many mappers and reducers a wordcount uses (1 or 2 each: the module's fixed arities).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordcountPlan {
    /// Mappers, each over its share of the file split at line boundaries (1 or 2).
    pub mappers: u64,
    /// Reducers, each owning the words of one hash partition (1 or 2).
    pub reducers: u64,
}

/// Wordcount on the device: mapper(s) [-> merge2] [-> shuffler2] -> reducer(s) -> host.
pub fn word_count(
    profile: DeviceProfile,
    config: RuntimeConfig,
    module: &Module,
    text: &[u8],
    plan: WordcountPlan,
) -> Result<NdpRun<HashMap<String, u64>>, NdpError> {
    if !(1..=2).contains(&plan.mappers) || !(1..=2).contains(&plan.reducers) {
        return Err(NdpError::Plan(format!(
            "{plan:?}: expected 1 or 2 mappers and reducers"
        )));
    }
    let mut rt = Runtime::in_memory(profile, config)?;
    let file = rt.create_file("text", text)?;
    let app = rt.create_app("wordcount", AppConfig::default());
    let len = text.len() as u64;
    // The producer of the mapped pairs: (instance, output port).
    let source = if plan.mappers == 1 {
        (
            rt.spawn(app, &module.ssdlet("mapper")?, &[ArgValue::File(file)])?,
            "pairs",
        )
    } else {
        let merge = rt.spawn(app, &module.ssdlet("merge2")?, &[])?;
        for (i, (a, b)) in [(0, len / 2), (len / 2, len)].into_iter().enumerate() {
            let m = rt.spawn(
                app,
                &module.ssdlet("mapper_range")?,
                &[ArgValue::File(file), ArgValue::U64(a), ArgValue::U64(b)],
            )?;
            rt.connect(m, "pairs", merge, if i == 0 { "in0" } else { "in1" })?;
        }
        (merge, "out")
    };
    let mut outs = Vec::new();
    if plan.reducers == 1 {
        let r = rt.spawn(app, &module.ssdlet("reducer")?, &[])?;
        rt.connect(source.0, source.1, r, "in")?;
        outs.push(rt.host_receiver(r, "counts")?);
    } else {
        let s = rt.spawn(app, &module.ssdlet("shuffler2")?, &[])?;
        rt.connect(source.0, source.1, s, "in")?;
        for port in ["out0", "out1"] {
            let r = rt.spawn(app, &module.ssdlet("reducer")?, &[])?;
            rt.connect(s, port, r, "in")?;
            outs.push(rt.host_receiver(r, "counts")?);
        }
    }
    let t0 = Instant::now();
    let (batches, report, wall) = finish::<Vec<(String, u64)>>(&mut rt, app, &outs, t0)?;
    let mut result = HashMap::new();
    for (w, c) in batches.into_iter().flatten() {
        // Reducers own disjoint words; a repeat would be a bug, so make it visible in counts.
        *result.entry(w).or_insert(0) += c;
    }
    Ok(NdpRun { result, report, wall })
}

/// String search on the device: lines containing `pattern` as (offset of line start, line).
pub fn grep(
    profile: DeviceProfile,
    config: RuntimeConfig,
    module: &Module,
    text: &[u8],
    pattern: &str,
) -> Result<NdpRun<Vec<LineHit>>, NdpError> {
    let mut rt = Runtime::in_memory(profile, config)?;
    let file = rt.create_file("text", text)?;
    let app = rt.create_app("grep", AppConfig::default());
    let g = rt.spawn(
        app,
        &module.ssdlet("grep")?,
        &[ArgValue::File(file), ArgValue::Str(pattern.to_owned())],
    )?;
    let out = rt.host_receiver(g, "lines")?;
    let (result, report, wall) = finish(&mut rt, app, &[out], Instant::now())?;
    Ok(NdpRun { result, report, wall })
}

/// Pointer chasing on the device: `hops` hops from each start node; paths in start order.
pub fn pointer_chase(
    profile: DeviceProfile,
    config: RuntimeConfig,
    module: &Module,
    graph: &[u8],
    starts: &[u64],
    hops: u32,
) -> Result<NdpRun<Vec<Vec<u64>>>, NdpError> {
    let mut rt = Runtime::in_memory(profile, config)?;
    let file = rt.create_file("graph", graph)?;
    let app = rt.create_app("pointer-chase", AppConfig::default());
    let c = rt.spawn(
        app,
        &module.ssdlet("chase")?,
        &[ArgValue::File(file), ArgValue::U64(u64::from(hops))],
    )?;
    let input = rt.host_sender(c, "starts")?;
    let out = rt.host_receiver(c, "paths")?;
    let t0 = Instant::now();
    for s in starts {
        rt.send(input, s)?;
    }
    rt.close_sender(input)?;
    let (result, report, wall) = finish(&mut rt, app, &[out], t0)?;
    Ok(NdpRun { result, report, wall })
}
