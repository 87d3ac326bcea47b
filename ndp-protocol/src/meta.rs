//! [`ModuleMeta`]: a module's metadata (its `.ssdlet_meta` section, validated), as the device
//! reports a loaded module and `ndp inspect --json` prints it; and what a module file's bytes say
//! of how it was built ([`built_with_overflow_checks`]), for the device and hosts alike.

use serde::{Deserialize, Serialize};

/// A module's metadata, as read from its `.ssdlet_meta` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleMeta {
    /// Module name.
    pub name: String,
    /// Module version.
    pub version: String,
    /// The module ABI version it was built against.
    pub abi_version: u32,
    /// SSDlets in index order.
    pub ssdlets: Vec<SsdletMeta>,
}

/// One SSDlet's metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsdletMeta {
    /// The id it is registered under.
    pub id: String,
    /// Arguments in order.
    pub args: Vec<Slot>,
    /// Input ports in index order.
    pub inputs: Vec<Slot>,
    /// Output ports in index order.
    pub outputs: Vec<Slot>,
}

/// A named, typed argument or port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Its name.
    pub name: String,
    /// Its rendered type signature.
    #[serde(rename = "type")]
    pub ty: String,
}

impl ModuleMeta {
    /// The SSDlet registered under `id`, with its index.
    pub fn ssdlet(&self, id: &str) -> Option<(usize, &SsdletMeta)> {
        self.ssdlets.iter().enumerate().find(|(_, s)| s.id == id)
    }

    /// The ids, comma-separated (for messages).
    pub fn ids(&self) -> String {
        let ids: Vec<&str> = self.ssdlets.iter().map(|s| s.id.as_str()).collect();
        ids.join(", ")
    }
}

impl SsdletMeta {
    /// Index and slot of the input named `name`.
    pub fn input(&self, name: &str) -> Option<(usize, &Slot)> {
        self.inputs.iter().enumerate().find(|(_, p)| p.name == name)
    }

    /// Index and slot of the output named `name`.
    pub fn output(&self, name: &str) -> Option<(usize, &Slot)> {
        self.outputs.iter().enumerate().find(|(_, p)| p.name == name)
    }
}

/// Whether module file `bytes` was built with integer overflow checks: it links core's
/// overflow panics (`panic_const_add_overflow` and friends), which only code compiled with the
/// checks calls. Cargo's `dev` profile turns them on and `release` off, so this names a debug
/// build (or a release build that asked for the checks), stripped or not: the panic message
/// is in the data as well as in the symbol table.
pub fn built_with_overflow_checks(bytes: &[u8]) -> bool {
    [&b"panic_const_add_overflow"[..], b"attempt to add with overflow"]
        .iter()
        .any(|needle| memchr::memmem::find(bytes, needle).is_some())
}

/// The warning for module `name` at `path` built with overflow checks
/// ([`built_with_overflow_checks`]).
pub fn debug_build_warning(name: &str, path: &std::path::Path) -> String {
    format!(
        "module `{name}` ({}) was built with integer overflow checks, as a debug build is: unoptimized, its SSDlets run several times slower under measured compute; expected a release build (`cargo build --release`)",
        path.display()
    )
}
