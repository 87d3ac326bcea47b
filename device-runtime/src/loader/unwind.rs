//! Where a module's functions lie, from its unwind tables (the search table `.eh_frame_hdr`,
//! which `PT_GNU_EH_FRAME` points at and the unwinder itself uses, and the frame description
//! entries it points to).
//!
//! A code pointer the dynamic loader writes (a relocated function pointer in a vtable, the GOT
//! or a table of entry points) points at the start of a function, never strictly inside one.
//! So the structural checks refuse a relocation that writes a pointer strictly inside a
//! function the unwind tables describe: a damaged addend that would send the loader, or the
//! module's own start-up, into the middle of an instruction stream. Code the tables do not
//! describe (crt start-up code, data in an executable segment) is not judged.
//!
//! The tables are read only in the form linkers write them (search table version 1, a 4-byte
//! FDE count, entries of two 4-byte offsets from the table; each FDE's start as a 4-byte
//! offset from itself, then its 4-byte length); in any other form, or if one entry disagrees
//! with its FDE, there is nothing to check against. This catches accidental damage; a file
//! crafted to pass can also describe itself falsely (the device process boundary is for that).

/// `DW_EH_PE_udata4`: a 4-byte unsigned value.
const UDATA4: u8 = 0x03;
/// `DW_EH_PE_datarel | DW_EH_PE_sdata4`: a 4-byte signed offset from the table's start.
const DATAREL_SDATA4: u8 = 0x3b;

/// The address range of every function the search table at `vaddr` (its bytes `hdr`, as
/// mapped) lists, sorted by start; `read(addr, len)` reads the mapped image (for the FDEs).
/// `None` if the tables are not in the form linkers write, or are cut short.
pub(super) fn function_ranges(
    vaddr: u64,
    hdr: &[u8],
    read: impl Fn(u64, u64) -> Option<Vec<u8>>,
) -> Option<Vec<(u64, u64)>> {
    let [version, frame_ptr_encoding, count_encoding, table_encoding, ..] = *hdr else {
        return None;
    };
    if version != 1 || count_encoding != UDATA4 || table_encoding != DATAREL_SDATA4 {
        return None;
    }
    // The pointer to `.eh_frame` itself, in its own encoding's width.
    let frame_ptr_len = match frame_ptr_encoding & 0x0f {
        0x03 | 0x0b => 4,
        0x04 | 0x0c => 8,
        _ => return None,
    };
    let count_at = 4 + frame_ptr_len;
    let count = u32::from_le_bytes(hdr.get(count_at..count_at + 4)?.try_into().ok()?) as usize;
    let table = hdr.get(count_at + 4..)?.get(..count.checked_mul(8)?)?;
    let word = |b: &[u8], at: usize| -> Option<i32> {
        Some(i32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let mut ranges = Vec::with_capacity(count);
    for entry in table.chunks_exact(8) {
        let start = vaddr.wrapping_add_signed(i64::from(word(entry, 0)?));
        let fde = vaddr.wrapping_add_signed(i64::from(word(entry, 4)?));
        // length (a 32-bit one: not 0xffffffff), CIE pointer, start, length of the code.
        let f = read(fde, 16)?;
        if word(&f, 0)? == -1 {
            return None;
        }
        let pc_begin = (fde + 8).wrapping_add_signed(i64::from(word(&f, 8)?));
        if pc_begin != start {
            return None;
        }
        let len = u64::from(word(&f, 12)? as u32);
        ranges.push((start, start.checked_add(len)?));
    }
    ranges.sort_unstable();
    Some(ranges)
}

/// Whether `addr` lies strictly inside one of `ranges` (sorted by start, as
/// [`function_ranges`] gives them): after a function's first byte and before its end.
pub(super) fn inside_a_function(ranges: &[(u64, u64)], addr: u64) -> bool {
    let after = ranges.partition_point(|&(start, _)| start < addr);
    after > 0 && ranges[after - 1].1 > addr
}

#[cfg(test)]
mod tests {
    use super::*;

    const HDR: u64 = 0x1000;

    /// An image with a search table at `HDR` listing `functions` (start, length) in the given
    /// order, each with its FDE (pc-relative start, then length) at `0x2000 + 0x20 * i`.
    fn image(functions: &[(u64, u32)]) -> (Vec<u8>, impl Fn(u64, u64) -> Option<Vec<u8>>) {
        let mut hdr = vec![1, 0x1b, UDATA4, DATAREL_SDATA4];
        hdr.extend_from_slice(&0x40i32.to_le_bytes());
        hdr.extend_from_slice(&(functions.len() as u32).to_le_bytes());
        let mut fdes = vec![0u8; 0x20 * functions.len()];
        for (i, &(start, len)) in functions.iter().enumerate() {
            let fde = 0x2000 + 0x20 * i as u64;
            hdr.extend_from_slice(&((start - HDR) as i32).to_le_bytes());
            hdr.extend_from_slice(&((fde - HDR) as i32).to_le_bytes());
            let f = &mut fdes[0x20 * i..0x20 * (i + 1)];
            f[..4].copy_from_slice(&0x1cu32.to_le_bytes());
            f[8..12].copy_from_slice(&((start as i64 - (fde as i64 + 8)) as i32).to_le_bytes());
            f[12..16].copy_from_slice(&len.to_le_bytes());
        }
        let read = move |addr: u64, len: u64| {
            let at = usize::try_from(addr.checked_sub(0x2000)?).ok()?;
            fdes.get(at..at + len as usize).map(<[u8]>::to_vec)
        };
        (hdr, read)
    }

    #[test]
    fn each_function_s_range_comes_from_its_fde() {
        let (hdr, read) = image(&[(0x5000, 0x40), (0x4000, 0x10), (0x4800, 0x100)]);
        let ranges = function_ranges(HDR, &hdr, read).expect("linker form");
        assert_eq!(ranges, vec![(0x4000, 0x4010), (0x4800, 0x4900), (0x5000, 0x5040)]);
        for (addr, inside) in [
            (0x4000, false),
            (0x4001, true),
            (0x400f, true),
            (0x4010, false),
            (0x4700, false),
            (0x48ff, true),
            (0x5000, false),
            (0x503f, true),
            (0x6000, false),
            (0x10, false),
        ] {
            assert_eq!(inside_a_function(&ranges, addr), inside, "{addr:#x}");
        }
        let (hdr, read) = image(&[]);
        assert_eq!(function_ranges(HDR, &hdr, read), Some(vec![]));
    }

    #[test]
    fn tables_in_another_form_cut_short_or_disagreeing_give_nothing_to_check_against() {
        let functions = [(0x4000, 0x10), (0x4800, 0x100)];
        let (hdr, _) = image(&functions);
        for (what, bytes) in [
            ("cut short", hdr[..hdr.len() - 1].to_vec()),
            ("another version", [&[2u8][..], &hdr[1..]].concat()),
            ("8-byte entries", [&hdr[..3], &[0x3c][..], &hdr[4..]].concat()),
            ("no header", hdr[..3].to_vec()),
        ] {
            let (_, read) = image(&functions);
            assert_eq!(function_ranges(HDR, &bytes, read), None, "{what}");
        }
        // An entry whose FDE starts elsewhere, and an FDE the image does not hold.
        let (mut hdr, read) = image(&functions);
        hdr[12] ^= 0x10;
        assert_eq!(function_ranges(HDR, &hdr, read), None, "a disagreeing entry");
        let (hdr, _) = image(&functions);
        assert_eq!(function_ranges(HDR, &hdr, |_, _| None), None, "no FDE");
    }
}
