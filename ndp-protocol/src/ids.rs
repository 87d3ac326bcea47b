//! Handles as they travel: opaque numbers the device hands out and the host hands back. The
//! runtime keeps its own id types and converts at the firmware's edge, so changing one of its
//! representations never changes the wire.

use serde::{Deserialize, Serialize};

/// A module loaded on the device (its slot in the device's module table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModuleId(pub u32);

/// An Application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppId(pub u64);

/// An SSDlet instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InstanceId(pub u64);

/// A device file's capability, handed to SSDlets as an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileId(pub u64);

/// The device end of a host-to-device port (a host sender feeds it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SenderId(pub u64);

/// The device end of a device-to-host port (a host receiver drains it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReceiverId(pub u64);
