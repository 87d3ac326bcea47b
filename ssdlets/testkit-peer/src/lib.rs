//! A second test module, compiled separately from `ssdlet-testkit`, for the cross-crate
//! message-signature test: `counts` takes the shared `WordCount` from `ssdlet-testkit-types`,
//! `counts_local` a structurally identical struct declared here (same signature), and
//! `counts_wide` a struct of the same name whose `count` is a `u64` (a different signature).

use serde::{Deserialize, Serialize};
use ssdlet_sdk::{Context, Input, Output, Ssdlet, SsdletError};
use ssdlet_testkit_types::WordCount;

/// Local declarations that shadow the shared one.
pub mod local {
    use super::*;

    ssdlet_sdk::message! {
        /// Same name and fields as the shared `WordCount`: the same signature.
        #[derive(Debug, Serialize, Deserialize)]
        pub struct WordCount {
            /// The word.
            pub word: String,
            /// How often it was seen.
            pub count: u32,
        }
    }

    /// Incompatible variants.
    pub mod wide {
        use super::*;

        ssdlet_sdk::message! {
            /// Same name, but a 64-bit count: a different signature.
            #[derive(Debug, Serialize, Deserialize)]
            pub struct WordCount {
                /// The word.
                pub word: String,
                /// How often it was seen.
                pub count: u64,
            }
        }
    }
}

/// Sums the counts of the shared `WordCount`.
pub struct Counts;
impl Ssdlet for Counts {
    type Args = ();
    type Inputs = (Input<WordCount>,);
    type Outputs = (Output<u64>,);
    const INPUT_NAMES: &'static [&'static str] = &["counts"];
    const OUTPUT_NAMES: &'static [&'static str] = &["total"];
    fn run(
        _: &Context,
        (): (),
        (mut input,): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let total: u64 = input.iter().map(|wc| u64::from(wc.count)).sum();
        out.put(total)?;
        Ok(())
    }
}

/// Sums the counts of the locally declared, identical `WordCount`.
pub struct CountsLocal;
impl Ssdlet for CountsLocal {
    type Args = ();
    type Inputs = (Input<local::WordCount>,);
    type Outputs = (Output<u64>,);
    const INPUT_NAMES: &'static [&'static str] = &["counts"];
    const OUTPUT_NAMES: &'static [&'static str] = &["total"];
    fn run(
        _: &Context,
        (): (),
        (mut input,): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let total: u64 = input.iter().map(|wc| u64::from(wc.count)).sum();
        out.put(total)?;
        Ok(())
    }
}

/// Sums the counts of the incompatible 64-bit `WordCount`.
pub struct CountsWide;
impl Ssdlet for CountsWide {
    type Args = ();
    type Inputs = (Input<local::wide::WordCount>,);
    type Outputs = (Output<u64>,);
    const INPUT_NAMES: &'static [&'static str] = &["counts"];
    const OUTPUT_NAMES: &'static [&'static str] = &["total"];
    fn run(
        _: &Context,
        (): (),
        (mut input,): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let total: u64 = input.iter().map(|wc| wc.count).sum();
        out.put(total)?;
        Ok(())
    }
}

ssdlet_sdk::register_module! {
    name: "testkit_peer",
    ssdlets: {
        "counts" => Counts,
        "counts_local" => CountsLocal,
        "counts_wide" => CountsWide,
    },
}
