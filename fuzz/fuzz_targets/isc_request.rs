//! Bytes as a vendor command (opcode byte, then payload) decoded as the device decodes an ISC
//! request (`IscRequest::decode`: version, request, no trailing bytes, opcode family), and as the
//! host decodes a completion's response (`isc::response_of`); a typed error, never a panic. See
//! `tests::fuzz_support::isc_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_support::isc_request(data));
