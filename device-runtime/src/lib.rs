//! The on-device runtime.
//!
//! So far: the module [`loader`] (static checks with goblin, then libloading), the
//! runtime side of the module ABI ([`services`]), fibers with fault trapping ([`fiber`],
//! [`trap`]), port type checks ([`porttype`]), the device file [`namespace`] (persisted in the
//! device's first blocks) and a minimal round-robin [`driver`] for tests and benches. The scheduler on simulated cores, virtual time and the NVMe command path
//! (through the vendor-specific opcode range `sim_nvme::nvme` reserves) arrive with the
//! device-runtime issue.
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

pub mod driver;
pub mod fiber;
mod instance;
pub mod loader;
pub mod namespace;
pub mod porttype;
pub mod services;
pub mod trap;
mod world;

pub use instance::AbortReason;

pub use world::LogLine;
