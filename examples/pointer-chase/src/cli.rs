//! Pointer chasing's own command-line options (flattened by the `pointer-chase` and `suite`
//! programs beside `app_support::cli::Common`).

use clap::Args;

/// The pointer chase's walks.
#[derive(Args, Clone, Debug)]
pub struct Walks {
    /// Start nodes (Biscuit: 100).
    #[arg(long, default_value_t = 100)]
    pub starts: usize,
    /// Hops per walk: data-dependent 4 KiB reads.
    #[arg(long, default_value_t = 100)]
    pub hops: u32,
}
