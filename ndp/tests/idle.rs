//! `Limits::idle_timeout` closes a session that has nothing outstanding and sends nothing, also
//! after it has made requests (a request-reply client going quiet), with a `Limit` error naming
//! the flag; a session busy with requests is not closed.

use std::time::Duration;

use host_sdk::{Device, DeviceProfile, RuntimeConfig};
use ndp::daemon::{Daemon, Limits, ServeConfig};

#[test]
fn a_quiet_session_is_closed_after_the_idle_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let daemon = Daemon::bind(ServeConfig {
        image: tmp.path().join("dev.img"),
        socket: tmp.path().join("ndp.sock"),
        profile: DeviceProfile::tiny(),
        runtime: RuntimeConfig::default(),
        limits: Limits {
            idle_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
        stall_limit: None,
    })
    .unwrap();
    let socket = daemon.socket().to_path_buf();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        daemon.run_until(async {
            let _ = stopped.await;
        })
    });
    let busy = Device::connect(&socket).unwrap();
    let quiet = Device::connect(&socket).unwrap();
    quiet.list_files().unwrap();
    // The busy session keeps asking; the quiet one does not.
    for _ in 0..25 {
        busy.list_files().unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    let e = quiet.list_files().unwrap_err().to_string();
    assert!(
        e.contains("sent nothing for") && e.contains("--idle-timeout"),
        "{e}"
    );
    busy.list_files().unwrap();
    drop((busy, quiet));
    let _ = stop.send(());
    server.join().unwrap().unwrap();
}
