//! The runtime side of the module ABI: the `extern "C"` services in [`VTABLE`].
//!
//! Rules every service follows:
//! - `ctx` is checked against the running instance ([`crate::instance`] invariant) before it
//!   is dereferenced; anything else gets `INVALID_ARGUMENT`.
//! - Nothing panics: a panic here would abort the process (it cannot unwind through the
//!   module's `extern "C"` frames; INVARIANT(no-panic-across-abi)). `RefCell` borrows are never
//!   held across a suspension.
//! - Runtime bookkeeping never runs within [`STACK_RESERVE`] bytes of the fiber's guard page:
//!   every service with a context returns `STACK_EXHAUSTED` instead (`log` and `set_error`
//!   drop their text), and the memory services switch to the parent stack. So a
//!   stack-overflow trap can only interrupt module code (see [`crate::trap`]).
//! - Every call first charges the compute since the previous call to the SSDlet's clock
//!   ([`crate::compute`]) and applies the time-slice watchdog.
//! - Messages are timestamped: a put is available to the receiver at the sender's clock plus the
//!   DRAM copy time (plus the PCIe transfer for a host receiver); a get moves the receiver's
//!   clock to `max(own, message)`. A batch is one call moving several messages (INVARIANT
//!   `batch-is-one-call`); a single put or get is a batch of one. A blocked `get`/`put`
//!   registers the SSDlet as the channel's waiter; the other side wakes it
//!   ([`crate::world::World::wake`]).
//! - File and matcher services go through [`crate::fileio`] and suspend the SSDlet until the
//!   simulated completion instant.

use std::alloc::{GlobalAlloc, Layout, System};

use ssdlet_abi::{
    ByteSlice, FileHandle, InstanceCtx, LogLevel, MatcherLimits, MsgRef, OwnedBytes, PortDir, RuntimeVtable,
    Status, ABI_VERSION,
};

use sim_nvme::trace;
use sim_nvme::{SimDuration, SimTime};

use crate::adopted::{byte_string_body, byte_string_header, Adopted, Payload};
use crate::blocks;
use crate::compute::WorkCounts;
use crate::fileio;
use crate::instance::{InstanceState, Wait, CURRENT};
use crate::world::{Channel, HostEnd, LogLine, Msg, Slot};
use ndp_protocol::Site;

/// Stack headroom, in bytes, a service needs before it does any work on a fiber.
pub const STACK_RESERVE: usize = 32 * 1024;

/// The table handed to every module.
pub static VTABLE: RuntimeVtable = RuntimeVtable {
    abi_version: ABI_VERSION,
    size: std::mem::size_of::<RuntimeVtable>() as u32,
    port_get,
    port_put,
    port_close,
    file_len,
    file_read,
    matcher_limits,
    matcher_scan,
    alloc,
    dealloc,
    realloc,
    log,
    yield_now,
    set_error,
    port_put_owned,
    port_put_bytes,
    port_get_bytes,
    port_put_batch,
    port_get_batch,
};

/// [`VTABLE`] as a runtime without `port_put_owned` would hand it out (its `size` ends before
/// the service): modules copy every put ([`crate::runtime::RuntimeConfig::zero_copy`] off).
pub static VTABLE_COPYING: RuntimeVtable = RuntimeVtable {
    size: std::mem::offset_of!(RuntimeVtable, port_put_owned) as u32,
    ..VTABLE
};

// INVARIANT(ctx-is-current): `ctx` is dereferenced only if it is CURRENT
/// The running instance if `ctx` is it.
fn state<'a>(ctx: *mut InstanceCtx) -> Option<&'a InstanceState> {
    let cur = CURRENT.try_with(|c| c.get()).ok()?;
    if cur.is_null() || cur != ctx as *const InstanceState {
        return None;
    }
    // SAFETY: instance invariant: CURRENT points to a live, boxed InstanceState while its
    // fiber runs, and services only run on that fiber.
    Some(unsafe { &*cur })
}

/// The running instance regardless of `ctx` (memory services have none).
fn current<'a>() -> Option<&'a InstanceState> {
    let cur = CURRENT.try_with(|c| c.get()).ok()?;
    // SAFETY: as in `state`.
    (!cur.is_null()).then(|| unsafe { &*cur })
}

fn headroom(st: &InstanceState) -> usize {
    let marker = 0u8;
    let sp = std::ptr::addr_of!(marker) as usize;
    sp.saturating_sub(st.stack_limit.get())
}

/// While a service runs: on drop (the service returns), measured compute restarts its CPU
/// clock, so the simulator's own work in the service (copying a message, simulating the
/// matchers, timing a read) is never charged as the SSDlet's compute.
struct InService<'a>(&'a InstanceState);

impl Drop for InService<'_> {
    fn drop(&mut self) {
        self.0.restart_measure();
    }
}

/// Common prologue of services that may suspend.
fn enter(st: &InstanceState) -> Result<InService<'_>, Status> {
    let service = InService(st);
    begin_call(st)?;
    Ok(service)
}

/// What every call does first: charges it (and the compute since the last), then refuses it
/// if the instance is aborted or too near its guard page.
#[inline(always)]
fn begin_call(st: &InstanceState) -> Result<(), Status> {
    st.charge_call();
    if st.is_aborted() {
        return Err(Status::ABORTED);
    }
    // INVARIANT(stack-reserve): no service work within STACK_RESERVE of the guard page
    if headroom(st) < STACK_RESERVE {
        return Err(Status::STACK_EXHAUSTED);
    }
    Ok(())
}

/// [`begin_call`] for a later call within one service (after a wait, or the next message of
/// a batch): the measured clock restarts first, as it does when a call returns.
#[inline(always)]
fn begin_next_call(st: &InstanceState) -> Result<(), Status> {
    st.restart_measure();
    begin_call(st)
}

/// Waits for the next message on input `port` (the first of a run alone), then hands it to
/// `take` with its channel (still borrowed) once [`arrive`] is done; `take`'s status is the
/// service's.
fn get_next(st: &InstanceState, port: u32, mut take: impl FnMut(Msg, &mut Channel) -> Status) -> Status {
    get(
        st,
        port,
        |_| true,
        |c| {
            let Some((msg, sender)) = c.pop(st.clock.get()) else {
                return (Status::OK, 0);
            };
            arrive(st, msg.at, msg.flow, sender);
            (take(msg, c), 1)
        },
    )
    .0
}

/// A message available at `at` is taken by the running reader: its clock moves to `at` if
/// that is later, the trace ends the message's flow there, and `sender`, parked on the full
/// port, is woken then.
#[inline(always)]
fn arrive(st: &InstanceState, at: SimTime, flow: Option<trace::FlowId>, sender: Option<Slot>) {
    if at > st.clock.get() {
        st.clock.set(at);
    }
    trace::flow_end(flow, st.track(), st.clock.get());
    st.world.wake_any(sender, st.clock.get());
}

/// One call taking messages from input `port` (INVARIANT `batch-is-one-call`): waits while
/// the port is empty and open (each wait a call of its own), then hands the channel, its
/// queue not empty, to `take`, which takes one message or more ([`get_next`], or a run at a
/// time) and says with what status and how many. `takes(payload)` says whether this service
/// takes the message at the front; a refusal ends the service with `OK` and none taken, before
/// the call (the first, or the one after a wait) is charged. A port closed and drained gives
/// `CLOSED`.
fn get(
    st: &InstanceState,
    port: u32,
    takes: impl Fn(&Payload) -> bool,
    mut take: impl FnMut(&mut Channel) -> (Status, usize),
) -> (Status, usize) {
    let ch = match st.inputs.get(port as usize) {
        Some(Some(ch)) => *ch,
        other => {
            let refusal = if other.is_none() {
                Status::NO_SUCH_PORT
            } else {
                Status::CLOSED
            };
            let _service = InService(st);
            return (begin_call(st).err().unwrap_or(refusal), 0);
        }
    };
    // Made with the first call: a service that ends before it (its first message refused)
    // leaves the measured compute's clock running, as no call at all would.
    let mut service = None;
    loop {
        // A refused message is left before the call (the first, or the one after a wait) is
        // charged: the service that takes it charges its own.
        {
            let chans = st.world.channels.borrow();
            if chans[ch].queue.front().is_some_and(|next| !takes(&next.bytes)) {
                return (Status::OK, 0);
            }
        }
        let call = if service.is_none() {
            service = Some(InService(st));
            begin_call(st)
        } else {
            begin_next_call(st)
        };
        if let Err(s) = call {
            return (s, 0);
        }
        // INVARIANT(no-borrow-across-suspend): the channel borrow ends before `suspend`
        {
            let mut chans = st.world.channels.borrow_mut();
            let c = &mut chans[ch];
            if !c.queue.is_empty() {
                return take(c);
            }
            if c.sender_closed {
                return (Status::CLOSED, 0);
            }
            c.rx_waiter = Some(st.slot);
        }
        st.suspend(Wait::Get(ch));
    }
}

unsafe extern "C" fn port_get_batch(
    ctx: *mut InstanceCtx,
    port: u32,
    buf: *mut u8,
    cap: usize,
    lens: *mut u32,
    max: usize,
    out_got: *mut usize,
) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    let bad_buf = buf.is_null() && cap != 0;
    let bad_lens = (lens.is_null() && max != 0) || !lens.is_aligned();
    let too_long = cap > isize::MAX as usize || max > isize::MAX as usize / 4;
    if out_got.is_null() || bad_buf || bad_lens || too_long {
        return Status::INVALID_ARGUMENT;
    }
    if max == 0 {
        // SAFETY: `out_got` is non-null and, by the ABI, a valid out-pointer.
        unsafe { out_got.write(0) };
        return Status::OK;
    }
    let buf: &mut [u8] = if cap == 0 {
        &mut []
    } else {
        // SAFETY: ABI: `buf` points to `cap` writable bytes for this call, which alias nothing
        // the runtime holds.
        unsafe { std::slice::from_raw_parts_mut(buf, cap) }
    };
    // SAFETY: ABI: `lens` (non-null, checked above) has room for `max` lengths for this call.
    let lens = unsafe { std::slice::from_raw_parts_mut(lens, max) };
    let (status, got) = get(
        st,
        port,
        // Bytes the sender's or the runtime's (a run's first message), and room for them: a
        // block handed over is left to `port_get`, which writes its encoding out (or to
        // `port_get_bytes`).
        |p| match p {
            Payload::Run(run) => run.first().len() <= cap,
            Payload::Copied(_) | Payload::Inline(_) => p
                .in_place()
                .is_some_and(|b| b.len() <= cap && u32::try_from(b.len()).is_ok()),
            Payload::Adopted(_) | Payload::Block(_) => false,
        },
        |c| {
            // As a get does, the message the last `port_get` left in this port's slot goes.
            if let Some(slot) = st.current.borrow_mut().get_mut(port as usize) {
                c.recycle(std::mem::take(slot));
            }
            let (mut got, mut used) = (0, 0);
            // The first message, then those available by the time it is.
            while got < max
                && c.queue
                    .front()
                    .is_some_and(|next| got == 0 || next.at <= st.clock.get())
            {
                let (Some(room), Some(room_lens)) = (buf.get_mut(used..), lens.get_mut(got..)) else {
                    break;
                };
                let Some(t) = c.pop_into(st.clock.get(), room, room_lens) else {
                    break;
                };
                arrive(st, t.at, t.flow, t.sender);
                got += t.messages;
                used += t.bytes;
            }
            // Charged together, once the call has taken them.
            st.charge_messages(got as u64, used as u64);
            (Status::OK, got)
        },
    );
    // SAFETY: `out_got` is non-null and, by the ABI, a valid out-pointer.
    unsafe { out_got.write(got) };
    status
}

unsafe extern "C" fn port_get(ctx: *mut InstanceCtx, port: u32, out: *mut MsgRef) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    if out.is_null() {
        return Status::INVALID_ARGUMENT;
    }
    get_next(st, port, |msg, c| {
        // A block sent as it is gets its encoding written out for this reader.
        let mut bytes = msg.bytes.into_contiguous();
        let len = bytes.encoded_len() as u64;
        if let Payload::Adopted(a) = &mut bytes {
            a.move_to(&st.account);
        }
        let mut cur = st.current.borrow_mut();
        let slot = &mut cur[port as usize];
        let old = std::mem::replace(slot, bytes);
        c.recycle(old);
        let in_slot = slot.in_place().unwrap_or_default();
        // SAFETY: `out` is non-null and, by the ABI, a valid out-pointer. The bytes stay in
        // `current` until this port's next get or the instance's end; `current` is sized once
        // at spawn and never resized, so bytes kept inline in its slot (`Payload::Inline`) do
        // not move either.
        unsafe {
            out.write(MsgRef {
                ptr: in_slot.as_ptr(),
                len: in_slot.len(),
            })
        };
        st.charge_message(len);
        Status::OK
    })
}

unsafe extern "C" fn port_put(ctx: *mut InstanceCtx, port: u32, data: *const u8, len: usize) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    if data.is_null() && len != 0 {
        return Status::INVALID_ARGUMENT;
    }
    put_one(st, port, len, false, |pool| {
        let bytes: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: ABI: `data` points to `len` readable bytes for this call.
            unsafe { std::slice::from_raw_parts(data, len) }
        };
        copied(st, bytes, pool)
    })
}

unsafe extern "C" fn port_put_owned(
    ctx: *mut InstanceCtx,
    port: u32,
    ptr: *mut u8,
    len: usize,
    capacity: usize,
) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    let Some(block) = std::ptr::NonNull::new(ptr) else {
        return Status::INVALID_ARGUMENT;
    };
    if len > capacity || capacity == 0 {
        return Status::INVALID_ARGUMENT;
    }
    put_one(st, port, len, true, |_| {
        // The block leaves the sender's instance: its DRAM moves to the message.
        st.credit(capacity);
        st.world
            .adopted_bytes
            .set(st.world.adopted_bytes.get() + len as u64);
        // SAFETY: ABI: on OK (the only path that calls this) the module hands over `ptr`, a
        // block of `capacity` bytes (alignment 1) from `alloc`/`realloc` (the system
        // allocator) holding `len` initialized bytes, and never touches it again.
        Payload::Adopted(unsafe { Adopted::new(block, len, capacity, std::rc::Rc::clone(&st.account)) })
    })
}

unsafe extern "C" fn port_put_bytes(
    ctx: *mut InstanceCtx,
    port: u32,
    ptr: *mut u8,
    len: usize,
    capacity: usize,
) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    if len > capacity || capacity > isize::MAX as usize {
        return Status::INVALID_ARGUMENT;
    }
    let block = std::ptr::NonNull::new(ptr);
    if block.is_none() && capacity != 0 {
        return Status::INVALID_ARGUMENT;
    }
    // Timed and counted on the port as the encoded message handed over (`port_put_owned`)
    // would be (no overflow: `len <= capacity <= isize::MAX`).
    let encoded = byte_string_header(len).1 + len;
    put_one(st, port, encoded, true, |_| {
        let Some(block) = block.filter(|_| capacity != 0) else {
            // An empty byte string without a block: its encoding is its length, 0.
            return Payload::Copied(vec![0]);
        };
        st.credit(capacity);
        st.world
            .adopted_bytes
            .set(st.world.adopted_bytes.get() + len as u64);
        // SAFETY: ABI: on OK (the only path that calls this) the module hands over `ptr`, a
        // block of `capacity` bytes (alignment 1) from `alloc`/`realloc` holding `len`
        // initialized bytes, and never touches it again.
        Payload::Block(unsafe { Adopted::new(block, len, capacity, std::rc::Rc::clone(&st.account)) })
    })
}

unsafe extern "C" fn port_get_bytes(ctx: *mut InstanceCtx, port: u32, out: *mut OwnedBytes) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    if out.is_null() {
        return Status::INVALID_ARGUMENT;
    }
    get_next(st, port, |msg, c| {
        let owned = match msg.bytes {
            Payload::Block(a) => {
                // The sender's block itself: it costs the message, not its bytes.
                st.charge_message(0);
                let (ptr, len, capacity) = a.into_raw();
                st.charge(capacity);
                OwnedBytes {
                    ptr: ptr.as_ptr(),
                    len,
                    capacity,
                }
            }
            encoded => {
                let Some(body) = encoded.in_place().and_then(byte_string_body) else {
                    c.recycle(encoded);
                    return Status::INVALID_ARGUMENT;
                };
                st.charge_message(encoded.encoded_len() as u64);
                let owned = copy_into_block(body);
                c.recycle(encoded);
                match owned {
                    Some(o) => o,
                    None => return Status::INVALID_ARGUMENT,
                }
            }
        };
        // SAFETY: `out` is non-null and, by the ABI, a valid out-pointer.
        unsafe { out.write(owned) };
        Status::OK
    })
}

/// `body` copied into a new block of the module's, from the `alloc` service (so charged to
/// the running instance as its allocation); `None` if there is no memory.
fn copy_into_block(body: &[u8]) -> Option<OwnedBytes> {
    if body.is_empty() {
        return Some(OwnedBytes {
            ptr: std::ptr::null_mut(),
            len: 0,
            capacity: 0,
        });
    }
    // SAFETY: the service's own contract: a size and a power-of-two alignment.
    let p = std::ptr::NonNull::new(unsafe { alloc(body.len(), 1) })?;
    // SAFETY: `p` is a fresh block of `body.len()` bytes, which cannot overlap `body`.
    unsafe { std::ptr::copy_nonoverlapping(body.as_ptr(), p.as_ptr(), body.len()) };
    Some(OwnedBytes {
        ptr: p.as_ptr(),
        len: body.len(),
        capacity: body.len(),
    })
}

/// Puts one message of `len` bytes built by `make` (called once, only when the put succeeds);
/// `owned`: the bytes are a block handed over, not copied.
fn put_one(
    st: &InstanceState,
    port: u32,
    len: usize,
    owned: bool,
    make: impl FnOnce(&mut Vec<Vec<u8>>) -> Payload,
) -> Status {
    let mut done = 0;
    put(st, port, 1, owned, &mut One(len, Some(make)), &mut done)
}

/// The messages a put service sends.
trait Outgoing {
    /// The length in bytes of the `i`-th.
    fn len(&self, i: usize) -> usize;
    /// The `i`-th as a payload (called once, only when it is put).
    fn make(&mut self, i: usize, st: &InstanceState, pool: &mut Vec<Vec<u8>>) -> Payload;
    /// The messages `run`, the next ones, `bytes` in all, encoded back to back and their
    /// lengths, to be queued as one run (then not made); `None` if they are not copies.
    fn run(&mut self, run: std::ops::Range<usize>, bytes: usize) -> Option<(&[u8], &[u32])>;
}

/// One message of `.0` bytes built by `.1`.
struct One<F>(usize, Option<F>);

impl<F: FnOnce(&mut Vec<Vec<u8>>) -> Payload> Outgoing for One<F> {
    fn len(&self, _: usize) -> usize {
        self.0
    }

    fn make(&mut self, _: usize, _: &InstanceState, pool: &mut Vec<Vec<u8>>) -> Payload {
        // `put` calls this once for its one message.
        self.1.take().map_or_else(Payload::default, |m| m(pool))
    }

    fn run(&mut self, _: std::ops::Range<usize>, _: usize) -> Option<(&[u8], &[u32])> {
        None
    }
}

/// A batch's messages, encoded back to back in `data`, the `i`-th `lens[i]` bytes long from
/// `at` on; copied as they are put.
struct Copies<'a> {
    data: &'a [u8],
    lens: &'a [u32],
    at: usize,
}

impl Outgoing for Copies<'_> {
    #[inline(always)]
    fn len(&self, i: usize) -> usize {
        self.lens.get(i).map_or(0, |&l| l as usize)
    }

    #[inline(always)]
    fn make(&mut self, i: usize, st: &InstanceState, pool: &mut Vec<Vec<u8>>) -> Payload {
        let end = self.at + self.len(i);
        let bytes = self.data.get(self.at..end).unwrap_or_default();
        self.at = end;
        copied(st, bytes, pool)
    }

    #[inline(always)]
    fn run(&mut self, run: std::ops::Range<usize>, bytes: usize) -> Option<(&[u8], &[u32])> {
        let lens = self.lens.get(run)?;
        let end = self.at + bytes;
        let bytes = self.data.get(self.at..end)?;
        self.at = end;
        Some((bytes, lens))
    }
}

/// Puts `count` messages on output `port` in one call (INVARIANT `batch-is-one-call`): the
/// `i`-th of `msgs` (built once, only when it is put); `owned`: their bytes are blocks handed
/// over, not copied. As many as the port has room for go at once, charged as messages with
/// their bytes and available to the receiver together, once their bytes are copied (to a host
/// receiver, each as its PCIe transfer ends); a full port is waited on, the wait a call of its
/// own. `*done` counts the messages put; the status is the first refusal's, or `OK` once all
/// are put. A single put is a batch of one.
fn put(
    st: &InstanceState,
    port: u32,
    count: usize,
    owned: bool,
    msgs: &mut impl Outgoing,
    done: &mut usize,
) -> Status {
    *done = 0;
    if count == 0 {
        return Status::OK;
    }
    let _service = InService(st);
    let mut call = begin_call(st);
    loop {
        if let Err(s) = call {
            return s;
        }
        let ch = match st.outputs.get(port as usize) {
            None => return Status::NO_SUCH_PORT,
            Some(None) => return Status::CLOSED,
            Some(Some(ch)) => *ch,
        };
        // INVARIANT(no-borrow-across-suspend): the channel and drive borrows end before `suspend`
        {
            let mut chans = st.world.channels.borrow_mut();
            let c = &mut chans[ch];
            if c.receiver_closed || c.sender_closed {
                return Status::CLOSED;
            }
            let room = c.capacity.saturating_sub(c.queued);
            if room > 0 {
                let (from, to) = (*done, *done + room.min(count - *done));
                if let Err(s) = put_run(st, c, from..to, owned, msgs) {
                    return s;
                }
                *done = to;
                if to == count {
                    return Status::OK;
                }
            }
            c.tx_waiter = Some(st.slot);
        }
        st.suspend(Wait::Put(ch));
        call = begin_next_call(st);
    }
}

/// Puts messages `run` of `msgs` on `c`, which has room for them all: charges them, times
/// them, queues them (as one run if they are copies, several, and not for the host over PCIe)
/// and wakes the receiver.
#[inline(always)]
fn put_run(
    st: &InstanceState,
    c: &mut Channel,
    run: std::ops::Range<usize>,
    owned: bool,
    msgs: &mut impl Outgoing,
) -> Result<(), Status> {
    // A conventional run's host is where its SSDlets run: no PCIe
    let to_host = c.host == HostEnd::Receiver && st.site == Site::Device;
    let mut ssd = if to_host { st.world.try_ssd() } else { None };
    if to_host && ssd.is_none() {
        return Err(Status::INVALID_ARGUMENT);
    }
    // Nothing may fail once `make` has run (an adopted block is the runtime's).
    let bytes: u64 = run.clone().map(|i| msgs.len(i) as u64).sum();
    // A handed-over block costs the message, not a per-byte copy.
    st.charge_messages(run.len() as u64, if owned { 0 } else { bytes });
    let now = st.clock.get();
    let copied_at = if owned {
        now
    } else {
        let copy = match st.site {
            Site::Device => st.world.config.dram_copy_mb_per_s,
            Site::Host => st.world.config.host_copy_mb_per_s,
        };
        now + SimDuration::for_bytes(bytes, copy)
    };
    if !to_host && run.len() > 1 {
        if let Some((data, lens)) = msgs.run(run.clone(), bytes as usize) {
            st.world.copied_bytes.set(st.world.copied_bytes.get() + bytes);
            let flow = trace::flow_start(st.track(), now);
            let receiver = c.push_run(data, lens, copied_at, flow);
            st.world.wake_any(receiver, copied_at);
            return Ok(());
        }
    }
    let before = ssd.as_ref().map(|ssd| ssd.stats());
    let (mut first_at, mut receiver) = (None, None);
    for i in run {
        let len = msgs.len(i) as u64;
        let at = match &mut ssd {
            Some(ssd) => ssd.pcie_to_host(now, len),
            None => copied_at,
        };
        first_at.get_or_insert(at);
        let buf = msgs.make(i, st, &mut c.pool);
        let flow = trace::flow_start(st.track(), now);
        receiver = receiver.or(c.push(Msg { at, bytes: buf, flow }, len));
    }
    // INVARIANT(counters-per-app): PCIe to the host goes to the sender's Application
    if let (Some(ssd), Some(before)) = (&ssd, &before) {
        st.account.add_io(before, &ssd.stats());
    }
    st.world.wake_any(receiver, first_at.unwrap_or(now));
    Ok(())
}

unsafe extern "C" fn port_put_batch(
    ctx: *mut InstanceCtx,
    port: u32,
    data: *const u8,
    lens: *const u32,
    count: usize,
    out_done: *mut usize,
) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    let bad_lens = (count != 0 && lens.is_null()) || !lens.is_aligned();
    if out_done.is_null() || bad_lens || count > isize::MAX as usize / 4 {
        return Status::INVALID_ARGUMENT;
    }
    let lens: &[u32] = if count == 0 {
        &[]
    } else {
        // SAFETY: ABI: `lens` points to `count` readable lengths for this call.
        unsafe { std::slice::from_raw_parts(lens, count) }
    };
    let Some(total) = lens
        .iter()
        .try_fold(0usize, |t, &l| t.checked_add(l as usize))
        .filter(|&t| t <= isize::MAX as usize)
    else {
        return Status::INVALID_ARGUMENT;
    };
    if data.is_null() && total != 0 {
        return Status::INVALID_ARGUMENT;
    }
    let data: &[u8] = if total == 0 {
        &[]
    } else {
        // SAFETY: ABI: `data` points to the `total` readable bytes the lengths add up to.
        unsafe { std::slice::from_raw_parts(data, total) }
    };
    let mut done = 0usize;
    let mut msgs = Copies { data, lens, at: 0 };
    let status = put(st, port, count, false, &mut msgs, &mut done);
    // SAFETY: `out_done` is non-null and, by the ABI, a valid out-pointer.
    unsafe { out_done.write(done) };
    status
}

/// A message copied from the sender's `bytes` (kept in place if small, else in a pooled buffer).
#[inline(always)]
fn copied(st: &InstanceState, bytes: &[u8], pool: &mut Vec<Vec<u8>>) -> Payload {
    st.world
        .copied_bytes
        .set(st.world.copied_bytes.get() + bytes.len() as u64);
    Payload::copy_of(bytes, pool)
}

unsafe extern "C" fn port_close(ctx: *mut InstanceCtx, dir: PortDir, port: u32) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    // INVARIANT(stack-reserve): a trap below must never leave the channels borrowed
    if headroom(st) < STACK_RESERVE {
        return Status::STACK_EXHAUSTED;
    }
    let list = match dir {
        PortDir::INPUT => &st.inputs,
        PortDir::OUTPUT => &st.outputs,
        _ => return Status::INVALID_ARGUMENT,
    };
    let ch = match list.get(port as usize) {
        None => return Status::NO_SUCH_PORT,
        Some(None) => return Status::OK,
        Some(Some(ch)) => *ch,
    };
    let Ok(mut chans) = st.world.channels.try_borrow_mut() else {
        return Status::INVALID_ARGUMENT;
    };
    let c = &mut chans[ch];
    let woken = if dir == PortDir::OUTPUT {
        c.close_sender()
    } else {
        c.close_receiver()
    };
    st.world.wake_any(woken, st.clock.get());
    Status::OK
}

fn file_bytes_len(st: &InstanceState, file: FileHandle) -> Result<u64, Status> {
    if !st.files.contains(&file.0) {
        return Err(Status::NO_SUCH_FILE);
    }
    let files = st.world.files.borrow();
    files
        .get(file.0 as usize)
        .map(|f| f.len())
        .ok_or(Status::NO_SUCH_FILE)
}

unsafe extern "C" fn file_len(ctx: *mut InstanceCtx, file: FileHandle, out_len: *mut u64) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    let _service = match enter(st) {
        Ok(g) => g,
        Err(s) => return s,
    };
    if out_len.is_null() {
        return Status::INVALID_ARGUMENT;
    }
    match file_bytes_len(st, file) {
        // SAFETY: non-null out-pointer, valid by the ABI.
        Ok(n) => unsafe { out_len.write(n) },
        Err(s) => return s,
    }
    Status::OK
}

unsafe extern "C" fn file_read(
    ctx: *mut InstanceCtx,
    file: FileHandle,
    offset: u64,
    buf: *mut u8,
    len: usize,
    out_read: *mut usize,
) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    let _service = match enter(st) {
        Ok(g) => g,
        Err(s) => return s,
    };
    if out_read.is_null() || (buf.is_null() && len != 0) {
        return Status::INVALID_ARGUMENT;
    }
    if let Err(s) = file_bytes_len(st, file) {
        return s;
    }
    // SAFETY: ABI: `buf` has room for `len` writable bytes for this call (checked non-null
    // above unless `len` is 0).
    let out = unsafe {
        std::slice::from_raw_parts_mut(
            if len == 0 {
                std::ptr::NonNull::dangling().as_ptr()
            } else {
                buf
            },
            len,
        )
    };
    match fileio::read(st, file.0, offset, out) {
        Ok((n, done)) => {
            st.wait_until(done);
            // The SSDlet works on the bytes once they are there (after the wait, not under it).
            st.charge_work(WorkCounts {
                bytes_read: n as u64,
                ..Default::default()
            });
            // SAFETY: `out_read` is a valid out-pointer by the ABI (checked non-null).
            unsafe { out_read.write(n) };
            Status::OK
        }
        Err(s) => s,
    }
}

unsafe extern "C" fn matcher_limits(ctx: *mut InstanceCtx, out: *mut MatcherLimits) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    // INVARIANT(stack-reserve)
    if headroom(st) < STACK_RESERVE {
        return Status::STACK_EXHAUSTED;
    }
    if out.is_null() {
        return Status::INVALID_ARGUMENT;
    }
    // SAFETY: non-null out-pointer, valid by the ABI.
    unsafe { out.write(st.world.matcher) };
    Status::OK
}

unsafe extern "C" fn matcher_scan(
    ctx: *mut InstanceCtx,
    file: FileHandle,
    keys: *const ByteSlice,
    key_count: usize,
    first_page: u64,
    page_count: u64,
    out_flags: *mut u8,
) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    let _service = match enter(st) {
        Ok(g) => g,
        Err(s) => return s,
    };
    let lim = st.world.matcher;
    if key_count == 0 || key_count > lim.max_keys as usize {
        return Status::OUT_OF_RANGE;
    }
    if keys.is_null() || (out_flags.is_null() && page_count != 0) {
        return Status::INVALID_ARGUMENT;
    }
    let len = match file_bytes_len(st, file) {
        Ok(n) => n,
        Err(s) => return s,
    };
    let pages = len.div_ceil(u64::from(lim.page_size.max(1)));
    if first_page.checked_add(page_count).is_none_or(|end| end > pages) {
        return Status::OUT_OF_RANGE;
    }
    let Ok(count) = usize::try_from(page_count) else {
        return Status::OUT_OF_RANGE;
    };
    // SAFETY: ABI: `keys` points to `key_count` ByteSlices.
    let keys = unsafe { std::slice::from_raw_parts(keys, key_count) };
    let mut ks: Vec<&[u8]> = Vec::with_capacity(key_count);
    for k in keys {
        if k.len == 0 || k.len > lim.max_key_len as usize || k.ptr.is_null() {
            return Status::OUT_OF_RANGE;
        }
        // SAFETY: ABI: each ByteSlice describes `len` readable bytes for this call.
        ks.push(unsafe { std::slice::from_raw_parts(k.ptr, k.len) });
    }
    let mut flags = vec![0u8; count];
    match fileio::scan(st, file.0, &ks, first_page, &mut flags) {
        Ok((done, matching)) => {
            st.wait_until(done);
            st.charge_ps(matching);
            if count != 0 {
                // SAFETY: ABI: `out_flags` has room for `page_count` bytes (non-null, checked).
                unsafe { std::ptr::copy_nonoverlapping(flags.as_ptr(), out_flags, count) };
            }
            Status::OK
        }
        Err(s) => s,
    }
}

// INVARIANT(stack-reserve): allocator calls move to the parent stack when short
/// Runs a System allocator call, on the parent stack if the fiber is low on stack.
fn on_safe_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if let Some(st) = current() {
        let y = st.yielder.get();
        if !y.is_null() && headroom(st) < STACK_RESERVE {
            // SAFETY: `y` is the running fiber's own yielder (instance invariant).
            return unsafe { (*y).on_parent_stack(f) };
        }
    }
    f()
}

/// One DRAM allocation's work.
const ALLOCATION: WorkCounts = WorkCounts {
    calls: 0,
    messages: 0,
    bytes_moved: 0,
    bytes_read: 0,
    allocations: 1,
};

unsafe extern "C" fn alloc(size: usize, align: usize) -> *mut u8 {
    let Ok(layout) = Layout::from_size_align(size, align) else {
        return std::ptr::null_mut();
    };
    if size == 0 {
        return align as *mut u8;
    }
    // SAFETY: non-zero size, valid layout. (Pointers cross as usize to satisfy `Send`.)
    let p = on_safe_stack(move || unsafe { blocks::alloc(layout) } as usize) as *mut u8;
    if !p.is_null() {
        if let Some(st) = current() {
            st.charge(size);
            st.charge_work(ALLOCATION);
            trace::dram(st.clock.get(), size as i64);
        }
    }
    p
}

unsafe extern "C" fn dealloc(ptr: *mut u8, size: usize, align: usize) {
    let Ok(layout) = Layout::from_size_align(size, align) else {
        return;
    };
    if size == 0 || ptr.is_null() {
        return;
    }
    let addr = ptr as usize;
    // SAFETY: ABI: `ptr` came from `alloc`/`realloc` (or the C allocator before module init,
    // which System also frees) with this layout.
    on_safe_stack(move || unsafe { blocks::dealloc(addr as *mut u8, layout) });
    if let Some(st) = current() {
        st.credit(size);
        trace::dram(st.clock.get(), -(size as i64));
    }
}

unsafe extern "C" fn realloc(ptr: *mut u8, size: usize, align: usize, new_size: usize) -> *mut u8 {
    if ptr.is_null() || size == 0 {
        // SAFETY: forwarding to our own alloc with the caller's arguments.
        return unsafe { alloc(new_size, align) };
    }
    let Ok(layout) = Layout::from_size_align(size, align) else {
        return std::ptr::null_mut();
    };
    if new_size == 0 {
        // SAFETY: as in dealloc.
        unsafe { dealloc(ptr, size, align) };
        return align as *mut u8;
    }
    let addr = ptr as usize;
    // SAFETY: ABI: `ptr` is a live block of `layout`; `new_size` is non-zero.
    let p = on_safe_stack(move || unsafe { System.realloc(addr as *mut u8, layout, new_size) } as usize)
        as *mut u8;
    if !p.is_null() {
        if let Some(st) = current() {
            st.credit(size);
            st.charge(new_size);
            st.charge_work(ALLOCATION);
            trace::dram(st.clock.get(), new_size as i64 - size as i64);
        }
    }
    p
}

fn text(msg: *const u8, len: usize) -> String {
    if msg.is_null() || len == 0 {
        return String::new();
    }
    // SAFETY: ABI: `msg` points to `len` readable bytes for this call.
    String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(msg, len) }).into_owned()
}

unsafe extern "C" fn log(ctx: *mut InstanceCtx, level: LogLevel, msg: *const u8, len: usize) {
    let Some(st) = state(ctx) else { return };
    if headroom(st) < STACK_RESERVE {
        return;
    }
    let line = LogLine {
        ssdlet: st.ssdlet.clone(),
        level,
        text: text(msg, len),
        at: st.clock.get(),
    };
    if let Ok(mut logs) = st.account.logs.try_borrow_mut() {
        logs.push(line);
    }
}

unsafe extern "C" fn yield_now(ctx: *mut InstanceCtx) -> Status {
    let Some(st) = state(ctx) else {
        return Status::INVALID_ARGUMENT;
    };
    let _service = match enter(st) {
        Ok(g) => g,
        Err(s) => return s,
    };
    st.suspend(Wait::Ready);
    if st.is_aborted() {
        Status::ABORTED
    } else {
        Status::OK
    }
}

unsafe extern "C" fn set_error(ctx: *mut InstanceCtx, msg: *const u8, len: usize) {
    let Some(st) = state(ctx) else { return };
    // INVARIANT(stack-reserve): with too little stack the message is dropped (the SSDlet's
    // failure is still reported, by its status)
    if headroom(st) < STACK_RESERVE {
        return;
    }
    let t = text(msg, len);
    if let Ok(mut e) = st.error.try_borrow_mut() {
        *e = Some(t);
    }
}

#[cfg(test)]
mod tests {
    use std::mem::offset_of;

    use super::*;

    /// The SDK asks the table's `size` which appended services it has: a table that ends
    /// before a service (an older runtime's) offers it to no module.
    #[test]
    fn a_table_offers_exactly_the_services_its_size_covers() {
        let ends = [
            (offset_of!(RuntimeVtable, port_put_owned), [false, false, false]),
            (offset_of!(RuntimeVtable, port_put_bytes), [true, false, false]),
            (offset_of!(RuntimeVtable, port_get_bytes), [true, false, false]),
            (offset_of!(RuntimeVtable, port_put_batch), [true, true, false]),
            (offset_of!(RuntimeVtable, port_get_batch), [true, true, false]),
            (std::mem::size_of::<RuntimeVtable>(), [true, true, true]),
        ];
        let offers = |t: &RuntimeVtable| [t.has_port_put_owned(), t.has_bytes_ports(), t.has_batch_ports()];
        for (end, services) in ends {
            let table = RuntimeVtable {
                size: end as u32,
                ..VTABLE
            };
            assert_eq!(offers(&table), services, "a table of {end} bytes");
        }
        assert_eq!(offers(&VTABLE_COPYING), [false, false, false]);
    }
}
