//! [`ModuleMeta`]: a module's metadata (its `.ssdlet_meta` section, validated), as the device
//! reports a loaded module and `ndp inspect --json` prints it.

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
