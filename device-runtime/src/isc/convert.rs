//! The firmware's edge (INVARIANT(protocol-owns-wire)): protocol handles and values to the
//! runtime's own, and back. The runtime's ids are indexes of its tables; on the wire they are
//! opaque `u64`s (an id that does not fit is out of range and simply names nothing).

use ndp_protocol as wire;

use crate::runtime::{AppId, ArgValue, FileId, InstanceId, ReceiverId, SenderId};

/// A wire index as a table index (`usize::MAX`, which names nothing, if it does not fit).
fn index(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// A table index on the wire.
fn wire_index(i: usize) -> u64 {
    u64::try_from(i).unwrap_or(u64::MAX)
}

impl From<AppId> for wire::AppId {
    fn from(a: AppId) -> Self {
        wire::AppId(wire_index(a.0))
    }
}

impl From<wire::AppId> for AppId {
    fn from(a: wire::AppId) -> Self {
        AppId(index(a.0))
    }
}

impl From<InstanceId> for wire::InstanceId {
    fn from(i: InstanceId) -> Self {
        wire::InstanceId(wire_index(i.0))
    }
}

impl From<wire::InstanceId> for InstanceId {
    fn from(i: wire::InstanceId) -> Self {
        InstanceId(index(i.0))
    }
}

impl From<FileId> for wire::FileId {
    fn from(f: FileId) -> Self {
        wire::FileId(f.0)
    }
}

impl From<wire::FileId> for FileId {
    fn from(f: wire::FileId) -> Self {
        FileId(f.0)
    }
}

impl From<SenderId> for wire::SenderId {
    fn from(p: SenderId) -> Self {
        wire::SenderId(wire_index(p.0))
    }
}

impl From<wire::SenderId> for SenderId {
    fn from(p: wire::SenderId) -> Self {
        SenderId(index(p.0))
    }
}

impl From<ReceiverId> for wire::ReceiverId {
    fn from(p: ReceiverId) -> Self {
        wire::ReceiverId(wire_index(p.0))
    }
}

impl From<wire::ReceiverId> for ReceiverId {
    fn from(p: wire::ReceiverId) -> Self {
        ReceiverId(index(p.0))
    }
}

impl From<wire::ArgValue> for ArgValue {
    fn from(v: wire::ArgValue) -> Self {
        match v {
            wire::ArgValue::File(f) => ArgValue::File(f.into()),
            wire::ArgValue::U64(x) => ArgValue::U64(x),
            wire::ArgValue::U32(x) => ArgValue::U32(x),
            wire::ArgValue::I64(x) => ArgValue::I64(x),
            wire::ArgValue::Bool(x) => ArgValue::Bool(x),
            wire::ArgValue::Str(x) => ArgValue::Str(x),
            wire::ArgValue::Message { sig, bytes } => ArgValue::Message { sig, bytes },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_out_of_range_names_nothing() {
        let a = AppId(7);
        assert_eq!(AppId::from(wire::AppId::from(a)), a);
        let far = AppId::from(wire::AppId(u64::MAX));
        assert_eq!(far.0, usize::MAX);
        let s = SenderId(3);
        assert_eq!(SenderId::from(wire::SenderId::from(s)), s);
        let v = ArgValue::from(wire::ArgValue::File(wire::FileId(9)));
        assert_eq!(v, ArgValue::File(FileId(9)));
    }
}
