//! FFI shims: the only place the SDK calls through the runtime's vtable.
//!
//! Invariant (cited by the SAFETY comments below): an [`Rt`] is only created by the generated
//! entry point from the `vt` and `ctx` the runtime passed to it. The runtime guarantees `vt`
//! points to a valid [`RuntimeVtable`] for as long as the module is loaded, and it validates
//! `ctx` on every call (a stale `ctx`, e.g. one smuggled out of its SSDlet through a static,
//! gets an error status, never memory unsafety). Buffers passed in are valid Rust slices.

use std::panic;

use ssdlet_abi::{
    ByteSlice, FileHandle, InstanceCtx, LogLevel, MatcherLimits, MsgRef, PortDir, RuntimeVtable, Status,
};

/// Panic payload used to unwind an SSDlet that the runtime aborted.
pub(crate) struct Aborted;

/// Panic payload used to unwind an SSDlet after its failure was reported with `set_error`.
pub(crate) struct Failed;

/// Unwinds the SSDlet's stack back to its entry point, which returns `ABORTED`.
pub(crate) fn unwind_aborted() -> ! {
    panic::resume_unwind(Box::new(Aborted))
}

/// Handle on the runtime for one running SSDlet instance.
#[derive(Clone, Copy)]
pub struct Rt {
    vt: *const RuntimeVtable,
    ctx: *mut InstanceCtx,
}

impl Rt {
    /// Wraps the pointers handed to the entry point (see the module invariant).
    pub(crate) fn new(vt: *const RuntimeVtable, ctx: *mut InstanceCtx) -> Self {
        Rt { vt, ctx }
    }

    fn vt(&self) -> &RuntimeVtable {
        // SAFETY: module invariant: `vt` is valid while the module is loaded, and this code
        // only runs while it is.
        unsafe { &*self.vt }
    }

    /// Turns `ABORTED` into an unwind; passes every other status through.
    fn check(status: Status) -> Status {
        if status == Status::ABORTED {
            unwind_aborted();
        }
        status
    }

    /// Next message on input `port`: `Ok(Some(bytes))`, `Ok(None)` at end of stream.
    pub(crate) fn port_get(&self, port: u32) -> Result<Option<&[u8]>, Status> {
        let mut msg = MsgRef {
            ptr: std::ptr::null(),
            len: 0,
        };
        // SAFETY: module invariant; `msg` is a valid out-pointer for the call's duration.
        let st = Self::check(unsafe { (self.vt().port_get)(self.ctx, port, &mut msg) });
        match st {
            Status::OK if msg.len == 0 => Ok(Some(&[])),
            Status::OK if msg.ptr.is_null() => Err(Status::INVALID_ARGUMENT),
            // SAFETY: the ABI guarantees `msg` describes runtime-owned bytes valid until the
            // next `port_get` on this port; callers hold `&mut` on the port for the borrow.
            Status::OK => Ok(Some(unsafe { std::slice::from_raw_parts(msg.ptr, msg.len) })),
            Status::CLOSED => Ok(None),
            other => Err(other),
        }
    }

    /// Sends `bytes` on output `port`.
    pub(crate) fn port_put(&self, port: u32, bytes: &[u8]) -> Status {
        // SAFETY: module invariant; `bytes` is a valid slice the runtime copies before return.
        Self::check(unsafe { (self.vt().port_put)(self.ctx, port, bytes.as_ptr(), bytes.len()) })
    }

    /// Hands `buf` over to output `port` without a copy, if the runtime offers
    /// `port_put_owned` and `buf` has an allocation; otherwise gives it back untouched.
    pub(crate) fn port_put_owned(&self, port: u32, buf: Vec<u8>) -> Result<Status, Vec<u8>> {
        // INVARIANT(vtable-append-only): check the table's size before an appended service
        if buf.capacity() == 0 || !self.vt().has_port_put_owned() {
            return Err(buf);
        }
        let mut buf = std::mem::ManuallyDrop::new(buf);
        let (ptr, len, cap) = (buf.as_mut_ptr(), buf.len(), buf.capacity());
        // SAFETY: module invariant; the table has the service (checked above). `buf` came
        // from the global allocator, which is the runtime's `alloc` (alignment 1 for bytes)
        // or, before init, the C allocator the runtime's allocator also uses.
        let st = unsafe { (self.vt().port_put_owned)(self.ctx, port, ptr, len, cap) };
        if st != Status::OK {
            // SAFETY: on any status but OK the block is still ours, untouched (ABI).
            drop(unsafe { Vec::from_raw_parts(ptr, len, cap) });
        }
        Ok(Self::check(st))
    }

    /// Closes a port. Never unwinds (it runs from `Drop`).
    pub(crate) fn port_close(&self, dir: PortDir, port: u32) -> Status {
        // SAFETY: module invariant.
        unsafe { (self.vt().port_close)(self.ctx, dir, port) }
    }

    pub(crate) fn file_len(&self, file: FileHandle) -> Result<u64, Status> {
        let mut len = 0u64;
        // SAFETY: module invariant; `len` is a valid out-pointer.
        match Self::check(unsafe { (self.vt().file_len)(self.ctx, file, &mut len) }) {
            Status::OK => Ok(len),
            other => Err(other),
        }
    }

    pub(crate) fn file_read(&self, file: FileHandle, offset: u64, buf: &mut [u8]) -> Result<usize, Status> {
        let mut got = 0usize;
        // SAFETY: module invariant; `buf` is a valid writable slice of `buf.len()` bytes and
        // `got` a valid out-pointer.
        let st =
            unsafe { (self.vt().file_read)(self.ctx, file, offset, buf.as_mut_ptr(), buf.len(), &mut got) };
        match Self::check(st) {
            Status::OK if got <= buf.len() => Ok(got),
            Status::OK => Err(Status::INVALID_ARGUMENT),
            other => Err(other),
        }
    }

    pub(crate) fn matcher_limits(&self) -> Result<MatcherLimits, Status> {
        let mut out = MatcherLimits::default();
        // SAFETY: module invariant; `out` is a valid out-pointer.
        match Self::check(unsafe { (self.vt().matcher_limits)(self.ctx, &mut out) }) {
            Status::OK => Ok(out),
            other => Err(other),
        }
    }

    pub(crate) fn matcher_scan(
        &self,
        file: FileHandle,
        keys: &[&[u8]],
        first: u64,
        flags: &mut [u8],
    ) -> Status {
        let slices: Vec<ByteSlice> = keys
            .iter()
            .map(|k| ByteSlice {
                ptr: k.as_ptr(),
                len: k.len(),
            })
            .collect();
        // SAFETY: module invariant; `slices` describes valid slices that outlive the call and
        // `flags` has room for the `flags.len()` page flags requested.
        let st = unsafe {
            (self.vt().matcher_scan)(
                self.ctx,
                file,
                slices.as_ptr(),
                slices.len(),
                first,
                flags.len() as u64,
                flags.as_mut_ptr(),
            )
        };
        Self::check(st)
    }

    pub(crate) fn log(&self, level: LogLevel, msg: &str) {
        // SAFETY: module invariant; `msg` is a valid slice.
        unsafe { (self.vt().log)(self.ctx, level, msg.as_ptr(), msg.len()) }
    }

    pub(crate) fn yield_now(&self) {
        // SAFETY: module invariant.
        Self::check(unsafe { (self.vt().yield_now)(self.ctx) });
    }

    pub(crate) fn set_error(&self, msg: &str) {
        // SAFETY: module invariant; `msg` is a valid slice.
        unsafe { (self.vt().set_error)(self.ctx, msg.as_ptr(), msg.len()) }
    }

    /// Reports `msg` as the SSDlet's failure and unwinds to its entry point (`FAILED`).
    pub(crate) fn fail(&self, msg: &str) -> ! {
        self.set_error(msg);
        panic::resume_unwind(Box::new(Failed))
    }
}

/// The byte-block ports (`port_put_bytes`, `port_get_bytes`): `Bytes` messages handed over as
/// they are.
impl Rt {
    /// Whether the runtime offers the byte-block ports.
    #[inline]
    pub(crate) fn has_bytes_ports(&self) -> bool {
        // INVARIANT(vtable-append-only): check the table's size before an appended service
        self.vt().has_bytes_ports()
    }

    /// Hands `block` over to output `port` as one byte string, neither encoded nor copied.
    /// On any status but `OK` the block comes back with it.
    #[inline]
    pub(crate) fn port_put_bytes(&self, port: u32, block: Vec<u8>) -> Result<(), (Status, Vec<u8>)> {
        let mut block = std::mem::ManuallyDrop::new(block);
        let (ptr, len, cap) = (block.as_mut_ptr(), block.len(), block.capacity());
        // SAFETY: module invariant; the caller checked `has_bytes_ports`. A block with a
        // capacity came from the global allocator, which is the runtime's `alloc` (alignment 1
        // for bytes) or, before init, the C allocator the runtime's allocator also uses; one
        // without is an empty message.
        let st = unsafe { (self.vt().port_put_bytes)(self.ctx, port, ptr, len, cap) };
        if st == Status::OK {
            return Ok(());
        }
        // On any status but OK the block is still ours, untouched (ABI): freed if `check`
        // unwinds.
        let block = std::mem::ManuallyDrop::into_inner(block);
        Err((Self::check(st), block))
    }

    /// The bytes of the next message on input `port`, a byte string, as a block of ours:
    /// `Ok(None)` at end of stream.
    #[inline]
    pub(crate) fn port_get_bytes(&self, port: u32) -> Result<Option<Vec<u8>>, Status> {
        let mut out = ssdlet_abi::OwnedBytes {
            ptr: std::ptr::null_mut(),
            len: 0,
            capacity: 0,
        };
        // SAFETY: module invariant; the caller checked `has_bytes_ports`; `out` is a valid
        // out-pointer.
        match Self::check(unsafe { (self.vt().port_get_bytes)(self.ctx, port, &mut out) }) {
            Status::OK if out.capacity == 0 => Ok(Some(Vec::new())),
            Status::OK if out.ptr.is_null() || out.len > out.capacity => Err(Status::INVALID_ARGUMENT),
            // SAFETY: ABI: on OK, `out` is a block of `capacity` bytes (alignment 1) from the
            // runtime's `alloc`, which is this module's global allocator, holding `len`
            // initialized bytes, now ours.
            Status::OK => Ok(Some(unsafe {
                Vec::from_raw_parts(out.ptr, out.len, out.capacity)
            })),
            Status::CLOSED => Ok(None),
            other => Err(other),
        }
    }

    /// Whether the runtime offers the batch ports.
    #[inline]
    pub(crate) fn has_batch_ports(&self) -> bool {
        // INVARIANT(vtable-append-only): check the table's size before an appended service
        self.vt().has_batch_ports()
    }

    /// Sends the messages encoded back to back in `data`, the `i`-th `lens[i]` bytes long, on
    /// output `port`: the status, and how many were sent.
    #[inline]
    pub(crate) fn port_put_batch(&self, port: u32, data: &[u8], lens: &[u32]) -> (Status, usize) {
        let mut done = 0usize;
        // SAFETY: module invariant; the caller checked `has_batch_ports`; `data` and `lens`
        // are valid slices the runtime reads before return (the lengths add up to at most
        // `data.len()`: the caller encoded them there), `done` a valid out-pointer.
        let st = unsafe {
            (self.vt().port_put_batch)(
                self.ctx,
                port,
                data.as_ptr(),
                lens.as_ptr(),
                lens.len(),
                &mut done,
            )
        };
        (Self::check(st), done.min(lens.len()))
    }

    /// Takes up to `lens.len()` messages from input `port` into `buf`, back to back, their
    /// lengths into `lens`: the status, and how many were taken.
    #[inline]
    pub(crate) fn port_get_batch(&self, port: u32, buf: &mut [u8], lens: &mut [u32]) -> (Status, usize) {
        let mut got = 0usize;
        // SAFETY: module invariant; the caller checked `has_batch_ports`; `buf` and `lens` are
        // valid writable slices for the call's duration, `got` a valid out-pointer.
        let st = unsafe {
            (self.vt().port_get_batch)(
                self.ctx,
                port,
                buf.as_mut_ptr(),
                buf.len(),
                lens.as_mut_ptr(),
                lens.len(),
                &mut got,
            )
        };
        (Self::check(st), got.min(lens.len()))
    }
}
