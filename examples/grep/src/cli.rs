//! The string search's own command-line options (flattened by the `grep` and `suite` programs
//! beside `app_support::cli::Common`).

use clap::Args;

/// The default grep pattern: planted in generated text, absent from its words (`a..=z`).
pub const DEFAULT_PATTERN: &str = "XYZZY-4242";

/// The string search's pattern.
#[derive(Args, Clone, Debug)]
pub struct GrepOpts {
    /// The pattern (a fixed string). Generated text has it planted in `--plant` lines.
    #[arg(long, default_value = DEFAULT_PATTERN)]
    pub pattern: String,
    /// Lines of generated text the pattern is planted in.
    #[arg(long, default_value_t = 10)]
    pub plant: usize,
}
