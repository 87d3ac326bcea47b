//! The same SSDlets at both sites: on the device (near-data) and on the host (the
//! conventional run of the same code). Same outputs; the host reads over PCIe, matches in
//! software, computes at the reference core's speed, and its host port commands cost nothing.

mod common;

use common::host::Host;
use device_runtime::isc::{IscRequest, IscResponse, ModuleId};
use ndp_protocol::{AppConfig, ArgValue, FileId, RunReport, Site};
use sim_nvme::{DeviceProfile, SimDuration};
use ssdlet_testkit_types::WordCount;

/// About 1.2 MiB of text with "needle" on a few pages only.
fn text() -> Vec<u8> {
    let mut t = Vec::new();
    for i in 0..28_000 {
        if i % 5_000 == 17 {
            t.extend_from_slice(b"a needle in the hay\n");
        } else {
            t.extend_from_slice(b"the quick brown fox jumps over the dog\n");
        }
    }
    t
}

fn put(h: &mut Host, name: &str, data: &[u8]) -> FileId {
    let IscResponse::File(f) = h.ok(IscRequest::FileCreate {
        name: name.into(),
        size: data.len() as u64,
    }) else {
        panic!()
    };
    for (i, part) in data.chunks(1 << 20).enumerate() {
        h.ok(IscRequest::FileWrite {
            name: name.into(),
            offset: (i << 20) as u64,
            data: part.to_vec(),
        });
    }
    f
}

struct Run {
    words: Vec<WordCount>,
    pages: Vec<u64>,
    report: RunReport,
    start_cost: SimDuration,
}

/// `words` and `grep` over `f` in one Application at `site`.
fn run(h: &mut Host, m: ModuleId, f: FileId, site: Site) -> Run {
    let app = h.app_with(
        site.name(),
        AppConfig {
            site,
            ..AppConfig::default()
        },
    );
    let w = h.spawn(app, m, "words", vec![ArgValue::File(f)]);
    let g = h.spawn(
        app,
        m,
        "grep",
        vec![ArgValue::File(f), ArgValue::Str("needle".into())],
    );
    let (wr, gr) = (h.receiver(w, "words"), h.receiver(g, "pages"));
    let before = h.now;
    h.ok(IscRequest::Start { app });
    let start_cost = h.now.saturating_since(before);
    let words = h.drain(wr);
    let pages = h.drain(gr);
    let report = h.wait(app);
    assert_eq!(report.error, None);
    Run {
        words,
        pages,
        report,
        start_cost,
    }
}

#[test]
fn the_host_site_runs_the_same_code_the_conventional_way() {
    let mut h = Host::new();
    let m = h.load_testkit();
    let t = text();
    let f = put(&mut h, "text", &t);
    let dev = run(&mut h, m, f, Site::Device);
    let host = run(&mut h, m, f, Site::Host);
    let profile = DeviceProfile::tiny();

    // The same answers.
    assert_eq!(dev.words.len(), 28_000 * 8 - 6 * 3);
    assert_eq!(host.words, dev.words);
    assert_eq!(dev.pages.len(), 6);
    assert_eq!(host.pages, dev.pages);

    // The device read the file inside; the host read it over PCIe, and matched the pages in
    // software instead of on the channel matchers.
    let (d, c) = (&dev.report, &host.report);
    let outputs: u64 = d.ports.iter().map(|p| p.bytes).sum();
    assert_eq!(d.pcie_bytes_to_host, outputs, "only the outputs cross: {d:?}");
    // Two readers of one file, and grep reading its hinted pages again: the host's page cache
    // holds what was read once, so the file crosses PCIe once.
    let blocks = (t.len() as u64).div_ceil(4096) * 4096;
    assert_eq!(c.pcie_bytes_to_host, blocks, "{c:?}");
    assert_eq!(c.site, Site::Host);
    assert_eq!(d.site, Site::Device);
    assert!(d.matcher_pages_scanned > 0);
    assert_eq!(c.matcher_pages_scanned, 0);
    assert!(c.nand_pages_read > 0);

    // Host port traffic of the host site stays in host memory: no PCIe to the device, and
    // its control commands cost no I/O stack, link or firmware time.
    assert_eq!(c.pcie_bytes_to_device, 0);
    assert_eq!(host.start_cost, SimDuration::ZERO);
    assert!(dev.start_cost >= SimDuration(profile.host.io_stack_ns));

    // Each site's cores, and compute at its own speed: a device core is `arm_slowdown` times
    // slower than a host core for the same counted work.
    assert_eq!(d.core_busy.len(), profile.arm.cores as usize);
    assert_eq!(c.core_busy.len(), profile.host.cores as usize);
    let words_compute = |r: &RunReport| r.ssdlets.iter().find(|s| s.ssdlet == "words").unwrap().compute;
    let (dw, cw) = (words_compute(d), words_compute(c));
    let ratio = dw.0 as f64 / cw.0 as f64;
    assert!(
        (ratio - profile.arm.arm_slowdown).abs() < 0.02 * profile.arm.arm_slowdown,
        "device {dw:?}, host {cw:?}"
    );
    let work = |r: &RunReport| r.ssdlets.iter().map(|s| s.work).collect::<Vec<_>>();
    assert_eq!(work(d), work(c), "the same counted work");
}

#[test]
fn a_host_site_placement_names_the_host_cores() {
    let mut h = Host::new();
    let m = h.load_testkit();
    let app = h.app_with(
        "conv",
        AppConfig {
            site: Site::Host,
            ..AppConfig::default()
        },
    );
    let cores = DeviceProfile::tiny().host.cores;
    let msg = h.refused(
        IscRequest::Spawn {
            app,
            module: m,
            ssdlet: "echo".into(),
            args: vec![],
            placement: ndp_protocol::Placement::Core(cores),
        },
        device_runtime::isc::ErrorKind::NotFound,
    );
    assert!(msg.contains(&format!("the host has {cores} cores")), "{msg}");
}

#[test]
fn ssdlets_at_different_sites_are_never_connected() {
    let mut h = Host::new();
    let m = h.load_testkit();
    let dev = h.app("ndp");
    let conv = h.app_with(
        "conv",
        AppConfig {
            site: Site::Host,
            ..AppConfig::default()
        },
    );
    let c = h.spawn(dev, m, "count", vec![ArgValue::U64(3)]);
    let s = h.spawn(conv, m, "sum", vec![]);
    // Device data would reach the host through the host-site SSDlet without crossing PCIe.
    let msg = h.refused(
        IscRequest::Connect {
            from: c,
            output: "out".into(),
            to: s,
            input: "in".into(),
        },
        device_runtime::isc::ErrorKind::InvalidArgument,
    );
    assert!(
        msg.contains("`count` (at the device)") && msg.contains("`sum` (at the host)"),
        "{msg}"
    );
}

#[test]
fn a_host_site_scan_over_several_read_ahead_windows_hints_what_the_device_does() {
    let mut h = Host::new();
    let m = h.load_testkit();
    // 9 MiB: more than one 8 MiB window of host reads; "needle" on the first page of the
    // second window, on the last page of the first, and across a page boundary (which neither
    // matcher sees, so grep never confirms it).
    let mut t = vec![b'.'; 9 << 20];
    let at = |t: &mut Vec<u8>, i: usize| t[i..i + 6].copy_from_slice(b"needle");
    at(&mut t, 8 << 20);
    at(&mut t, (8 << 20) - 10);
    at(&mut t, (3 << 20) - 3);
    at(&mut t, 100);
    let f = put(&mut h, "big", &t);
    let pages = |h: &mut Host, site: Site| {
        let app = h.app_with(
            site.name(),
            AppConfig {
                site,
                ..AppConfig::default()
            },
        );
        let g = h.spawn(
            app,
            m,
            "grep",
            vec![ArgValue::File(f), ArgValue::Str("needle".into())],
        );
        let r = h.receiver(g, "pages");
        h.ok(IscRequest::Start { app });
        let pages: Vec<u64> = h.drain(r);
        let report = h.wait(app);
        assert_eq!(report.error, None);
        (pages, report)
    };
    let (dev, d) = pages(&mut h, Site::Device);
    let (host, c) = pages(&mut h, Site::Host);
    assert_eq!(dev, vec![0, 2047, 2048], "{d:?}");
    assert_eq!(host, dev);
    assert_eq!(c.pcie_bytes_to_host, t.len() as u64, "read once: {c:?}");
}
