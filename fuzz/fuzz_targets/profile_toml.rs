//! Bytes as device profile TOML (`DeviceProfile::from_toml_str`: parse and validate; an
//! accepted profile must write out and read back the same) and `key=value` lines through
//! `DeviceProfile::set`: a typed `ProfileError`, never a panic. See
//! `tests::fuzz_support::profile_toml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_support::profile_toml(data));
