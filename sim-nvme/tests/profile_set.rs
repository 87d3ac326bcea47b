//! `DeviceProfile::set` and `DeviceProfile::keys`: one dotted field from a string, typed
//! errors for unknown keys and wrong types, integers for floats, validation afterwards.

use sim_nvme::{DeviceProfile, ProfileError};

#[test]
fn sets_a_field_and_the_name() {
    let mut p = DeviceProfile::pm1725();
    p.set("nand.read_ns", "70000").unwrap();
    assert_eq!(p.nand.read_ns, 70_000);
    p.set("name", "pm1725-slow").unwrap();
    assert_eq!(p.name, "pm1725-slow");
    p.set("name", "\"quoted\"").unwrap();
    assert_eq!(p.name, "quoted");
    p.set("power.ssd_idle_w", "7.5").unwrap();
    assert_eq!(p.power.ssd_idle_w, 7.5);
    // Everything else is untouched.
    let mut expected = DeviceProfile::pm1725();
    expected.nand.read_ns = 70_000;
    expected.name = "quoted".into();
    expected.power.ssd_idle_w = 7.5;
    assert_eq!(p, expected);
}

#[test]
fn an_integer_sets_a_float_field() {
    let mut p = DeviceProfile::pm1725();
    p.set("arm.arm_slowdown", "3").unwrap();
    assert_eq!(p.arm.arm_slowdown, 3.0);
}

#[test]
fn unknown_key_names_it_and_lists_the_section() {
    let mut p = DeviceProfile::pm1725();
    let err = p.set("nand.read_us", "1").unwrap_err();
    assert!(matches!(err, ProfileError::UnknownKey { .. }), "{err:?}");
    let msg = err.to_string();
    for part in [
        "`nand.read_us`",
        "nand.read_ns",
        "nand.program_ns",
        "nand.channel_mb_per_s",
    ] {
        assert!(msg.contains(part), "{msg}");
    }
    assert!(!msg.contains("geometry."), "only the section's keys: {msg}");
    // A section alone is not a key either.
    let msg = p.set("nand", "1").unwrap_err().to_string();
    assert!(msg.contains("nand.read_ns"), "{msg}");
    assert_eq!(p, DeviceProfile::pm1725());
}

#[test]
fn unknown_section_lists_the_sections() {
    let mut p = DeviceProfile::pm1725();
    let msg = p.set("nandx.read_ns", "1").unwrap_err().to_string();
    for part in ["`nandx.read_ns`", "name", "geometry", "nand", "arm", "power"] {
        assert!(msg.contains(part), "{msg}");
    }
    let msg = p.set("name.first", "x").unwrap_err().to_string();
    assert!(msg.contains("`name.first`") && msg.contains("geometry"), "{msg}");
}

#[test]
fn wrong_type_names_key_value_and_expected_type() {
    let mut p = DeviceProfile::pm1725();
    let err = p.set("geometry.channels", "sixteen").unwrap_err();
    assert!(matches!(err, ProfileError::WrongType { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("geometry.channels") && msg.contains("sixteen") && msg.contains("an integer"),
        "{msg}"
    );
    let msg = p.set("arm.arm_slowdown", "true").unwrap_err().to_string();
    assert!(
        msg.contains("arm.arm_slowdown") && msg.contains("true") && msg.contains("a float"),
        "{msg}"
    );
    let msg = p.set("nand.read_ns", "6.5").unwrap_err().to_string();
    assert!(msg.contains("an integer"), "{msg}");
    // An integer the field cannot hold is refused too.
    let msg = p.set("geometry.channels", "-1").unwrap_err().to_string();
    assert!(msg.contains("geometry.channels") && msg.contains("-1"), "{msg}");
    assert_eq!(p, DeviceProfile::pm1725());
}

#[test]
fn validation_rejects_what_the_model_cannot_use() {
    let mut p = DeviceProfile::pm1725();
    let err = p.set("geometry.page_bytes", "5000").unwrap_err();
    assert!(
        matches!(
            err,
            ProfileError::Invalid {
                field: "geometry.page_bytes",
                ..
            }
        ),
        "{err:?}"
    );
    let err = p.set("arm.arm_slowdown", "0").unwrap_err();
    assert!(err.to_string().contains("arm.arm_slowdown"), "{err}");
    let err = p.set("power.host_package_idle_w", "-3").unwrap_err();
    assert!(err.to_string().contains("power.host_package_idle_w"), "{err}");
    assert_eq!(p, DeviceProfile::pm1725());
}

#[test]
fn every_listed_key_can_be_set_to_its_own_value() {
    let keys = DeviceProfile::keys();
    for k in [
        "name",
        "arm.arm_slowdown",
        "nand.read_ns",
        "pcie.to_host_mb_per_s",
        "power.ssd_idle_w",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k} missing from {keys:?}");
    }
    let base = DeviceProfile::pm1725();
    let table = toml::Value::try_from(&base).unwrap();
    for key in &keys {
        let value = key
            .split('.')
            .try_fold(&table, |v, part| v.get(part))
            .unwrap_or_else(|| panic!("{key} is not in the serialised profile"));
        let mut p = base.clone();
        p.set(key, &value.to_string())
            .unwrap_or_else(|e| panic!("{key} = {value}: {e}"));
        assert_eq!(p, base, "{key}");
    }
}
