//! Near-data pointer chasing, through the host API: an [`Application`] of the `chase` SSDlet
//! of `ssdlet-pointer-chase` over the adjacency-page file; the host sends the start nodes and
//! reads the paths from a host receiver.
//!
//! The simulated time is the host clock from the `Start` command to the moment the host holds
//! the whole result and the `Wait` returned (loading the module and wiring the Application come
//! before). PCIe bytes and NAND pages are the device's own counts
//! ([`RunReport`](host_sdk::RunReport)).

use std::time::Instant;

use app_support::measure::{drain, ndp_measured, Measured};
use host_sdk::{Application, Device, Module};

/// Pointer chasing on the device over the adjacency-page file `file`: the host sends the
/// start nodes, the SSDlet walks `hops` hops from each and sends the paths (start order).
pub fn pointer_chase(
    device: &Device,
    module: &Module,
    file: &str,
    starts: &[u64],
    hops: u32,
) -> Result<Measured<Vec<Vec<u64>>>, host_sdk::Error> {
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
    Ok(ndp_measured(device, t0, wall, paths, report))
}
