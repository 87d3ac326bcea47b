//! The on-device runtime.
//!
//! - [`runtime`]: the [`runtime::Runtime`] (owns the simulated SSD and its file namespace;
//!   Applications of SSDlet instances on the simulated ARM cores, a discrete-event scheduler,
//!   timestamped ports, internal file I/O, per-Application limits and run reports);
//! - [`loader`] (static checks with goblin, then libloading) and the runtime side of the
//!   module ABI ([`services`], with [`fileio`] behind the file services);
//! - fibers with fault trapping ([`fiber`], [`trap`]) on pooled stacks ([`stacks`]), port type checks ([`porttype`]), the
//!   compute models ([`compute`]), the device file [`namespace`];
//! - `driver` (feature `testing`): a convenience layer over the runtime for tests and benches.
//!
//! - [`isc`]: the in-storage-computing commands (NVMe vendor opcodes `0xC0..=0xC8`) and the
//!   [`isc::Firmware`] that serves every NVMe command in front of the runtime: the only way
//!   a host reaches the device (INVARIANT(runtime-behind-commands));
//! - [`device`]: the firmware on its own OS thread, reached from any host thread through a
//!   `Send + Clone` [`device::DeviceHandle`].
//!
//! ```no_run
//! use device_runtime::driver::{ArgValue, DriverConfig, TestDriver};
//! use device_runtime::loader::Loader;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let loader = Loader::with_temp_staging()?;
//! let module = loader.load("target/modules/debug/libssdlet_testkit.so".as_ref())?;
//! let mut d = TestDriver::new(DriverConfig::default());
//! let count = d.spawn(&module.ssdlet("count")?, &[ArgValue::U64(10)])?;
//! let sum = d.spawn(&module.ssdlet("sum")?, &[])?;
//! d.connect(count, "out", sum, "in")?;
//! let total = d.sink(sum, "total")?;
//! d.run()?;
//! assert_eq!(d.take::<u64>(total)?, vec![45]);
//! # Ok(()) }
//! ```

mod adopted;
mod blocks;
pub mod compute;
pub mod device;
// INVARIANT(testing-feature-only): the test driver exists only with `testing`
#[cfg(feature = "testing")]
pub mod driver;
pub mod fiber;
mod fileio;
mod instance;
pub mod isc;
pub mod loader;
mod logbook;
pub mod namespace;
pub mod porttype;
mod runs;
pub mod runtime;
pub mod services;
pub mod stacks;
pub mod trap;
mod world;

pub use instance::AbortReason;

pub use world::LogLine;
