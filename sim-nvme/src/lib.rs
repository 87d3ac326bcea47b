//! `sim-nvme`: a simulated NVMe SSD, the hardware under the near-data-processing framework.
//!
//! It models NAND channels and dies, a page-level FTL with garbage collection, the PCIe link,
//! the NVMe command set, and a key-based pattern matcher on every channel. Every operation is
//! given the simulated instant it is issued and returns the instant it completes, computed from
//! a calibrated [`DeviceProfile`]; nothing sleeps and nothing reads the wall clock. This crate
//! knows nothing about SSDlets, modules or ports (INVARIANT(sim-knows-no-ssdlets)). It is also
//! deterministic: the same operations at the same instants complete at the same instants
//! (INVARIANT(sim-deterministic)).
//!
//! ```
//! use sim_nvme::{Command, Controller, DeviceProfile, Lba, Payload, Ssd, SimTime};
//!
//! let ssd = Ssd::in_memory(DeviceProfile::pm1725())?;
//! let mut ctrl = Controller::new(ssd);
//! let q = ctrl.create_io_queue(64).expect("queue");
//! let data = vec![7u8; 4096];
//! let w = ctrl.submit_and_wait(q, Command::Write { nsid: 1, lba: Lba(0), data }, SimTime::ZERO)?;
//! let r = ctrl.submit_and_wait(q, Command::Read { nsid: 1, lba: Lba(0), blocks: 1 }, w.done_at)?;
//! assert!(r.status.is_success());
//! assert!(matches!(r.payload, Payload::Data(ref d) if d[0] == 7));
//! // Biscuit's conventional 4 KiB read on the PM1725: 90.0 us.
//! assert_eq!(r.latency().as_nanos(), 90_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod addr;
pub mod bench;
pub mod energy;
pub mod error;
pub mod ftl;
pub mod hardware;
pub mod image;
pub mod matcher;
pub mod media;
pub mod metrics;
pub mod nvme;
pub mod profile;
mod ssd;
pub mod time;
pub mod trace;

pub use addr::{Layout, Lba, PhysSector};
pub use energy::{energy, Activity, Energy};
pub use error::{IoError, MatcherError};
pub use image::ImageError;
pub use matcher::{MatchHints, MatchMode, MatchRequest, MAX_THREADS, PARALLEL_MIN_BLOCKS};
pub use metrics::SsdStats;
pub use nvme::{Command, Completion, Controller, Payload, QueueId, Status};
pub use profile::{DeviceProfile, PowerModel, ProfileError, LBA_BYTES};
pub use ssd::{OpenError, Ssd};
pub use time::{SimDuration, SimTime};
