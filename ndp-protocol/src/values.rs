//! The values a host sends with its requests: an Application's limits and site, a core
//! placement, an SSDlet argument.

use serde::{Deserialize, Serialize};

use crate::ids::FileId;

/// Limits of one Application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppConfig {
    /// Device DRAM the Application's SSDlets may hold at once, in bytes; over it the
    /// Application fails (a DRAM budget abort). Default 64 MiB.
    pub dram_budget: u64,
    /// Watchdog: most resumes of one SSDlet (catches an SSDlet that yields forever). Default
    /// 10 million.
    pub max_resumes: u64,
    /// Where its SSDlets run. Default [`Site::Device`].
    pub site: Site,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            dram_budget: 64 << 20,
            max_resumes: 10_000_000,
            site: Site::Device,
        }
    }
}

/// Where an Application's SSDlets run: the same code, the near-data way or the conventional
/// way, so one program yields both simulated times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Site {
    /// On the device's ARM cores, reading files with internal reads and the channel matchers
    /// (near-data processing). Default.
    #[default]
    Device,
    /// On the host's cores (the profile's `host.cores`, at the reference host core's speed),
    /// reading files with NVMe reads over PCIe through the host I/O stack and matching pages
    /// in host software; messages between it and the host stay in host memory. The
    /// conventional run of the same SSDlets.
    Host,
}

impl Site {
    /// `"device"` or `"host"`.
    pub fn name(self) -> &'static str {
        match self {
            Site::Device => "device",
            Site::Host => "host",
        }
    }
}

/// Where to place an SSDlet instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Placement {
    /// The next core, round robin over the runtime's spawns. Default.
    #[default]
    RoundRobin,
    /// This core (an index below the profile's `arm.cores`).
    Core(u32),
}

/// An SSDlet argument as a host sends it, checked by the device against the SSDlet's metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArgValue {
    /// A file (signature `file`): the SSDlet's capability to read it.
    File(FileId),
    /// `u64`.
    U64(u64),
    /// `u32`.
    U32(u32),
    /// `i64`.
    I64(i64),
    /// `bool`.
    Bool(bool),
    /// `str`.
    Str(String),
    /// Any other message type: its rendered signature (compared with the argument's declared
    /// type) and one postcard-encoded value, which the device checks against the signature
    /// ([`crate::sig::check`]) before the SSDlet sees it.
    Message {
        /// The rendered signature, e.g. `WordCount{word:str,count:u32}`.
        sig: String,
        /// The encoded value.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
}
