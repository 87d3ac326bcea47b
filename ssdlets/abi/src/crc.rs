//! CRC-32 (IEEE 802.3, reflected, polynomial `0xEDB88320`) as a `const fn`.
//!
//! The registration macro checksums the metadata payload at compile time, and the loader
//! checks it with the same function, so a corrupted section is detected before anything runs.

/// Computes the CRC-32 (IEEE) of `bytes[start..end]`. Usable in constant evaluation.
///
/// Panics (a compile error in const context) if the range is out of bounds.
pub const fn crc32_range(bytes: &[u8], start: usize, end: usize) -> u32 {
    let mut crc: u32 = 0xFFFF_FFFF;
    let mut i = start;
    while i < end {
        crc ^= bytes[i] as u32;
        let mut bit = 0;
        while bit < 8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
            bit += 1;
        }
        i += 1;
    }
    !crc
}

/// Computes the CRC-32 (IEEE) of `bytes`.
pub const fn crc32(bytes: &[u8]) -> u32 {
    crc32_range(bytes, 0, bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // The standard check value for CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32_range(b"xx123456789yy", 2, 11), 0xCBF4_3926);
    }
}
