//! [`parse`]: a module's metadata section to its owned, validated form, [`ModuleMeta`] (the
//! protocol's type: the device reports it as it is).

use ssdlet_abi::meta::{self, Record};

pub use ndp_protocol::meta::{ModuleMeta, Slot, SsdletMeta};

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
