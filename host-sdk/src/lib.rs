//! The host side of the framework: the host API, mirroring Biscuit's, over an embedded device
//! (feature `embedded`, the default: [`embedded`]) or `ndp serve` ([`Device::connect`]).
//!
//! | Biscuit (C++) | here |
//! |---|---|
//! | `SSD ssd(dev)` | [`Device::embedded`], or [`Device::connect`] to `ndp serve` ([`daemon`]) |
//! | `ssd.loadModule(File(ssd, path))` | [`Device::load_module`] -> [`Module`] |
//! | `Application app(ssd)` | [`Application::new`] |
//! | `SSDLet s(app, mid, "id", make_tuple(File(ssd, name)))` | [`Application::ssdlet`] with [`Device::file`] |
//! | `app.connect(a.out(0), b.in(0))` | [`Application::connect`] (`a.out(0)`, `b.input(0)`, or by name) |
//! | `app.connectTo<T>(s.out(0))` / `port.get(v)` | [`Application::connect_to`] -> [`HostReceiver::get`] |
//! | `app.connectFrom<T>(s.in(0))` / `port.put(v)` | [`Application::connect_from`] -> [`HostSender::put`] |
//! | `app.start()`, `app.wait()` | [`Application::start`], [`Application::wait`] -> [`RunReport`] |
//! | `ssd.unloadModule(mid)` | [`Device::unload_module`] |
//!
//! Files: [`Device::put_file`], [`Device::get_file`], [`Device::list_files`],
//! [`Device::remove_file`]. The conventional path: [`Device::host_file`] ([`HostFile::pread`]
//! at queue depth 1, [`HostFile::scan`] deep) on the same host clock ([`Device::now`],
//! [`Device::compute`]).
//!
//! Biscuit's wordcount host program:
//!
//! ```
//! use host_sdk::{Application, Device, ImageSpec};
//! # use sim_nvme::DeviceProfile;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let modules = ssdlet_module_build::build(ssdlet_module_build::Profile::Debug)?;
//! # let module_path = modules.path("ssdlet-wordcount");
//! # let ssd = Device::embedded(DeviceProfile::tiny(), ImageSpec::Memory)?;
//! # ssd.put_bytes("input.txt", b"the cat saw the dog\nthe end\n")?;
//! # let argv = ["wordcount", "input.txt"];
//! # let mut out = std::collections::BTreeMap::new();
//! // let ssd = Device::embedded(profile, ImageSpec::File("/var/isc/ssd.img".into()))?;
//! let mid = ssd.load_module(&module_path)?;
//!
//! let wordcount = Application::new(&ssd);
//! let args = (ssd.file(argv[1]),);
//! let mapper = wordcount.ssdlet(&mid, "mapper", args)?;
//! let shuffler = wordcount.ssdlet(&mid, "shuffler2", ())?;
//! let reducer = wordcount.ssdlet(&mid, "reducer", ())?;
//! let reducer2 = wordcount.ssdlet(&mid, "reducer", ())?;
//!
//! wordcount.connect(mapper.out(0), shuffler.input(0))?;
//! wordcount.connect(shuffler.out(0), reducer.input(0))?;
//! wordcount.connect(shuffler.out(1), reducer2.input(0))?;
//! let mut port = wordcount.connect_to::<Vec<(String, u64)>>(reducer.out(0))?;
//! let mut port2 = wordcount.connect_to::<Vec<(String, u64)>>(reducer2.out(0))?;
//!
//! wordcount.start()?;
//! while let Some(values) = port.get().or_else(|| port2.get()) {
//!     for (word, count) in values {
//!         println!("{word}\t{count}");
//! #       out.insert(word, count);
//!     }
//! }
//! # if let Some(e) = port.take_error().or(port2.take_error()) { return Err(e.into()); }
//! let report = wordcount.wait()?;
//! ssd.unload_module(mid)?;
//! # assert_eq!(out["the"], 3);
//! # assert_eq!(out.len(), 5);
//! # assert!(report.elapsed.0 > 0);
//! # Ok(()) }
//! ```
//!
//! The module's `shuffler2` routes words to two reducers (Biscuit's has one shuffler output
//! per reducer); the host reads both reducers' outputs.

mod app;
mod arg;
mod conv;
pub mod cpu;
pub mod daemon;
mod device;
// INVARIANT(embedded-is-a-feature): the firmware (device-runtime) only with feature `embedded`
#[cfg(feature = "embedded")]
pub mod embedded;
mod error;
mod files;
mod logs;
mod module;
mod port;
mod ssdlet;
mod transport;

pub use app::Application;
pub use arg::{Arg, IntoArgs};
pub use conv::{HostFile, ReadAhead, ScanCache, ScanReport};
pub use device::Device;
#[cfg(feature = "embedded")]
pub use embedded::ImageSpec;
pub use error::{Error, Result};
pub use files::{FileInfo, CHUNK};
pub use logs::{LogBatch, LogLevel, LogLine, UnknownLogLevel};
pub use module::Module;
pub use port::{Encoded, HostReceiver, HostSender, RECV_BATCH};
pub use ssdlet::{InPort, OutPort, PortSel, SsdletInstance};

#[cfg(feature = "embedded")]
pub use device_runtime::runtime::RuntimeConfig;
pub use ndp_protocol::{
    AppConfig, CostSource, ErrorKind, ModuleMeta, Placement, PortReport, RunReport, Site, SsdletMeta,
    SsdletReport, WorkCounts,
};
pub use sim_nvme::{DeviceProfile, SimDuration, SimTime};
/// Message types of host ports: the same trait, signatures and `message!` as SSDlets use, so
/// a type crate shared by a module and its host program is declared once.
pub use ssdlet_sdk::{message, Message, TypeSig};
