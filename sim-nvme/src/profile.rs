//! `DeviceProfile`: every number the hardware model uses, with its unit, default and source.
//!
//! A profile is a serde struct read from TOML (`deny_unknown_fields`: a misspelt key is an
//! error, not a silent default) or taken from a built-in by name. Every field omitted from a
//! TOML file takes the `pm1725` value, so a file can override just what it changes:
//!
//! ```toml
//! name = "pm1725-slow-nand"
//! [nand]
//! read_ns = 90000
//! ```
//!
//! # Calibration of `pm1725`
//!
//! Biscuit (ISCA'16) measured on the Samsung PM1725: 4 KiB `pread` latency 90.0 us
//! (conventional) and 75.9 us with Biscuit's internal read. The model's paths are
//!
//! - internal 4 KiB read = firmware + tR + channel transfer of 4 KiB
//! - host 4 KiB read     = host I/O stack + firmware + tR + channel transfer + PCIe transfer
//!
//! The channel moves 4 KiB in 4096 B / 800 MB/s = 5.12 us (`nand.channel_mb_per_s`, assumed)
//! and the link in 4096 B / 3300 MB/s = 1.2412 us, 1.242 us in the model's whole nanoseconds
//! (`pcie.to_host_mb_per_s`, derived from PCIe 3.0 x4 with its packet overheads). Three
//! numbers are then **fitted**:
//!
//! ```text
//! internal: firmware + tR + channel         = 5.78 + 65.00 + 5.12         = 75.90 us
//! host:     io_stack + internal + PCIe      = 12.858 + 75.90 + 1.242      = 90.00 us
//! ```
//!
//! tR = 65.0 us is a choice inside the one equation for the internal read (between the ~36 us
//! and 75 us defaults of the NVMeVirt and MQSim simulators); firmware = 5.78 us follows from
//! it, and the host I/O stack = 90.00 - 75.90 - 1.242 = 12.858 us.
//!
//! Bandwidth and IOPS are not written in anywhere: they emerge from 16 channels x 5 dies, the
//! link and the firmware cores. `ndp bench bandwidth` (1 GiB, queue depth 128) gives host
//! sequential read 3.30 GB/s (published PM1725a: 3.3 GB/s; the link limits it) and host
//! random 4 KiB reads 748 K/s (published: 800 K/s; -6.5 %: 80 dies at 65 us per read, hit at
//! random by 128 outstanding reads, are busy enough to cap it below the link's 806 K/s).
//!
//! # Device-core speed: `arm.arm_slowdown`
//!
//! SSDlet compute is measured (or modelled) in time on the reference host core, the machine
//! the simulator's cost coefficients are calibrated on: an AMD EPYC Zen 3 (Milan) vCPU at
//! 2450 MHz. The device runs it on a Cortex-R7 at `arm.clock_mhz`, so
//!
//! ```text
//! arm_slowdown = (host DMIPS/MHz x host MHz) / (R7 DMIPS/MHz x clock_mhz)
//!              = (14.9 x 2450) / (2.50 x 750) = 19.47  ->  20 (one significant figure)
//! ```
//!
//! 2.50 DMIPS/MHz is ARM's published Cortex-R7 figure; 750 MHz is from the Biscuit slides;
//! 14.9 DMIPS/MHz for Zen 3 is an estimate (no vendor figure exists): 10.6 DMIPS/MHz per core
//! listed for the first Zen, times AMD's published IPC gains from Zen to Zen 3 (x1.41). See
//! [`ArmCores::arm_slowdown`] and [`ArmCores::slowdown_for`]. `tiny` keeps 10.0.
//!
//! # Power: `[power]`
//!
//! [`PowerModel`] holds the component powers and per-operation energies the energy model
//! ([`crate::energy`]) charges; `pm1725`'s describe Biscuit's setup (two Xeon E5-2640, 64 GiB
//! of DRAM, the drive's published idle power) and say field by field which are published,
//! derived or assumed. `tiny` uses the same values.

use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

use crate::time::SimDuration;

/// Size of one logical block (LBA) in bytes. Fixed: the whole framework addresses 4 KiB blocks.
pub const LBA_BYTES: u64 = 4096;

/// Why a profile could not be used.
#[derive(Debug, Error)]
pub enum ProfileError {
    /// No built-in profile has this name and no file exists at this path.
    #[error(
        "unknown device profile `{0}`: expected a built-in name (pm1725, tiny) or a path to a TOML file"
    )]
    Unknown(String),
    /// The profile file could not be read.
    #[error("cannot read device profile file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The profile file is not valid TOML for a `DeviceProfile` (unknown key, wrong type, ...).
    #[error("device profile file {path} is not a valid profile: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What the TOML parser said.
        message: String,
    },
    /// A field has a value the model cannot use.
    #[error("device profile `{profile}`: field `{field}` is {value}, expected {expected}")]
    Invalid {
        /// The profile's name.
        profile: String,
        /// The dotted field name, e.g. `geometry.channels`.
        field: &'static str,
        /// The value found.
        value: String,
        /// What the model needs.
        expected: &'static str,
    },
    /// [`DeviceProfile::set`] was given a key the profile does not have.
    #[error("unknown device profile key `{key}`: expected one of {}", valid.join(", "))]
    UnknownKey {
        /// The key as given.
        key: String,
        /// The valid keys where it was looked up: the section's dotted keys, or the top-level
        /// keys and sections.
        valid: Vec<String>,
    },
    /// A `section.key=value` assignment without its `=`.
    #[error("`{given}` is not an assignment: expected section.key=value, e.g. arm.arm_slowdown=5")]
    Assignment {
        /// What was given.
        given: String,
    },
    /// [`DeviceProfile::set`] was given a value the field cannot hold.
    #[error("device profile key `{key}`: `{value}` is not {expected}")]
    WrongType {
        /// The dotted key.
        key: String,
        /// The value as given.
        value: String,
        /// What the field holds, e.g. "an integer".
        expected: String,
    },
}

/// A complete description of a simulated SSD. `Default` is the calibrated `pm1725`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceProfile {
    /// Name shown in reports. Default: `"pm1725"`.
    pub name: String,
    /// NAND array layout.
    pub geometry: Geometry,
    /// NAND operation times and the channel bus.
    pub nand: NandTiming,
    /// The SSD controller's command processing.
    pub controller: Controller,
    /// The host's side of a conventional I/O.
    pub host: HostStack,
    /// The PCIe link between host and device.
    pub pcie: PcieLink,
    /// The network between storage nodes (a cluster's shuffles and results).
    pub network: NetworkLink,
    /// The embedded cores that run SSDlets.
    pub arm: ArmCores,
    /// Device memory.
    pub memory: DeviceMemory,
    /// The per-channel key-based pattern matchers.
    pub matcher: MatcherLimits,
    /// Component powers and per-operation energies of the host and the device, for
    /// [`crate::energy`].
    pub power: PowerModel,
}

/// The NAND array: channels x dies x planes x blocks x pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Geometry {
    /// Independent NAND channels (buses), each with its own pattern matcher.
    /// Unit: count. Default 16. Source: the PM1725a's "EPIC" controller (S4LP049X01) has 16 NAND
    /// channels (AnandTech's PM1725a specification table, "Enterprise NVMe" round-up, 2020). The
    /// Biscuit slides only say "multiple channels/ways/cores" and "pattern matcher per channel".
    pub channels: u32,
    /// Dies (ways) on each channel; each die performs one array operation at a time.
    /// Unit: count. Default 5. Source: **derived** from capacity: a model die holds 128 Gbit
    /// (2 planes x 1024 blocks x 512 pages x 16 KiB), and Biscuit's 1 TB drive with the
    /// PM1725a's raw-to-user ratio (8 TB of flash for 6.4 TB, see `over_provisioning`) has
    /// 1.25 TiB of flash: 80 such dies, 5 per channel. The PM1725 generation's NAND is a
    /// dual-plane 256 Gbit 48-layer die that Samsung says performs at least like two 128 Gbit
    /// dies (AnandTech's Flash Memory Summit 2015 report), so a model die stands for half of
    /// one: an assumption that its two planes read independently.
    pub dies_per_channel: u32,
    /// Planes per die. Geometry only: multi-plane operations are not modelled, a die is the unit
    /// of array parallelism. Unit: count. Default 2. Source: assumed (it only sizes the die).
    pub planes_per_die: u32,
    /// Erase blocks per plane. Unit: count. Default 1024. Source: chosen so that a die holds
    /// 128 Gbit with the other defaults (raw capacity 1.25 TiB with 16 x 5 dies).
    pub blocks_per_plane: u32,
    /// Pages per erase block. Unit: count. Default 512. Source: assumed (no published figure
    /// for this part; it only sets the erase and garbage-collection granularity).
    pub pages_per_block: u32,
    /// NAND page size: the unit of tR and tPROG; holds `page_bytes / 4096` logical blocks.
    /// Unit: bytes, a multiple of 4096. Default 16384. Source: assumed (the common 3D TLC page
    /// size; no published figure for this part).
    pub page_bytes: u32,
    /// Fraction of raw capacity hidden from the host for garbage collection.
    /// Unit: fraction in [0.02, 0.5]. Default 0.27. Source: **derived** from the PM1725a's
    /// published capacity, 6.4 TB usable on 8 TB (taken as TiB) of flash (AnandTech's PM1725a
    /// specification table): 1 - 6.4e12 / 8.80e12 = 0.27. With 1.25 TiB raw the drive exports
    /// 1.00 TB, Biscuit's "Device density 1 TB".
    pub over_provisioning: f64,
}

/// NAND array timing and the channel bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NandTiming {
    /// tR: array read of one page into the die's page register. Unit: ns. Default 65000.
    /// Source: **fitted** to Biscuit's 75.9 us internal 4 KiB read (see module docs).
    pub read_ns: u64,
    /// tPROG: programming one page. Unit: ns. Default 660000. Source: assumed (a 3D TLC-class
    /// value; no published figure for this part, and no PM1725 figure calibrates it).
    pub program_ns: u64,
    /// tBERS: erasing one block. Unit: ns. Default 3500000. Source: assumed (a 3D TLC-class
    /// value; not calibrated).
    pub erase_ns: u64,
    /// Channel bus transfer rate, each direction shared. Unit: MB/s (10^6 bytes/s).
    /// Default 800. Source: assumed equal to the per-channel rate of the Samsung 970 PRO profile
    /// in the NVMeVirt paper ("NVMeVirt: A Versatile Software-defined Virtual NVMe Device",
    /// FAST'23): a later Samsung drive; nothing published gives the PM1725's channel rate.
    pub channel_mb_per_s: u64,
}

/// The SSD controller (firmware) that parses commands and runs the FTL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Controller {
    /// Firmware time per command (parse, FTL lookup, schedule, post completion).
    /// Unit: ns. Default 5780. Source: **fitted** to Biscuit's 75.9 us internal read.
    pub firmware_ns: u64,
    /// Firmware cores processing commands in parallel (each is one busy-until resource).
    /// Unit: count. Default 6. Source: assumed (the EPIC controller's core count is not
    /// published); with 5.78 us per command it caps the controller at 1.04 M commands/s, above
    /// the link's 806 K 4 KiB transfers/s, so firmware never limits the benchmarks.
    pub firmware_cores: u32,
    /// Maximum data transfer size of one command (MDTS). Unit: bytes, a multiple of 4096.
    /// Default 1048576 (1 MiB). Source: assumed (a common MDTS; the PM1725's is not published).
    pub max_transfer_bytes: u32,
    /// Maximum number of I/O queue pairs. Unit: count. Default 64. Source: assumed (a limit of
    /// the simulator, not a published PM1725 figure).
    pub max_io_queues: u16,
    /// Maximum entries in one queue. Unit: count. Default 1024. Source: assumed, as above.
    pub max_queue_depth: u16,
}

/// The host on the conventional path: its I/O stack, and the cores and memory copy speed of a
/// conventional run's SSDlets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostStack {
    /// Host I/O stack time per command on the conventional path: `pread` syscall, block layer,
    /// NVMe driver, doorbell, interrupt, wake-up. Charged as latency before the command reaches
    /// the device; it is per host thread, not a shared resource, so it does not limit IOPS.
    /// Unit: ns. Default 12858. Source: **fitted** to Biscuit's 90.0 us `pread` of 4 KiB
    /// (90000 - 75900 internal - 1242 PCIe; see the module docs).
    pub io_stack_ns: u64,
    /// Host cores that run the SSDlets of a conventional run (an Application at the host
    /// site), each at the speed of the reference host core. Unit: cores. Default 12, at most
    /// 1024. Source: the Biscuit slides' host, a Dell PowerEdge R720 with two six-core Xeon
    /// E5-2640 (12 threads per socket; `power.host_cores_per_socket` counts the same cores);
    /// running each at the reference core's speed is assumed, and favours the host.
    pub cores: u32,
    /// Host memory copy bandwidth, charged to a message between SSDlets of a conventional run
    /// (and from them to the host). Unit: MB/s. Default 25000. Source: measured, one
    /// `memcpy` of 1 MiB takes 39 us on the reference host (device-runtime's `runtime` bench,
    /// `memcpy_1MiB`), about 25 GiB/s.
    pub copy_mb_per_s: u64,
}

/// The PCIe link, modelled as one resource per direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PcieLink {
    /// Usable payload bandwidth device-to-host. Unit: MB/s. Default 3300.
    /// Source: **derived** for PCIe 3.0 x4 (the Biscuit slides' "PCIe Gen.3 x4 (3.2GB/s)" is a
    /// nominal figure). Symbols: 4 lanes x 8 GT/s x 128/130 = 3938 MB/s. Read data reaches the
    /// host as memory-write TLPs of at most Max_Payload_Size bytes, each carrying 24 bytes of
    /// framing and protocol (Gen3 STP token 4, 4-DW header for 64-bit addresses 16, LCRC 4; no
    /// ECRC): with MPS 128 B, 3938 x 128 / 152 = 3316; SKP ordered sets (one per ~370 blocks)
    /// take 0.27 %: 3307, rounded down to 3300. MPS 128 B is assumed: it is the default every
    /// device supports, and the published PM1725a sequential read (3.3 GB/s) matches it (MPS
    /// 256 B would give 3.59 GB/s). DLLPs in this direction (acks of the host's few TLPs) are
    /// neglected.
    pub to_host_mb_per_s: u64,
    /// Usable payload bandwidth host-to-device. Unit: MB/s. Default 3400. Source: **derived**
    /// as above: write data reaches the device as completions to its memory reads, with a 3-DW
    /// header (20 bytes of overhead per TLP): 3938 x 128 / 148 = 3406, less 0.27 % for SKP
    /// ordered sets = 3397, rounded to 3400. Assumes the root complex returns 128 B completions
    /// (one returning 64 B would give 3000).
    pub to_device_mb_per_s: u64,
}

/// The network link of a storage node (its NIC and the switch port behind it), for a
/// cluster of nodes: the bytes one node's tasks read from another node's shuffle output, and
/// a query's result read by the client, cross it. Full duplex: each direction is its own
/// resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkLink {
    /// Usable payload bandwidth of one node's link, each direction. Unit: MB/s. Default 1170.
    /// Source: **derived** for 10 Gigabit Ethernet (IEEE 802.3ae, 10 Gb/s = 1250 MB/s on the
    /// wire) carrying TCP over IPv4 with a 1500-byte MTU: a full frame occupies 1538 bytes on
    /// the wire (preamble and start delimiter 8, Ethernet header 14, payload 1500, FCS 4,
    /// inter-frame gap 12) and carries 1448 bytes of data (less 20 IPv4, 20 TCP and 12 of TCP
    /// timestamps), so 1250 x 1448 / 1538 = 1176.9, rounded down to 1170. ACKs in the other
    /// direction are neglected.
    pub bandwidth_mb_per_s: u64,
    /// Time from a node asking another for data to the first byte arriving: one request and
    /// response over kernel TCP through one switch. Unit: ns. Default 30000. Source: assumed
    /// (request/response round trips over 10 GbE with the kernel's TCP stack are commonly
    /// measured at 20-50 us; the serialization time of the bytes is charged separately).
    pub round_trip_ns: u64,
}

/// The embedded cores that run SSDlets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArmCores {
    /// Cores available to SSDlets. Unit: count. Default 2. Source: Biscuit slides ("Two ARM
    /// Cortex R7 cores @ 750MHz with L1 cache").
    pub cores: u32,
    /// Core clock. Unit: MHz. Default 750. Source: Biscuit slides. It enters the model through
    /// `arm_slowdown`'s derivation ([`ArmCores::slowdown_for`]).
    pub clock_mhz: u32,
    /// How much slower a device core runs the same code than the reference host core, the
    /// machine the simulator's cost coefficients are calibrated on and where host CPU time is
    /// measured; measured (or modelled) reference-core time is multiplied by this.
    /// Unit: factor. Default 20.0 (`tiny` keeps its own 10.0, a round number for tests).
    ///
    /// Source: **derived** from per-clock Dhrystone figures and the two clocks:
    /// `arm_slowdown = (host DMIPS/MHz x host MHz) / (device DMIPS/MHz x clock_mhz)`
    /// = (14.9 x 2450) / (2.50 x 750) = 19.47, rounded to one significant figure, 20 (the
    /// inputs are good to no better than +-25 %). The inputs:
    ///
    /// - device: ARM Cortex-R7, **2.50 DMIPS/MHz** (ARM's figure for the core, as reported in
    ///   Electronic Design, "Multicore Processor Tackles SMP, AMP and Lock Step Mode", 2011),
    ///   at `clock_mhz` = 750 (Biscuit slides);
    /// - host: the reference core is an AMD EPYC Zen 3 (Milan, family 25 model 1) vCPU at
    ///   2450 MHz (lscpu: BogoMIPS 4890 = 2 x 2445 MHz). No vendor publishes DMIPS/MHz for
    ///   Zen 3; **14.9 DMIPS/MHz is an estimate**: 10.6 DMIPS/MHz per core listed for the first
    ///   Zen (Ryzen 7 1800X: 304,510 Dhrystone MIPS at 3.6 GHz on 8 cores with SMT, in
    ///   Wikipedia's "Instructions per second" table; not re-verified here) times AMD's
    ///   published generational IPC gains (Zen+ +3 %, Zen 2 +15 %, Zen 3 +19 %: x1.41).
    ///
    /// Dhrystone is a small integer benchmark that fits in L1 and flatters compilers; the
    /// factor says nothing about memory-bound code, where the R7's small caches and the
    /// device DRAM make the real slowdown larger.
    pub arm_slowdown: f64,
}

/// Device memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceMemory {
    /// Device DRAM available to SSDlets (the per-device budget applications share).
    /// Unit: bytes. Default 1073741824 (1 GiB). Source: Biscuit slides ("DRAM >= 1 GiB"; the
    /// lower bound is taken).
    pub dram_bytes: u64,
    /// On-chip SRAM. Unit: bytes. Default 786432 (768 KiB). Source: the Biscuit slides say
    /// "On-chip SRAM < 1 MiB"; the value 768 KiB under that bound is assumed.
    pub sram_bytes: u64,
    /// Copy bandwidth inside device DRAM (charged to messages between SSDlets).
    /// Unit: MB/s. Default 4000. Source: assumed (a 32-bit DDR3 controller).
    pub dram_copy_mb_per_s: u64,
}

/// Limits of the key-based pattern matcher on each channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatcherLimits {
    /// Keys one scan may carry. Unit: count. Default 3. Source: assumed (the slides do not say).
    pub max_keys: u32,
    /// Longest key. Unit: bytes. Default 16. Source: assumed.
    pub max_key_bytes: u32,
    /// Extra time per page the matcher adds after the channel transfer. Unit: ns. Default 0.
    /// Source: assumed (the matcher keeps up with its channel). The Biscuit slides only say
    /// "Key-based pattern matcher per channel"; no throughput is published.
    pub ns_per_page: u64,
}

/// Per-clock Dhrystone figure of the ARM Cortex-R7 (DMIPS/MHz), ARM's published value.
pub const CORTEX_R7_DMIPS_PER_MHZ: f64 = 2.50;

/// Clock of the reference host core the cost coefficients are calibrated on (MHz): an AMD
/// EPYC Zen 3 (Milan) vCPU, lscpu BogoMIPS 4890 = 2 x 2445 MHz.
pub const REFERENCE_HOST_MHZ: f64 = 2450.0;

/// Per-clock Dhrystone figure of the reference host core (DMIPS/MHz per core). An
/// **estimate**, see [`ArmCores::arm_slowdown`]: 10.6 (first Zen) x 1.41 (AMD's IPC gains to
/// Zen 3).
pub const REFERENCE_HOST_DMIPS_PER_MHZ: f64 = 14.9;

impl ArmCores {
    /// The slowdown these cores have against a host core: `(host_dmips_per_mhz x host_mhz) /
    /// (core_dmips_per_mhz x clock_mhz)`, the derivation of `arm_slowdown`.
    pub fn slowdown_for(&self, host_dmips_per_mhz: f64, host_mhz: f64, core_dmips_per_mhz: f64) -> f64 {
        (host_dmips_per_mhz * host_mhz) / (core_dmips_per_mhz * f64::from(self.clock_mhz))
    }
}

/// Power of the host and the device, for the energy model ([`crate::energy`]). The `pm1725`
/// values describe Biscuit's setup: a Dell PowerEdge R720 with two Intel Xeon E5-2640 and
/// 64 GiB of DRAM (Biscuit slides), and the PM1725.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PowerModel {
    /// Host CPU packages (sockets). Unit: count. Default 2. Source: Biscuit slides ("2 Intel
    /// Xeon(R) CPU E5-2640").
    pub host_sockets: u32,
    /// Physical cores per package. Unit: count. Default 6. Source: Intel's E5-2640
    /// specification (6 cores, 12 threads; the slides say "12 threads per socket").
    pub host_cores_per_socket: u32,
    /// Power of one package with every core busy. Unit: W. Default 95.0. Source: the E5-2640's
    /// TDP, 95 W (Intel's specification); taking full-load package power as the TDP is assumed.
    pub host_package_active_w: f64,
    /// Power of one package with every core idle (deep C-states). Unit: W. Default 12.0.
    /// Source: assumed (no published idle figure for the E5-2640; Sandy Bridge-EP packages
    /// idle at roughly a tenth of TDP). Between idle and active, power is linear in the number
    /// of busy cores: each busy core adds (active - idle) / cores_per_socket, 13.8 W.
    pub host_package_idle_w: f64,
    /// Host DRAM power, charged for the whole run whatever the traffic. Unit: W. Default 24.0.
    /// Source: assumed: 64 GiB (Biscuit slides) as eight 8 GiB DDR3 RDIMMs at ~3 W each.
    pub host_dram_w: f64,
    /// The drive at idle: controller, its cores, its DRAM and the NAND in standby. Unit: W.
    /// Default 8.0. Source: PM1725a 2.5" (PCIe 3.0 x4) idle power, 8 W (AnandTech's PM1725a
    /// specification table, from Samsung; its maximum is 23 W). Biscuit's PM1725 is the
    /// previous model; its figure is not published.
    pub ssd_idle_w: f64,
    /// Extra power of one busy SSDlet core (Cortex-R7 at `arm.clock_mhz`) over idle. Unit: W.
    /// Default 0.2. Source: assumed (~0.25 mW/MHz x 750 MHz for a 2011-era R-class core; ARM
    /// publishes no Cortex-R7 power figure that was found).
    pub arm_core_busy_w: f64,
    /// Energy of one NAND page read (tR) in the array. Unit: uJ. Default 5.4. Source:
    /// **derived**: typical ONFI-class datasheet read current ICC1 = 25 mA at VCC = 3.3 V for
    /// tR = 65 us: 3.3 x 0.025 x 65e-6 = 5.4 uJ (the current is assumed typical; the channel
    /// transfer is not included).
    pub nand_read_page_uj: f64,
    /// Energy of one NAND page program. Unit: uJ. Default 54.5. Source: **derived** like the
    /// read: ICC2 = 25 mA at 3.3 V for tPROG = 660 us: 54.5 uJ.
    pub nand_program_page_uj: f64,
    /// Energy of one block erase. Unit: uJ. Default 289.0. Source: **derived** like the read:
    /// ICC3 = 25 mA at 3.3 V for tBERS = 3.5 ms: 289 uJ.
    pub nand_erase_block_uj: f64,
    /// Energy of moving one payload bit over the PCIe link, both ends together. Unit: pJ/bit.
    /// Default 10.0. Source: assumed (8 Gb/s SerDes are reported at roughly 5 pJ/bit per end).
    pub pcie_pj_per_bit: f64,
    /// Energy of one 4 KiB page through a channel's pattern matcher. Unit: nJ. Default 4.1.
    /// Source: assumed (1 pJ per byte compared: 4096 x 1 pJ; nothing is published on
    /// Biscuit's matcher).
    pub matcher_nj_per_page: f64,
}

impl Default for DeviceProfile {
    fn default() -> Self {
        DeviceProfile::pm1725()
    }
}

macro_rules! default_from_pm1725 {
    ($($ty:ident => $field:ident),* $(,)?) => {
        $(impl Default for $ty {
            fn default() -> Self {
                DeviceProfile::pm1725().$field
            }
        })*
    };
}
default_from_pm1725!(
    Geometry => geometry,
    NandTiming => nand,
    Controller => controller,
    HostStack => host,
    PcieLink => pcie,
    NetworkLink => network,
    ArmCores => arm,
    DeviceMemory => memory,
    MatcherLimits => matcher,
    PowerModel => power,
);

/// Largest profile file read, in bytes (a profile is a few KiB of TOML).
pub const MAX_PROFILE_BYTES: u64 = 1 << 20;

impl DeviceProfile {
    /// Names of the built-in profiles.
    pub const BUILTINS: [&'static str; 2] = ["pm1725", "tiny"];

    /// Samsung PM1725 as used by Biscuit (ISCA'16), calibrated to its published figures.
    pub fn pm1725() -> Self {
        DeviceProfile {
            name: "pm1725".into(),
            geometry: Geometry {
                channels: 16,
                dies_per_channel: 5,
                planes_per_die: 2,
                blocks_per_plane: 1024,
                pages_per_block: 512,
                page_bytes: 16384,
                over_provisioning: 0.27,
            },
            nand: NandTiming {
                read_ns: 65_000,
                program_ns: 660_000,
                erase_ns: 3_500_000,
                channel_mb_per_s: 800,
            },
            controller: Controller {
                firmware_ns: 5_780,
                firmware_cores: 6,
                max_transfer_bytes: 1 << 20,
                max_io_queues: 64,
                max_queue_depth: 1024,
            },
            host: HostStack {
                io_stack_ns: 12_858,
                cores: 12,
                copy_mb_per_s: 25_000,
            },
            pcie: PcieLink {
                to_host_mb_per_s: 3300,
                to_device_mb_per_s: 3400,
            },
            network: NetworkLink {
                bandwidth_mb_per_s: 1170,
                round_trip_ns: 30_000,
            },
            arm: ArmCores {
                cores: 2,
                clock_mhz: 750,
                arm_slowdown: 20.0,
            },
            memory: DeviceMemory {
                dram_bytes: 1 << 30,
                sram_bytes: 768 << 10,
                dram_copy_mb_per_s: 4000,
            },
            matcher: MatcherLimits {
                max_keys: 3,
                max_key_bytes: 16,
                ns_per_page: 0,
            },
            power: PowerModel {
                host_sockets: 2,
                host_cores_per_socket: 6,
                host_package_active_w: 95.0,
                host_package_idle_w: 12.0,
                host_dram_w: 24.0,
                ssd_idle_w: 8.0,
                arm_core_busy_w: 0.2,
                nand_read_page_uj: 5.4,
                nand_program_page_uj: 54.5,
                nand_erase_block_uj: 289.0,
                pcie_pj_per_bit: 10.0,
                matcher_nj_per_page: 4.1,
            },
        }
    }

    /// A small, fast device for tests: 64 MiB raw, round timing numbers that are easy to derive
    /// by hand (host 4 KiB read = 10 + 5 + 50 + 10.24 + 4.096 us = 79.336 us).
    pub fn tiny() -> Self {
        DeviceProfile {
            name: "tiny".into(),
            geometry: Geometry {
                channels: 4,
                dies_per_channel: 2,
                planes_per_die: 1,
                blocks_per_plane: 32,
                pages_per_block: 16,
                page_bytes: 16384,
                over_provisioning: 0.25,
            },
            nand: NandTiming {
                read_ns: 50_000,
                program_ns: 500_000,
                erase_ns: 3_000_000,
                channel_mb_per_s: 400,
            },
            controller: Controller {
                firmware_ns: 5_000,
                firmware_cores: 2,
                max_transfer_bytes: 128 << 10,
                max_io_queues: 8,
                max_queue_depth: 64,
            },
            host: HostStack {
                io_stack_ns: 10_000,
                cores: 4,
                copy_mb_per_s: 10_000,
            },
            pcie: PcieLink {
                to_host_mb_per_s: 1000,
                to_device_mb_per_s: 1000,
            },
            // Round figures: 1 GB/s and 10 us.
            network: NetworkLink {
                bandwidth_mb_per_s: 1000,
                round_trip_ns: 10_000,
            },
            arm: ArmCores {
                cores: 2,
                clock_mhz: 750,
                arm_slowdown: 10.0,
            },
            memory: DeviceMemory {
                dram_bytes: 64 << 20,
                sram_bytes: 256 << 10,
                dram_copy_mb_per_s: 4000,
            },
            matcher: MatcherLimits {
                max_keys: 3,
                max_key_bytes: 16,
                ns_per_page: 0,
            },
            // The same host and component powers as pm1725.
            power: DeviceProfile::pm1725().power,
        }
    }

    /// A built-in profile by name (`pm1725`, `tiny`).
    pub fn builtin(name: &str) -> Option<Self> {
        match name {
            "pm1725" => Some(Self::pm1725()),
            "tiny" => Some(Self::tiny()),
            _ => None,
        }
    }

    /// A built-in name, or else a path to a TOML file. The result is validated.
    pub fn load(name_or_path: &str) -> Result<Self, ProfileError> {
        if let Some(p) = Self::builtin(name_or_path) {
            return Ok(p);
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            return Err(ProfileError::Unknown(name_or_path.to_string()));
        }
        Self::from_toml_file(path)
    }

    /// Reads and validates a TOML profile file (a regular file of at most
    /// [`MAX_PROFILE_BYTES`]: `/dev/zero` or a huge file is refused, not read).
    pub fn from_toml_file(path: &Path) -> Result<Self, ProfileError> {
        use std::io::Read;
        let io = |source| ProfileError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() || meta.len() > MAX_PROFILE_BYTES {
            return Err(ProfileError::Parse {
                path: path.display().to_string(),
                message: format!(
                    "expected a regular TOML file of at most {MAX_PROFILE_BYTES} bytes, found {}",
                    if meta.is_file() {
                        format!("{} bytes", meta.len())
                    } else {
                        "something that is not a regular file".to_owned()
                    }
                ),
            });
        }
        let mut text = String::new();
        file.take(MAX_PROFILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        Self::from_toml_str(&text).map_err(|e| match e {
            ProfileError::Parse { message, .. } => ProfileError::Parse {
                path: path.display().to_string(),
                message,
            },
            other => other,
        })
    }

    /// Parses and validates a profile from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self, ProfileError> {
        let profile: DeviceProfile = toml::from_str(text).map_err(|e| ProfileError::Parse {
            path: "<string>".into(),
            message: e.message().to_string(),
        })?;
        profile.validate()?;
        Ok(profile)
    }

    /// [`DeviceProfile::load`], then each `section.key=value` of `sets` applied in order with
    /// [`DeviceProfile::set`] (the programs' `--set` option).
    pub fn load_with(name_or_path: &str, sets: &[String]) -> Result<Self, ProfileError> {
        let mut p = Self::load(name_or_path)?;
        for a in sets {
            let (key, value) = a
                .split_once('=')
                .ok_or_else(|| ProfileError::Assignment { given: a.clone() })?;
            p.set(key.trim(), value.trim())?;
        }
        Ok(p)
    }

    /// Sets one field from a string, as `ndp --set section.key=value` does: `key` is dotted
    /// (`nand.read_ns`, `arm.arm_slowdown`) or a top-level key (`name`). The value is read as
    /// TOML (an integer, a float, a boolean, a quoted string); an integer is accepted for a
    /// float field (`arm.arm_slowdown=3`), and a string field takes the text as given when it is
    /// not a quoted TOML string. The result is validated; on any error the profile is left
    /// unchanged.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ProfileError> {
        let mut root = toml::Value::try_from(&*self).expect("a DeviceProfile always serialises to TOML");
        let table = root
            .as_table_mut()
            .expect("a DeviceProfile serialises to a TOML table");
        let slot = settable_slot(table, key)?;
        *slot = coerce(key, value, slot)?;
        let profile: DeviceProfile =
            root.try_into()
                .map_err(|e: toml::de::Error| ProfileError::WrongType {
                    key: key.to_string(),
                    value: value.to_string(),
                    expected: format!("a value this field accepts ({})", e.message().trim()),
                })?;
        profile.validate()?;
        *self = profile;
        Ok(())
    }

    /// Every key [`DeviceProfile::set`] accepts: top-level keys (`name`) and `section.key`.
    pub fn keys() -> Vec<String> {
        let root = toml::Value::try_from(DeviceProfile::pm1725()).expect("a DeviceProfile serialises");
        let mut keys = Vec::new();
        for (name, v) in root.as_table().expect("a DeviceProfile serialises to a table") {
            match v.as_table() {
                Some(section) => keys.extend(section.keys().map(|k| format!("{name}.{k}"))),
                None => keys.push(name.clone()),
            }
        }
        keys
    }

    /// The profile as TOML text (every field written out).
    pub fn to_toml_string(&self) -> String {
        toml::to_string_pretty(self).expect("a DeviceProfile always serialises to TOML")
    }

    // INVARIANT(sim-no-panic-on-input): a bad profile is a ProfileError, never a panic
    /// Checks every field the model divides by or sizes tables with.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let bad = |field: &'static str, value: String, expected: &'static str| {
            Err(ProfileError::Invalid {
                profile: self.name.clone(),
                field,
                value,
                expected,
            })
        };
        let g = &self.geometry;
        for (field, v) in [
            ("geometry.channels", g.channels),
            ("geometry.dies_per_channel", g.dies_per_channel),
            ("geometry.planes_per_die", g.planes_per_die),
            ("geometry.blocks_per_plane", g.blocks_per_plane),
            ("geometry.pages_per_block", g.pages_per_block),
            ("controller.firmware_cores", self.controller.firmware_cores),
            ("arm.cores", self.arm.cores),
            ("host.cores", self.host.cores),
            ("matcher.max_keys", self.matcher.max_keys),
            ("matcher.max_key_bytes", self.matcher.max_key_bytes),
        ] {
            if v == 0 {
                return bad(field, v.to_string(), "at least 1");
            }
        }
        for (field, v) in [("arm.cores", self.arm.cores), ("host.cores", self.host.cores)] {
            if v > 1024 {
                return bad(field, v.to_string(), "at most 1024");
            }
        }
        if self.host.copy_mb_per_s == 0 {
            return bad("host.copy_mb_per_s", "0".to_owned(), "at least 1");
        }
        if self.memory.dram_bytes < 1 << 20 {
            return bad(
                "memory.dram_bytes",
                self.memory.dram_bytes.to_string(),
                "at least 1048576 (1 MiB: SSDlets need device DRAM)",
            );
        }
        if g.page_bytes == 0 || u64::from(g.page_bytes) % LBA_BYTES != 0 || g.page_bytes > 65536 {
            return bad(
                "geometry.page_bytes",
                g.page_bytes.to_string(),
                "a multiple of 4096, at most 65536",
            );
        }
        if !(0.02..=0.5).contains(&g.over_provisioning) {
            return bad(
                "geometry.over_provisioning",
                g.over_provisioning.to_string(),
                "a fraction between 0.02 and 0.5",
            );
        }
        let blocks = u64::from(g.channels)
            * u64::from(g.dies_per_channel)
            * u64::from(g.planes_per_die)
            * u64::from(g.blocks_per_plane);
        let dies = u64::from(g.channels) * u64::from(g.dies_per_channel);
        let sectors = blocks * u64::from(g.pages_per_block) * (u64::from(g.page_bytes) / LBA_BYTES);
        if sectors >= u64::from(u32::MAX) {
            return bad(
                "geometry",
                format!("{sectors} physical 4 KiB sectors"),
                "fewer than 2^32 sectors (16 TiB raw)",
            );
        }
        if blocks < dies * 4 {
            return bad(
                "geometry.blocks_per_plane",
                g.blocks_per_plane.to_string(),
                "at least 4 blocks per die in total (garbage collection needs spares)",
            );
        }
        // GC keeps up to 2 * dies + 2 blocks free and one block open per die: the spare
        // capacity must cover that, with room to spare for victims with invalid data.
        let spare = (blocks as f64 * g.over_provisioning) as u64;
        if spare < 4 * dies + 2 {
            return bad(
                "geometry.over_provisioning",
                g.over_provisioning.to_string(),
                "enough spare blocks for garbage collection (at least 4 per die plus 2)",
            );
        }
        let mt = self.controller.max_transfer_bytes;
        if mt == 0 || u64::from(mt) % LBA_BYTES != 0 {
            return bad(
                "controller.max_transfer_bytes",
                mt.to_string(),
                "a non-zero multiple of 4096",
            );
        }
        if self.controller.max_queue_depth < 2 {
            return bad(
                "controller.max_queue_depth",
                self.controller.max_queue_depth.to_string(),
                "at least 2",
            );
        }
        for (field, v) in [
            ("nand.channel_mb_per_s", self.nand.channel_mb_per_s),
            ("pcie.to_host_mb_per_s", self.pcie.to_host_mb_per_s),
            ("pcie.to_device_mb_per_s", self.pcie.to_device_mb_per_s),
            ("memory.dram_copy_mb_per_s", self.memory.dram_copy_mb_per_s),
            ("network.bandwidth_mb_per_s", self.network.bandwidth_mb_per_s),
        ] {
            if v == 0 {
                return bad(field, v.to_string(), "a bandwidth of at least 1 MB/s");
            }
        }
        let pw = &self.power;
        for (field, v) in [
            ("power.host_sockets", pw.host_sockets),
            ("power.host_cores_per_socket", pw.host_cores_per_socket),
        ] {
            if v == 0 {
                return bad(field, v.to_string(), "at least 1");
            }
        }
        for (field, v) in [
            ("power.host_package_active_w", pw.host_package_active_w),
            ("power.host_package_idle_w", pw.host_package_idle_w),
            ("power.host_dram_w", pw.host_dram_w),
            ("power.ssd_idle_w", pw.ssd_idle_w),
            ("power.arm_core_busy_w", pw.arm_core_busy_w),
            ("power.nand_read_page_uj", pw.nand_read_page_uj),
            ("power.nand_program_page_uj", pw.nand_program_page_uj),
            ("power.nand_erase_block_uj", pw.nand_erase_block_uj),
            ("power.pcie_pj_per_bit", pw.pcie_pj_per_bit),
            ("power.matcher_nj_per_page", pw.matcher_nj_per_page),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(field, v.to_string(), "a finite, non-negative number");
            }
        }
        if pw.host_package_active_w < pw.host_package_idle_w {
            return bad(
                "power.host_package_active_w",
                pw.host_package_active_w.to_string(),
                "at least power.host_package_idle_w",
            );
        }
        if !(self.arm.arm_slowdown.is_finite() && self.arm.arm_slowdown > 0.0) {
            return bad(
                "arm.arm_slowdown",
                self.arm.arm_slowdown.to_string(),
                "a positive factor",
            );
        }
        Ok(())
    }

    /// Logical blocks (4 KiB) in one NAND page.
    pub fn sectors_per_page(&self) -> u32 {
        self.geometry.page_bytes / LBA_BYTES as u32
    }

    /// Time to move `bytes` over one NAND channel.
    pub fn channel_time(&self, bytes: u64) -> SimDuration {
        SimDuration::for_bytes(bytes, self.nand.channel_mb_per_s)
    }
}

/// The value [`DeviceProfile::set`] replaces: a leaf of the serialised profile.
fn settable_slot<'a>(table: &'a mut toml::Table, key: &str) -> Result<&'a mut toml::Value, ProfileError> {
    let unknown = |valid: Vec<String>| ProfileError::UnknownKey {
        key: key.to_string(),
        valid,
    };
    let top_level = |t: &toml::Table| t.keys().cloned().collect::<Vec<_>>();
    let mut parts = key.split('.');
    let first = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let Some(entry) = table.get(first) else {
        return Err(unknown(top_level(table)));
    };
    let Some(section) = entry.as_table() else {
        // A top-level leaf (`name`): nothing may follow it.
        return if rest.is_empty() {
            Ok(table.get_mut(first).expect("looked up above"))
        } else {
            Err(unknown(top_level(table)))
        };
    };
    let section_keys = || section.keys().map(|k| format!("{first}.{k}")).collect::<Vec<_>>();
    match rest.as_slice() {
        [field] if section.get(*field).is_some_and(|v| !v.is_table()) => Ok(table
            .get_mut(first)
            .and_then(|s| s.as_table_mut())
            .and_then(|s| s.get_mut(*field))
            .expect("looked up above")),
        _ => Err(unknown(section_keys())),
    }
}

/// `value` read as TOML and checked against the type of the value it replaces.
fn coerce(key: &str, value: &str, old: &toml::Value) -> Result<toml::Value, ProfileError> {
    let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"));
    let new = match (old, parsed) {
        (toml::Value::Float(_), Some(toml::Value::Integer(i))) => toml::Value::Float(i as f64),
        (toml::Value::String(_), Some(v @ toml::Value::String(_))) => v,
        (toml::Value::String(_), _) => toml::Value::String(value.to_string()),
        (old, Some(v)) if v.same_type(old) => v,
        (old, _) => {
            let kind = old.type_str();
            let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            return Err(ProfileError::WrongType {
                key: key.to_string(),
                value: value.to_string(),
                expected: format!("{article} {kind}"),
            });
        }
    };
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pm1725_slowdown_is_its_derivation_rounded() {
        let arm = DeviceProfile::pm1725().arm;
        let derived = arm.slowdown_for(
            REFERENCE_HOST_DMIPS_PER_MHZ,
            REFERENCE_HOST_MHZ,
            CORTEX_R7_DMIPS_PER_MHZ,
        );
        assert!((derived - 19.47).abs() < 0.01, "{derived}");
        // One significant figure: the inputs are estimates.
        assert_eq!(arm.arm_slowdown, (derived / 10.0).round() * 10.0);
    }

    #[test]
    fn builtins_validate() {
        for name in DeviceProfile::BUILTINS {
            DeviceProfile::builtin(name).unwrap().validate().unwrap();
        }
    }

    #[test]
    fn toml_round_trip_and_partial_override() {
        let p = DeviceProfile::tiny();
        let back = DeviceProfile::from_toml_str(&p.to_toml_string()).unwrap();
        assert_eq!(p, back);
        let partial = DeviceProfile::from_toml_str("name = \"x\"\n[nand]\nread_ns = 1\n").unwrap();
        assert_eq!(partial.nand.read_ns, 1);
        assert_eq!(partial.nand.program_ns, DeviceProfile::pm1725().nand.program_ns);
        assert_eq!(partial.geometry, DeviceProfile::pm1725().geometry);
    }

    #[test]
    fn unknown_key_is_refused() {
        let err = DeviceProfile::from_toml_str("[nand]\nread_us = 1\n").unwrap_err();
        assert!(err.to_string().contains("read_us"), "{err}");
    }

    #[test]
    fn invalid_value_names_field() {
        let err = DeviceProfile::from_toml_str("[geometry]\npage_bytes = 5000\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("geometry.page_bytes") && msg.contains("5000"),
            "{msg}"
        );
    }

    #[test]
    fn zero_dram_and_non_files_are_refused() {
        let err = DeviceProfile::from_toml_str("[memory]\ndram_bytes = 0\n").unwrap_err();
        assert!(err.to_string().contains("memory.dram_bytes"), "{err}");
        // A device node is refused before anything is read (it would never end).
        let err = DeviceProfile::load("/dev/zero").unwrap_err();
        assert!(err.to_string().contains("regular TOML file"), "{err}");
        let dir = std::env::temp_dir();
        let err = DeviceProfile::from_toml_file(&dir).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn unknown_name_is_refused() {
        let err = DeviceProfile::load("no-such-profile").unwrap_err();
        assert!(matches!(err, ProfileError::Unknown(_)));
    }
}
