//! Bytes as an `ndp serve` frame: the length header (`daemon::frame_len`), then the body
//! decoded as `Hello`, `Request` and `Reply` (`daemon::decode`); a decoded message must
//! re-encode stably. A typed `FrameError`, never a panic. See `tests::fuzz_support::daemon_frame`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_support::daemon_frame(data));
