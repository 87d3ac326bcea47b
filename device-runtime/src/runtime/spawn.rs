//! Creating SSDlet instances: argument checks against the module metadata, file
//! capabilities, core placement, the fiber that calls the module's entry point.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use sim_nvme::SimDuration;
use ssdlet_abi::{InstanceCtx, RuntimeVtable};

use super::{AppId, AppState, ArgValue, Instance, InstanceId, Placement, Runtime, RuntimeError, Site};
use crate::fiber::{Fiber, FiberExit};
use crate::instance::{InstanceState, Wait};
use crate::loader::SsdletRef;
use crate::services::{VTABLE, VTABLE_COPYING};

impl Runtime {
    /// Adds an instance of `ssdlet` with `args` (checked against its metadata) to `app`,
    /// placed round robin on the cores of the Application's site. It runs once the Application is started.
    pub fn spawn(
        &mut self,
        app: AppId,
        ssdlet: &SsdletRef,
        args: &[ArgValue],
    ) -> Result<InstanceId, RuntimeError> {
        self.spawn_on(app, ssdlet, args, Placement::RoundRobin)
    }

    /// Like [`Runtime::spawn`] with a placement hint.
    pub fn spawn_on(
        &mut self,
        app: AppId,
        ssdlet: &SsdletRef,
        args: &[ArgValue],
        placement: Placement,
    ) -> Result<InstanceId, RuntimeError> {
        let a = self.app(app)?;
        if a.state != AppState::Building {
            return Err(RuntimeError::AlreadyStarted {
                app,
                what: "spawning SSDlets",
            });
        }
        let account = Rc::clone(&a.account);
        let site = a.config.site;
        let (first, cores) = self.site_cores(site);
        let next = match site {
            Site::Device => self.next_core,
            Site::Host => self.next_host_core,
        };
        let core = match placement {
            Placement::RoundRobin if cores > 0 => next % cores,
            Placement::Core(c) if (c as usize) < cores => c as usize,
            Placement::RoundRobin | Placement::Core(_) => {
                return Err(RuntimeError::NoSuchCore {
                    site,
                    core: match placement {
                        Placement::Core(c) => c,
                        Placement::RoundRobin => 0,
                    },
                    cores: cores as u32,
                })
            }
        };
        let meta = ssdlet.meta().clone();
        let module = &ssdlet.module().inner;
        if ssdlet.module().is_poisoned() {
            return Err(RuntimeError::ModulePoisoned {
                module: module.meta.name.clone(),
            });
        }
        if args.len() != meta.args.len() {
            return Err(RuntimeError::ArgCount {
                ssdlet: meta.id,
                expected: meta.args.len(),
                got: args.len(),
            });
        }
        let mut encoded = Vec::new();
        let mut files = Vec::new();
        for (value, slot) in args.iter().zip(&meta.args) {
            if value.sig() != slot.ty {
                return Err(RuntimeError::ArgType {
                    ssdlet: meta.id.clone(),
                    arg: slot.name.clone(),
                    expected: slot.ty.clone(),
                    got: value.sig().to_owned(),
                });
            }
            // INVARIANT(payload-never-panics): a host-encoded value is checked before the
            // SSDlet decodes it, so it cannot shift the arguments after it
            if let ArgValue::Message { sig, bytes } = value {
                let bad = |reason: String| RuntimeError::ArgValue {
                    ssdlet: meta.id.clone(),
                    arg: slot.name.clone(),
                    ty: sig.clone(),
                    reason,
                };
                let parsed = ndp_protocol::sig::parse(sig).map_err(bad)?;
                ndp_protocol::sig::check(&parsed, bytes).map_err(bad)?;
            }
            if let ArgValue::File(f) = value {
                if f.0 as usize >= self.world.files.borrow().len() {
                    return Err(RuntimeError::NoSuchFile(*f));
                }
                files.push(f.0);
            }
            encoded = value.encode(encoded).map_err(|e| RuntimeError::ArgEncode {
                ssdlet: meta.id.clone(),
                reason: e.to_string(),
            })?;
        }
        let slot = self.instances.len();
        let (costs, cost_source) =
            self.world
                .config
                .compute
                .costs(site, &module.meta.name, &meta.id, module.digest);
        let state = Box::new(InstanceState {
            ssdlet: meta.id.clone(),
            slot,
            site,
            core: core as u32,
            label: format!("{} #{slot}", meta.id),
            account,
            clock: Cell::new(self.host_now),
            slice_start: Cell::new(self.host_now),
            cpu_mark: Cell::new(0),
            costs,
            cost_source,
            work: Cell::new(Default::default()),
            carry_ps: Cell::new(0),
            compute: Cell::new(SimDuration::ZERO),
            cpu_ns: Cell::new(0),
            reads: RefCell::new(Default::default()),
            world: Rc::clone(&self.world),
            inputs: vec![None; meta.inputs.len()],
            outputs: vec![None; meta.outputs.len()],
            files,
            current: RefCell::new((0..meta.inputs.len()).map(|_| Default::default()).collect()),
            yielder: Cell::new(std::ptr::null()),
            wait: Cell::new(Wait::Ready),
            abort: RefCell::new(None),
            error: RefCell::new(None),
            dram: Cell::new(0),
            dram_peak: Cell::new(0),
            stack_limit: Cell::new(0),
        });
        let st_addr = &*state as *const InstanceState as usize;
        let run = module.run;
        let index = ssdlet.index as u32;
        let vtable: &'static RuntimeVtable = if self.config.zero_copy {
            &VTABLE
        } else {
            &VTABLE_COPYING
        };
        let stack = self.stacks.take().map_err(|source| RuntimeError::FiberStack {
            size: self.config.stack_size,
            source,
        })?;
        let fiber = Fiber::with_stack(stack, move |s| {
            let st = st_addr as *const InstanceState;
            // SAFETY: the runtime keeps the boxed state alive longer than the fiber (field
            // order of `Instance`), so `st` is valid whenever this fiber runs.
            unsafe { (*st).yielder.set(s.raw()) };
            // SAFETY: RunFn contract: static vtable, the instance's ctx (valid while the fiber
            // runs), and `encoded`, owned by this closure, for the whole call.
            let status = unsafe {
                run(
                    vtable,
                    st as *mut InstanceCtx,
                    index,
                    encoded.as_ptr(),
                    encoded.len(),
                )
            };
            FiberExit::Returned(status)
        });
        state.stack_limit.set(fiber.stack_limit());
        if placement == Placement::RoundRobin {
            match site {
                Site::Device => self.next_core += 1,
                Site::Host => self.next_host_core += 1,
            }
        }
        self.instances.push(Instance {
            fiber: Some(fiber),
            state,
            ssdlet: ssdlet.clone(),
            app: app.0,
            core: first + core,
            resumes: 0,
            outcome: None,
        });
        self.world.queued.borrow_mut().push(false);
        let a = &mut self.apps[app.0];
        a.slots.push(slot);
        a.unfinished += 1;
        Ok(InstanceId(slot))
    }

    pub(crate) fn port_index(
        &self,
        id: InstanceId,
        output: bool,
        name: &str,
    ) -> Result<(usize, String), RuntimeError> {
        let meta = self.inst(id)?.ssdlet.meta();
        let (dir, found, list) = if output {
            ("output", meta.output(name), &meta.outputs)
        } else {
            ("input", meta.input(name), &meta.inputs)
        };
        match found {
            Some((i, slot)) => Ok((i, slot.ty.clone())),
            None => Err(RuntimeError::NoSuchPort {
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
}
