//! Which Applications can still make progress, and which are deadlocked.
//!
//! After the scheduler has run until nothing is runnable, a Running Application with
//! unfinished SSDlets is *live* when something outside it may still feed or drain it:
//!
//! - one of its SSDlets waits on a host sender that is still open (the host may send);
//! - it shares an open port (neither end closed) with an Application that is Building (it
//!   may start later and feed or drain it), or with a live Application (computed to a
//!   fixpoint).
//!
//! A Running Application that is not live is deadlocked: none of its SSDlets is runnable and
//! nothing that could wake them can make progress. [`Runtime::wait`] only looks at the
//! Application waited on and the Applications connected to it by ports (transitively), so a
//! wait from one host never aborts another host's unrelated Application.

use super::{AppState, Runtime};
use crate::instance::Wait;
use crate::world::HostEnd;

impl Runtime {
    /// Whether an unfinished instance of `app` waits on an open host sender.
    pub(crate) fn waits_for_host(&self, app: usize) -> bool {
        let chans = self.world.channels.borrow();
        self.apps[app].slots.iter().any(|&s| {
            let inst = &self.instances[s];
            inst.outcome.is_none()
                && matches!(inst.state.wait.get(), Wait::Get(ch)
                    if chans[ch].host == HostEnd::Sender && !chans[ch].sender_closed)
        })
    }

    /// Whether an unfinished instance of `app` is queued to run.
    fn has_runnable(&self, app: usize) -> bool {
        let queued = self.world.queued.borrow();
        self.apps[app]
            .slots
            .iter()
            .any(|&s| self.instances[s].outcome.is_none() && queued.get(s).copied().unwrap_or(false))
    }

    /// Per Application: whether it is Building, or Running and able to progress (module docs).
    pub(crate) fn live_apps(&self) -> Vec<bool> {
        let mut live: Vec<bool> = (0..self.apps.len())
            .map(|a| match self.apps[a].state {
                AppState::Building => true,
                AppState::Running => self.has_runnable(a) || self.waits_for_host(a),
                AppState::Done => false,
            })
            .collect();
        let chans = self.world.channels.borrow();
        let links: Vec<(usize, usize)> = chans
            .iter()
            .filter(|c| !c.sender_closed && !c.receiver_closed)
            .filter_map(|c| match c.apps {
                [Some(x), Some(y)] => Some((x, y)),
                _ => None,
            })
            .collect();
        drop(chans);
        let mut changed = true;
        while changed {
            changed = false;
            for &(x, y) in &links {
                for (from, to) in [(x, y), (y, x)] {
                    if live[from] && !live[to] && self.apps[to].state == AppState::Running {
                        live[to] = true;
                        changed = true;
                    }
                }
            }
        }
        live
    }

    /// `app` and every Application connected to it by a port, transitively.
    pub(crate) fn connected_apps(&self, app: usize) -> Vec<usize> {
        let chans = self.world.channels.borrow();
        let mut seen = vec![false; self.apps.len()];
        let mut stack = vec![app];
        seen[app] = true;
        let mut out = Vec::new();
        while let Some(a) = stack.pop() {
            out.push(a);
            for &ch in &self.apps[a].channels {
                for b in chans[ch].apps.into_iter().flatten() {
                    if !seen[b] {
                        seen[b] = true;
                        stack.push(b);
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Whether `app` is Running and live: a wait on it cannot be answered yet, but others'
    /// commands may let it progress.
    pub(crate) fn waits_for_others(&self, app: usize) -> bool {
        self.apps[app].state == AppState::Running && self.live_apps()[app]
    }

    /// The Building Applications connected to `app` (by name), for error messages.
    pub(crate) fn building_neighbours(&self, app: usize) -> Vec<String> {
        self.connected_apps(app)
            .into_iter()
            .filter(|&a| self.apps[a].state == AppState::Building)
            .map(|a| format!("`{}`", self.apps[a].name))
            .collect()
    }
}
