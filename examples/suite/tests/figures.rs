//! The simulated figures of a small suite run, pinned in `tests/figures.txt`: a change to the
//! simulator, the runtime, the SDK or a module that moves any of them fails here. Either it is
//! a bug, or a model change that says so and rewrites the file with `NDP_FIGURES_BLESS=1 cargo
//! test -p suite --test figures` (a speed-up of the simulator must never need that).
//! `tiny` device, debug modules, modeled compute: the same bytes on any machine.

use app_support::testing::{figures, json_of, SMALL_SUITE};

#[test]
fn a_small_suite_run_gives_the_pinned_figures() {
    let args = [&SMALL_SUITE[..], &["--json"]].concat();
    let v = json_of(env!("CARGO_BIN_EXE_suite"), &args);
    let now: String = figures(&v)
        .into_iter()
        .map(|(what, field, value)| format!("{what} {field} {value}\n"))
        .collect();
    app_support::testing::check_pinned(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/figures.txt"),
        &now,
    );
}
