//! Workspace-level integration tests live in `tests/tests/`. This library holds
//! [`fuzz_support`]: the code behind each fuzz target (`fuzz/`), shared with the stable test
//! that replays the committed corpora (`tests/tests/fuzz_corpus.rs`).

pub mod fuzz_support;
