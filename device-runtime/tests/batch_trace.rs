//! A batched stream on the trace's timeline (one test in its own binary: the trace is
//! process-wide): the port between the SSDlets never holds more messages than its capacity,
//! and each run of a batch put (INVARIANT `batch-is-one-call`) is one flow, ended on the
//! receiver's core where its first message was taken, by a single get or a batch get.

mod common;

use device_runtime::runtime::{AppConfig, ArgValue, Runtime, RuntimeConfig};
use sim_nvme::trace::{self, CounterKind, TraceConfig, Track};
use sim_nvme::DeviceProfile;

#[test]
fn a_batched_stream_never_overfills_its_port_and_draws_a_flow_per_run() {
    let m = common::loader()
        .load(&common::modules().testkit())
        .expect("testkit loads");
    let (n, cap) = (1000u64, 16usize);
    for (receiver, args) in [("sum", vec![]), ("sum_batch", vec![ArgValue::U64(64)])] {
        trace::start(TraceConfig::default());
        let config = RuntimeConfig {
            channel_capacity: cap,
            ..RuntimeConfig::default()
        };
        let mut rt = Runtime::in_memory(DeviceProfile::tiny(), config).expect("tiny runtime");
        let app = rt.create_app("traced", AppConfig::default());
        let s = rt
            .spawn(app, &m.ssdlet("count_all").unwrap(), &[ArgValue::U64(n)])
            .unwrap();
        let r = rt.spawn(app, &m.ssdlet(receiver).unwrap(), &args).unwrap();
        rt.connect(s, "out", r, "in").unwrap();
        let out = rt.host_receiver(r, "total").unwrap();
        rt.start(app).unwrap();
        rt.wait(app).unwrap();
        let report = rt.report(app).unwrap();
        let t = trace::finish().expect("a trace was recorded");
        assert_eq!(rt.recv::<u64>(out).unwrap(), vec![n * (n - 1) / 2], "{receiver}");

        let port = report
            .ports
            .iter()
            .find(|p| p.messages == n)
            .expect("the stream's port");
        let depths: Vec<i64> = t
            .counters
            .iter()
            .filter(|c| c.kind == CounterKind::QueueDepth && t.names[c.name.0 as usize] == port.name)
            .map(|c| c.value)
            .collect();
        assert!(
            !depths.is_empty(),
            "{receiver}: no queue depth recorded for {}",
            port.name
        );
        let deepest = depths.iter().copied().max().unwrap_or_default();
        assert_eq!(
            deepest, cap as i64,
            "{receiver}: the port fills to its capacity, no more"
        );

        let (sender_core, receiver_core) = (report.ssdlets[0].core, report.ssdlets[1].core);
        let runs: Vec<_> = t
            .flows
            .iter()
            .filter(|f| f.from.track == Track::ArmCore(sender_core))
            .collect();
        // Each run at most `cap` messages, and far fewer runs than messages.
        assert!(
            runs.len() as u64 >= n / cap as u64,
            "{receiver}: {} flows",
            runs.len()
        );
        assert!(
            (runs.len() as u64) < n / 4,
            "{receiver}: {} flows for {n} messages",
            runs.len()
        );
        for f in &runs {
            let to = f.to.expect("every run was taken");
            assert_eq!(to.track, Track::ArmCore(receiver_core), "{receiver}");
            assert!(to.at >= f.from.at, "{receiver}: taken before it was put");
        }
    }
}
