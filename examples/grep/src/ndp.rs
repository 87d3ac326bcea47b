//! The near-data string search, through the host API: an [`Application`] of the `grep` SSDlet
//! of `ssdlet-grep` over a device file (the per-channel matchers hint pages, the SSDlet reads
//! only those and confirms the lines), the lines read from a host receiver.
//!
//! The simulated time is the host clock from the `Start` command to the moment the host holds
//! the whole result and the `Wait` returned (loading the module and wiring the Application come
//! before). PCIe bytes and NAND pages are the device's own counts
//! ([`RunReport`](host_sdk::RunReport)).

use std::time::Instant;

use app_support::measure::{drain, ndp_measured, Measured};
use host_sdk::{Application, Device, Module};

use crate::text::LineHit;

/// String search on the device: lines of device file `file` containing `pattern`.
pub fn grep(
    device: &Device,
    module: &Module,
    file: &str,
    pattern: &str,
) -> Result<Measured<Vec<LineHit>>, host_sdk::Error> {
    let app = Application::with_config(device, "grep", Default::default());
    let g = app.ssdlet(module, "grep", (device.file(file), pattern))?;
    let mut out = [app.connect_to::<LineHit>(g.out("lines"))?];
    let (t0, wall) = (device.now(), Instant::now());
    app.start()?;
    let hits = drain(&mut out)?;
    let report = app.wait()?;
    Ok(ndp_measured(device, t0, wall, hits, report))
}
