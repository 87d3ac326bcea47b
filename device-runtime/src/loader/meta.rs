//! [`ModuleMeta`]: the owned, validated form of a module's metadata section.

use serde::{Deserialize, Serialize};
use ssdlet_abi::meta::{self, Record};

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
    /// Parses and validates metadata bytes (header, checksum, grammar, structure). Does not
    /// judge the ABI version.
    pub fn parse(bytes: &[u8]) -> Result<ModuleMeta, String> {
        let view = meta::parse(bytes).map_err(|e| e.to_string())?;
        let mut module: Option<ModuleMeta> = None;
        for (i, rec) in view.records().enumerate() {
            let line = i + 1;
            let rec = rec.map_err(|e| e.to_string())?;
            let bad = |what: &str| Err(format!("payload line {line}: {what}"));
            let slot = |name: &str, ty: &str| Slot {
                name: name.to_owned(),
                ty: ty.to_owned(),
            };
            match (rec, module.as_mut()) {
                (Record::Module { name, version }, None) => {
                    module = Some(ModuleMeta {
                        name: name.to_owned(),
                        version: version.to_owned(),
                        abi_version: view.header.abi_version,
                        ssdlets: Vec::new(),
                    })
                }
                (Record::Module { .. }, Some(_)) => return bad("a second `module` record"),
                (_, None) => return bad("the first record must be `module`"),
                (Record::Ssdlet { id }, Some(m)) => {
                    if m.ssdlets.iter().any(|s| s.id == id) {
                        return bad(&format!("SSDlet id `{id}` appears twice"));
                    }
                    m.ssdlets.push(SsdletMeta {
                        id: id.to_owned(),
                        args: vec![],
                        inputs: vec![],
                        outputs: vec![],
                    });
                }
                (rec, Some(m)) => {
                    let Some(s) = m.ssdlets.last_mut() else {
                        return bad("an argument or port before any `ssdlet` record");
                    };
                    let (list, name, ty) = match rec {
                        Record::Arg { name, ty } => (&mut s.args, name, ty),
                        Record::Input { name, ty } => (&mut s.inputs, name, ty),
                        Record::Output { name, ty } => (&mut s.outputs, name, ty),
                        Record::Module { .. } | Record::Ssdlet { .. } => return bad("unexpected record"),
                    };
                    if list.iter().any(|x| x.name == name) {
                        return bad(&format!("`{name}` appears twice in SSDlet `{}`", s.id));
                    }
                    list.push(slot(name, ty));
                }
            }
        }
        let Some(m) = module else {
            return Err("the payload is empty (expected a `module` record)".to_owned());
        };
        if m.ssdlets.is_empty() {
            return Err(format!("module `{}` registers no SSDlets", m.name));
        }
        Ok(m)
    }

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
