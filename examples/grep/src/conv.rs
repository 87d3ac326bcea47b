//! The conventional string search, on the host API's conventional path
//! ([`Device::host_file`](host_sdk::Device::host_file)): a deep sequential scan
//! ([`app_support::measure::scanned`]), the host scanning the chunks for lines as they arrive
//! with the streaming [`LineScanner`], its compute (modeled per byte scanned, or measured) charged to the
//! [`Device`] host clock.

use app_support::measure::{scanned, Measured};
use host_sdk::cpu::HostCharge;
use host_sdk::Device;

use crate::text::{LineHit, LineScanner};

/// Conventional string search of device file `file`: lines containing `pattern`.
/// `page_bytes`: the device's NAND page size (for the page count); `host`: how the host
/// compute is charged (per byte scanned).
pub fn grep(
    device: &Device,
    file: &str,
    pattern: &[u8],
    page_bytes: u64,
    host: HostCharge,
) -> Result<Measured<Vec<LineHit>>, host_sdk::Error> {
    scanned(
        device,
        file,
        page_bytes,
        host,
        LineScanner::new(pattern),
        LineScanner::feed,
        LineScanner::finish,
    )
}
