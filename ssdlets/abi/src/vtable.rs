//! The `#[repr(C)]` table of runtime services handed to a module.
//!
//! Calling convention shared by every service taking a `ctx`:
//! - `ctx` is the opaque [`InstanceCtx`] pointer the runtime passed to the SSDlet's entry
//!   point. It stays valid until that entry point returns and must not be used afterwards or
//!   from another thread.
//! - Services that may wait (`port_get`, `port_put`, `yield_now`, and the file/matcher
//!   calls, which take simulated time) suspend the calling SSDlet's fiber, never the core.
//! - Any service may return [`Status::ABORTED`]: the SSDlet must then return from its entry
//!   point promptly (the SDK unwinds its stack to do so).
//!
//! The memory services (`alloc`, `dealloc`, `realloc`) take no `ctx`: they back the module's
//! global allocator, which has none. The runtime charges them to the SSDlet that is running on
//! the calling thread, if any.

use crate::Status;

/// Opaque per-instance context owned by the runtime. Modules only pass the pointer back.
#[repr(C)]
pub struct InstanceCtx {
    _private: [u8; 0],
}

/// A file capability handed to an SSDlet as an argument. Only the runtime can mint one.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileHandle(pub u64);

/// Which side of an SSDlet a port index refers to.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortDir(pub u32);

impl PortDir {
    /// An input port (the SSDlet `get`s from it).
    pub const INPUT: PortDir = PortDir(0);
    /// An output port (the SSDlet `put`s to it).
    pub const OUTPUT: PortDir = PortDir(1);
}

/// Severity of a log line.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogLevel(pub u32);

impl LogLevel {
    /// Something failed.
    pub const ERROR: LogLevel = LogLevel(1);
    /// Something looks wrong.
    pub const WARN: LogLevel = LogLevel(2);
    /// Progress worth telling the user.
    pub const INFO: LogLevel = LogLevel(3);
    /// Detail for developers.
    pub const DEBUG: LogLevel = LogLevel(4);
}

/// A borrowed byte string: `len` bytes at `ptr` (`ptr` may dangle when `len == 0`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ByteSlice {
    /// First byte.
    pub ptr: *const u8,
    /// Number of bytes.
    pub len: usize,
}

/// A received message, filled in by `port_get`.
///
/// The bytes are owned by the runtime and stay valid until the next `port_get` (or
/// `port_get_batch` that takes a message) on the same port by the same SSDlet, or until its
/// entry point returns, whichever comes first.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MsgRef {
    /// First byte of the encoded message.
    pub ptr: *const u8,
    /// Length of the encoded message in bytes.
    pub len: usize,
}

/// A block of bytes handed to the module by `port_get_bytes`: `len` bytes at `ptr`, in a block
/// of `capacity` bytes (alignment 1) from the runtime's `alloc`, the module's from then on
/// (free it with `dealloc(ptr, capacity, 1)`). An empty message may have a null `ptr` and a
/// zero `capacity`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OwnedBytes {
    /// First byte.
    pub ptr: *mut u8,
    /// Number of bytes.
    pub len: usize,
    /// Size of the block.
    pub capacity: usize,
}

/// What the pattern matcher can do, filled in by `matcher_limits`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MatcherLimits {
    /// Most keys one scan accepts.
    pub max_keys: u32,
    /// Longest key in bytes.
    pub max_key_len: u32,
    /// Size in bytes of the pages the matcher reports one flag for.
    pub page_size: u32,
}

// INVARIANT(abi-c-types-only): only integers, pointers and extern "C" fns in the table
/// Services the runtime provides to modules. Passed to `ssdlet_module_init` and every
/// `ssdlet_run`; the pointer stays valid while the module is loaded.
#[repr(C)]
pub struct RuntimeVtable {
    /// The runtime's [`crate::ABI_VERSION`]; a module refuses a table with another version.
    pub abi_version: u32,
    /// `size_of::<RuntimeVtable>()` as the runtime built it.
    pub size: u32,

    /// Waits for the next message on input `port`. `OK`: `*out` holds it. `CLOSED`: the
    /// input is closed and drained (end of stream).
    pub port_get: unsafe extern "C" fn(ctx: *mut InstanceCtx, port: u32, out: *mut MsgRef) -> Status,
    /// Sends `len` bytes at `data` on output `port`, waiting while the port is full. The
    /// runtime copies the bytes before returning. `CLOSED`: the receiver is gone.
    pub port_put:
        unsafe extern "C" fn(ctx: *mut InstanceCtx, port: u32, data: *const u8, len: usize) -> Status,
    /// Closes a port: an output ends the receiver's stream after it drains; an input makes the
    /// sender's further puts return `CLOSED`. Closing twice is `OK`.
    pub port_close: unsafe extern "C" fn(ctx: *mut InstanceCtx, dir: PortDir, port: u32) -> Status,

    /// Writes the length in bytes of `file` to `*out_len`.
    pub file_len: unsafe extern "C" fn(ctx: *mut InstanceCtx, file: FileHandle, out_len: *mut u64) -> Status,
    /// Internal read of up to `len` bytes of `file` at `offset` into `buf`; writes the number
    /// of bytes read to `*out_read` (0 at end of file).
    pub file_read: unsafe extern "C" fn(
        ctx: *mut InstanceCtx,
        file: FileHandle,
        offset: u64,
        buf: *mut u8,
        len: usize,
        out_read: *mut usize,
    ) -> Status,

    /// Writes the matcher's limits to `*out`.
    pub matcher_limits: unsafe extern "C" fn(ctx: *mut InstanceCtx, out: *mut MatcherLimits) -> Status,
    /// Scans pages `first_page .. first_page + page_count` of `file` for any of the `key_count`
    /// keys at `keys`, writing one flag per page to `out_flags` (1: a key may occur in the
    /// page, 0: no key occurs). `out_flags` has room for `page_count` bytes.
    pub matcher_scan: unsafe extern "C" fn(
        ctx: *mut InstanceCtx,
        file: FileHandle,
        keys: *const ByteSlice,
        key_count: usize,
        first_page: u64,
        page_count: u64,
        out_flags: *mut u8,
    ) -> Status,

    /// Allocates `size` bytes aligned to `align` (a power of two), charged to the running
    /// SSDlet. Null on failure. Compatible with the C library's `free` on the host.
    pub alloc: unsafe extern "C" fn(size: usize, align: usize) -> *mut u8,
    /// Frees memory from `alloc`/`realloc` with the same `size` and `align`.
    pub dealloc: unsafe extern "C" fn(ptr: *mut u8, size: usize, align: usize),
    /// Resizes memory from `alloc` (`size`, `align`) to `new_size`. Null on failure, in which
    /// case the old block is untouched.
    pub realloc: unsafe extern "C" fn(ptr: *mut u8, size: usize, align: usize, new_size: usize) -> *mut u8,

    /// Logs `len` bytes of UTF-8 at `msg` (invalid UTF-8 is replaced) at `level`.
    pub log: unsafe extern "C" fn(ctx: *mut InstanceCtx, level: LogLevel, msg: *const u8, len: usize),
    /// Lets other SSDlets run. Returns `OK` or `ABORTED`.
    pub yield_now: unsafe extern "C" fn(ctx: *mut InstanceCtx) -> Status,
    /// Records the failure message of the SSDlet (UTF-8), read by the runtime after a
    /// `PANICKED`, `FAILED` or `BAD_ARGS` return from the entry point.
    pub set_error: unsafe extern "C" fn(ctx: *mut InstanceCtx, msg: *const u8, len: usize),

    /// Sends the `len` bytes at `ptr` on output `port` without copying them, waiting while the
    /// port is full. `ptr` is a block of `capacity` bytes (alignment 1) from `alloc`/`realloc`.
    /// On `OK` the runtime owns the block (it hands it to the receiver, then frees it with
    /// `dealloc`); on any other status it stays the caller's. Added after `set_error`: check
    /// that `size` covers it ([`RuntimeVtable::has_port_put_owned`]) before calling it.
    pub port_put_owned: unsafe extern "C" fn(
        ctx: *mut InstanceCtx,
        port: u32,
        ptr: *mut u8,
        len: usize,
        capacity: usize,
    ) -> Status,

    /// Sends one `seq<u8>` message whose bytes are the `len` bytes at `ptr`, without encoding
    /// or copying them, waiting while the port is full: its encoding (the length as a varint,
    /// then the bytes, as postcard writes a byte string) is written out only for a receiver
    /// that reads encoded messages. `ptr`, `capacity` and ownership as in `port_put_owned`,
    /// except that a `capacity` of 0 (any `ptr`) sends an empty byte string.
    /// Added after `port_put_owned` with `port_get_bytes`: check
    /// [`RuntimeVtable::has_bytes_ports`] before calling either.
    pub port_put_bytes: unsafe extern "C" fn(
        ctx: *mut InstanceCtx,
        port: u32,
        ptr: *mut u8,
        len: usize,
        capacity: usize,
    ) -> Status,
    /// Waits for the next message on input `port`, which must be a `seq<u8>`, and hands its
    /// bytes over as a block (`*out`, [`OwnedBytes`]): a message sent with `port_put_bytes` is
    /// the sender's block itself; an encoded one is decoded into a new block (an encoded
    /// message that is not a byte string is taken off the port and answered with
    /// `INVALID_ARGUMENT`, as is one there is no memory for). `CLOSED`: the input is
    /// closed and drained.
    pub port_get_bytes:
        unsafe extern "C" fn(ctx: *mut InstanceCtx, port: u32, out: *mut OwnedBytes) -> Status,

    /// Sends `count` messages on output `port`, in order, in one call: as many at once as the
    /// port has room for, each copied, counted and charged as a message, and available to an
    /// SSDlet together once their bytes are copied (to the host, each as its PCIe transfer
    /// ends); while the port is full it waits, as `port_put` does (a call of its own), so other
    /// SSDlets may run between two of them. Their encodings lie back to back at `data`, the
    /// `i`-th `lens[i]` bytes long. `*out_done` is how many were sent: all of them on `OK`; on any other status (`CLOSED`: the receiver is gone) the ones from
    /// `*out_done` on were not. A `count` of 0 is `OK` at once, no call made. `lens` is aligned
    /// for `u32`. Added after `port_get_bytes` with `port_get_batch`: check
    /// [`RuntimeVtable::has_batch_ports`] before calling either.
    pub port_put_batch: unsafe extern "C" fn(
        ctx: *mut InstanceCtx,
        port: u32,
        data: *const u8,
        lens: *const u32,
        count: usize,
        out_done: *mut usize,
    ) -> Status,
    /// Takes up to `max` messages from input `port` in one call, each counted and charged as a
    /// message: the first (waiting while the port is empty, as `port_get` does), then those
    /// already available by then, copying their encodings back to back into the `cap` bytes at
    /// `buf` and their lengths into `lens` (room for `max`).
    /// Stops before a message that does not fit in what is left of `buf` or that was handed
    /// over as a block: `*out_got` may then be 0 with `OK`, and `port_get` (or
    /// `port_get_bytes`) takes that message. `CLOSED` (with `*out_got` 0): the input is closed
    /// and drained. Taking a message ends the bytes the last `port_get` on the port lent, as a
    /// `port_get` would. A `max` of 0 is `OK` at once, no call made. `lens` is aligned for
    /// `u32`.
    pub port_get_batch: unsafe extern "C" fn(
        ctx: *mut InstanceCtx,
        port: u32,
        buf: *mut u8,
        cap: usize,
        lens: *mut u32,
        max: usize,
        out_got: *mut usize,
    ) -> Status,
}

impl RuntimeVtable {
    /// Size in bytes of version 1's first table (through `set_error`): every runtime of this
    /// [`crate::ABI_VERSION`] hands out at least this much, and a module refuses less.
    pub const BASE_SIZE: usize = core::mem::offset_of!(RuntimeVtable, port_put_owned);

    /// Whether the runtime's table (of `size` bytes) has `port_put_owned`.
    pub fn has_port_put_owned(&self) -> bool {
        let end = core::mem::offset_of!(RuntimeVtable, port_put_owned) + core::mem::size_of::<usize>();
        self.size as usize >= end
    }

    /// Whether the runtime's table (of `size` bytes) has `port_put_bytes` and
    /// `port_get_bytes`. (`#[inline]`: compiled only into the modules that call it, it leaves
    /// every other module's code as it was.)
    #[inline]
    pub fn has_bytes_ports(&self) -> bool {
        let end = core::mem::offset_of!(RuntimeVtable, port_get_bytes) + core::mem::size_of::<usize>();
        self.size as usize >= end
    }

    /// Whether the runtime's table (of `size` bytes) has `port_put_batch` and
    /// `port_get_batch` (`#[inline]` for the same reason as [`RuntimeVtable::has_bytes_ports`]).
    #[inline]
    pub fn has_batch_ports(&self) -> bool {
        let end = core::mem::offset_of!(RuntimeVtable, port_get_batch) + core::mem::size_of::<usize>();
        self.size as usize >= end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_services_are_found_by_size() {
        // The first table ends at `set_error`; `port_put_owned` was appended after it.
        let set_error_end = core::mem::offset_of!(RuntimeVtable, set_error) + core::mem::size_of::<usize>();
        assert_eq!(RuntimeVtable::BASE_SIZE, set_error_end);
        assert!(core::mem::size_of::<RuntimeVtable>() > RuntimeVtable::BASE_SIZE);
    }
}
