//! [`RunReport`] (the protocol's type): what one Application did, in simulated time and device
//! work.
//!
//! Device counters are attributed per operation (a stats snapshot around each internal read,
//! matcher scan and PCIe transfer the Application caused), so two Applications running at
//! once each see only their own work.

use super::{AppId, AppState, Runtime, RuntimeError};

pub use ndp_protocol::report::{PortReport, RunReport, SsdletReport};

impl Runtime {
    /// The report of `app` so far (final once the Application is done).
    pub fn report(&self, app: AppId) -> Result<RunReport, RuntimeError> {
        let a = self.app(app)?;
        let chans = self.world.channels.borrow();
        let mut finished_at = a.finished_at;
        let ports = a
            .channels
            .iter()
            .map(|&ch| {
                let c = &chans[ch];
                finished_at = finished_at.max(c.last_at);
                PortReport {
                    name: c.name.clone(),
                    messages: c.messages,
                    bytes: c.bytes,
                }
            })
            .collect();
        let io = a.account.io.get();
        Ok(RunReport {
            app: a.name.clone(),
            error: a.failure.as_ref().map(|e| e.to_string()),
            instances: a.slots.len(),
            started_at: a.started_at,
            finished_at,
            elapsed: finished_at.saturating_since(a.started_at),
            site: a.config.site,
            core_busy: a.core_busy.clone(),
            ports,
            nand_pages_read: io.nand_pages_read,
            pcie_bytes_to_host: io.pcie_bytes_to_host,
            pcie_bytes_to_device: io.pcie_bytes_to_device,
            matcher_pages_scanned: io.matcher_pages_scanned,
            matcher_pages_hinted: io.matcher_pages_hinted,
            dram_peak: a.account.dram_peak.get(),
            dram_held: a.account.dram.get(),
            done: a.state == AppState::Done,
            ssdlets: a
                .slots
                .iter()
                .map(|&slot| {
                    let inst = &self.instances[slot];
                    let st = &inst.state;
                    let module = &inst.ssdlet.module().inner;
                    SsdletReport {
                        module: module.meta.name.clone(),
                        digest: module.digest.to_string(),
                        ssdlet: st.ssdlet.clone(),
                        core: st.core,
                        work: st.work.get(),
                        compute: st.compute.get(),
                        host_cpu_ns: st.cpu_ns.get(),
                        costs: st.cost_source,
                    }
                })
                .collect(),
        })
    }
}
