//! Every way a module is refused: one test per case, each with its own message, and the
//! process that saw the refusal still loads and runs a good module afterwards.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use device_runtime::driver::{ArgValue, DriverConfig, TestDriver};
use device_runtime::loader::{inspect, LoadError, Loader};

fn testkit_bytes() -> Vec<u8> {
    std::fs::read(common::modules().testkit()).expect("testkit built")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

fn find(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// The loader still works: load the good module and run count -> sum.
fn still_works(loader: &Loader) {
    let m = loader
        .load(&common::modules().testkit())
        .expect("good module loads after a refusal");
    let mut d = TestDriver::new(DriverConfig::default());
    let c = d
        .spawn(&m.ssdlet("count").unwrap(), &[ArgValue::U64(10)])
        .unwrap();
    let s = d.spawn(&m.ssdlet("sum").unwrap(), &[]).unwrap();
    d.connect(c, "out", s, "in").unwrap();
    let total = d.sink(s, "total").unwrap();
    d.run().unwrap();
    assert_eq!(d.take::<u64>(total).unwrap(), vec![45]);
}

/// Loads `bytes` as a module named `name`; returns the error (and checks inspect agrees).
fn refuse(name: &str, bytes: &[u8]) -> LoadError {
    let scratch = common::scratch();
    let dir = scratch.path();
    let path = write(dir, name, bytes);
    let loader = Loader::new(dir.join("staging")).unwrap();
    let err = loader.load(&path).expect_err("bad module must be refused");
    if !matches!(err, LoadError::Dlopen { .. }) {
        let inspected = inspect(&path).expect_err("inspect refuses it too");
        assert_eq!(inspected.to_string(), err.to_string(), "inspect and load agree");
    }
    // Nothing is left staged for a refused module.
    let left = std::fs::read_dir(dir.join("staging")).unwrap().count();
    assert_eq!(left, 0, "refused module left a staged file");
    still_works(&loader);
    err
}

fn not_elf() -> LoadError {
    refuse("notelf.so", b"#!/bin/sh\necho this is not an ELF file\n")
}

fn truncated() -> LoadError {
    let b = testkit_bytes();
    refuse("trunc.so", &b[..b.len() / 2])
}

fn wrong_machine() -> LoadError {
    let mut b = testkit_bytes();
    let other: u16 = if cfg!(target_arch = "x86_64") { 183 } else { 62 };
    b[18..20].copy_from_slice(&other.to_le_bytes());
    refuse("machine.so", &b)
}

fn no_metadata() -> LoadError {
    let mut b = testkit_bytes();
    let hits = find(&b, b".ssdlet_meta\0");
    assert!(!hits.is_empty());
    for h in hits {
        b[h..h + 12].copy_from_slice(b".ssdlet_xxxx");
    }
    refuse("nometa.so", &b)
}

fn meta_offset(b: &[u8]) -> usize {
    let hits = find(b, b"SSDLMETA");
    assert_eq!(hits.len(), 1, "exactly one metadata blob");
    hits[0]
}

fn corrupt_metadata() -> LoadError {
    let mut b = testkit_bytes();
    let at = meta_offset(&b) + 20 + 3;
    b[at] ^= 0x01;
    refuse("corrupt.so", &b)
}

fn abi_mismatch() -> LoadError {
    let mut b = testkit_bytes();
    let at = meta_offset(&b) + 8;
    b[at..at + 4].copy_from_slice(&99u32.to_le_bytes());
    refuse("abi.so", &b)
}

fn forbidden_import() -> LoadError {
    let b = std::fs::read(common::modules().net()).unwrap();
    refuse("net.so", &b)
}

fn dlopen_fails() -> LoadError {
    // A dependency that does not exist: same length, so the ELF stays well-formed and passes
    // every static check, but the dynamic loader cannot satisfy it.
    let mut b = testkit_bytes();
    let hits = find(&b, b"libc.so.6\0");
    assert!(!hits.is_empty());
    for h in hits {
        b[h..h + 9].copy_from_slice(b"libq.so.9");
    }
    refuse("dlopen.so", &b)
}

fn unknown_id() -> LoadError {
    let loader = common::loader();
    let m = loader.load(&common::modules().testkit()).unwrap();
    let err = m.ssdlet("idNope").expect_err("unknown id");
    still_works(&loader);
    err
}

#[test]
fn not_elf_is_refused() {
    let e = not_elf();
    assert!(matches!(e, LoadError::NotElf { .. }), "{e}");
    assert!(e.to_string().contains("is not an ELF file"), "{e}");
}

#[test]
fn truncated_elf_is_refused() {
    let e = truncated();
    assert!(matches!(e, LoadError::TruncatedElf { .. }), "{e}");
    assert!(e.to_string().contains("truncated ELF"), "{e}");
}

#[test]
fn wrong_machine_is_refused() {
    let e = wrong_machine();
    assert!(matches!(e, LoadError::WrongMachine { .. }), "{e}");
    assert!(e.to_string().contains("built for the"), "{e}");
}

#[test]
fn missing_metadata_is_refused() {
    let e = no_metadata();
    assert!(matches!(e, LoadError::NoMetadata { .. }), "{e}");
    assert!(e.to_string().contains("no SSDlet metadata"), "{e}");
}

#[test]
fn corrupt_metadata_is_refused() {
    let e = corrupt_metadata();
    assert!(matches!(e, LoadError::CorruptMetadata { .. }), "{e}");
    assert!(e.to_string().contains("checksum"), "{e}");
}

#[test]
fn abi_mismatch_is_refused() {
    let e = abi_mismatch();
    assert!(matches!(e, LoadError::AbiMismatch { found: 99, .. }), "{e}");
    assert!(e.to_string().contains("ABI version 99"), "{e}");
}

#[test]
fn forbidden_import_is_refused() {
    let e = forbidden_import();
    let LoadError::ForbiddenImport { symbols, .. } = &e else {
        panic!("{e}")
    };
    assert!(symbols.iter().any(|s| s == "socket"), "{e}");
    assert!(e.to_string().contains("`socket` (network access)"), "{e}");
}

#[test]
fn unknown_ssdlet_id_is_refused() {
    let e = unknown_id();
    assert!(matches!(e, LoadError::UnknownSsdlet { .. }), "{e}");
    let s = e.to_string();
    assert!(s.contains("no SSDlet `idNope`") && s.contains("echo"), "{s}");
}

#[test]
fn dlopen_failure_is_refused() {
    let e = dlopen_fails();
    assert!(matches!(e, LoadError::Dlopen { .. }), "{e}");
    assert!(e.to_string().contains("libq.so.9"), "{e}");
}

#[test]
fn every_refusal_has_its_own_message() {
    let errs = [
        not_elf(),
        truncated(),
        wrong_machine(),
        no_metadata(),
        corrupt_metadata(),
        abi_mismatch(),
        forbidden_import(),
        unknown_id(),
        dlopen_fails(),
    ];
    // Distinct variants and distinct message shapes (paths differ anyway, so compare the
    // text with the path removed).
    let kinds: HashSet<_> = errs.iter().map(std::mem::discriminant).collect();
    assert_eq!(kinds.len(), errs.len());
    let texts: HashSet<String> = errs
        .iter()
        .map(|e| {
            let s = e.to_string();
            s.split_whitespace()
                .filter(|w| !w.contains('/'))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(texts.len(), errs.len());
}

#[test]
fn each_load_gets_its_own_path_and_leaves_nothing_staged() {
    let scratch = common::scratch();
    let loader = Loader::new(scratch.path()).unwrap();
    let a = loader.load(&common::modules().testkit()).unwrap();
    let b = loader.load(&common::modules().testkit()).unwrap();
    assert_ne!(a.staged_path(), b.staged_path());
    assert_ne!(a.staged_path().parent(), b.staged_path().parent());
    for m in [&a, &b] {
        assert!(m.staged_path().starts_with(scratch.path()));
        assert!(
            !m.staged_path().exists(),
            "the staged copy is removed once mapped"
        );
    }
    let left = std::fs::read_dir(scratch.path()).unwrap().count();
    assert_eq!(left, 0, "loaded modules left files in the staging directory");
    a.unload();
    still_works(&loader);
    b.unload();
    still_works(&loader);
}

#[test]
fn a_load_touches_nothing_planted_in_the_staging_directory() {
    let scratch = common::scratch();
    let victim = scratch.path().join("victim");
    std::fs::write(&victim, b"keep me").unwrap();
    let base = scratch.path().join("staging");
    std::fs::create_dir(&base).unwrap();
    // Whatever another user plants in the staging directory (symlinks to a file of ours), a
    // load makes a new directory of its own, writes only there, and removes it.
    for i in 0..64 {
        std::os::unix::fs::symlink(&victim, base.join(format!("ssdlet-staging-{i}"))).unwrap();
    }
    let loader = Loader::new(&base).unwrap();
    let m = loader.load(&common::modules().testkit()).unwrap();
    assert!(m.staged_path().starts_with(&base));
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert_eq!(std::fs::read_dir(&base).unwrap().count(), 64);
}
