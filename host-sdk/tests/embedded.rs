//! The host API suite (`suite/`) against an embedded device, plus what only an embedded
//! device has (an image file that outlives the `Device`).

mod suite;

use host_sdk::{Device, DeviceProfile, ImageSpec};

fn device() -> Device {
    Device::embedded(DeviceProfile::tiny(), ImageSpec::Memory).expect("embedded device starts")
}

macro_rules! on_embedded {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                suite::$name(&device());
            }
        )*
    };
}

on_embedded!(
    wordcount_matches_baseline,
    files_round_trip,
    bad_input_typed_errors,
    host_ports_and_inter_application,
    two_threads,
    conventional_reads,
    logs_reach_the_host,
    a_failure_reaches_the_host_receiver,
    message_arguments,
);

#[test]
fn all_checks_share_one_device() {
    let dev = device();
    suite::files_round_trip(&dev);
    suite::bad_input_typed_errors(&dev);
    suite::conventional_reads(&dev);
    suite::still_serving(&dev, 20);
}

#[test]
fn image_file_keeps_files_across_devices() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("dev.img");
    {
        let dev = Device::embedded(DeviceProfile::tiny(), ImageSpec::File(path.clone())).unwrap();
        dev.put_bytes("kept.txt", b"still here\n").unwrap();
    }
    {
        let dev = Device::embedded(DeviceProfile::tiny(), ImageSpec::File(path.clone())).unwrap();
        assert_eq!(dev.get_bytes("kept.txt").unwrap(), b"still here\n");
        assert_eq!(dev.host_file("kept.txt").unwrap().pread(0, 5).unwrap(), b"still");
    }
}

#[test]
fn an_image_in_use_is_refused_until_released() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("dev.img");
    let first = Device::embedded(DeviceProfile::tiny(), ImageSpec::File(path.clone())).unwrap();
    match Device::embedded(DeviceProfile::tiny(), ImageSpec::File(path.clone())) {
        Err(host_sdk::Error::Open(m)) => assert!(m.contains("in use"), "{m}"),
        other => panic!("expected the image to be in use, got {other:?}"),
    }
    drop(first);
    Device::embedded(DeviceProfile::tiny(), ImageSpec::File(path.clone())).unwrap();
}

#[test]
fn an_embedded_device_has_no_daemon_status() {
    match device().daemon_status() {
        Err(e @ host_sdk::Error::NotConnected(_)) => assert!(e.to_string().contains("ndp serve"), "{e}"),
        other => panic!("expected NotConnected, got {other:?}"),
    }
}

#[test]
fn opening_a_device_with_a_bad_profile_is_a_typed_error() {
    let mut p = DeviceProfile::tiny();
    p.arm.cores = 0;
    match Device::embedded(p, ImageSpec::Memory) {
        Err(host_sdk::Error::Open(m)) => assert!(m.contains("core"), "{m}"),
        other => panic!("expected an open error, got {other:?}"),
    }
}
