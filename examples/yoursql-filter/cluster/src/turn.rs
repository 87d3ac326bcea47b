//! One device scan at a time on each device: INVARIANT(one-scan-per-device).
//!
//! An executor runs tasks of different stages at once, and two of them can scan tables of the
//! same device (Q5's `lineitem` and `orders` stages). In one simulated device the commands of
//! two concurrent scans would interleave as the threads happen to run, and each scan's
//! simulated time would change from run to run. So a scan node takes its devices' turns
//! ([`DeviceTurn`], one per device, shared by every executor) before its scan starts, all of
//! them in device order (so two scans cannot deadlock), and gives them back when every
//! partition it started has ended. A scan's time is then its own, whichever scan went first.
//!
//! The turns of one scan node are taken once for all its partitions ([`ScanTurn`]): the
//! device scan runs all its partitions when the first one is polled.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OwnedMutexGuard;

/// One device's turn (module docs).
pub type DeviceTurn = Arc<tokio::sync::Mutex<()>>;

/// The turns of one scan node's devices (module docs).
#[derive(Debug)]
pub struct ScanTurn {
    /// The devices' turns, each once, in device order.
    devices: Vec<DeviceTurn>,
    /// Serializes taking the turns.
    taking: tokio::sync::Mutex<()>,
    /// Partitions that entered and have not ended, and the turns while held: one lock, so a
    /// partition never enters while the last one gives the turns back.
    state: Mutex<(usize, Option<Vec<OwnedMutexGuard<()>>>)>,
}

impl ScanTurn {
    /// The turns of `devices` (in device order, each once).
    pub fn new(devices: Vec<DeviceTurn>) -> Arc<Self> {
        Arc::new(ScanTurn {
            devices,
            taking: tokio::sync::Mutex::new(()),
            state: Mutex::new((0, None)),
        })
    }

    /// Waits for every device's turn (unless this scan's partitions already hold them) and
    /// returns a pass that gives them back when it and every other pass are dropped.
    pub async fn enter(self: Arc<Self>) -> Pass {
        let _taking = self.taking.lock().await;
        {
            let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if st.1.is_some() {
                st.0 += 1;
                return Pass {
                    turn: Arc::clone(&self),
                };
            }
        }
        let mut guards = Vec::with_capacity(self.devices.len());
        for d in &self.devices {
            guards.push(Arc::clone(d).lock_owned().await);
        }
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.0 += 1;
        st.1 = Some(guards);
        drop(st);
        Pass {
            turn: Arc::clone(&self),
        }
    }
}

/// A partition's hold on its scan's turns (see [`ScanTurn::enter`]).
#[derive(Debug)]
pub struct Pass {
    turn: Arc<ScanTurn>,
}

impl Drop for Pass {
    fn drop(&mut self) {
        let mut st = self.turn.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.0 = st.0.saturating_sub(1);
        if st.0 == 0 {
            st.1 = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_scan_holds_its_devices_until_its_last_partition_ends() {
        let (d0, d1): (DeviceTurn, DeviceTurn) = (Default::default(), Default::default());
        let first = ScanTurn::new(vec![Arc::clone(&d0), Arc::clone(&d1)]);
        let a = Arc::clone(&first).enter().await;
        let b = Arc::clone(&first).enter().await;
        assert!(d0.try_lock().is_err() && d1.try_lock().is_err());
        // Another scan of device 1 waits.
        let second = ScanTurn::new(vec![Arc::clone(&d1)]);
        let waiting = tokio::spawn(Arc::clone(&second).enter());
        drop(a);
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "device 1 given away while a partition still runs"
        );
        drop(b);
        let c = waiting.await.unwrap();
        assert!(d0.try_lock().is_ok(), "device 0 not given back");
        assert!(d1.try_lock().is_err());
        drop(c);
        assert!(d1.try_lock().is_ok());
    }
}
