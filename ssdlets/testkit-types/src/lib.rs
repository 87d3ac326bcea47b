//! Message types shared by the test modules: a "shared message-type crate" that two
//! separately compiled modules both depend on.

use serde::{Deserialize, Serialize};

ssdlet_sdk::message! {
    /// A word and how often it was seen.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct WordCount {
        /// The word.
        pub word: String,
        /// How often it was seen.
        pub count: u32,
    }
}
