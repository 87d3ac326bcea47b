//! Bytes as a module file through the loader's static and structural checks
//! (`loader::inspect_bytes`, never a `dlopen`) and as a `.ssdlet_meta` section
//! (`loader::meta::parse`): a typed `LoadError`, never a panic. See
//! `tests::fuzz_support::elf_inspect`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_support::elf_inspect(data));
