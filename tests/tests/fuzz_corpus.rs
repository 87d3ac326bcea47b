//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/*`) through the same
//! function its fuzz target calls (`tests::fuzz_support`), on stable: the inputs the fuzzers
//! kept, and the ones that once crashed, must all run without a panic.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use tests::fuzz_support::TARGETS;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn replay(target: &str, run: fn(&[u8])) {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus {} cannot be read: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus {} is empty", dir.display());
    let mut failed = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).expect("a corpus file reads");
        if catch_unwind(AssertUnwindSafe(|| run(&bytes))).is_err() {
            failed.push(f.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} {target} inputs panicked: {failed:#?}",
        failed.len(),
        files.len()
    );
}

#[test]
fn daemon_frame_corpus() {
    replay("daemon_frame", tests::fuzz_support::daemon_frame);
}

#[test]
fn isc_request_corpus() {
    replay("isc_request", tests::fuzz_support::isc_request);
}

#[test]
fn nvme_command_corpus() {
    replay("nvme_command", tests::fuzz_support::nvme_command);
}

#[test]
fn elf_inspect_corpus() {
    replay("elf_inspect", tests::fuzz_support::elf_inspect);
}

#[test]
fn profile_toml_corpus() {
    replay("profile_toml", tests::fuzz_support::profile_toml);
}

#[test]
fn every_target_has_a_replay() {
    let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    for n in &names {
        assert!(corpus_dir(n).is_dir(), "no corpus for {n}");
    }
    let fuzz_targets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/fuzz_targets");
    for e in std::fs::read_dir(&fuzz_targets).expect("fuzz/fuzz_targets") {
        let p = e.expect("an entry").path();
        let stem = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        assert!(names.contains(&stem.as_str()), "fuzz target {stem} has no replay");
    }
}
