//! The near-data runs, through the host API: an [`Application`] of the suite's SSDlets
//! (`ssdlets/wordcount`, `ssdlets/grep`, `ssdlets/pointer-chase`) over a device file, its
//! result read from host receivers.
//!
//! The simulated time is the host clock from the `Start` command to the moment the host holds
//! the whole result and the `Wait` returned (loading modules and wiring the Application come
//! before, as a host program would do them once). PCIe bytes and NAND pages are the device's
//! own counts ([`RunReport`]).

use std::collections::HashMap;
use std::time::Instant;

use host_sdk::{Application, Device, HostReceiver, Module, RunReport, SimTime};

use crate::measure::{since, Measured, Path};
use crate::LineHit;

/// Why an NDP run failed.
#[derive(Debug, thiserror::Error)]
pub enum NdpError {
    /// The host API failed (a refusal, the Application failed, ...).
    #[error(transparent)]
    Host(#[from] host_sdk::Error),
    /// A plan the modules cannot wire.
    #[error("wordcount plan of {mappers} mappers and {reducers} reducers: expected 1 or 2 of each")]
    Plan {
        /// Mappers asked for.
        mappers: u64,
        /// Reducers asked for.
        reducers: u64,
    },
}

/// How many mappers and reducers a wordcount uses (1 or 2 each: the module's fixed arities).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordcountPlan {
    /// Mappers, each over its share of the file split at line boundaries (1 or 2).
    pub mappers: u64,
    /// Reducers, each owning the words of one hash partition (1 or 2).
    pub reducers: u64,
}

impl Default for WordcountPlan {
    /// Two mappers and two reducers.
    fn default() -> Self {
        WordcountPlan {
            mappers: 2,
            reducers: 2,
        }
    }
}

fn drain<T: serde::de::DeserializeOwned>(ports: &mut [HostReceiver<T>]) -> Result<Vec<T>, NdpError> {
    let mut out = Vec::new();
    for p in ports {
        out.extend(p.collect_all()?);
    }
    Ok(out)
}

fn measured<T>(device: &Device, t0: SimTime, wall: Instant, result: T, report: RunReport) -> Measured<T> {
    Measured {
        path: Path::Ndp,
        result,
        simulated: since(device, t0),
        pcie_bytes: report.pcie_bytes_to_host,
        pcie_bytes_to_device: report.pcie_bytes_to_device,
        nand_pages: report.nand_pages_read,
        host_compute: std::time::Duration::ZERO,
        wall: wall.elapsed(),
        report: Some(report),
    }
}

/// Wordcount of device file `file` on the device: mapper(s) [-> merge2] [-> shuffler2] ->
/// reducer(s) -> host.
pub fn word_count(
    device: &Device,
    module: &Module,
    file: &str,
    plan: WordcountPlan,
) -> Result<Measured<HashMap<String, u64>>, NdpError> {
    if !(1..=2).contains(&plan.mappers) || !(1..=2).contains(&plan.reducers) {
        return Err(NdpError::Plan {
            mappers: plan.mappers,
            reducers: plan.reducers,
        });
    }
    let len = device.file_info(file)?.size;
    let app = Application::with_config(device, "wordcount", Default::default());
    let source = if plan.mappers == 1 {
        app.ssdlet(module, "mapper", (device.file(file),))?.out("pairs")
    } else {
        let merge = app.ssdlet(module, "merge2", ())?;
        for (i, (a, b)) in [(0, len / 2), (len / 2, len)].into_iter().enumerate() {
            let m = app.ssdlet(module, "mapper_range", (device.file(file), a, b))?;
            app.connect(m.out("pairs"), merge.input(i))?;
        }
        merge.out("out")
    };
    let mut ports = Vec::new();
    if plan.reducers == 1 {
        let r = app.ssdlet(module, "reducer", ())?;
        app.connect(source, r.input("in"))?;
        ports.push(app.connect_to::<Vec<(String, u64)>>(r.out("counts"))?);
    } else {
        let s = app.ssdlet(module, "shuffler2", ())?;
        app.connect(source, s.input("in"))?;
        for port in ["out0", "out1"] {
            let r = app.ssdlet(module, "reducer", ())?;
            app.connect(s.out(port), r.input("in"))?;
            ports.push(app.connect_to::<Vec<(String, u64)>>(r.out("counts"))?);
        }
    }
    let (t0, wall) = (device.now(), Instant::now());
    app.start()?;
    let batches = drain(&mut ports)?;
    let report = app.wait()?;
    let mut counts = HashMap::new();
    for (w, c) in batches.into_iter().flatten() {
        // Reducers own disjoint words; a repeat would be a bug, so make it visible in counts.
        *counts.entry(w).or_insert(0) += c;
    }
    Ok(measured(device, t0, wall, counts, report))
}

/// String search on the device: lines of device file `file` containing `pattern`.
pub fn grep(
    device: &Device,
    module: &Module,
    file: &str,
    pattern: &str,
) -> Result<Measured<Vec<LineHit>>, NdpError> {
    let app = Application::with_config(device, "grep", Default::default());
    let g = app.ssdlet(module, "grep", (device.file(file), pattern))?;
    let mut out = [app.connect_to::<LineHit>(g.out("lines"))?];
    let (t0, wall) = (device.now(), Instant::now());
    app.start()?;
    let hits = drain(&mut out)?;
    let report = app.wait()?;
    Ok(measured(device, t0, wall, hits, report))
}

/// Pointer chasing on the device over the adjacency-page file `file`: the host sends the
/// start nodes, the SSDlet walks `hops` hops from each and sends the paths (start order).
pub fn pointer_chase(
    device: &Device,
    module: &Module,
    file: &str,
    starts: &[u64],
    hops: u32,
) -> Result<Measured<Vec<Vec<u64>>>, NdpError> {
    let app = Application::with_config(device, "pointer-chase", Default::default());
    let c = app.ssdlet(module, "chase", (device.file(file), u64::from(hops)))?;
    let input = app.connect_from::<u64>(c.input("starts"))?;
    let mut out = [app.connect_to::<Vec<u64>>(c.out("paths"))?];
    let (t0, wall) = (device.now(), Instant::now());
    app.start()?;
    input.put_all(starts)?;
    input.close()?;
    let paths = drain(&mut out)?;
    let report = app.wait()?;
    Ok(measured(device, t0, wall, paths, report))
}
