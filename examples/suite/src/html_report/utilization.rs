//! Utilization over time from the in-process trace ([`sim_nvme::trace::Trace`]): the
//! fraction of each time bucket a track (an ARM core, a NAND channel, a PCIe direction) was
//! busy, and the mean over a group of tracks.

use sim_nvme::trace::{Trace, Track};

/// Busy fractions of one series, one per bucket (each in `0..=1`).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// What the series is (`ARM core 0`, `NAND channels (mean of 16)`, ...).
    pub label: String,
    /// Busy fraction per bucket.
    pub busy: Vec<f64>,
}

/// The timeline cut into equal buckets.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// Nanoseconds per bucket (at least 1).
    pub bucket_ns: u64,
    /// Number of buckets.
    pub buckets: usize,
}

impl Timeline {
    /// `buckets` buckets over `0..end_ns` (at least one nanosecond each).
    pub fn new(end_ns: u64, buckets: usize) -> Timeline {
        let buckets = buckets.max(1);
        Timeline {
            bucket_ns: end_ns.div_ceil(buckets as u64).max(1),
            buckets,
        }
    }

    /// The start of bucket `i`, in seconds.
    pub fn start_s(&self, i: usize) -> f64 {
        (i as u64 * self.bucket_ns) as f64 / 1e9
    }

    /// The end of the last bucket, in seconds.
    pub fn end_s(&self) -> f64 {
        self.start_s(self.buckets)
    }
}

/// The busy fraction per bucket of `track` (its slices never overlap, so each is at most 1).
pub fn busy(trace: &Trace, track: Track, tl: &Timeline) -> Vec<f64> {
    let mut ns = vec![0u64; tl.buckets];
    for s in trace.slices.iter().filter(|s| s.track == track) {
        let (mut a, b) = (s.start.0, s.end.0);
        while a < b {
            let i = (a / tl.bucket_ns) as usize;
            if i >= tl.buckets {
                break;
            }
            let edge = ((i as u64 + 1) * tl.bucket_ns).min(b);
            ns[i] += edge - a;
            a = edge;
        }
    }
    ns.iter()
        .map(|&n| (n as f64 / tl.bucket_ns as f64).min(1.0))
        .collect()
}

/// The mean busy fraction of `tracks` per bucket (all zero when there are none).
pub fn mean(trace: &Trace, tracks: &[Track], tl: &Timeline) -> Vec<f64> {
    let mut sum = vec![0.0; tl.buckets];
    for &t in tracks {
        for (s, b) in sum.iter_mut().zip(busy(trace, t, tl)) {
            *s += b;
        }
    }
    let n = tracks.len().max(1) as f64;
    sum.iter().map(|s| s / n).collect()
}

/// What the report draws: the mean of each resource group, and each ARM core on its own. `arm_cores` and `channels` are the device's counts (a track with no
/// slice is idle, not absent).
pub struct Utilization {
    /// The buckets.
    pub timeline: Timeline,
    /// ARM cores (mean), NAND channels (mean), PCIe to host, PCIe to device.
    pub groups: Vec<Series>,
    /// Each ARM core.
    pub cores: Vec<Series>,
}

impl Utilization {
    /// The utilization of `trace` in `buckets` buckets.
    pub fn of(trace: &Trace, arm_cores: u32, channels: u32, buckets: usize) -> Utilization {
        let tl = Timeline::new(trace.end().0, buckets);
        let cores: Vec<Track> = (0..arm_cores).map(Track::ArmCore).collect();
        let chans: Vec<Track> = (0..channels).map(Track::Channel).collect();
        let each = |tracks: &[Track]| -> Vec<Series> {
            tracks
                .iter()
                .map(|&t| Series {
                    label: t.label(),
                    busy: busy(trace, t, &tl),
                })
                .collect()
        };
        let groups = vec![
            Series {
                label: format!("ARM cores (mean of {arm_cores})"),
                busy: mean(trace, &cores, &tl),
            },
            Series {
                label: format!("NAND channels (mean of {channels})"),
                busy: mean(trace, &chans, &tl),
            },
            Series {
                label: Track::PcieToHost.label(),
                busy: busy(trace, Track::PcieToHost, &tl),
            },
            Series {
                label: Track::PcieToDevice.label(),
                busy: busy(trace, Track::PcieToDevice, &tl),
            },
        ];
        Utilization {
            cores: each(&cores),
            groups,
            timeline: tl,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_nvme::trace::{NameId, Slice};
    use sim_nvme::SimTime;

    fn slice(track: Track, start: u64, end: u64) -> Slice {
        Slice {
            track,
            name: NameId(0),
            start: SimTime(start),
            end: SimTime(end),
        }
    }

    #[test]
    fn a_slice_across_buckets_is_split_by_overlap() {
        let trace = Trace {
            names: vec!["read".into()],
            slices: vec![slice(Track::Channel(0), 5, 25), slice(Track::Channel(0), 30, 40)],
            ..Trace::default()
        };
        let tl = Timeline::new(40, 4);
        assert_eq!(tl.bucket_ns, 10);
        assert_eq!(busy(&trace, Track::Channel(0), &tl), [0.5, 1.0, 0.5, 1.0]);
        assert_eq!(
            mean(&trace, &[Track::Channel(0), Track::Channel(1)], &tl),
            [0.25, 0.5, 0.25, 0.5]
        );
        let u = Utilization::of(&trace, 2, 2, 4);
        assert_eq!(u.groups[1].busy, [0.25, 0.5, 0.25, 0.5]);
        assert_eq!(u.groups[0].busy, [0.0; 4]);
        assert_eq!(u.cores.len(), 2);
    }
}
