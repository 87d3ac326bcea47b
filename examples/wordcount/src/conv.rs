//! The conventional wordcount, on the host API's conventional path
//! ([`Device::host_file`](host_sdk::Device::host_file)): a deep sequential scan
//! ([`app_support::measure::scanned`]), the host counting the chunks as they arrive with the
//! streaming [`WordCounter`], its compute (modeled per byte scanned, or measured) charged to the
//! [`Device`] host clock.
//!
//! Host compute is modeled by default (bytes scanned times the calibrated cost per byte: the
//! same figure on any machine), or with `--compute measured` the CPU time of one thread at
//! factor 1 (not wall time), which varies a little from run to run.

use std::collections::HashMap;

use app_support::measure::{scanned, Measured};
use host_sdk::cpu::HostCharge;
use host_sdk::Device;

use crate::text::WordCounter;

/// Conventional wordcount of device file `file`: a streaming count as the chunks arrive.
/// `page_bytes`: the device's NAND page size (for the page count); `host`: how the host
/// compute is charged (per byte scanned).
pub fn word_count(
    device: &Device,
    file: &str,
    page_bytes: u64,
    host: HostCharge,
) -> Result<Measured<HashMap<String, u64>>, host_sdk::Error> {
    scanned(
        device,
        file,
        page_bytes,
        host,
        WordCounter::default(),
        WordCounter::feed,
        WordCounter::finish,
    )
}
