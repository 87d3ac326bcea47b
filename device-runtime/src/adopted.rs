//! Message buffers adopted from modules (`port_put_owned`): ABI glue for zero-copy ports.
//!
//! A module allocates through the runtime's `alloc` service, which is the system allocator,
//! so the runtime can take over a `(ptr, len, capacity)` block the module hands it, let the
//! receiver borrow it in place, and free it with the same allocator and layout
//! (`capacity` bytes, alignment 1). Device DRAM follows the block: it is held by one
//! Application's account at a time (the sender's while queued, then the receiver's).

use std::alloc::Layout;
use std::ptr::NonNull;
use std::rc::Rc;

use crate::instance::AppAccount;

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
    Adopted(Adopted),
    /// A small message kept in the queue entry itself: no buffer, no pool.
    Inline(Inline),
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

impl std::ops::Deref for Payload {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Payload::Copied(v) => v,
            Payload::Adopted(a) => a.bytes(),
            Payload::Inline(i) => &i.data[..usize::from(i.len)],
        }
    }
}

impl Payload {
    /// The bytes as a vector (copies an adopted block).
    pub(crate) fn into_vec(self) -> Vec<u8> {
        match self {
            Payload::Copied(v) => v,
            Payload::Adopted(a) => a.bytes().to_vec(),
            Payload::Inline(i) => i.data[..usize::from(i.len)].to_vec(),
        }
    }
}
