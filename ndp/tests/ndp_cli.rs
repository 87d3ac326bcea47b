//! `ndp init | put | get | ls | rm` on an image file, and their refusals (non-zero exit, the
//! typed error's text).

use std::path::Path;
use std::process::{Command, Output};

fn ndp(image: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ndp"))
        .args(args)
        .arg("--image")
        .arg(image)
        .args(["--profile", "tiny"])
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .expect("ndp runs")
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn refused(o: Output) -> String {
    assert!(!o.status.success());
    String::from_utf8(o.stderr).unwrap()
}

#[test]
fn files_through_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let image = dir.join("dev.img");
    let src = dir.join("notes.txt");
    std::fs::write(&src, "near data\n").unwrap();

    ok(ndp(&image, &["init"]));
    assert!(refused(ndp(&image, &["init"])).contains("already exists"));
    ok(ndp(&image, &["put", src.to_str().unwrap()]));
    let ls: serde_json::Value = serde_json::from_str(&ok(ndp(&image, &["ls", "--json"]))).unwrap();
    assert_eq!(
        ls,
        serde_json::json!([{ "name": "notes.txt", "size": 10, "owner": null, "shared": false }])
    );
    ok(ndp(&image, &["share", "notes.txt"]));
    let ls = ok(ndp(&image, &["ls"]));
    assert_eq!(ls.trim(), "10 s notes.txt", "{ls}");
    ok(ndp(&image, &["share", "notes.txt", "--off"]));
    assert!(refused(ndp(&image, &["share", "none.txt"])).contains("none.txt"));
    let back = dir.join("back.txt");
    ok(ndp(&image, &["get", "notes.txt", back.to_str().unwrap()]));
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "near data\n");
    ok(ndp(&image, &["rm", "notes.txt"]));
    assert!(refused(ndp(&image, &["rm", "notes.txt"])).contains("no file `notes.txt`"));
    assert!(ok(ndp(&image, &["ls"])).is_empty());
    assert!(refused(ndp(&dir.join("none.img"), &["ls"])).contains("ndp init"));
}
