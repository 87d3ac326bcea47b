//! The timed hardware: one [`Resource`] per die, channel, firmware core, channel matcher and
//! PCIe direction, and the timing of each NAND operation on them.
//!
//! Every function takes the instant an operation becomes ready and returns when it completes.
//! Dies and firmware cores serve operations in issue order (`busy_until`); buses (channels,
//! matchers, PCIe) serve each transfer in the first free gap after its data is ready
//! ([`GapResource`]). Nothing here reads the wall clock.
//!
//! With a trace on ([`crate::trace`]), each operation's slice is recorded on its resource's
//! track from the instants computed here (INVARIANT(trace-does-not-change-figures): the
//! recording only reads them).

use crate::addr::{DieId, Layout, PhysPage};
use crate::profile::{DeviceProfile, LBA_BYTES};
use crate::time::{GapResource, Resource, SimDuration, SimTime};
use crate::trace::{self, Track};

/// Records the slice of `dur` ending at `end` on `track`, if it took any time.
#[inline]
fn traced(track: Track, name: &str, end: SimTime, dur: SimDuration) -> SimTime {
    if dur > SimDuration::ZERO {
        trace::slice_ending(track, name, end, dur.0);
    }
    end
}

/// Busy-until state of every timed resource in the device.
#[derive(Debug, Clone)]
pub struct Hardware {
    layout: Layout,
    t_read: SimDuration,
    t_prog: SimDuration,
    t_erase: SimDuration,
    t_fw: SimDuration,
    t_match: SimDuration,
    channel_mb_per_s: u64,
    to_host_mb_per_s: u64,
    to_device_mb_per_s: u64,
    /// Per die (array operations: tR, tPROG, tBERS).
    pub dies: Vec<Resource>,
    /// Per channel (data transfer between dies and the controller).
    pub channels: Vec<GapResource>,
    /// Per channel matcher (only used when `matcher.ns_per_page` > 0).
    pub matchers: Vec<GapResource>,
    /// Per firmware core (command processing).
    pub firmware: Vec<Resource>,
    /// PCIe, device to host.
    pub to_host: GapResource,
    /// PCIe, host to device.
    pub to_device: GapResource,
    /// The latest instant a command was issued at: buses forget reservations that ended
    /// before it, and serve nothing earlier.
    floor: SimTime,
}

impl Hardware {
    /// Idle hardware for a profile.
    pub fn new(p: &DeviceProfile) -> Self {
        let layout = Layout::new(p);
        Hardware {
            layout,
            t_read: SimDuration(p.nand.read_ns),
            t_prog: SimDuration(p.nand.program_ns),
            t_erase: SimDuration(p.nand.erase_ns),
            t_fw: SimDuration(p.controller.firmware_ns),
            t_match: SimDuration(p.matcher.ns_per_page),
            channel_mb_per_s: p.nand.channel_mb_per_s,
            to_host_mb_per_s: p.pcie.to_host_mb_per_s,
            to_device_mb_per_s: p.pcie.to_device_mb_per_s,
            dies: vec![Resource::default(); layout.dies as usize],
            channels: vec![GapResource::default(); layout.channels as usize],
            matchers: vec![GapResource::default(); layout.channels as usize],
            firmware: vec![Resource::default(); p.controller.firmware_cores as usize],
            to_host: GapResource::default(),
            to_device: GapResource::default(),
            floor: SimTime::ZERO,
        }
    }

    /// One command's firmware processing on the first free firmware core. A command marks the
    /// instant it is issued, so buses forget reservations older than it.
    #[inline]
    pub fn firmware(&mut self, ready: SimTime) -> SimTime {
        self.floor = self.floor.max(ready);
        let (i, core) = self
            .firmware
            .iter_mut()
            .enumerate()
            .min_by_key(|(_, r)| r.busy_until)
            .expect("profile validation guarantees a firmware core");
        let end = core.occupy(ready, self.t_fw);
        traced(Track::FirmwareCore(i as u32), "command", end, self.t_fw)
    }

    fn channel_of(&self, page: PhysPage) -> (DieId, usize) {
        let die = self.layout.die_of_page(page);
        (die, self.layout.channel_of(die) as usize)
    }

    /// Reads a page (tR on its die) and moves `sectors` sectors over its channel; with
    /// `matcher`, the channel's matcher sees them too. Returns when the data is in the
    /// controller (or the hint is known).
    #[inline]
    pub fn nand_read(&mut self, ready: SimTime, page: PhysPage, sectors: u32, matcher: bool) -> SimTime {
        let (die, ch) = self.channel_of(page);
        let sensed = self.dies[die.0 as usize].occupy(ready, self.t_read);
        traced(Track::Die(die.0), "read", sensed, self.t_read);
        let bytes = u64::from(sectors) * LBA_BYTES;
        let xfer = SimDuration::for_bytes(bytes, self.channel_mb_per_s);
        let moved = self.channels[ch].occupy_after(self.floor, sensed, xfer);
        // With the matcher, the page streams through it on its way in: a matcher scan.
        let what = if matcher { "matcher scan" } else { "read data" };
        traced(Track::Channel(ch as u32), what, moved, xfer);
        if matcher && self.t_match > SimDuration::ZERO {
            let scanned = self.matchers[ch].occupy_after(self.floor, moved, self.t_match);
            traced(Track::Matcher(ch as u32), "matcher scan", scanned, self.t_match)
        } else {
            moved
        }
    }

    /// Moves `sectors` sectors over the page's channel and programs the page. Returns
    /// `(program start, program end)`.
    #[inline]
    pub fn nand_program(&mut self, ready: SimTime, page: PhysPage, sectors: u32) -> (SimTime, SimTime) {
        let (die, ch) = self.channel_of(page);
        let bytes = u64::from(sectors) * LBA_BYTES;
        let xfer = SimDuration::for_bytes(bytes, self.channel_mb_per_s);
        let moved = self.channels[ch].occupy_after(self.floor, ready, xfer);
        traced(Track::Channel(ch as u32), "program data", moved, xfer);
        let d = &mut self.dies[die.0 as usize];
        let start = moved.max(d.busy_until);
        let end = d.occupy(moved, self.t_prog);
        (start, traced(Track::Die(die.0), "program", end, self.t_prog))
    }

    /// Erases a block on a die.
    #[inline]
    pub fn nand_erase(&mut self, ready: SimTime, die: DieId) -> SimTime {
        let end = self.dies[die.0 as usize].occupy(ready, self.t_erase);
        traced(Track::Die(die.0), "erase", end, self.t_erase)
    }

    /// Moves `bytes` device-to-host over PCIe.
    #[inline]
    pub fn pcie_to_host(&mut self, ready: SimTime, bytes: u64) -> SimTime {
        let d = SimDuration::for_bytes(bytes, self.to_host_mb_per_s);
        let end = self.to_host.occupy_after(self.floor, ready, d);
        traced(Track::PcieToHost, "to host", end, d)
    }

    /// Moves `bytes` host-to-device over PCIe.
    #[inline]
    pub fn pcie_to_device(&mut self, ready: SimTime, bytes: u64) -> SimTime {
        let d = SimDuration::for_bytes(bytes, self.to_device_mb_per_s);
        let end = self.to_device.occupy_after(self.floor, ready, d);
        traced(Track::PcieToDevice, "to device", end, d)
    }

    /// The latest instant any resource is busy until.
    pub fn horizon(&self) -> SimTime {
        let arrays = self.dies.iter().chain(&self.firmware).map(|r| r.busy_until);
        let buses = self
            .channels
            .iter()
            .chain(&self.matchers)
            .chain([&self.to_host, &self.to_device])
            .map(GapResource::busy_until);
        arrays.chain(buses).max().unwrap_or_default()
    }
}
