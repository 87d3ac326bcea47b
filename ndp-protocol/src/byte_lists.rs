//! `#[serde(with = "byte_lists")]` for lists of byte strings (`Vec<Vec<u8>>`): each string
//! encoded as one block (`serde_bytes`), not byte by byte. postcard writes the same bytes either
//! way (a length, then the bytes), so the wire format does not change.

use serde::{Deserialize, Deserializer, Serializer};
use serde_bytes::{ByteBuf, Bytes};

pub(crate) fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(list.iter().map(|b| Bytes::new(b)))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
    let list = Vec::<ByteBuf>::deserialize(d)?;
    Ok(list.into_iter().map(ByteBuf::into_vec).collect())
}
