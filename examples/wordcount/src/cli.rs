//! The wordcount's own command-line options (flattened by the `wordcount` and `suite`
//! programs beside `app_support::cli::Common`).

use clap::Args;

/// The wordcount's wiring and output.
#[derive(Args, Clone, Debug)]
pub struct WordcountOpts {
    /// Words to show, most frequent first.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Mappers on the device (1 or 2).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=2))]
    pub mappers: u64,
    /// Reducers on the device (1 or 2).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=2))]
    pub reducers: u64,
}
