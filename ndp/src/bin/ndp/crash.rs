//! `ndp bench crash`: `kill -9` of `ndp serve` at seeded random moments while a host puts files,
//! then a restart from the image and a check of every file (INVARIANT(put-atomic),
//! INVARIANT(flush-survives-kill)).
//!
//! Each cycle starts `ndp serve` (this executable, supervisor and firmware child in a process
//! group of their own) on one image, checks the device, starts a host thread putting files of
//! 50 kB to 3 MB in a loop, and after a seeded delay kills the whole group with SIGKILL. The
//! delays are spread over 0.05 to 3 times the time one put took on this machine (measured by a
//! first, uninterrupted put), so kills land inside puts on a fast machine and a slow one. The
//! check after each restart: every file whose put returned is listed with its exact bytes
//! (*lost* or *changed* otherwise); every other listed file is a put that completed on the
//! device before the kill but whose reply never came, and must be whole too (*torn*
//! otherwise); no staging file is left in the device's file table (the firmware reclaims them
//! when it opens). Which moments the kills hit depends on the machine's speed, so the counts of
//! puts vary from run to run; the four failure counts must be 0 every time.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use host_sdk::Device;
use ndp_protocol::filetable::{FileTable, STAGING_PREFIX};
use serde::Serialize;
use sim_nvme::nvme::{Command as Nvme, Payload};

/// What a crash loop found.
#[derive(Debug, Default, Serialize)]
pub struct CrashReport {
    /// Kill cycles run.
    pub cycles: u32,
    /// The seed of the kill moments.
    pub seed: u64,
    /// Puts that returned before a kill.
    pub puts_acknowledged: u64,
    /// Puts that completed on the device although their reply never came (whole files).
    pub puts_unacknowledged_whole: u64,
    /// Files checked byte for byte over all restarts.
    pub files_checked: u64,
    /// Acknowledged files missing after a restart.
    pub lost: u64,
    /// Acknowledged files whose bytes changed.
    pub changed: u64,
    /// Listed files that are not a whole put.
    pub torn: u64,
    /// Staging files left in the file table after a restart.
    pub staging_left: u64,
    /// Wall time of the first, uninterrupted put, in milliseconds (the kill moments scale with it).
    pub one_put_ms: f64,
    /// Wall time of the whole loop, in seconds.
    pub wall_s: f64,
}

/// The bytes of file `f-<i>`: 50 kB to 3 MB, a pattern that differs per file; `f-0`, the put
/// that times the kills, is 1.55 MB, the mean size.
fn content(i: u64) -> Vec<u8> {
    let size = 50_000 + (1_500_000 + i * 370_001) % 3_000_000;
    (0..size).map(|j| ((i * 7919 + j) % 251) as u8).collect()
}

/// splitmix64: the kill moments.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `ndp serve` on `image`, in a process group of its own, once it listens.
fn serve(image: &Path, socket: &Path, profile: &str, sets: &[String]) -> anyhow::Result<Child> {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(std::env::current_exe().context("finding this executable")?);
    cmd.arg("serve")
        .arg("--image")
        .arg(image)
        .arg("--socket")
        .arg(socket)
        .args(["--profile", profile]);
    for s in sets {
        cmd.args(["--set", s]);
    }
    if let Some(dir) = socket.parent() {
        // The daemon's staging and private directories go where the loop cleans up.
        cmd.env("TMPDIR", dir);
    }
    // Its log goes to a file: a pipe nobody reads would fill and stall it.
    let log_path = socket.with_file_name("serve.log");
    let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let mut child = cmd
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .context("starting ndp serve")?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out)
            .read_line(&mut line)
            .context("reading ndp serve's first line")?;
    }
    if !line.contains("listening") {
        let status = child.wait()?;
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("ndp serve {status} before it listened: {}", tail.join(" | "));
    }
    Ok(child)
}

/// SIGKILL to the daemon's whole process group (supervisor and firmware child at once).
fn kill_group(child: &mut Child) -> anyhow::Result<()> {
    let group = format!("-{}", child.id());
    let status = Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .context("running kill(1)")?;
    if !status.success() {
        bail!("kill -KILL -- {group} failed: {status}");
    }
    child.wait()?;
    // The firmware child is not ours to wait for: it has let go of the image once no process
    // of the group is still running (a zombie holds no files; reaping it is init's business).
    let deadline = Instant::now() + Duration::from_secs(10);
    while group_running(child.id()) {
        if Instant::now() > deadline {
            bail!("the daemon's process group {group} still runs 10 s after SIGKILL");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

/// Whether a process of group `pgid` is still running (not a zombie), from `/proc`.
fn group_running(pgid: u32) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .any(|stat| {
            // `pid (comm) state ppid pgrp ...`: fields after the last `)`.
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            let mut f = rest.split_whitespace();
            let state = f.next();
            let pgrp = f.nth(1).and_then(|g| g.parse::<u32>().ok());
            pgrp == Some(pgid) && state != Some("Z")
        })
}

/// The names in the device's file table as the device owner reads it over NVMe, staging ones
/// included.
fn table_names(dev: &Device) -> anyhow::Result<Vec<String>> {
    let mut copies = Vec::new();
    for copy in 0..2u64 {
        let mut data = Vec::new();
        // 32 blocks per read: within every profile's transfer limit.
        for part in 0..2u64 {
            let c = dev.submit(Nvme::Read {
                nsid: 1,
                lba: sim_nvme::Lba(copy * 64 + part * 32),
                blocks: 32,
            })?;
            let Payload::Data(d) = c.payload else {
                bail!("a read of the file table returned no data ({})", c.status);
            };
            data.extend_from_slice(&d);
        }
        copies.push(data);
    }
    let (_, table) = FileTable::from_copies([&copies[0], &copies[1]]).map_err(anyhow::Error::msg)?;
    Ok(table.files.into_keys().collect())
}

/// Connects, retrying while the socket comes up.
fn connect(socket: &Path) -> anyhow::Result<Device> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Device::connect(socket) {
            Ok(d) => return Ok(d),
            Err(e) if Instant::now() > deadline => return Err(e.into()),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Checks the device after a restart against the acknowledged puts (`done`, by index), and
/// adopts whole unacknowledged ones.
fn check(dev: &Device, done: &mut BTreeMap<u64, ()>, r: &mut CrashReport) -> anyhow::Result<()> {
    let listed = dev.list_files()?;
    for &i in done.keys() {
        let name = format!("f-{i}");
        if !listed.iter().any(|f| f.name == name) {
            r.lost += 1;
            continue;
        }
        r.files_checked += 1;
        if dev.get_bytes(&name)? != content(i) {
            r.changed += 1;
        }
    }
    for f in &listed {
        let Some(i) = f.name.strip_prefix("f-").and_then(|n| n.parse::<u64>().ok()) else {
            r.torn += 1;
            continue;
        };
        if done.contains_key(&i) {
            continue;
        }
        r.files_checked += 1;
        if dev.get_bytes(&f.name)? == content(i) {
            r.puts_unacknowledged_whole += 1;
            done.insert(i, ());
        } else {
            r.torn += 1;
        }
    }
    r.staging_left += table_names(dev)?
        .iter()
        .filter(|n| n.starts_with(STAGING_PREFIX))
        .count() as u64;
    Ok(())
}

/// Runs `cycles` kill cycles with kill moments from `seed` (module docs).
pub fn run(profile: &str, sets: &[String], cycles: u32, seed: u64) -> anyhow::Result<CrashReport> {
    let dir: PathBuf = std::env::temp_dir().join(format!("ndp-bench-crash-{}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = run_in(&dir, profile, sets, cycles, seed);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(dir: &Path, profile: &str, sets: &[String], cycles: u32, seed: u64) -> anyhow::Result<CrashReport> {
    let started = Instant::now();
    let (image, socket) = (dir.join("crash.img"), dir.join("ndp.sock"));
    let mut r = CrashReport {
        cycles,
        seed,
        ..CrashReport::default()
    };
    let mut done = BTreeMap::new();
    let mut state = seed;
    // One put, uninterrupted, times the kill moments.
    let one_put = {
        let mut daemon = serve(&image, &socket, profile, sets)?;
        let dev = connect(&socket)?;
        let t = Instant::now();
        dev.put_bytes("f-0", &content(0))?;
        let took = t.elapsed();
        done.insert(0, ());
        r.puts_acknowledged += 1;
        kill_group(&mut daemon)?;
        took
    };
    r.one_put_ms = one_put.as_secs_f64() * 1e3;
    for _ in 0..cycles {
        let mut daemon = serve(&image, &socket, profile, sets)?;
        let dev = connect(&socket)?;
        check(&dev, &mut done, &mut r)?;
        let first = done.keys().next_back().map_or(0, |i| i + 1);
        let (tx, rx) = mpsc::channel();
        let putter = std::thread::spawn(move || {
            for i in first.. {
                if dev.put_bytes(&format!("f-{i}"), &content(i)).is_err() {
                    return;
                }
                if tx.send(i).is_err() {
                    return;
                }
            }
        });
        // 0.05 to 3 puts' time: from inside the first put to a few puts in.
        std::thread::sleep(one_put.mul_f64((5 + next(&mut state) % 296) as f64 / 100.0));
        kill_group(&mut daemon)?;
        let _ = putter.join();
        for i in rx.try_iter() {
            r.puts_acknowledged += 1;
            done.insert(i, ());
        }
    }
    // The last kill's aftermath.
    let mut daemon = serve(&image, &socket, profile, sets)?;
    let checked = connect(&socket).and_then(|dev| check(&dev, &mut done, &mut r));
    kill_group(&mut daemon)?;
    checked?;
    r.wall_s = started.elapsed().as_secs_f64();
    Ok(r)
}
