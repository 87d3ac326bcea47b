//! Puts survive a crash whole or not at all (INVARIANT(put-atomic)): a child process puts files
//! of up to 3 MiB into an image in a loop and is killed with SIGKILL at seeded random moments;
//! after each kill the image is reopened and every file a put reported done is there with its
//! exact bytes, no other file (torn or staging) is visible, and the interrupted put's staging
//! file is gone from the device's file table (its blocks free again).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use host_sdk::{Device, DeviceProfile, ImageSpec};

const CHILD_ENV: &str = "HOST_SDK_PUT_CRASH_CHILD";
const CYCLES: u64 = 10;

/// The bytes of file `i`.
fn content(i: u64) -> Vec<u8> {
    let size = 50_000 + (i * 370_001) % 3_000_000;
    (0..size).map(|j| ((i * 7919 + j) % 251) as u8).collect()
}

fn open(image: &Path) -> Device {
    Device::embedded(DeviceProfile::tiny(), ImageSpec::File(image.to_path_buf())).expect("the image opens")
}

/// The child: puts `f-<i>` from `first` on, printing `done i` after each put returned.
fn child(image: &Path, first: u64) {
    let dev = open(image);
    for i in first.. {
        dev.put_bytes(&format!("f-{i}"), &content(i)).unwrap();
        println!("done {i}");
    }
}

#[test]
fn puts_survive_kill_minus_nine_whole_or_not_at_all() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        let (image, first) = spec.split_once('|').unwrap();
        child(Path::new(image), first.parse().unwrap());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let image = tmp.path().join("crash.img");
    let mut done: Vec<u64> = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for cycle in 0..CYCLES {
        let first = done.last().map_or(0, |d| d + 1);
        let mut c = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "puts_survive_kill_minus_nine_whole_or_not_at_all",
                "--nocapture",
            ])
            .env(CHILD_ENV, format!("{}|{first}", image.display()))
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait for at least one put, then kill at a seeded moment (mid-put, usually).
        let mut lines = BufReader::new(c.stdout.take().unwrap()).lines();
        let mut reported = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(i) = line.strip_prefix("done ") {
                reported.push(i.parse::<u64>().unwrap());
                break;
            }
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % 150));
        c.kill().unwrap();
        c.wait().unwrap();
        for line in lines {
            let Ok(line) = line else { break };
            if let Some(i) = line.strip_prefix("done ") {
                reported.push(i.parse().unwrap());
            }
        }
        done.extend(reported);
        let dev = open(&image);
        let files = dev.list_files().unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        for f in &files {
            let i: u64 = f
                .name
                .strip_prefix("f-")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("cycle {cycle}: unexpected file `{}` in {names:?}", f.name));
            assert_eq!(
                dev.get_bytes(&f.name).unwrap(),
                content(i),
                "cycle {cycle}: `{}` torn",
                f.name
            );
        }
        for i in &done {
            assert!(
                names.contains(&format!("f-{i}").as_str()),
                "cycle {cycle}: f-{i} lost"
            );
        }
        // A put finished after its last `done` line was read may be there too; keep it.
        done = files
            .iter()
            .filter_map(|f| f.name.strip_prefix("f-")?.parse().ok())
            .collect();
        done.sort_unstable();
        // The interrupted put's staging file left the device's table when it was opened (the
        // table as the host reads it over NVMe lists every entry).
        let table = match dev.host_file("no-such-file") {
            Err(host_sdk::Error::UnknownFile { message, .. }) => message,
            other => panic!("expected an unknown file, got {other:?}"),
        };
        assert!(!table.contains(".ndp-put."), "cycle {cycle}: {table}");
        drop(dev);
    }
    assert!(done.len() as u64 >= CYCLES, "only {} puts completed", done.len());
}
