//! `suite --report DIR`: the HTML report of a small run is written, is one self-contained page
//! (charts inline as SVG, the comparison table, no network address, no script), is the same
//! run after run and leaves the figures as they were; the main job writes it by default to
//! `target/ndp-report/index.html` and says so on its last line; `--no-report` turns it off;
//! an unwritable directory is refused naming it; and headless Chromium renders it
//! (`/usr/bin/chromium`, which `.ci/run` installs). `tiny` device, debug modules, modeled
//! compute.

use std::path::Path;
use std::process::Command;

use app_support::testing::{fails_naming, figures, json_of, SMALL_SUITE};

/// Runs the small suite with `--json --report dir`; its JSON and the page.
fn reported(dir: &Path) -> (serde_json::Value, String) {
    let d = dir.to_str().unwrap();
    let mut args = SMALL_SUITE.to_vec();
    args.extend(["--json", "--report", d]);
    let v = json_of(env!("CARGO_BIN_EXE_suite"), &args);
    let file = dir.join("index.html");
    assert_eq!(v["report"], file.to_str().unwrap(), "{v}");
    let page = std::fs::read_to_string(&file).expect("index.html was written");
    (v, page)
}

/// What every report must be: one HTML page with the charts and the table, fetching nothing.
fn check_page(page: &str) {
    assert!(
        page.starts_with("<!DOCTYPE html>"),
        "{}",
        &page[..100.min(page.len())]
    );
    assert!(page.trim_end().ends_with("</html>"));
    let charts = page.matches("<svg").count();
    assert!(charts >= 6, "{charts} charts");
    assert_eq!(charts, page.matches("</svg>").count());
    assert_eq!(page.matches("<table>").count(), 1);
    for w in ["pointer-chase", "grep", "wordcount", "speed-up", "NDP J"] {
        assert!(page.contains(w), "{w} not in the page");
    }
    for series in [
        "ARM cores (mean",
        "NAND channels (mean",
        "PCIe to host",
        "ARM core 0",
    ] {
        assert!(page.contains(series), "{series} not in the page");
    }
    for far in ["http://", "https://", "<script", " src=", " href=", "url("] {
        assert!(!page.contains(far), "{far} in the page");
    }
    // Lines of the utilization charts and bars of the per-workload charts were drawn.
    assert!(page.matches("<polyline").count() >= 4);
    assert!(page.matches("<rect").count() >= 24);
}

#[test]
fn the_report_is_one_self_contained_page_and_changes_no_figure() {
    let dir = tempfile::tempdir().unwrap();
    let (v, page) = reported(&dir.path().join("a"));
    check_page(&page);
    let (_, again) = reported(&dir.path().join("b"));
    assert!(
        page == again,
        "the report differs between two runs of the same pass"
    );
    let mut args = SMALL_SUITE.to_vec();
    args.push("--json");
    let plain = json_of(env!("CARGO_BIN_EXE_suite"), &args);
    assert!(
        plain.get("report").is_none(),
        "--json writes no report unless asked"
    );
    assert_eq!(figures(&v), figures(&plain));
}

/// Runs the small suite as people do (no `--json`) in `cwd`, with `more` arguments.
fn human(cwd: &Path, more: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_suite"))
        .current_dir(cwd)
        .args(SMALL_SUITE)
        .args(["--profile", "tiny", "--modules", "debug"])
        .args(more)
        .output()
        .expect("the program starts");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_main_job_writes_the_report_by_default_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let out = human(dir.path(), &[]);
    let last = out.lines().last().unwrap();
    assert_eq!(last, "report: target/ndp-report/index.html", "{out}");
    check_page(&std::fs::read_to_string(dir.path().join("target/ndp-report/index.html")).unwrap());

    let off = tempfile::tempdir().unwrap();
    let out = human(off.path(), &["--no-report"]);
    assert!(!out.contains("report:"), "{out}");
    assert!(!off.path().join("target").exists());
}

#[test]
fn an_unwritable_report_directory_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let bad = file.join("report");
    let bad = bad.to_str().unwrap();
    let mut args = SMALL_SUITE.to_vec();
    args.extend(["--report", bad]);
    fails_naming(
        env!("CARGO_BIN_EXE_suite"),
        &args,
        &[bad, "cannot write the report"],
    );
}

/// Width and height of a PNG, from its IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.len() > 24 && png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG"
    );
    assert_eq!(&png[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

/// Screenshots `page` (a `file://` URL) with headless Chromium into `png`.
fn screenshot(chromium: &str, page: &str, png: &Path, profile: &Path) {
    let out = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .args(["--window-size=1280,2000", page])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {chromium} ({e}): install Debian's `chromium` (apt-get install -y chromium; .ci/run does)")
        });
    assert!(
        out.status.success() && png.exists(),
        "{chromium} made no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn headless_chromium_renders_the_charts() {
    let chromium = "/usr/bin/chromium";
    assert!(
        Path::new(chromium).exists(),
        "{chromium} is missing: the browser test needs Debian's `chromium` (apt-get install -y chromium; .ci/run installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, page) = reported(&dir.path().join("report"));
    check_page(&page);
    let url = format!("file://{}", dir.path().join("report/index.html").display());
    let png = dir.path().join("report.png");
    screenshot(chromium, &url, &png, &dir.path().join("chromium-profile"));
    // A blank page of the same size, for what "nothing drawn" looks like.
    let blank = dir.path().join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").unwrap();
    let blank_png = dir.path().join("blank.png");
    screenshot(
        chromium,
        &format!("file://{}", blank.display()),
        &blank_png,
        &dir.path().join("chromium-profile-blank"),
    );
    let (shot, empty) = (std::fs::read(&png).unwrap(), std::fs::read(&blank_png).unwrap());
    assert_eq!(png_size(&shot), (1280, 2000));
    assert_eq!(png_size(&empty), (1280, 2000));
    // Charts compress far worse than a white page (about 10 times the blank's bytes when
    // written): at least 4 times, and many distinct byte values.
    assert!(
        shot.len() > 4 * empty.len(),
        "the screenshot ({} B) is hardly larger than a blank page's ({} B)",
        shot.len(),
        empty.len()
    );
    let mut seen = [false; 256];
    shot.iter().for_each(|&b| seen[b as usize] = true);
    assert!(seen.iter().filter(|&&s| s).count() > 200);
}
