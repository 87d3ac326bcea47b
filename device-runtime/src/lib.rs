//! The on-device runtime.
//!
//! Not built yet: the loader, scheduler, ports and ISC commands arrive with the SDK/ABI/loader
//! and device-runtime issues. It will plug into `sim-nvme` through the vendor-specific NVMe
//! opcode range that `sim_nvme::nvme` reserves for in-storage-computing commands.

pub use sim_nvme;
