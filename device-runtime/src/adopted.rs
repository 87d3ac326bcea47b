//! Message buffers adopted from modules (`port_put_owned`, `port_put_bytes`): ABI glue for
//! zero-copy ports.
//!
//! A module allocates through the runtime's `alloc` service, which is the system allocator,
//! so the runtime can take over a `(ptr, len, capacity)` block the module hands it, let the
//! receiver borrow it in place (or, for a byte block, take it: `port_get_bytes`), and free it
//! with the same allocator and layout (`capacity` bytes, alignment 1). Device DRAM follows the
//! block: it is held by one Application's account at a time (the sender's while queued, then
//! the receiver's).

use std::alloc::Layout;
use std::ptr::NonNull;
use std::rc::Rc;

use crate::instance::AppAccount;
use crate::runs::Run;

/// A block adopted from a module; freed (and its DRAM released) on drop.
pub(crate) struct Adopted {
    ptr: NonNull<u8>,
    len: usize,
    cap: usize,
    holder: Rc<AppAccount>,
}

impl Adopted {
    /// Adopts the block, held by `holder` from now on.
    ///
    /// # Safety
    /// `ptr` must be a live block of `cap` bytes with alignment 1 from the system allocator,
    /// with `len <= cap` initialized bytes, that nobody else uses or frees afterwards.
    pub(crate) unsafe fn new(ptr: NonNull<u8>, len: usize, cap: usize, holder: Rc<AppAccount>) -> Adopted {
        holder.hold(cap as u64);
        Adopted {
            ptr,
            len,
            cap,
            holder,
        }
    }

    /// Moves the block's DRAM to `to`'s account.
    pub(crate) fn move_to(&mut self, to: &Rc<AppAccount>) {
        self.holder.release(self.cap as u64);
        to.hold(self.cap as u64);
        self.holder = Rc::clone(to);
    }

    /// Gives the block back as `(ptr, len, capacity)`, no longer the runtime's: its holder's
    /// account releases it (the caller charges whoever takes it).
    pub(crate) fn into_raw(self) -> (NonNull<u8>, usize, usize) {
        let me = std::mem::ManuallyDrop::new(self);
        me.holder.release(me.cap as u64);
        // SAFETY: `me` is never dropped, so its holder is read out exactly once.
        drop(unsafe { std::ptr::read(&me.holder) });
        (me.ptr, me.len, me.cap)
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `new`'s contract: `len` initialized bytes at `ptr`, owned by `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Adopted {
    fn drop(&mut self) {
        if let Ok(layout) = Layout::from_size_align(self.cap, 1) {
            // SAFETY: `new`'s contract: a system block of this layout, owned by `self`.
            unsafe { crate::blocks::dealloc(self.ptr.as_ptr(), layout) };
        }
        self.holder.release(self.cap as u64);
        sim_nvme::trace::dram_latest(-(self.cap as i64));
    }
}

impl std::fmt::Debug for Adopted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Adopted({} of {} bytes at {:p})", self.len, self.cap, self.ptr)
    }
}

/// The bytes of one message: a runtime buffer (copied in) or a block adopted from a module.
#[derive(Debug)]
pub(crate) enum Payload {
    Copied(Vec<u8>),
    /// An encoded message handed over (`port_put_owned`).
    Adopted(Adopted),
    /// The bytes of a byte string handed over as they are (`port_put_bytes`): the encoded
    /// message is [`byte_string_header`] then these bytes, written out only by
    /// [`Payload::encoded`] and [`Payload::into_vec`].
    Block(Adopted),
    /// A small message kept in the queue entry itself: no buffer, no pool.
    Inline(Inline),
    /// Several small messages one batch put, queued as one entry ([`crate::runs`]); never
    /// handed to a reader as such ([`crate::world::Channel::pop`] takes its first alone).
    /// Boxed: a `Payload` stays 40 bytes, so single messages move no more than they did.
    Run(Box<Run>),
}

/// A message of at most [`Inline::MAX`] bytes, stored in place.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Inline {
    len: u8,
    data: [u8; Inline::MAX],
}

impl Inline {
    /// The most bytes kept in place: with the length, as large as an `Adopted` (32 bytes); a
    /// `Payload` is 40 bytes with its tag (32 without this variant).
    pub(crate) const MAX: usize = 30;

    /// `bytes` in place, if short enough.
    #[inline]
    pub(crate) fn new(bytes: &[u8]) -> Option<Inline> {
        let mut data = [0u8; Inline::MAX];
        data.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Inline {
            len: bytes.len() as u8,
            data,
        })
    }
}

impl Default for Payload {
    fn default() -> Self {
        Payload::Copied(Vec::new())
    }
}

impl Payload {
    /// The encoded message, in place; `None` for a [`Payload::Block`], whose encoding is not
    /// in one piece ([`Payload::encoded`] writes it out), and for a [`Payload::Run`], which is
    /// not one message.
    #[inline]
    pub(crate) fn in_place(&self) -> Option<&[u8]> {
        match self {
            Payload::Copied(v) => Some(v),
            Payload::Adopted(a) => Some(a.bytes()),
            Payload::Inline(i) => Some(&i.data[..usize::from(i.len)]),
            Payload::Block(_) | Payload::Run(_) => None,
        }
    }

    /// A copy of the message `bytes`: in place if small, else in a buffer from `pool`.
    #[inline(always)]
    pub(crate) fn copy_of(bytes: &[u8], pool: &mut Vec<Vec<u8>>) -> Payload {
        if let Some(small) = Inline::new(bytes) {
            return Payload::Inline(small);
        }
        let mut buf = pool.pop().unwrap_or_default();
        buf.extend_from_slice(bytes);
        Payload::Copied(buf)
    }

    /// The encoded message (a [`Payload::Block`]'s written out).
    pub(crate) fn encoded(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            Payload::Block(a) => std::borrow::Cow::Owned(block_encoding(a)),
            other => std::borrow::Cow::Borrowed(other.in_place().unwrap_or_default()),
        }
    }

    /// The encoded message's length in bytes.
    #[inline]
    pub(crate) fn encoded_len(&self) -> usize {
        match self {
            Payload::Block(a) => byte_string_header(a.len).1 + a.len,
            other => other.in_place().map_or(0, <[u8]>::len),
        }
    }

    /// The encoded message as a vector (copies an adopted block).
    pub(crate) fn into_vec(self) -> Vec<u8> {
        match self {
            Payload::Copied(v) => v,
            other => other.encoded().into_owned(),
        }
    }

    /// The payload with its encoding in one piece: a [`Payload::Block`] is written out.
    #[inline]
    pub(crate) fn into_contiguous(self) -> Payload {
        match self {
            Payload::Block(a) => Payload::Copied(block_encoding(&a)),
            other => other,
        }
    }
}

/// A byte block's encoded message: its length as postcard writes it, then its bytes.
fn block_encoding(a: &Adopted) -> Vec<u8> {
    let (header, n) = byte_string_header(a.len);
    let mut v = Vec::with_capacity(n + a.len);
    v.extend_from_slice(&header[..n]);
    v.extend_from_slice(a.bytes());
    v
}

/// How postcard writes the length of a byte string of `len` bytes (a LEB128 varint): the
/// buffer and how many of its bytes are used.
pub(crate) fn byte_string_header(len: usize) -> ([u8; 10], usize) {
    let (mut buf, mut n, mut v) = ([0u8; 10], 0, len as u64);
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            buf[n] = low;
            return (buf, n + 1);
        }
        buf[n] = low | 0x80;
        n += 1;
    }
}

/// A byte string's bytes in an encoded message: the part after its length, if `encoded` is
/// exactly one byte string.
pub(crate) fn byte_string_body(encoded: &[u8]) -> Option<&[u8]> {
    let mut len: u64 = 0;
    for (i, &b) in encoded.iter().enumerate().take(10) {
        // The tenth byte holds the 64th bit only.
        if i == 9 && b > 1 {
            return None;
        }
        len |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let body = &encoded[i + 1..];
            return (usize::try_from(len).ok()? == body.len()).then_some(body);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_kept_in_place_reads_back_as_it_was_given() {
        let source: Vec<u8> = (1..=40).collect();
        for len in 0..=Inline::MAX {
            let inline = Payload::Inline(Inline::new(&source[..len]).expect("short enough"));
            assert_eq!(inline.in_place(), Some(&source[..len]), "{len} bytes");
            assert_eq!(inline.encoded_len(), len);
        }
        assert!(Inline::new(&source[..Inline::MAX + 1]).is_none());
    }

    #[test]
    fn byte_string_framing_matches_postcard() {
        for len in [0usize, 1, 127, 128, 300, 16_383, 16_384, 1 << 20] {
            let bytes = vec![7u8; len];
            let encoded = postcard::to_allocvec(&serde_bytes_like(&bytes)).unwrap();
            let (h, n) = byte_string_header(len);
            assert_eq!(&encoded[..n], &h[..n], "header of {len}");
            assert_eq!(byte_string_body(&encoded), Some(&bytes[..]), "body of {len}");
        }
        assert_eq!(byte_string_body(&[]), None);
        assert_eq!(byte_string_body(&[3, 1, 2]), None, "too short");
        assert_eq!(byte_string_body(&[1, 1, 2]), None, "trailing bytes");
        assert_eq!(byte_string_body(&[0xff; 11]), None, "no end to the length");
        let mut too_long = vec![0x80; 9];
        too_long.push(0x02);
        assert_eq!(byte_string_body(&too_long), None, "a length beyond 64 bits");
    }

    /// A `Vec<u8>` as serde's byte string (what `ssdlet_sdk::Bytes` serializes as).
    fn serde_bytes_like(b: &[u8]) -> impl serde::Serialize + '_ {
        struct B<'a>(&'a [u8]);
        impl serde::Serialize for B<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        B(b)
    }
}
