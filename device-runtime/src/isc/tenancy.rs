//! What a tenant's raw NVMe commands may touch (INVARIANT(files-belong-to-tenants)).
//!
//! A daemon client that is not the device owner ([`ndp_protocol::tenant`]) reads and writes
//! blocks only inside files it may use: reads in its own and shared files, writes and
//! deallocations in its own. A read of the table's blocks (LBAs `0..DATA_START`), which a
//! conventional host decodes as a file system driver reads its superblock, is served in full,
//! with its timing, but returns the table as the tenant may see it ([`Namespace::view_copy`]):
//! another tenant's unshared files are not in it.

use ndp_protocol::tenant::{owner_name, Access, Tenant};
use sim_nvme::nvme::{Command, Completion, Payload};
use sim_nvme::{Lba, LBA_BYTES};

use crate::namespace::{Namespace, DATA_START, TABLE_BLOCKS};

/// Why `who` may not issue `cmd`, if it may not.
pub(super) fn refusal(ns: &Namespace, cmd: &Command, who: Option<Tenant>) -> Option<String> {
    who?;
    let (lba, blocks, access, verb) = match cmd {
        Command::Read { lba, blocks, .. } => (*lba, u64::from(*blocks), Access::Read, "read"),
        Command::Write { lba, data, .. } => (
            *lba,
            (data.len() as u64).div_ceil(LBA_BYTES),
            Access::Modify,
            "write",
        ),
        Command::Deallocate { ranges, .. } => {
            return ranges
                .iter()
                .find(|(l, n)| !ns.covers(who, *l, u64::from(*n), Access::Modify))
                .map(|(l, n)| denied(who, "deallocate", *l, u64::from(*n), Access::Modify));
        }
        _ => return None,
    };
    let end = lba.0.saturating_add(blocks);
    if access == Access::Read && end <= DATA_START {
        // The table's blocks: served as the tenant's view.
        return None;
    }
    (lba.0 < DATA_START || !ns.covers(who, lba, blocks, access))
        .then(|| denied(who, verb, lba, blocks, access))
}

fn denied(who: Option<Tenant>, verb: &str, lba: Lba, blocks: u64, access: Access) -> String {
    let whose = match access {
        Access::Read => "its own files or shared ones",
        Access::Modify => "its own files",
    };
    format!(
        "{} may not {verb} LBAs {}..{}: they are not all in {whose} (the table's LBAs 0..{DATA_START} may only be read, whole)",
        owner_name(who),
        lba.0,
        lba.0.saturating_add(blocks)
    )
}

/// A read of the table's blocks by `who`, with the table as `who` may see it in place of the
/// blocks read.
pub(super) fn view(ns: &Namespace, cmd: &Command, who: Option<Tenant>, c: &mut Completion) {
    let Command::Read { lba, blocks, .. } = cmd else {
        return;
    };
    if who.is_none() || lba.0 >= DATA_START || !c.status.is_success() {
        return;
    }
    let Payload::Data(data) = &mut c.payload else {
        return;
    };
    let copy = ns.view_copy(who);
    let copy_bytes = (TABLE_BLOCKS * LBA_BYTES) as usize;
    for i in 0..u64::from(*blocks) {
        let block = lba.0 + i;
        let within = (block % TABLE_BLOCKS) as usize * LBA_BYTES as usize;
        let at = i as usize * LBA_BYTES as usize;
        let (Some(dst), Some(src)) = (
            data.get_mut(at..at + LBA_BYTES as usize),
            copy.get(within..(within + LBA_BYTES as usize).min(copy_bytes)),
        ) else {
            return;
        };
        dst.copy_from_slice(src);
    }
}
