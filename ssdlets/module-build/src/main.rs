//! `cargo run -p ssdlet-module-build [-- --release]`: builds the test modules ahead of a test
//! run (CI does, so no test's own time budget pays for the first nested build) and prints
//! the directory holding them.

use std::process::ExitCode;

use ssdlet_module_build::{build, Profile};

fn main() -> ExitCode {
    let profile = match std::env::args().nth(1).as_deref() {
        None => Profile::Debug,
        Some("--release") => Profile::Release,
        Some(other) => {
            eprintln!("unknown argument `{other}`: expected nothing or `--release`");
            return ExitCode::from(2);
        }
    };
    match build(profile) {
        Ok(modules) => {
            println!("{}", modules.dir().display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
