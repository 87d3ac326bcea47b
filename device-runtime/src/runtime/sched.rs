//! The discrete-event scheduler.
//!
//! Every instance has a virtual clock; every simulated core an instant at which it is free.
//! Runnable instances sit in one priority queue ([`crate::world::World::ready`]) keyed by the
//! instant they may run (ties: first queued first). The loop pops the smallest key, computes
//! the real start `max(key, instance clock, core free)`, re-queues the instance if that is
//! later (keys only grow, so the queue stays ordered by true start), and otherwise resumes it
//! on its core until it suspends:
//!
//! - port wait: it registered itself as the channel's waiter; the other side wakes it at the
//!   message's (or the freed slot's) instant;
//! - I/O wait: it is queued at the completion instant, and its core is free meanwhile;
//! - yield or finish: queued at (or done at) its clock.
//!
//! The core is busy from the start to the instance's clock at suspension (compute charged by
//! [`crate::compute`]). Everything runs on one OS thread, so a run is deterministic under
//! `ComputeModel::Modeled` (INVARIANT(device-deterministic)). An instance runs to its next
//! suspension even if its clock passes another core's next start: runs are not interleaved
//! within a slice (they share nothing but timestamped messages and the SSD, which orders
//! requests by their issue instants).
//!
//! Deadlocks: see [`super::liveness`].
//!
//! Faults: an instance whose entry point fails (panic, error, trap, abort) fails its
//! Application: the others of that Application are aborted (their next runtime call returns
//! `ABORTED`, the SDK unwinds them), their input queues are dropped, and the Application's
//! report records the first error. Other Applications are untouched.

use std::cmp::Reverse;

use sim_nvme::SimTime;
use ssdlet_abi::Status;

use super::{AppId, AppState, Runtime, RuntimeError, SsdletError};
use crate::compute::{thread_cpu_ns, ComputeModel};
use crate::fiber::{FiberExit, Resumed};
use crate::instance::{AbortReason, Wait, CURRENT};
use crate::trap::TrapKind;
use crate::world::Slot;

impl Runtime {
    /// Starts `app` at the host's clock: its instances become runnable. Refused, naming them,
    /// while a port of its SSDlets is connected to nothing.
    pub fn start(&mut self, app: AppId) -> Result<(), RuntimeError> {
        let a = self.app(app)?;
        if a.state != AppState::Building {
            return Err(RuntimeError::AlreadyStarted { app, what: "start" });
        }
        let mut loose = Vec::new();
        for &slot in &a.slots {
            let inst = &self.instances[slot];
            let meta = inst.ssdlet.meta();
            let st = &inst.state;
            for (dir, ports, chans) in [
                ("input", &meta.inputs, &st.inputs),
                ("output", &meta.outputs, &st.outputs),
            ] {
                for (p, ch) in ports.iter().zip(chans.iter()) {
                    if ch.is_none() {
                        loose.push(format!("`{}.{}` ({dir})", st.ssdlet, p.name));
                    }
                }
            }
        }
        if !loose.is_empty() {
            return Err(RuntimeError::Unconnected {
                app: a.name.clone(),
                ports: loose.join(", "),
            });
        }
        let now = self.host_now;
        let a = &mut self.apps[app.0];
        a.state = AppState::Running;
        a.started_at = now;
        a.finished_at = now;
        if a.unfinished == 0 {
            a.state = AppState::Done;
        }
        for &slot in &a.slots {
            self.instances[slot].state.clock.set(now);
            self.world.wake(slot, now);
        }
        Ok(())
    }

    /// Aborts `app`: each of its SSDlets returns `ABORTED` from its next runtime call; the
    /// Application fails with [`AbortReason::HostAbort`] unless it had failed already.
    pub fn abort(&mut self, app: AppId) -> Result<(), RuntimeError> {
        self.app(app)?;
        self.abort_app(app.0, AbortReason::HostAbort);
        self.run_idle();
        Ok(())
    }

    // INVARIANT(fiber-unwinds-not-dropped): abort through the next runtime call, not a drop
    pub(crate) fn abort_app(&mut self, app: usize, reason: AbortReason) {
        for i in 0..self.apps[app].slots.len() {
            let slot = self.apps[app].slots[i];
            let inst = &self.instances[slot];
            if inst.outcome.is_none() {
                inst.state.abort_with(reason.clone());
                let at = inst.state.clock.get();
                self.world.wake(slot, at);
            }
        }
    }

    /// Runs the device until nothing is runnable, then aborts every deadlocked Application
    /// ([`super::liveness`]: Running, nothing runnable, and nothing that could feed it can
    /// progress); the error names their blocked SSDlets.
    pub fn run(&mut self) -> Result<(), RuntimeError> {
        let all: Vec<usize> = (0..self.apps.len()).collect();
        self.settle(&all)
    }

    /// Runs until nothing is runnable, then aborts the deadlocked Applications among `apps`.
    fn settle(&mut self, apps: &[usize]) -> Result<(), RuntimeError> {
        self.run_idle();
        let live = self.live_apps();
        let mut blocked = Vec::new();
        for &a in apps {
            if self.apps[a].state != AppState::Running || live[a] {
                continue;
            }
            for &slot in &self.apps[a].slots {
                if self.instances[slot].outcome.is_none() {
                    blocked.push(format!(
                        "`{}` of application `{}`",
                        self.instances[slot].state.ssdlet, self.apps[a].name
                    ));
                }
            }
            self.abort_app(a, AbortReason::Deadlock);
        }
        if blocked.is_empty() {
            return Ok(());
        }
        self.run_idle();
        Err(RuntimeError::Deadlock {
            blocked: blocked.join(", "),
        })
    }

    /// Runs until `app` is done and returns its report; a failed Application is an error
    /// ([`RuntimeError::AppFailed`]; its report is still available from [`Runtime::report`]).
    /// Only `app` and the Applications connected to it by ports are checked for deadlock
    /// (and aborted if deadlocked, which is a [`RuntimeError::Deadlock`]); unrelated
    /// Applications are left alone.
    pub fn wait(&mut self, app: AppId) -> Result<super::RunReport, RuntimeError> {
        self.app(app)?;
        let group = self.connected_apps(app.0);
        // A deadlock in the group is reported as such (the Applications it aborted fail).
        self.settle(&group)?;
        let a = &self.apps[app.0];
        if a.state == AppState::Running {
            let waiting = a
                .slots
                .iter()
                .filter(|&&s| self.instances[s].outcome.is_none())
                .map(|&s| self.instances[s].state.ssdlet.clone())
                .collect::<Vec<_>>()
                .join(", ");
            if group.iter().any(|&g| self.waits_for_host(g)) {
                return Err(RuntimeError::WaitingForHost {
                    app: a.name.clone(),
                    waiting,
                });
            }
            return Err(RuntimeError::WaitingForApps {
                app: a.name.clone(),
                waiting,
                building: self.building_neighbours(app.0).join(", "),
            });
        }
        if let Some(e) = &a.failure {
            return Err(RuntimeError::AppFailed {
                app: a.name.clone(),
                source: e.clone(),
            });
        }
        self.report(app)
    }

    /// Resumes runnable instances until none is left.
    pub(crate) fn run_idle(&mut self) {
        while self.run_some(usize::MAX) {}
    }

    /// Resumes at most `steps` runnable instances; returns whether any is still runnable.
    pub(crate) fn run_some(&mut self, steps: usize) -> bool {
        for _ in 0..steps {
            let next = self.world.ready.borrow_mut().pop();
            let Some(Reverse((key, _, slot))) = next else {
                crate::blocks::clear();
                return false;
            };
            self.world.queued.borrow_mut()[slot] = false;
            self.step(slot, key);
        }
        let busy = !self.world.ready.borrow().is_empty();
        if !busy {
            crate::blocks::clear();
        }
        busy
    }

    fn requeue(&self, slot: Slot, at: SimTime) {
        self.world.queued.borrow_mut()[slot] = true;
        self.world.push(slot, at);
    }

    fn step(&mut self, slot: Slot, key: SimTime) {
        self.steps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let inst = &mut self.instances[slot];
        if inst.outcome.is_some() {
            return;
        }
        let core = inst.core;
        let start = key.max(inst.state.clock.get()).max(self.cores[core]);
        // INVARIANT(ready-queue-once): re-queued only at a later key, so keys only grow
        if start > key {
            self.requeue(slot, start);
            return;
        }
        let app = inst.app;
        inst.resumes += 1;
        let max = self.apps[app].config.max_resumes;
        if inst.resumes > max {
            inst.state.abort_with(AbortReason::Watchdog { limit: max });
        }
        let Some(fiber) = inst.fiber.as_mut() else { return };
        if inst.state.is_aborted() && !fiber.is_started() {
            // Never ran: nothing to unwind.
            self.finish(slot, FiberExit::Returned(Status::ABORTED));
            return;
        }
        let st = &inst.state;
        st.clock.set(start);
        st.slice_start.set(start);
        let measured = matches!(self.world.config.compute, ComputeModel::Measured { .. });
        if measured {
            st.cpu_mark.set(thread_cpu_ns());
        }
        // INVARIANT(ctx-is-current): CURRENT is this instance only while its fiber runs
        let prev = CURRENT.with(|c| c.replace(&**st));
        let r = fiber.resume();
        CURRENT.with(|c| c.set(prev));
        if let (Resumed::Finished(_), ComputeModel::Measured { slowdown }) = (r, &self.world.config.compute) {
            st.charge_measured(*slowdown);
        }
        let end = st.clock.get();
        // INVARIANT(trace-does-not-change-figures): the core's slice, from instants already set
        sim_nvme::trace::slice(st.track(), &st.label, start, end);
        self.cores[core] = end;
        let busy = &mut self.apps[app].core_busy[st.core as usize];
        *busy += end.saturating_since(start);
        match r {
            Resumed::Suspended => match st.wait.get() {
                Wait::Ready => self.requeue(slot, end),
                Wait::Until(t) => self.requeue(slot, t),
                Wait::Get(_) | Wait::Put(_) => {}
            },
            Resumed::Finished(exit) => self.finish(slot, exit),
        }
    }

    fn finish(&mut self, slot: Slot, exit: FiberExit) {
        let inst = &mut self.instances[slot];
        let st = &inst.state;
        let now = st.clock.get();
        {
            let mut chans = self.world.channels.borrow_mut();
            // INVARIANT(app-failure-isolated): other Applications see only these ports close
            for ch in st.outputs.iter().flatten() {
                self.world.wake_any(chans[*ch].close_sender(), now);
            }
            for ch in st.inputs.iter().flatten() {
                self.world.wake_any(chans[*ch].close_receiver(), now);
            }
        }
        st.current.borrow_mut().clear();
        *st.reads.borrow_mut() = Default::default();
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
                // INVARIANT(stack-reserve): a trapped module is poisoned (no new instances)
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
        // INVARIANT(pooled-stack-zeroed): only a returned fiber's stack is reused, zeroed.
        let fiber = inst.fiber.take();
        if let (Some(fiber), FiberExit::Returned(_)) = (fiber, exit) {
            if let Some(stack) = fiber.into_stack() {
                self.stacks.give(stack);
            }
        }
        let inst = &mut self.instances[slot];
        let app = inst.app;
        let failed = outcome.as_ref().err().cloned();
        inst.outcome = Some(outcome);
        let a = &mut self.apps[app];
        a.unfinished -= 1;
        a.finished_at = a.finished_at.max(now);
        if let Some(e) = failed {
            if a.failure.is_none() {
                let first = match &e {
                    SsdletError::Aborted { ssdlet, .. }
                    | SsdletError::Panicked { ssdlet, .. }
                    | SsdletError::Failed { ssdlet, .. }
                    | SsdletError::BadArgs { ssdlet, .. }
                    | SsdletError::StackOverflow { ssdlet, .. }
                    | SsdletError::MemoryFault { ssdlet, .. }
                    | SsdletError::Protocol { ssdlet, .. } => ssdlet.clone(),
                };
                a.failure = Some(e);
                // INVARIANT(app-failure-isolated): only this Application's instances are aborted
                self.abort_app(app, AbortReason::ApplicationFailed { ssdlet: first });
            }
        }
        let a = &mut self.apps[app];
        if a.unfinished == 0 && a.state == AppState::Running {
            a.state = AppState::Done;
        }
    }

    /// Aborts everything and lets every started fiber return (used on drop).
    pub(crate) fn teardown(&mut self) {
        for a in 0..self.apps.len() {
            if self.apps[a].state == AppState::Building {
                self.apps[a].state = AppState::Running;
            }
            self.abort_app(a, AbortReason::Teardown);
        }
        self.run_idle();
    }
}
