//! [`SsdletInstance`]: an SSDlet instance in an Application (Biscuit's `SSDLet`), and its ports
//! ([`OutPort`], [`InPort`]) chosen by index, as in Biscuit, or by name.

use std::sync::Arc;

use ndp_protocol::{InstanceId, Slot, SsdletMeta};

use crate::error::{Error, Result};

/// An SSDlet instance. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SsdletInstance {
    pub(crate) instance: InstanceId,
    pub(crate) meta: Arc<SsdletMeta>,
}

/// Which port: by index (declaration order) or by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSel {
    /// The `i`-th port.
    Index(usize),
    /// The port with this name.
    Name(String),
}

impl From<usize> for PortSel {
    fn from(i: usize) -> PortSel {
        PortSel::Index(i)
    }
}

impl From<&str> for PortSel {
    fn from(n: &str) -> PortSel {
        PortSel::Name(n.to_owned())
    }
}

impl From<String> for PortSel {
    fn from(n: String) -> PortSel {
        PortSel::Name(n)
    }
}

/// An output port of an SSDlet instance.
#[derive(Clone, Debug)]
pub struct OutPort {
    pub(crate) ssdlet: SsdletInstance,
    pub(crate) sel: PortSel,
}

/// An input port of an SSDlet instance.
#[derive(Clone, Debug)]
pub struct InPort {
    pub(crate) ssdlet: SsdletInstance,
    pub(crate) sel: PortSel,
}

/// A resolved port: its name, `ssdlet.port` for messages, and its message type.
pub(crate) struct Resolved {
    pub(crate) instance: InstanceId,
    pub(crate) name: String,
    pub(crate) label: String,
    /// The port's rendered type signature, from the module's metadata.
    pub(crate) ty: String,
}

impl SsdletInstance {
    /// Its SSDlet id.
    pub fn id(&self) -> &str {
        &self.meta.id
    }

    /// Its metadata (arguments and typed ports).
    pub fn meta(&self) -> &SsdletMeta {
        &self.meta
    }

    /// Output port `sel` (an index, as Biscuit's `out(0)`, or a name).
    pub fn out(&self, sel: impl Into<PortSel>) -> OutPort {
        OutPort {
            ssdlet: self.clone(),
            sel: sel.into(),
        }
    }

    /// Input port `sel` (an index, as Biscuit's `in(0)`, or a name).
    pub fn input(&self, sel: impl Into<PortSel>) -> InPort {
        InPort {
            ssdlet: self.clone(),
            sel: sel.into(),
        }
    }
}

impl OutPort {
    pub(crate) fn resolve(&self) -> Result<Resolved> {
        resolve(&self.ssdlet, &self.ssdlet.meta.outputs, "output", &self.sel)
    }
}

impl InPort {
    pub(crate) fn resolve(&self) -> Result<Resolved> {
        resolve(&self.ssdlet, &self.ssdlet.meta.inputs, "input", &self.sel)
    }
}

fn resolve(s: &SsdletInstance, slots: &[Slot], direction: &'static str, sel: &PortSel) -> Result<Resolved> {
    let slot = match sel {
        PortSel::Index(i) => slots.get(*i),
        PortSel::Name(n) => slots.iter().find(|p| &p.name == n),
    };
    match slot {
        Some(p) => Ok(Resolved {
            instance: s.instance,
            name: p.name.clone(),
            label: format!("{}.{}", s.meta.id, p.name),
            ty: p.ty.clone(),
        }),
        None => {
            let available: Vec<String> = (slots.iter().enumerate())
                .map(|(i, p)| format!("{i} `{}`: {}", p.name, p.ty))
                .collect();
            Err(Error::NoSuchPort {
                ssdlet: s.meta.id.clone(),
                direction,
                port: match sel {
                    PortSel::Index(i) => i.to_string(),
                    PortSel::Name(n) => format!("`{n}`"),
                },
                available: if available.is_empty() {
                    "none".to_owned()
                } else {
                    available.join(", ")
                },
            })
        }
    }
}
