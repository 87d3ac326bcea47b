//! Seeded data generators: the same seed and size give the same bytes on every machine.

pub mod graph;
pub mod text;
