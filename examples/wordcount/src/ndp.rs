//! The near-data wordcount, through the host API: an [`Application`] of the SSDlets of
//! `ssdlet-wordcount` (mapper(s) [-> merge2] [-> shuffler2] -> reducer(s)) over a device file,
//! the counts read from host receivers.
//!
//! The simulated time is the host clock from the `Start` command to the moment the host holds
//! the whole result and the `Wait` returned (loading the module and wiring the Application come
//! before, as a host program would do them once). PCIe bytes and NAND pages are the device's
//! own counts ([`RunReport`](host_sdk::RunReport)).

use std::collections::HashMap;
use std::time::Instant;

use app_support::measure::{drain, ndp_measured, Measured};
use host_sdk::{Application, Device, Module};

/// Why an NDP wordcount failed.
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
    Ok(ndp_measured(device, t0, wall, counts, report))
}
