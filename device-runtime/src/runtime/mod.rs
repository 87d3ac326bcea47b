//! [`Runtime`]: the device runtime. It owns the simulated SSD (behind its NVMe controller)
//! and its file namespace, runs Applications (graphs of SSDlet instances) on the profile's
//! simulated ARM cores with a discrete-event scheduler ([`sched`]), and reports on each run ([`report`]).
//!
//! Lifecycle: create files from the host side ([`Runtime::create_file`]), create an
//! Application ([`Runtime::create_app`]), spawn instances into it, connect ports (inside
//! the Application, to another Application, or to the host), [`Runtime::start`] it,
//! [`Runtime::run`] the device until it is idle, and read the [`RunReport`].
//!
//! ```no_run
//! use device_runtime::runtime::{AppConfig, ArgValue, Runtime, RuntimeConfig};
//! use device_runtime::loader::Loader;
//! use sim_nvme::DeviceProfile;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let loader = Loader::with_temp_staging()?;
//! let module = loader.load("target/modules/debug/libssdlet_testkit.so".as_ref())?;
//! let mut rt = Runtime::in_memory(DeviceProfile::tiny(), RuntimeConfig::default())?;
//! let file = rt.create_file("notes.txt", b"to be or not to be")?;
//! let app = rt.create_app("words", AppConfig::default());
//! let words = rt.spawn(app, &module.ssdlet("words")?, &[ArgValue::File(file)])?;
//! let out = rt.host_receiver(words, "words")?;
//! rt.start(app)?;
//! let report = rt.wait(app)?;
//! println!("{} words in {} ns", rt.recv::<(String, u32)>(out)?.len(), report.elapsed.0);
//! # Ok(()) }
//! ```

mod args;
mod config;
mod error;
mod hostio;
mod liveness;
mod report;
mod sched;
mod spawn;

use std::cell::{Cell, RefCell};
use std::collections::BinaryHeap;
use std::rc::Rc;

use sim_nvme::{DeviceProfile, Lba, SimDuration, SimTime, Ssd, LBA_BYTES};
use ssdlet_abi::MatcherLimits;

use crate::fiber::Fiber;
use crate::instance::{AppAccount, InstanceState};
use crate::loader::SsdletRef;
use crate::namespace::Namespace;
use crate::stacks::{StackPool, DEFAULT_POOLED_STACKS};
use crate::world::{Channel, ChannelId, FileBacking, HostEnd, LogLine, ServiceConfig, Slot, World};

pub use args::ArgValue;
pub use config::{AppConfig, Placement, RuntimeConfig, Site};
pub use error::{RuntimeError, SsdletError};
pub use hostio::Received;
pub use report::{PortReport, RunReport};

/// A file the runtime can hand to SSDlets as an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId(pub(crate) u64);

/// An SSDlet instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstanceId(pub(crate) usize);

/// An Application: a group of instances started, limited, aborted and reported together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AppId(pub(crate) usize);

/// A host-to-device port feeding an SSDlet input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SenderId(pub(crate) ChannelId);

/// A device-to-host port collecting an SSDlet output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReceiverId(pub(crate) ChannelId);

/// Lifecycle of an Application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AppState {
    Building,
    Running,
    Done,
}

// INVARIANT(staged-unique-path): `ssdlet` keeps the library open until the instance is gone
// Field order matters: the fiber is dropped before the state it points to, and before the
// module (library) whose code may be on its stack.
pub(crate) struct Instance {
    pub(crate) fiber: Option<Fiber>,
    pub(crate) state: Box<InstanceState>,
    pub(crate) ssdlet: SsdletRef,
    pub(crate) app: usize,
    pub(crate) core: usize,
    pub(crate) resumes: u64,
    pub(crate) outcome: Option<Result<(), SsdletError>>,
}

pub(crate) struct App {
    pub(crate) name: String,
    pub(crate) config: AppConfig,
    pub(crate) account: Rc<AppAccount>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) channels: Vec<ChannelId>,
    pub(crate) state: AppState,
    pub(crate) started_at: SimTime,
    pub(crate) finished_at: SimTime,
    pub(crate) unfinished: usize,
    pub(crate) failure: Option<SsdletError>,
    pub(crate) core_busy: Vec<SimDuration>,
}

/// The device runtime (module docs).
pub struct Runtime {
    // Instances first: their fibers go before the world their states point into.
    pub(crate) instances: Vec<Instance>,
    pub(crate) apps: Vec<App>,
    pub(crate) world: Rc<World>,
    pub(crate) namespace: Namespace,
    pub(crate) config: RuntimeConfig,
    /// Per core: the instant it is free; the device's ARM cores (`arm.cores`), then the
    /// host's cores for Applications at the host site (`host.cores`).
    pub(crate) cores: Vec<SimTime>,
    /// How many of `cores` are the device's.
    pub(crate) arm_cores: usize,
    /// Round-robin placement: the next core per site.
    pub(crate) next_core: usize,
    pub(crate) next_host_core: usize,
    /// The host's clock: advanced by host-side operations (file creation, sends).
    pub(crate) host_now: SimTime,
    /// Resumptions started so far: a device thread's watchdog sees progress in it.
    pub(crate) steps: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Stacks of finished fibers, for the next spawns (`config.stack_size` each).
    pub(crate) stacks: StackPool,
    /// Last: frees the large blocks kept for reuse once everything above has dropped.
    pub(crate) _blocks: crate::blocks::FreeKeptBlocks,
}

/// The most bytes one host `FileRead` returns: 4 MiB (assumed; the host SDK reads 1 MiB per
/// command).
pub const MAX_HOST_READ: u64 = 4 << 20;

impl Runtime {
    /// A runtime on `ssd`, loading its file namespace.
    pub fn new(mut ssd: Ssd, config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let profile = ssd.profile().clone();
        if profile.arm.cores == 0 {
            return Err(RuntimeError::NoCores(profile.name));
        }
        let (mut namespace, host_now) = Namespace::load(&mut ssd, SimTime::ZERO)?;
        // Interrupted puts: their staging files go, their blocks are free again.
        let (_, host_now) = namespace.reclaim_staged(&mut ssd, host_now)?;
        let compute = config.compute.clone().for_profile(&profile);
        let matcher = config.matcher.unwrap_or(MatcherLimits {
            max_keys: profile.matcher.max_keys,
            max_key_len: profile.matcher.max_key_bytes,
            page_size: LBA_BYTES as u32,
        });
        let world = Rc::new(World {
            channels: RefCell::new(Vec::new()),
            files: RefCell::new(Vec::new()),
            matcher,
            ssd: Rc::new(RefCell::new(ssd)),
            ready: RefCell::new(BinaryHeap::new()),
            seq: Cell::new(0),
            queued: RefCell::new(Vec::new()),
            config: ServiceConfig {
                compute,
                time_slice: config.time_slice,
                dram_copy_mb_per_s: profile.memory.dram_copy_mb_per_s,
                host_copy_mb_per_s: profile.host.copy_mb_per_s,
                read_chunk: config.read_chunk,
                readahead: config.readahead,
            },
            scratch: RefCell::new(Vec::new()),
            copied_bytes: Cell::new(0),
            adopted_bytes: Cell::new(0),
        });
        Ok(Runtime {
            instances: Vec::new(),
            apps: Vec::new(),
            world,
            namespace,
            cores: vec![host_now; profile.arm.cores as usize + profile.host.cores as usize],
            arm_cores: profile.arm.cores as usize,
            next_core: 0,
            next_host_core: 0,
            stacks: StackPool::new(config.stack_size, DEFAULT_POOLED_STACKS),
            _blocks: crate::blocks::FreeKeptBlocks,
            config,
            host_now,
            steps: Default::default(),
        })
    }

    /// A runtime on a fresh in-memory device with `profile`.
    pub fn in_memory(profile: DeviceProfile, config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let name = profile.name.clone();
        let ssd = Ssd::in_memory(profile).map_err(|e| RuntimeError::Profile {
            name,
            reason: e.to_string(),
        })?;
        Runtime::new(ssd, config)
    }

    /// The host's simulated clock.
    pub fn now(&self) -> SimTime {
        self.host_now
    }

    /// The simulated drive (for its stats and profile).
    pub fn ssd(&self) -> std::cell::Ref<'_, Ssd> {
        self.world.ssd.borrow()
    }

    /// The drive, shared: the firmware puts its NVMe controller in front of it.
    pub(crate) fn shared_ssd(&self) -> sim_nvme::nvme::SharedSsd {
        Rc::clone(&self.world.ssd)
    }

    /// The count of resumptions started so far (shared: a watchdog on another thread reads it;
    /// it stops moving while an SSDlet runs without yielding).
    pub fn steps(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        std::sync::Arc::clone(&self.steps)
    }

    /// The file namespace.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// Creates file `name` in the device namespace, writes `data` with host writes (over
    /// PCIe, from the host's clock) and commits the namespace. Returns the file's capability.
    pub fn create_file(&mut self, name: &str, data: &[u8]) -> Result<FileId, RuntimeError> {
        let entry = self.namespace.create(name, data.len() as u64)?.clone();
        let mut ssd = self.world.ssd();
        let max = u64::from(ssd.profile().controller.max_transfer_bytes.max(LBA_BYTES as u32));
        // Every write is issued at the host's clock (a deep queue); PCIe and NAND serialize.
        let at = self.host_now;
        let mut done = at;
        let mut off = 0u64;
        let mut block = Vec::new();
        let write_err = |source| RuntimeError::FileWrite {
            name: name.to_owned(),
            source,
        };
        for e in &entry.extents {
            let mut b = 0u64;
            while b < e.blocks {
                let n = (e.blocks - b).min(max / LBA_BYTES);
                let lo = off as usize;
                let hi = ((off + n * LBA_BYTES) as usize).min(data.len());
                let t = if hi - lo == (n * LBA_BYTES) as usize {
                    ssd.host_write(at, Lba(e.start.0 + b), &data[lo..hi])
                } else {
                    block.clear();
                    block.extend_from_slice(&data[lo..hi]);
                    block.resize((n * LBA_BYTES) as usize, 0);
                    ssd.host_write(at, Lba(e.start.0 + b), &block)
                }
                .map_err(write_err)?;
                done = done.max(t);
                off += n * LBA_BYTES;
                b += n;
            }
        }
        drop(ssd);
        let t = self.namespace.commit(&mut self.world.ssd(), done)?;
        self.host_now = t;
        Ok(self.push_file(FileBacking::Device(entry)))
    }

    /// The capability of an existing file of the namespace (e.g. one persisted earlier).
    pub fn open_file(&mut self, name: &str) -> Result<FileId, RuntimeError> {
        let entry = self.namespace.get(name)?.clone();
        Ok(self.push_file(FileBacking::Device(entry)))
    }

    /// Whether file handle `f` still stands for a file `who` may read as it is now: the same
    /// name, size and blocks, readable by `who` (a handle keeps the blocks it was opened with,
    /// so one of a removed, replaced or unshared file would reach blocks `who` may no longer
    /// read; INVARIANT(files-belong-to-tenants)). `who` `None` (the device owner): always.
    pub fn check_handle(&self, f: FileId, who: Option<ndp_protocol::Tenant>) -> Result<(), RuntimeError> {
        if who.is_none() {
            return Ok(());
        }
        let files = self.world.files.borrow();
        let Some(FileBacking::Device(entry)) = files.get(f.0 as usize) else {
            return Ok(()); // an unknown handle is refused at spawn, naming it
        };
        let now = self
            .namespace
            .check(&entry.name, who, ndp_protocol::tenant::Access::Read)?;
        if now.size != entry.size || now.extents != entry.extents {
            return Err(RuntimeError::StaleFile {
                id: f,
                name: entry.name.clone(),
            });
        }
        Ok(())
    }

    /// A file held in host memory, read without device time (for the test driver).
    #[cfg(feature = "testing")]
    pub(crate) fn add_memory_file(&mut self, bytes: Vec<u8>) -> FileId {
        self.push_file(FileBacking::Memory(bytes))
    }

    fn push_file(&mut self, f: FileBacking) -> FileId {
        let mut files = self.world.files.borrow_mut();
        files.push(f);
        FileId(files.len() as u64 - 1)
    }

    /// A new, empty Application.
    pub fn create_app(&mut self, name: &str, config: AppConfig) -> AppId {
        let config_site = config.site;
        let account = Rc::new(AppAccount {
            budget: config.dram_budget,
            ..AppAccount::default()
        });
        self.apps.push(App {
            name: name.to_owned(),
            config,
            account,
            slots: Vec::new(),
            channels: Vec::new(),
            state: AppState::Building,
            started_at: SimTime::ZERO,
            finished_at: SimTime::ZERO,
            unfinished: 0,
            failure: None,
            core_busy: vec![SimDuration::ZERO; self.site_cores(config_site).1],
        });
        AppId(self.apps.len() - 1)
    }

    /// The cores of `site`: the index of its first in `cores`, and how many.
    pub(crate) fn site_cores(&self, site: Site) -> (usize, usize) {
        match site {
            Site::Device => (0, self.arm_cores),
            Site::Host => (self.arm_cores, self.cores.len() - self.arm_cores),
        }
    }

    /// Where `app`'s SSDlets run (`None`: no such Application).
    pub fn site_of(&self, app: AppId) -> Option<Site> {
        self.apps.get(app.0).map(|a| a.config.site)
    }

    /// Where the SSDlets run of the Application instance `id` belongs to.
    pub fn site_of_instance(&self, id: InstanceId) -> Option<Site> {
        let i = self.instances.get(id.0)?;
        Some(self.apps[i.app].config.site)
    }

    /// Where the SSDlets run of the Application host port `port` (a sender's or a receiver's
    /// channel) belongs to.
    pub(crate) fn site_of_port(&self, port: ChannelId) -> Option<Site> {
        let chans = self.world.channels.borrow();
        let a = chans.get(port)?.apps.iter().flatten().next().copied()?;
        Some(self.apps[a].config.site)
    }

    pub(crate) fn app(&self, app: AppId) -> Result<&App, RuntimeError> {
        self.apps.get(app.0).ok_or(RuntimeError::NoSuchApp(app))
    }

    pub(crate) fn inst(&self, id: InstanceId) -> Result<&Instance, RuntimeError> {
        self.instances.get(id.0).ok_or(RuntimeError::NoSuchInstance(id))
    }

    fn building(&self, id: InstanceId, what: &'static str) -> Result<usize, RuntimeError> {
        let app = self.inst(id)?.app;
        if self.apps[app].state != AppState::Building {
            return Err(RuntimeError::AlreadyStarted {
                app: AppId(app),
                what,
            });
        }
        Ok(app)
    }

    fn new_channel(
        &mut self,
        capacity: usize,
        host: HostEnd,
        name: String,
        apps: [Option<usize>; 2],
    ) -> ChannelId {
        let mut chans = self.world.channels.borrow_mut();
        chans.push(Channel::new(capacity, host, name, apps));
        let ch = chans.len() - 1;
        for a in apps.into_iter().flatten() {
            self.apps[a].channels.push(ch);
        }
        ch
    }

    /// Connects output `out` of `from` to input `input` of `to` (the instances may belong to
    /// different Applications: an inter-application port). Refuses mismatched message types
    /// with both type names, and ports already connected.
    pub fn connect(
        &mut self,
        from: InstanceId,
        out: &str,
        to: InstanceId,
        input: &str,
    ) -> Result<(), RuntimeError> {
        let a_from = self.building(from, "connecting its ports")?;
        let a_to = self.building(to, "connecting its ports")?;
        // INVARIANT(sites-never-meet): a channel never joins the device and the host, whose
        // messages would cross PCIe uncharged
        let (s_from, s_to) = (self.apps[a_from].config.site, self.apps[a_to].config.site);
        if s_from != s_to {
            return Err(RuntimeError::CrossSite {
                from: self.instances[from.0].state.ssdlet.clone(),
                from_site: s_from,
                to: self.instances[to.0].state.ssdlet.clone(),
                to_site: s_to,
            });
        }
        let (oi, oty) = self.port_index(from, true, out)?;
        let (ii, ity) = self.port_index(to, false, input)?;
        // INVARIANT(ports-typed): checked before the channel exists
        crate::porttype::check_port_types(
            crate::porttype::PortDesc {
                ssdlet: &self.instances[from.0].state.ssdlet,
                port: out,
                ty: &oty,
            },
            crate::porttype::PortDesc {
                ssdlet: &self.instances[to.0].state.ssdlet,
                port: input,
                ty: &ity,
            },
        )?;
        self.check_free(from, true, oi, out)?;
        self.check_free(to, false, ii, input)?;
        let name = format!(
            "{}.{out} -> {}.{input}",
            self.instances[from.0].state.ssdlet, self.instances[to.0].state.ssdlet
        );
        let apps = [Some(a_from), (a_to != a_from).then_some(a_to)];
        let ch = self.new_channel(self.config.channel_capacity, HostEnd::None, name, apps);
        self.instances[from.0].state.outputs[oi] = Some(ch);
        self.instances[to.0].state.inputs[ii] = Some(ch);
        Ok(())
    }

    fn check_free(&self, id: InstanceId, output: bool, index: usize, port: &str) -> Result<(), RuntimeError> {
        let st = &self.instances[id.0].state;
        let taken = if output {
            st.outputs[index]
        } else {
            st.inputs[index]
        };
        if taken.is_some() {
            return Err(RuntimeError::PortInUse {
                ssdlet: st.ssdlet.clone(),
                dir: if output { "output" } else { "input" },
                port: port.to_owned(),
            });
        }
        Ok(())
    }

    /// A host-to-device port feeding input `input` of `to`. Messages cross PCIe.
    pub fn host_sender(&mut self, to: InstanceId, input: &str) -> Result<SenderId, RuntimeError> {
        let app = self.building(to, "connecting its ports")?;
        let (ii, _) = self.port_index(to, false, input)?;
        self.check_free(to, false, ii, input)?;
        let name = format!("host -> {}.{input}", self.instances[to.0].state.ssdlet);
        let ch = self.new_channel(usize::MAX, HostEnd::Sender, name, [Some(app), None]);
        self.instances[to.0].state.inputs[ii] = Some(ch);
        Ok(SenderId(ch))
    }

    /// A device-to-host port collecting output `out` of `from`. Messages cross PCIe.
    pub fn host_receiver(&mut self, from: InstanceId, out: &str) -> Result<ReceiverId, RuntimeError> {
        let app = self.building(from, "connecting its ports")?;
        let (oi, _) = self.port_index(from, true, out)?;
        self.check_free(from, true, oi, out)?;
        let name = format!("{}.{out} -> host", self.instances[from.0].state.ssdlet);
        let ch = self.new_channel(usize::MAX, HostEnd::Receiver, name, [Some(app), None]);
        self.instances[from.0].state.outputs[oi] = Some(ch);
        Ok(ReceiverId(ch))
    }

    fn host_channel(&self, ch: ChannelId, want: HostEnd) -> Result<(), RuntimeError> {
        let ok = self
            .world
            .channels
            .borrow()
            .get(ch)
            .is_some_and(|c| c.host == want);
        if ok {
            Ok(())
        } else {
            let dir = if want == HostEnd::Sender {
                "sender"
            } else {
                "receiver"
            };
            Err(RuntimeError::NoSuchHostPort { dir, id: ch })
        }
    }

    // INVARIANT(testing-feature-only): typed host send/recv are test-only API
    /// Sends `value` from the host at the host's clock; it reaches the device after its PCIe
    /// transfer. Sends to an SSDlet that has finished are dropped (feature `testing`; the
    /// firmware uses [`Runtime::send_encoded`]).
    #[cfg(feature = "testing")]
    pub fn send<T: serde::Serialize>(&mut self, port: SenderId, value: &T) -> Result<(), RuntimeError> {
        self.host_channel(port.0, HostEnd::Sender)?;
        let bytes = postcard::to_stdvec(value).map_err(|e| RuntimeError::Encode(e.to_string()))?;
        let len = bytes.len() as u64;
        let mut chans = self.world.channels.borrow_mut();
        let c = &mut chans[port.0];
        if c.sender_closed {
            return Err(RuntimeError::HostSenderClosed(port.0));
        }
        if c.receiver_closed {
            return Ok(());
        }
        let at = {
            let mut ssd = self.world.ssd();
            let before = ssd.stats();
            let t = ssd.pcie_to_device(self.host_now, len);
            if let Some(a) = c.apps[0] {
                self.apps[a].account.add_io(&before, &ssd.stats());
            }
            t
        };
        let receiver = c.push(
            crate::world::Msg {
                at,
                bytes: crate::adopted::Payload::Copied(bytes),
                flow: None,
            },
            len,
        );
        self.world.wake_any(receiver, at);
        Ok(())
    }

    /// Closes a host sender: the SSDlet sees end of stream once it has drained it.
    pub fn close_sender(&mut self, port: SenderId) -> Result<(), RuntimeError> {
        self.host_channel(port.0, HostEnd::Sender)?;
        let mut chans = self.world.channels.borrow_mut();
        let c = &mut chans[port.0];
        self.world.wake_any(c.close_sender(), self.host_now);
        Ok(())
    }

    /// Takes and decodes what a host receiver has received so far; the host's clock moves to
    /// the arrival of the last message taken (feature `testing`; the firmware uses
    /// [`Runtime::recv_encoded`]).
    #[cfg(feature = "testing")]
    pub fn recv<T: serde::de::DeserializeOwned>(&mut self, port: ReceiverId) -> Result<Vec<T>, RuntimeError> {
        self.host_channel(port.0, HostEnd::Receiver)?;
        let msgs = self.world.channels.borrow_mut()[port.0].pop_for_host(usize::MAX);
        if let Some(last) = msgs.iter().map(|m| m.at).max() {
            self.host_now = self.host_now.max(last);
        }
        msgs.iter()
            .enumerate()
            .map(|(index, m)| {
                postcard::from_bytes(&m.bytes.encoded()).map_err(|e| RuntimeError::Decode {
                    index,
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    /// How instance `id` ended, once it has.
    pub fn outcome(&self, id: InstanceId) -> Option<&Result<(), SsdletError>> {
        self.instances.get(id.0).and_then(|i| i.outcome.as_ref())
    }

    /// Bytes of device DRAM instance `id` holds now (after it ended: what it leaked).
    pub fn dram_used(&self, id: InstanceId) -> u64 {
        self.instances.get(id.0).map_or(0, |i| i.state.dram.get())
    }

    /// Most bytes of device DRAM instance `id` held at once.
    pub fn dram_peak(&self, id: InstanceId) -> u64 {
        self.instances.get(id.0).map_or(0, |i| i.state.dram_peak.get())
    }

    /// Lines logged so far and kept, by Application (in creation order), oldest first.
    pub fn logs(&self) -> Vec<LogLine> {
        self.apps
            .iter()
            .flat_map(|a| a.account.logs.borrow().all().cloned().collect::<Vec<_>>())
            .collect()
    }

    /// Up to `max` lines `app`'s SSDlets logged, from line number `from` on; the number after
    /// the last returned, and how many lines the bounded log has dropped ([`crate::logbook`]).
    pub fn app_logs(
        &self,
        app: AppId,
        from: u64,
        max: usize,
    ) -> Result<(Vec<LogLine>, u64, u64), RuntimeError> {
        Ok(self.app(app)?.account.logs.borrow().read(from, max))
    }

    /// Payload bytes SSDlets' puts have copied into port buffers so far, and bytes they
    /// handed over without a copy (`port_put_owned`: large messages from the SDK).
    pub fn message_bytes(&self) -> (u64, u64) {
        (self.world.copied_bytes.get(), self.world.adopted_bytes.get())
    }

    /// The core instance `id` runs on (of its site's cores).
    pub fn core_of(&self, id: InstanceId) -> Option<u32> {
        self.instances.get(id.0).map(|i| i.state.core)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // INVARIANT(fiber-unwinds-not-dropped): abort and run until idle before fibers drop
        // Let unfinished SSDlets return through their entry points; a fiber that still has
        // not finished is force-reset by `Fiber::drop` (leaking what its stack owned).
        self.teardown();
    }
}
