//! [`TestDriver`]: a thin convenience layer over [`Runtime`] for tests and benches. Each
//! spawned instance is its own Application (so the DRAM budget and the watchdog are per
//! instance, and a failure stops only that instance), files live in host memory (no device
//! time; the matcher is emulated in software and sees keys that straddle pages), and
//! [`TestDriver::run`] starts whatever was spawned since the last run and runs to idle.
//!
//! ```text
//! let mut d = TestDriver::new(DriverConfig::default());
//! let src = d.spawn(&module.ssdlet("count")?, &[ArgValue::U64(10)])?;
//! let sum = d.spawn(&module.ssdlet("sum")?, &[])?;
//! d.connect(src, "out", sum, "in")?;
//! let total = d.sink(sum, "total")?;
//! d.run()?;
//! let got: Vec<u64> = d.take::<u64>(total)?;
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;
use sim_nvme::{DeviceProfile, SimDuration};
use ssdlet_abi::MatcherLimits;

use crate::loader::SsdletRef;
use crate::runtime::{AppConfig, AppId, ReceiverId, Runtime, RuntimeConfig};
use crate::world::LogLine;

pub use crate::runtime::{ArgValue, FileId, InstanceId, RuntimeError as DriverError, SsdletError};

/// A host-side receiver created with [`TestDriver::sink`].
pub type SinkId = ReceiverId;

/// Settings of a [`TestDriver`].
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// Fiber stack size in bytes. Default 256 KiB.
    pub stack_size: usize,
    /// Device DRAM budget per instance in bytes. Default 64 MiB.
    pub dram_budget: u64,
    /// Watchdog: most resumes of one instance before it is aborted. Default 10 million.
    pub max_resumes: u64,
    /// Capacity of inter-SSDlet channels in messages. Default 64.
    pub channel_capacity: usize,
    /// What the (software) pattern matcher accepts. Default 3 keys of up to 16 bytes, 4 KiB
    /// pages.
    pub matcher: MatcherLimits,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            stack_size: 256 * 1024,
            dram_budget: 64 << 20,
            max_resumes: 10_000_000,
            channel_capacity: 64,
            matcher: MatcherLimits {
                max_keys: 3,
                max_key_len: 16,
                page_size: 4096,
            },
        }
    }
}

/// Runs SSDlet instances to completion (see the module docs).
pub struct TestDriver {
    rt: Runtime,
    config: DriverConfig,
    pending: Vec<AppId>,
}

impl TestDriver {
    /// An empty driver on a `tiny` in-memory device.
    pub fn new(config: DriverConfig) -> TestDriver {
        let rc = RuntimeConfig {
            stack_size: config.stack_size,
            channel_capacity: config.channel_capacity,
            matcher: Some(config.matcher),
            // The resume watchdog is the driver's; no simulated time slice.
            time_slice: SimDuration(u64::MAX),
            ..RuntimeConfig::default()
        };
        #[allow(clippy::expect_used)]
        let rt = Runtime::in_memory(DeviceProfile::tiny(), rc).expect("the built-in `tiny` profile is valid");
        TestDriver {
            rt,
            config,
            pending: Vec::new(),
        }
    }

    /// The runtime underneath.
    pub fn runtime(&mut self) -> &mut Runtime {
        &mut self.rt
    }

    /// Adds an in-memory file and returns its id.
    pub fn add_file(&mut self, bytes: Vec<u8>) -> FileId {
        self.rt.add_memory_file(bytes)
    }

    /// Starts an instance of `ssdlet` with `args` (checked against its metadata) in an
    /// Application of its own. It runs when [`TestDriver::run`] is called; connect its ports
    /// first.
    pub fn spawn(&mut self, ssdlet: &SsdletRef, args: &[ArgValue]) -> Result<InstanceId, DriverError> {
        let app = self.rt.create_app(
            &ssdlet.meta().id,
            AppConfig {
                dram_budget: self.config.dram_budget,
                max_resumes: self.config.max_resumes,
                ..AppConfig::default()
            },
        );
        let id = self.rt.spawn(app, ssdlet, args)?;
        self.pending.push(app);
        Ok(id)
    }

    /// Connects output `out` of `from` to input `input` of `to`, refusing mismatched message
    /// types with both type names.
    pub fn connect(
        &mut self,
        from: InstanceId,
        out: &str,
        to: InstanceId,
        input: &str,
    ) -> Result<(), DriverError> {
        self.rt.connect(from, out, to, input)
    }

    /// Feeds `values` to input `input` of `to` from the host, then closes it.
    pub fn feed<T: Serialize>(
        &mut self,
        to: InstanceId,
        input: &str,
        values: &[T],
    ) -> Result<(), DriverError> {
        let tx = self.rt.host_sender(to, input)?;
        for v in values {
            self.rt.send(tx, v)?;
        }
        self.rt.close_sender(tx)
    }

    /// Collects everything output `out` of `from` sends, for [`TestDriver::take`].
    pub fn sink(&mut self, from: InstanceId, out: &str) -> Result<SinkId, DriverError> {
        self.rt.host_receiver(from, out)
    }

    /// Takes and decodes what a sink has received so far.
    pub fn take<T: DeserializeOwned>(&mut self, sink: SinkId) -> Result<Vec<T>, DriverError> {
        self.rt.recv(sink)
    }

    /// Runs until every instance has finished. Instance failures are reported per instance
    /// ([`TestDriver::outcome`]); the run as a whole fails only on deadlock, after aborting
    /// the blocked instances.
    pub fn run(&mut self) -> Result<(), DriverError> {
        for app in std::mem::take(&mut self.pending) {
            self.rt.start(app)?;
        }
        self.rt.run()
    }

    /// How instance `id` ended, once it has.
    pub fn outcome(&self, id: InstanceId) -> Option<&Result<(), SsdletError>> {
        self.rt.outcome(id)
    }

    /// Bytes of device DRAM instance `id` holds now (after it ended: what it leaked).
    pub fn dram_used(&self, id: InstanceId) -> u64 {
        self.rt.dram_used(id)
    }

    /// Most bytes of device DRAM instance `id` held at once.
    pub fn dram_peak(&self, id: InstanceId) -> u64 {
        self.rt.dram_peak(id)
    }

    /// Lines logged so far.
    pub fn logs(&self) -> Vec<LogLine> {
        self.rt.logs()
    }
}
