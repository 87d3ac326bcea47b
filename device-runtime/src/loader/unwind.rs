//! Where a module's functions start, from its unwind tables' search table (`.eh_frame_hdr`,
//! which `PT_GNU_EH_FRAME` points at and the unwinder itself uses).
//!
//! Every function of a Rust module has an unwind entry, and a code pointer the dynamic loader
//! writes (a relocated function pointer in a vtable, the GOT or a table of entry points) points
//! at the start of one. So the structural checks refuse a relocation that writes a pointer into
//! the middle of a function: a damaged addend that would send the loader, or the module's own
//! start-up, into the middle of an instruction stream.
//!
//! The table is read only in the form linkers write it (version 1, a 4-byte FDE count, and
//! 4-byte entries relative to the table); in any other form there is nothing to check against.

/// `DW_EH_PE_udata4`: a 4-byte unsigned value.
const UDATA4: u8 = 0x03;
/// `DW_EH_PE_datarel | DW_EH_PE_sdata4`: a 4-byte signed offset from the table's start.
const DATAREL_SDATA4: u8 = 0x3b;

/// The start of every function the search table at `vaddr` (its bytes `hdr`, as mapped)
/// lists, sorted; `None` if the table is not in the form linkers write or is cut short.
pub(super) fn function_starts(vaddr: u64, hdr: &[u8]) -> Option<Vec<u64>> {
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
    let mut starts: Vec<u64> = table
        .chunks_exact(8)
        .map(|entry| {
            let offset = i32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]);
            vaddr.wrapping_add_signed(i64::from(offset))
        })
        .collect();
    starts.sort_unstable();
    Some(starts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A search table as a linker writes it: `.eh_frame` at `hdr + 0x40`, then `starts` as
    /// offsets from the table (listed out of order: the function sorts them).
    fn table(starts: &[i32]) -> Vec<u8> {
        let mut t = vec![1, 0x1b, UDATA4, DATAREL_SDATA4];
        t.extend_from_slice(&0x40i32.to_le_bytes());
        t.extend_from_slice(&(starts.len() as u32).to_le_bytes());
        for &s in starts {
            t.extend_from_slice(&s.to_le_bytes());
            t.extend_from_slice(&0i32.to_le_bytes());
        }
        t
    }

    #[test]
    fn the_listed_starts_are_read_relative_to_the_table() {
        let hdr = table(&[0x200, -0x100, 0x80]);
        assert_eq!(function_starts(0x1000, &hdr), Some(vec![0xf00, 0x1080, 0x1200]));
        assert_eq!(function_starts(0x1000, &table(&[])), Some(vec![]));
    }

    #[test]
    fn a_table_in_another_form_or_cut_short_gives_nothing_to_check_against() {
        let hdr = table(&[0x200, 0x300]);
        for (what, bytes) in [
            ("cut short", hdr[..hdr.len() - 1].to_vec()),
            ("another version", [&[2u8][..], &hdr[1..]].concat()),
            ("8-byte entries", [&hdr[..3], &[0x3c][..], &hdr[4..]].concat()),
            ("no header", hdr[..3].to_vec()),
        ] {
            assert_eq!(function_starts(0x1000, &bytes), None, "{what}");
        }
    }
}
