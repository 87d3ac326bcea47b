//! Who a command comes from, as the device files see it: the owner of a file.
//!
//! On an embedded device, and to a daemon client running as the daemon's own user, there is no
//! tenant: such a host could read the image file itself, so it acts as the device's owner and
//! may use every file. Every other daemon client is a [`Tenant`]: the peer's uid on a Unix
//! socket, the shared token on TCP. A file belongs to the tenant that created it (`None`: the
//! device owner); another tenant may read it only once its owner shares it, and may never
//! write, rename, remove or share it (INVARIANT(files-belong-to-tenants), enforced by the
//! firmware).

use serde::{Deserialize, Serialize};

/// A host that is not the device's owner (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tenant {
    /// A local user, by uid (a Unix-socket client's peer credentials).
    Uid(u32),
    /// Every client that gave the daemon's TCP token (`ndp serve --token-file`).
    Token,
}

impl std::fmt::Display for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tenant::Uid(uid) => write!(f, "uid {uid}"),
            Tenant::Token => f.write_str("the TCP token's holders"),
        }
    }
}

/// How an owner is named in messages: a tenant, or the device owner.
pub fn owner_name(owner: Option<Tenant>) -> String {
    match owner {
        Some(t) => t.to_string(),
        None => "the device owner".to_owned(),
    }
}

/// What a command does to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Open, read, list, read its blocks.
    Read,
    /// Write, rename, remove, share, write or deallocate its blocks.
    Modify,
}

/// Whether `who` may `access` a file owned by `owner` and shared or not.
pub fn allowed(who: Option<Tenant>, owner: Option<Tenant>, shared: bool, access: Access) -> bool {
    match who {
        None => true,
        Some(_) if who == owner => true,
        Some(_) => access == Access::Read && shared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_do_everything_others_only_read_what_is_shared() {
        let (a, b) = (Some(Tenant::Uid(1000)), Some(Tenant::Token));
        for access in [Access::Read, Access::Modify] {
            assert!(allowed(None, a, false, access), "the device owner");
            assert!(allowed(a, a, false, access), "the file's owner");
            assert!(!allowed(b, a, false, access), "another tenant, not shared");
            assert!(
                !allowed(a, None, false, access),
                "a tenant, the device owner's file"
            );
        }
        assert!(allowed(b, a, true, Access::Read));
        assert!(!allowed(b, a, true, Access::Modify));
    }
}
