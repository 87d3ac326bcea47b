//! Criterion benches for the simulator's own speed (wall time, not simulated time).
fn main() {}
