//! A minimal, single-threaded driver that runs SSDlet instances as fibers, for tests and
//! benches. The real scheduler (simulated cores, virtual time) belongs to the device-runtime
//! issue; this one resumes runnable instances round-robin until all have finished.
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

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use ssdlet_abi::{InstanceCtx, MatcherLimits, Status};

use crate::fiber::{Fiber, FiberExit, Resumed};
use crate::instance::{AbortReason, InstanceState, Wait, CURRENT};
use crate::loader::SsdletRef;
use crate::porttype::{check_port_types, PortDesc, PortTypeMismatch};
use crate::services::VTABLE;
use crate::trap::TrapKind;
use crate::world::{Channel, ChannelId, LogLine, World};

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
    /// What the (fake) pattern matcher accepts. Default 3 keys of up to 16 bytes, 4 KiB pages.
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

/// An argument value for [`TestDriver::spawn`], checked against the SSDlet's metadata.
#[derive(Clone, Debug)]
pub enum ArgValue {
    /// A file added with [`TestDriver::add_file`] (signature `file`).
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
}

impl ArgValue {
    fn sig(&self) -> &'static str {
        match self {
            ArgValue::File(_) => "file",
            ArgValue::U64(_) => "u64",
            ArgValue::U32(_) => "u32",
            ArgValue::I64(_) => "i64",
            ArgValue::Bool(_) => "bool",
            ArgValue::Str(_) => "str",
        }
    }

    fn encode(&self, out: Vec<u8>) -> Result<Vec<u8>, postcard::Error> {
        match self {
            ArgValue::File(f) => postcard::to_extend(&f.0, out),
            ArgValue::U64(v) => postcard::to_extend(v, out),
            ArgValue::U32(v) => postcard::to_extend(v, out),
            ArgValue::I64(v) => postcard::to_extend(v, out),
            ArgValue::Bool(v) => postcard::to_extend(v, out),
            ArgValue::Str(v) => postcard::to_extend(v, out),
        }
    }
}

/// A file in the driver's in-memory store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId(u64);

/// An instance started with [`TestDriver::spawn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceId(usize);

/// A host-side receiver created with [`TestDriver::sink`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SinkId(ChannelId);

/// How an SSDlet instance failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SsdletError {
    /// It panicked.
    #[error("SSDlet `{ssdlet}` panicked: {message}")]
    Panicked {
        /// The SSDlet id.
        ssdlet: String,
        /// The panic message and location.
        message: String,
    },
    /// Its `run` returned an error.
    #[error("SSDlet `{ssdlet}` failed: {message}")]
    Failed {
        /// The SSDlet id.
        ssdlet: String,
        /// Its error message.
        message: String,
    },
    /// Its arguments did not decode.
    #[error("SSDlet `{ssdlet}` rejected its arguments: {message}")]
    BadArgs {
        /// The SSDlet id.
        ssdlet: String,
        /// Why.
        message: String,
    },
    /// It overflowed its fiber stack.
    #[error("SSDlet `{ssdlet}` overflowed its {stack_size}-byte stack (fault at {addr:#x}); its module is poisoned")]
    StackOverflow {
        /// The SSDlet id.
        ssdlet: String,
        /// The configured stack size.
        stack_size: usize,
        /// The faulting address.
        addr: usize,
    },
    /// It made an invalid memory access.
    #[error("SSDlet `{ssdlet}` made an invalid memory access (signal {signal} at {addr:#x}); its module is poisoned")]
    MemoryFault {
        /// The SSDlet id.
        ssdlet: String,
        /// The signal.
        signal: i32,
        /// The faulting address.
        addr: usize,
    },
    /// The runtime aborted it.
    #[error("SSDlet `{ssdlet}` was aborted: {reason}")]
    Aborted {
        /// The SSDlet id.
        ssdlet: String,
        /// Why.
        reason: AbortReason,
    },
    /// Its entry point returned something the ABI does not allow.
    #[error("SSDlet `{ssdlet}` broke the module ABI: its entry point returned `{status}`")]
    Protocol {
        /// The SSDlet id.
        ssdlet: String,
        /// The status name.
        status: &'static str,
    },
}

/// Why the driver refused a request or a run failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// Wrong number of arguments.
    #[error("SSDlet `{ssdlet}` takes {expected} arguments, got {got}")]
    ArgCount {
        /// The SSDlet id.
        ssdlet: String,
        /// Its argument count.
        expected: usize,
        /// Given.
        got: usize,
    },
    /// An argument of the wrong type.
    #[error("argument `{arg}` of SSDlet `{ssdlet}` has type `{expected}`, got a `{got}`")]
    ArgType {
        /// The SSDlet id.
        ssdlet: String,
        /// The argument name.
        arg: String,
        /// Its type.
        expected: String,
        /// The given value's type.
        got: &'static str,
    },
    /// An argument could not be encoded.
    #[error("cannot encode the arguments of SSDlet `{ssdlet}`: {reason}")]
    ArgEncode {
        /// The SSDlet id.
        ssdlet: String,
        /// Why.
        reason: String,
    },
    /// A file id this driver did not create.
    #[error("no file {0:?} in this driver")]
    NoSuchFile(FileId),
    /// A port name the SSDlet does not have.
    #[error("SSDlet `{ssdlet}` has no {dir} port `{port}` (it has: {known})")]
    NoSuchPort {
        /// The SSDlet id.
        ssdlet: String,
        /// `input` or `output`.
        dir: &'static str,
        /// The requested name.
        port: String,
        /// Its ports of that direction.
        known: String,
    },
    /// The port is already connected.
    #[error("{dir} port `{ssdlet}.{port}` is already connected")]
    PortInUse {
        /// The SSDlet id.
        ssdlet: String,
        /// `input` or `output`.
        dir: &'static str,
        /// The port.
        port: String,
    },
    /// Message types differ.
    #[error(transparent)]
    PortType(#[from] PortTypeMismatch),
    /// The module was poisoned by a trap.
    #[error("module `{module}` is poisoned by an earlier trap in one of its SSDlets; reload it")]
    ModulePoisoned {
        /// The module name.
        module: String,
    },
    /// A fiber stack could not be allocated.
    #[error("cannot allocate a {size}-byte fiber stack: {source}")]
    FiberStack {
        /// Requested size.
        size: usize,
        /// The OS error.
        source: std::io::Error,
    },
    /// Every unfinished instance was blocked on a port.
    #[error("deadlock: every unfinished SSDlet was blocked on a port ({blocked}); they were aborted")]
    Deadlock {
        /// The blocked SSDlets.
        blocked: String,
    },
    /// A host message did not decode.
    #[error("message {index} on a host sink does not decode: {reason}")]
    Decode {
        /// Its position.
        index: usize,
        /// Why.
        reason: String,
    },
}

// Field order matters: the fiber is dropped before the state it points to, and before the
// module (library) whose code may be on its stack.
struct Instance {
    fiber: Option<Fiber>,
    state: Box<InstanceState>,
    ssdlet: SsdletRef,
    resumes: u64,
    outcome: Option<Result<(), SsdletError>>,
}

/// Runs SSDlet instances to completion (see the module docs).
pub struct TestDriver {
    config: DriverConfig,
    world: Rc<World>,
    instances: Vec<Instance>,
}

impl TestDriver {
    /// An empty driver.
    pub fn new(config: DriverConfig) -> TestDriver {
        let world = Rc::new(World {
            channels: RefCell::new(Vec::new()),
            files: RefCell::new(Vec::new()),
            matcher: config.matcher,
            logs: RefCell::new(Vec::new()),
        });
        TestDriver {
            config,
            world,
            instances: Vec::new(),
        }
    }

    /// Adds an in-memory file and returns its id.
    pub fn add_file(&mut self, bytes: Vec<u8>) -> FileId {
        let mut files = self.world.files.borrow_mut();
        files.push(bytes);
        FileId(files.len() as u64 - 1)
    }

    /// Starts an instance of `ssdlet` with `args` (checked against its metadata). It runs
    /// when [`TestDriver::run`] is called; connect its ports first.
    pub fn spawn(&mut self, ssdlet: &SsdletRef, args: &[ArgValue]) -> Result<InstanceId, DriverError> {
        let meta = ssdlet.meta().clone();
        let module = &ssdlet.module().inner;
        if ssdlet.module().is_poisoned() {
            return Err(DriverError::ModulePoisoned {
                module: module.meta.name.clone(),
            });
        }
        if args.len() != meta.args.len() {
            return Err(DriverError::ArgCount {
                ssdlet: meta.id,
                expected: meta.args.len(),
                got: args.len(),
            });
        }
        let mut encoded = Vec::new();
        let mut files = Vec::new();
        for (value, slot) in args.iter().zip(&meta.args) {
            if value.sig() != slot.ty {
                return Err(DriverError::ArgType {
                    ssdlet: meta.id.clone(),
                    arg: slot.name.clone(),
                    expected: slot.ty.clone(),
                    got: value.sig(),
                });
            }
            if let ArgValue::File(f) = value {
                if f.0 as usize >= self.world.files.borrow().len() {
                    return Err(DriverError::NoSuchFile(*f));
                }
                files.push(f.0);
            }
            encoded = value.encode(encoded).map_err(|e| DriverError::ArgEncode {
                ssdlet: meta.id.clone(),
                reason: e.to_string(),
            })?;
        }
        let state = Box::new(InstanceState {
            ssdlet: meta.id.clone(),
            world: Rc::clone(&self.world),
            inputs: vec![None; meta.inputs.len()],
            outputs: vec![None; meta.outputs.len()],
            files,
            current: RefCell::new(vec![Vec::new(); meta.inputs.len()]),
            yielder: Cell::new(std::ptr::null()),
            wait: Cell::new(Wait::Ready),
            abort: RefCell::new(None),
            error: RefCell::new(None),
            dram: Cell::new(0),
            dram_peak: Cell::new(0),
            dram_budget: self.config.dram_budget,
            stack_limit: Cell::new(0),
        });
        let st_addr = &*state as *const InstanceState as usize;
        let run = module.run;
        let index = ssdlet.index as u32;
        let fiber = Fiber::new(self.config.stack_size, move |s| {
            let st = st_addr as *const InstanceState;
            // SAFETY: the driver keeps the boxed state alive longer than the fiber (field
            // order of `Instance`), so `st` is valid whenever this fiber runs.
            unsafe { (*st).yielder.set(s.raw()) };
            // SAFETY: RunFn contract: static vtable, the instance's ctx (valid while the fiber
            // runs), and `encoded`, owned by this closure, for the whole call.
            let status = unsafe {
                run(
                    &VTABLE,
                    st as *mut InstanceCtx,
                    index,
                    encoded.as_ptr(),
                    encoded.len(),
                )
            };
            FiberExit::Returned(status)
        })
        .map_err(|source| DriverError::FiberStack {
            size: self.config.stack_size,
            source,
        })?;
        state.stack_limit.set(fiber.stack_limit());
        self.instances.push(Instance {
            fiber: Some(fiber),
            state,
            ssdlet: ssdlet.clone(),
            resumes: 0,
            outcome: None,
        });
        Ok(InstanceId(self.instances.len() - 1))
    }

    fn port_index(&self, id: InstanceId, output: bool, name: &str) -> Result<(usize, String), DriverError> {
        let meta = self.instances[id.0].ssdlet.meta();
        let (dir, found, list) = if output {
            ("output", meta.output(name), &meta.outputs)
        } else {
            ("input", meta.input(name), &meta.inputs)
        };
        match found {
            Some((i, slot)) => Ok((i, slot.ty.clone())),
            None => Err(DriverError::NoSuchPort {
                ssdlet: meta.id.clone(),
                dir,
                port: name.to_owned(),
                known: list
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    fn new_channel(&self, capacity: usize) -> ChannelId {
        let mut chans = self.world.channels.borrow_mut();
        chans.push(Channel::new(capacity));
        chans.len() - 1
    }

    fn attach(
        &mut self,
        id: InstanceId,
        output: bool,
        index: usize,
        port: &str,
        ch: ChannelId,
    ) -> Result<(), DriverError> {
        let st = &mut self.instances[id.0].state;
        let list = if output { &mut st.outputs } else { &mut st.inputs };
        if list[index].is_some() {
            return Err(DriverError::PortInUse {
                ssdlet: st.ssdlet.clone(),
                dir: if output { "output" } else { "input" },
                port: port.to_owned(),
            });
        }
        list[index] = Some(ch);
        Ok(())
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
        let (oi, oty) = self.port_index(from, true, out)?;
        let (ii, ity) = self.port_index(to, false, input)?;
        check_port_types(
            PortDesc {
                ssdlet: &self.instances[from.0].state.ssdlet,
                port: out,
                ty: &oty,
            },
            PortDesc {
                ssdlet: &self.instances[to.0].state.ssdlet,
                port: input,
                ty: &ity,
            },
        )?;
        let busy = |d: &Self, id: InstanceId, o: bool, i: usize| {
            let st = &d.instances[id.0].state;
            if o {
                st.outputs[i].is_some()
            } else {
                st.inputs[i].is_some()
            }
        };
        if busy(self, from, true, oi) || busy(self, to, false, ii) {
            let (id, o, port) = if busy(self, from, true, oi) {
                (from, true, out)
            } else {
                (to, false, input)
            };
            return Err(DriverError::PortInUse {
                ssdlet: self.instances[id.0].state.ssdlet.clone(),
                dir: if o { "output" } else { "input" },
                port: port.to_owned(),
            });
        }
        let ch = self.new_channel(self.config.channel_capacity);
        self.attach(from, true, oi, out, ch)?;
        self.attach(to, false, ii, input, ch)
    }

    /// Feeds `values` to input `input` of `to` from the host, then closes it. The values are
    /// encoded with postcard; their type is the caller's responsibility.
    pub fn feed<T: Serialize>(
        &mut self,
        to: InstanceId,
        input: &str,
        values: &[T],
    ) -> Result<(), DriverError> {
        let (ii, _) = self.port_index(to, false, input)?;
        let ch = self.new_channel(usize::MAX);
        self.attach(to, false, ii, input, ch)?;
        let mut chans = self.world.channels.borrow_mut();
        let c = &mut chans[ch];
        for v in values {
            let bytes = postcard::to_stdvec(v).map_err(|e| DriverError::ArgEncode {
                ssdlet: "host".to_owned(),
                reason: e.to_string(),
            })?;
            c.queue.push_back(bytes);
            c.messages += 1;
        }
        c.sender_closed = true;
        Ok(())
    }

    /// Collects everything output `out` of `from` sends, for [`TestDriver::take`].
    pub fn sink(&mut self, from: InstanceId, out: &str) -> Result<SinkId, DriverError> {
        let (oi, _) = self.port_index(from, true, out)?;
        let ch = self.new_channel(usize::MAX);
        self.attach(from, true, oi, out, ch)?;
        Ok(SinkId(ch))
    }

    /// Takes and decodes what a sink has received so far.
    pub fn take<T: DeserializeOwned>(&mut self, sink: SinkId) -> Result<Vec<T>, DriverError> {
        let msgs: Vec<Vec<u8>> = self.world.channels.borrow_mut()[sink.0].queue.drain(..).collect();
        msgs.iter()
            .enumerate()
            .map(|(index, m)| {
                postcard::from_bytes(m).map_err(|e| DriverError::Decode {
                    index,
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    fn runnable(&self, i: usize) -> bool {
        let inst = &self.instances[i];
        if inst.outcome.is_some() {
            return false;
        }
        if inst.state.is_aborted() {
            return true;
        }
        let chans = self.world.channels.borrow();
        match inst.state.wait.get() {
            Wait::Ready => true,
            Wait::Get(ch) => !chans[ch].queue.is_empty() || chans[ch].sender_closed,
            Wait::Put(ch) => {
                chans[ch].queue.len() < chans[ch].capacity
                    || chans[ch].receiver_closed
                    || chans[ch].sender_closed
            }
        }
    }

    fn resume(&mut self, i: usize) {
        let max = self.config.max_resumes;
        let inst = &mut self.instances[i];
        inst.resumes += 1;
        if inst.resumes > max {
            inst.state.abort_with(AbortReason::Watchdog { limit: max });
        }
        let Some(fiber) = inst.fiber.as_mut() else { return };
        let prev = CURRENT.with(|c| c.replace(&*inst.state));
        let r = fiber.resume();
        CURRENT.with(|c| c.set(prev));
        if let Resumed::Finished(exit) = r {
            self.finish(i, exit);
        }
    }

    fn finish(&mut self, i: usize, exit: FiberExit) {
        let inst = &mut self.instances[i];
        let st = &inst.state;
        {
            let mut chans = self.world.channels.borrow_mut();
            for ch in st.outputs.iter().flatten() {
                chans[*ch].sender_closed = true;
            }
            for ch in st.inputs.iter().flatten() {
                let c = &mut chans[*ch];
                c.receiver_closed = true;
                c.queue.clear();
            }
        }
        st.current.borrow_mut().clear();
        let ssdlet = st.ssdlet.clone();
        let message = || {
            st.error
                .borrow_mut()
                .take()
                .unwrap_or_else(|| "(no message)".to_owned())
        };
        let outcome = match exit {
            FiberExit::Returned(Status::OK) => Ok(()),
            FiberExit::Returned(Status::PANICKED) => Err(SsdletError::Panicked {
                ssdlet,
                message: message(),
            }),
            FiberExit::Returned(Status::FAILED) => Err(SsdletError::Failed {
                ssdlet,
                message: message(),
            }),
            FiberExit::Returned(Status::BAD_ARGS) => Err(SsdletError::BadArgs {
                ssdlet,
                message: message(),
            }),
            FiberExit::Returned(Status::ABORTED) => Err(SsdletError::Aborted {
                ssdlet,
                reason: st.abort.borrow().clone().unwrap_or(AbortReason::Teardown),
            }),
            FiberExit::Returned(other) => Err(SsdletError::Protocol {
                ssdlet,
                status: other.name(),
            }),
            FiberExit::Trapped(kind) => {
                inst.ssdlet
                    .module()
                    .inner
                    .poisoned
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                match kind {
                    TrapKind::StackOverflow { addr } => Err(SsdletError::StackOverflow {
                        ssdlet,
                        stack_size: self.config.stack_size,
                        addr,
                    }),
                    TrapKind::MemoryFault { signal, addr } => {
                        Err(SsdletError::MemoryFault { ssdlet, signal, addr })
                    }
                }
            }
        };
        inst.outcome = Some(outcome);
        inst.fiber = None;
    }

    /// Runs until every instance has finished. Instance failures are reported per instance
    /// ([`TestDriver::outcome`]); the run as a whole fails only on deadlock, after aborting
    /// the blocked instances.
    pub fn run(&mut self) -> Result<(), DriverError> {
        loop {
            let mut progressed = false;
            let mut unfinished = false;
            for i in 0..self.instances.len() {
                if self.instances[i].outcome.is_some() {
                    continue;
                }
                unfinished = true;
                if self.runnable(i) {
                    self.resume(i);
                    progressed = true;
                }
            }
            if !unfinished {
                return Ok(());
            }
            if !progressed {
                let blocked: Vec<String> = self
                    .instances
                    .iter()
                    .filter(|x| x.outcome.is_none())
                    .map(|x| x.state.ssdlet.clone())
                    .collect();
                self.abort_all(AbortReason::Deadlock);
                return Err(DriverError::Deadlock {
                    blocked: blocked.join(", "),
                });
            }
        }
    }

    fn abort_all(&mut self, reason: AbortReason) {
        for inst in &self.instances {
            if inst.outcome.is_none() {
                inst.state.abort_with(reason.clone());
            }
        }
        // Aborted instances are runnable and return at their next service call.
        for _ in 0..1000 {
            let mut any = false;
            for i in 0..self.instances.len() {
                if self.instances[i].outcome.is_none() {
                    any = true;
                    self.resume(i);
                }
            }
            if !any {
                break;
            }
        }
    }

    /// How instance `id` ended, once it has.
    pub fn outcome(&self, id: InstanceId) -> Option<&Result<(), SsdletError>> {
        self.instances[id.0].outcome.as_ref()
    }

    /// Bytes of device DRAM instance `id` holds now (after it ended: what it leaked).
    pub fn dram_used(&self, id: InstanceId) -> u64 {
        self.instances[id.0].state.dram.get()
    }

    /// Most bytes of device DRAM instance `id` held at once.
    pub fn dram_peak(&self, id: InstanceId) -> u64 {
        self.instances[id.0].state.dram_peak.get()
    }

    /// Lines logged so far.
    pub fn logs(&self) -> Vec<LogLine> {
        self.world.logs.borrow().clone()
    }
}

impl Drop for TestDriver {
    fn drop(&mut self) {
        // Let unfinished SSDlets return through their entry points; a fiber that still has
        // not finished is force-reset by `Fiber::drop` (leaking what its stack owned).
        self.abort_all(AbortReason::Teardown);
    }
}
