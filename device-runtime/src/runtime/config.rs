//! Settings of a [`super::Runtime`] and of each Application.

use sim_nvme::SimDuration;
use ssdlet_abi::MatcherLimits;

use crate::compute::ComputeModel;

/// Settings of a [`super::Runtime`].
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// How SSDlet compute is charged. Default [`ComputeModel::Modeled`] with the default costs.
    pub compute: ComputeModel,
    /// Fiber stack size in bytes (one mapping per SSDlet; only touched pages are resident).
    /// Default 256 KiB.
    pub stack_size: usize,
    /// Capacity of inter-SSDlet ports in messages (a full port blocks its sender). Default 64.
    pub channel_capacity: usize,
    /// Watchdog: simulated time an SSDlet may run without suspending before its Application
    /// is aborted. Checked at every runtime call (a loop that never calls the runtime cannot
    /// be preempted: see [`AppConfig::max_resumes`]). Default 10 s: a long computation that
    /// reads or sends now and then is not a runaway, and at `arm_slowdown` 20 the default is
    /// only 0.5 s of the simulating machine's CPU between yields.
    pub time_slice: SimDuration,
    /// Most bytes one internal read command moves; larger reads are split into such chunks
    /// issued at the same instant. Default 128 KiB.
    pub read_chunk: u64,
    /// Read-ahead window in bytes for small sequential reads (0 disables). Default 1 MiB.
    pub readahead: u64,
    /// Whether modules may hand large message buffers over without a copy (the
    /// `port_put_owned` service; the SDK uses it for encoded messages of at least 4 KiB).
    /// `false` hands modules a table without it, so every put is copied. Default `true`.
    pub zero_copy: bool,
    /// What the matcher service reports and accepts. Default `None`: the profile's keys and
    /// key length, 4 KiB pages (the matchers' unit).
    pub matcher: Option<MatcherLimits>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            compute: ComputeModel::default(),
            stack_size: 256 * 1024,
            channel_capacity: 64,
            time_slice: SimDuration(10_000_000_000),
            read_chunk: 128 * 1024,
            readahead: 1 << 20,
            zero_copy: true,
            matcher: None,
        }
    }
}

pub use ndp_protocol::values::{AppConfig, Placement, Site};
