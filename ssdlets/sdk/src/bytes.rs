//! [`Bytes`]: a byte buffer that crosses a port as one block.
//!
//! serde sees a `Vec<u8>` as a sequence, so postcard encodes and decodes it one element at a
//! time (about 1 ns a byte: 3.3 ms for 1 MiB). `Bytes` goes through serde's byte-string calls
//! instead: a length and one copy. Postcard writes both the same way (a varint length, then the
//! bytes), and both have the signature `seq<u8>`, so a `Bytes` output connects to a `Vec<u8>`
//! input and back. Written here rather than taken from `serde_bytes`: a new dependency of the
//! SDK would change every module's symbols, and so the digests the compute calibration is keyed
//! by. For the same reason every non-generic function here is `#[inline]`: compiled only
//! into the modules that use `Bytes`, it leaves the SDK's own code, and so every other module,
//! byte for byte as it was.

use std::ops::{Deref, DerefMut};

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use ssdlet_abi::sig::TypeSig;

use crate::message::Message;

/// A `Vec<u8>` that is encoded and decoded as one block (module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub Vec<u8>);

impl Message for Bytes {
    const SIG: TypeSig = TypeSig::Seq(&TypeSig::U8);
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_byte_buf(BytesVisitor)
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Bytes;

    #[inline]
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<Bytes, E> {
        Ok(Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Bytes, E> {
        Ok(Bytes(v))
    }

    // Formats that write a byte string as a sequence of numbers (e.g. JSON).
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
        while let Some(b) = seq.next_element()? {
            v.push(b);
        }
        Ok(Bytes(v))
    }
}

impl Deref for Bytes {
    type Target = Vec<u8>;
    #[inline]
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for Bytes {
    #[inline]
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl From<Vec<u8>> for Bytes {
    #[inline]
    fn from(v: Vec<u8>) -> Bytes {
        Bytes(v)
    }
}

impl From<Bytes> for Vec<u8> {
    #[inline]
    fn from(b: Bytes) -> Vec<u8> {
        b.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_encode_as_a_vec_of_u8_does_and_share_its_signature() {
        let v: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let as_vec = postcard::to_allocvec(&v).unwrap();
        let as_bytes = postcard::to_allocvec(&Bytes(v.clone())).unwrap();
        assert_eq!(as_vec, as_bytes);
        assert_eq!(postcard::from_bytes::<Bytes>(&as_vec).unwrap().0, v);
        assert_eq!(postcard::from_bytes::<Vec<u8>>(&as_bytes).unwrap(), v);
        assert_eq!(crate::sig_string(&Bytes::SIG), crate::sig_string(&<Vec<u8>>::SIG));
        assert!(
            postcard::from_bytes::<Bytes>(&as_vec[..100]).is_err(),
            "cut short"
        );
    }
}
