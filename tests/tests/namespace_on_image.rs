//! Workspace-level: the device file namespace (device-runtime) lives on a persistent image
//! (sim-nvme). A file created, filled and committed before the process lets go of the image
//! is found again, with its bytes, after reopening.

use device_runtime::namespace::Namespace;
use sim_nvme::{DeviceProfile, Lba, SimTime, Ssd, LBA_BYTES};

#[test]
fn a_committed_file_survives_reopening_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("ns.img");
    let text: Vec<u8> = (0..10_000u32)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    {
        let mut ssd = Ssd::create_image(DeviceProfile::tiny(), &img).unwrap();
        let (mut ns, t) = Namespace::load(&mut ssd, SimTime::ZERO).unwrap();
        let file = ns.create("lines.txt", text.len() as u64).unwrap().clone();
        let mut t = t;
        let mut padded = text.clone();
        padded.resize(padded.len().div_ceil(LBA_BYTES as usize) * LBA_BYTES as usize, 0);
        let mut off = 0usize;
        for run in file.runs(0, text.len() as u64).unwrap() {
            let bytes = (run.blocks * LBA_BYTES) as usize;
            // Host writes are limited to the MDTS: write in 128 KiB pieces.
            for (i, piece) in padded[off..off + bytes].chunks(128 << 10).enumerate() {
                let lba = run.start.offset(i as u64 * 32);
                t = ssd.host_write(t, lba, piece).unwrap();
            }
            off += bytes;
        }
        ns.commit(&mut ssd, t).unwrap();
    }
    let mut ssd = Ssd::open_image(DeviceProfile::tiny(), &img).unwrap();
    let (ns, t) = Namespace::load(&mut ssd, SimTime::ZERO).unwrap();
    let file = ns.get("lines.txt").unwrap();
    assert_eq!(file.size, text.len() as u64);
    let mut back = Vec::new();
    for run in file.runs(0, file.size).unwrap() {
        let mut buf = vec![0u8; (run.blocks * LBA_BYTES) as usize];
        ssd.internal_read(t, Lba(run.start.0), &mut buf).unwrap();
        back.extend_from_slice(&buf);
    }
    back.truncate(text.len());
    assert!(back == text, "file contents differ after reopening");
}
