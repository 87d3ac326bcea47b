//! `ndp inspect` prints module metadata (text and JSON) and refuses bad modules with the
//! loader's errors.

use std::process::Command;

use ssdlet_module_build::{build, Profile};

fn ndp(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ndp"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run ndp")
}

#[test]
fn prints_metadata_as_text_and_json() {
    let modules = build(Profile::Debug).unwrap_or_else(|e| panic!("{e}"));
    let kit = modules.testkit();
    let out = ndp(&["inspect".as_ref(), kit.as_os_str()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("module testkit 0.1.0"), "{text}");
    assert!(text.contains("ABI version 1"), "{text}");
    assert!(text.contains("ssdlet words (index 4)"), "{text}");
    assert!(text.contains("WordCount{word:str,count:u32}"), "{text}");
    // A debug build, and it says so.
    assert!(
        text.contains("warning: module `testkit`") && text.contains("debug build"),
        "{text}"
    );

    let out = ndp(&["inspect".as_ref(), "--json".as_ref(), kit.as_os_str()]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["meta"]["name"], "testkit");
    assert_eq!(v["meta"]["abi_version"], 1);
    let ssdlets = v["meta"]["ssdlets"].as_array().unwrap();
    let echo = ssdlets.iter().find(|s| s["id"] == "echo").unwrap();
    assert_eq!(echo["inputs"][0]["type"], "u64");
    assert_eq!(v["overflow_checks"], true);
}

#[test]
fn refuses_bad_modules_with_the_loader_errors() {
    let modules = build(Profile::Debug).unwrap_or_else(|e| panic!("{e}"));
    let out = ndp(&["inspect".as_ref(), modules.net().as_os_str()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("imports") && err.contains("`socket` (network access)"),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let not_elf = tmp.path().join("not-elf.so");
    std::fs::write(&not_elf, b"plain text").unwrap();
    let out = ndp(&["inspect".as_ref(), not_elf.as_os_str()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an ELF file"));
}
