//! Bytes as a sequence of NVMe commands (standard, raw vendor or encoded ISC requests, on any
//! queue at any instant) submitted to the firmware of a fresh in-memory `tiny` device: each
//! gets a completion or a typed `SubmitError`, never a panic. See
//! `tests::fuzz_support::nvme_command`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_support::nvme_command(data));
