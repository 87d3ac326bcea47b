//! What the `ndp serve` test binaries share.

/// The firmware child of the `ndp serve` supervisor `supervisor` (the process that holds the
/// sessions' state), from `/proc`.
pub fn firmware_pid(supervisor: u32) -> u32 {
    let tasks = std::fs::read_dir(format!("/proc/{supervisor}/task")).unwrap();
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .next()
        .expect("ndp serve has a firmware child")
}
