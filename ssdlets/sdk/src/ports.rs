//! Typed ports: [`Input`] and [`Output`], and the tuples of them an SSDlet declares.
//!
//! Ports block the SSDlet, not the core: `get` on an empty input and `put` on a full output
//! suspend the SSDlet's fiber until the runtime can serve them.

use std::fmt;
use std::marker::PhantomData;

use ssdlet_abi::sig::TypeSig;
use ssdlet_abi::{PortDir, Status};

use crate::message::Message;
use crate::rt::Rt;
use crate::sig_string;

/// Why [`Input::try_get`] failed.
#[derive(Debug)]
pub struct RecvError {
    port: &'static str,
    expected: TypeSig,
    detail: String,
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed message on input port `{}` (expected `{}`): {}",
            self.port,
            sig_string(&self.expected),
            self.detail
        )
    }
}

impl std::error::Error for RecvError {}

/// `put` to a port whose receiver is gone; gives the value back (like tokio's `SendError`).
pub struct Closed<T>(pub T);

impl<T> Closed<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Closed(..)")
    }
}

impl<T> fmt::Display for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("output port is closed: its receiver is gone")
    }
}

impl<T> std::error::Error for Closed<T> {}

/// A typed input port.
pub struct Input<T> {
    rt: Rt,
    index: u32,
    name: &'static str,
    closed: bool,
    _t: PhantomData<fn() -> T>,
}

impl<T: Message> Input<T> {
    /// The port's name, as registered.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The next message, or `None` once the input is closed and drained. Waits while the
    /// input is empty. A message that does not decode as `T` fails the SSDlet.
    pub fn get(&mut self) -> Option<T> {
        match self.try_get() {
            Ok(v) => v,
            Err(e) => self.rt.fail(&e.to_string()),
        }
    }

    /// Like [`Input::get`] but returns a malformed message as an error.
    pub fn try_get(&mut self) -> Result<Option<T>, RecvError> {
        if self.closed {
            return Ok(None);
        }
        let err = |detail: String| RecvError {
            port: self.name,
            expected: T::SIG,
            detail,
        };
        match self.rt.port_get(self.index) {
            Ok(None) => Ok(None),
            Ok(Some(bytes)) => match postcard::take_from_bytes::<T>(bytes) {
                Ok((v, [])) => Ok(Some(v)),
                Ok((_, rest)) => Err(err(format!("{} trailing bytes", rest.len()))),
                Err(e) => Err(err(e.to_string())),
            },
            Err(status) => Err(err(format!("the runtime refused the get: {}", status.name()))),
        }
    }

    /// Iterates over the remaining messages until the input is closed and drained.
    pub fn iter(&mut self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.get())
    }

    /// Closes the input: the sender's further `put`s fail with [`Closed`].
    pub fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            self.rt.port_close(PortDir::INPUT, self.index);
        }
    }
}

impl<T> Drop for Input<T> {
    fn drop(&mut self) {
        if !self.closed {
            self.rt.port_close(PortDir::INPUT, self.index);
        }
    }
}

/// Encoded messages of at least this many bytes are handed to the runtime without a copy
/// (`port_put_owned`); smaller ones are copied from a reused buffer.
pub const OWNED_THRESHOLD: usize = 4096;

/// A typed output port.
pub struct Output<T> {
    rt: Rt,
    index: u32,
    name: &'static str,
    closed: bool,
    scratch: Vec<u8>,
    _t: PhantomData<fn(T)>,
}

impl<T: Message> Output<T> {
    /// The port's name, as registered.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Sends `v`, waiting while the port is full. If the receiver is gone, returns `v` back.
    pub fn put(&mut self, v: T) -> Result<(), Closed<T>> {
        if self.closed {
            return Err(Closed(v));
        }
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        let buf = match postcard::to_extend(&v, buf) {
            Ok(b) => b,
            Err(e) => self.rt.fail(&format!(
                "cannot encode a `{}` for output port `{}`: {e}",
                sig_string(&T::SIG),
                self.name
            )),
        };
        let status = if buf.len() >= OWNED_THRESHOLD {
            // Large: hand the encoded buffer over instead of having the runtime copy it; the
            // next message is encoded into a fresh buffer of the same size (no regrowth).
            let len = buf.len();
            match self.rt.port_put_owned(self.index, buf) {
                Ok(status) => {
                    self.scratch = Vec::with_capacity(len);
                    status
                }
                Err(buf) => {
                    let status = self.rt.port_put(self.index, &buf);
                    self.scratch = buf;
                    status
                }
            }
        } else {
            let status = self.rt.port_put(self.index, &buf);
            self.scratch = buf;
            status
        };
        match status {
            Status::OK => Ok(()),
            Status::CLOSED => Err(Closed(v)),
            other => self.rt.fail(&format!(
                "the runtime refused a put on output port `{}`: {}",
                self.name,
                other.name()
            )),
        }
    }

    /// Closes the output: the receiver's `get` returns `None` after it drains the port.
    /// Dropping the port closes it too.
    pub fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            self.rt.port_close(PortDir::OUTPUT, self.index);
        }
    }
}

impl<T> Drop for Output<T> {
    fn drop(&mut self) {
        if !self.closed {
            self.rt.port_close(PortDir::OUTPUT, self.index);
        }
    }
}

/// A tuple of [`Input`]s: an SSDlet's input ports in index order.
pub trait InputList: Sized {
    /// Message types, in index order.
    const SIGS: &'static [TypeSig];
    #[doc(hidden)]
    fn bind(rt: Rt, names: &'static [&'static str]) -> Self;
}

/// A tuple of [`Output`]s: an SSDlet's output ports in index order.
pub trait OutputList: Sized {
    /// Message types, in index order.
    const SIGS: &'static [TypeSig];
    #[doc(hidden)]
    fn bind(rt: Rt, names: &'static [&'static str]) -> Self;
}

fn name_at(names: &'static [&'static str], i: usize) -> &'static str {
    names.get(i).copied().unwrap_or("?")
}

impl InputList for () {
    const SIGS: &'static [TypeSig] = &[];
    fn bind(_: Rt, _: &'static [&'static str]) -> Self {}
}

impl OutputList for () {
    const SIGS: &'static [TypeSig] = &[];
    fn bind(_: Rt, _: &'static [&'static str]) -> Self {}
}

macro_rules! port_tuples {
    ($($t:ident : $i:tt),+) => {
        impl<$($t: Message),+> InputList for ($(Input<$t>,)+) {
            const SIGS: &'static [TypeSig] = &[$($t::SIG),+];
            fn bind(rt: Rt, names: &'static [&'static str]) -> Self {
                ($(Input { rt, index: $i, name: name_at(names, $i), closed: false, _t: PhantomData::<fn() -> $t> },)+)
            }
        }
        impl<$($t: Message),+> OutputList for ($(Output<$t>,)+) {
            const SIGS: &'static [TypeSig] = &[$($t::SIG),+];
            fn bind(rt: Rt, names: &'static [&'static str]) -> Self {
                ($(Output {
                    rt, index: $i, name: name_at(names, $i), closed: false, scratch: Vec::new(),
                    _t: PhantomData::<fn($t)>,
                },)+)
            }
        }
    };
}

port_tuples!(A: 0);
port_tuples!(A: 0, B: 1);
port_tuples!(A: 0, B: 1, C: 2);
port_tuples!(A: 0, B: 1, C: 2, D: 3);

// Byte blocks handed over as they are. Written at the end of this file and `#[inline]`, so the
// code of modules that do not use them stays byte for byte as it was (see `bytes.rs`).

impl Output<crate::Bytes> {
    /// Sends `bytes` as one [`crate::Bytes`] message, handing the vector over as it is:
    /// neither encoded nor copied, where the runtime offers it (else as [`Output::put`] does).
    /// A receiver reading with [`Input::get_bytes`] gets this very vector. If the receiver is
    /// gone, returns `bytes` back.
    #[inline]
    pub fn put_bytes(&mut self, bytes: Vec<u8>) -> Result<(), Closed<Vec<u8>>> {
        if self.closed {
            return Err(Closed(bytes));
        }
        if !self.rt.has_bytes_ports() {
            return self.put(crate::Bytes(bytes)).map_err(|Closed(b)| Closed(b.0));
        }
        match self.rt.port_put_bytes(self.index, bytes) {
            Ok(()) => Ok(()),
            Err((Status::CLOSED, back)) => Err(Closed(back)),
            Err((other, _)) => self.rt.fail(&format!(
                "the runtime refused a put on output port `{}`: {}",
                self.name,
                other.name()
            )),
        }
    }
}

impl Input<crate::Bytes> {
    /// The next message's bytes as a vector of this SSDlet's, or `None` once the input is
    /// closed and drained: a vector sent with [`Output::put_bytes`] is handed over as it is,
    /// an encoded one is decoded into a new vector (where the runtime offers it; else as
    /// [`Input::get`] does). A message that is not a byte string fails the SSDlet.
    #[inline]
    pub fn get_bytes(&mut self) -> Option<Vec<u8>> {
        match self.try_get_bytes() {
            Ok(v) => v,
            Err(e) => self.rt.fail(&e.to_string()),
        }
    }

    /// Like [`Input::get_bytes`] but returns a malformed message as an error.
    #[inline]
    pub fn try_get_bytes(&mut self) -> Result<Option<Vec<u8>>, RecvError> {
        if self.closed {
            return Ok(None);
        }
        if !self.rt.has_bytes_ports() {
            return self.try_get().map(|b| b.map(|b| b.0));
        }
        self.rt.port_get_bytes(self.index).map_err(|status| RecvError {
            port: self.name,
            expected: <crate::Bytes as Message>::SIG,
            detail: format!("the runtime refused the get: {}", status.name()),
        })
    }
}

// Batches of small messages: several per runtime call. At the end of this file and `#[inline]`
// for the same reason as the byte blocks above.

/// Most encoded bytes of one batch a port hands the runtime or takes from it at once (on the
/// SSDlet's stack).
pub const BATCH_BYTES: usize = 2048;

/// Most messages of one batch a port hands the runtime or takes from it at once.
pub const BATCH_MESSAGES: usize = 128;

impl<T: Message> Output<T> {
    /// Sends every message of `vs` in order, handing the runtime up to [`BATCH_MESSAGES`] small
    /// ones per call: to the simulation one call (and one more per wait on a full port) moving
    /// that many messages, each still counted and charged as a message with its bytes, and
    /// available to an SSDlet together (to the host, each as its PCIe transfer ends). Larger
    /// encodings than [`BATCH_BYTES`] go one by one through [`Output::put`]. Unlike a loop of
    /// puts, `vs` is drawn ahead: up to [`BATCH_MESSAGES`] messages are built and encoded (on
    /// the stack) before the runtime sees the first. If the receiver is gone, returns how many
    /// were sent; messages drawn from `vs` but not sent are dropped.
    #[inline]
    pub fn put_all(&mut self, vs: impl IntoIterator<Item = T>) -> Result<(), Closed<usize>> {
        let mut sent = 0usize;
        if self.closed {
            return Err(Closed(sent));
        }
        let vs = vs.into_iter();
        if !self.rt.has_batch_ports() {
            for v in vs {
                self.put(v).map_err(|_| Closed(sent))?;
                sent += 1;
            }
            return Ok(());
        }
        let mut data = [0u8; BATCH_BYTES];
        let mut lens = [0u32; BATCH_MESSAGES];
        let mut ser = postcard::Serializer {
            output: BatchWriter {
                buf: &mut data,
                used: 0,
            },
        };
        let mut n = 0usize;
        for v in vs {
            let start = ser.output.used;
            if serde::Serialize::serialize(&v, &mut ser).is_ok() {
                lens[n] = (ser.output.used - start) as u32;
                n += 1;
                if n < BATCH_MESSAGES {
                    continue;
                }
                sent += self.put_batch(&ser.output.buf[..ser.output.used], &lens[..n], sent)?;
                (ser.output.used, n) = (0, 0);
                continue;
            }
            // It did not fit after the others: send them, then it in an empty batch, or alone.
            if n > 0 {
                sent += self.put_batch(&ser.output.buf[..start], &lens[..n], sent)?;
                n = 0;
            }
            ser.output.used = 0;
            if serde::Serialize::serialize(&v, &mut ser).is_ok() {
                lens[0] = ser.output.used as u32;
                n = 1;
            } else {
                ser.output.used = 0;
                self.put(v).map_err(|_| Closed(sent))?;
                sent += 1;
            }
        }
        if n > 0 {
            self.put_batch(&ser.output.buf[..ser.output.used], &lens[..n], sent)?;
        }
        Ok(())
    }

    /// Hands one batch to the runtime: how many it sent, or, if the receiver is gone, how
    /// many in all (`before` and this batch's).
    #[inline]
    fn put_batch(&mut self, data: &[u8], lens: &[u32], before: usize) -> Result<usize, Closed<usize>> {
        match self.rt.port_put_batch(self.index, data, lens) {
            (Status::OK, done) => Ok(done),
            (Status::CLOSED, done) => Err(Closed(before + done)),
            (other, _) => self.rt.fail(&format!(
                "the runtime refused a put on output port `{}`: {}",
                self.name,
                other.name()
            )),
        }
    }
}

/// A postcard flavor writing a batch's encodings back to back into a buffer on the stack.
struct BatchWriter<'a> {
    buf: &'a mut [u8; BATCH_BYTES],
    used: usize,
}

impl postcard::ser_flavors::Flavor for BatchWriter<'_> {
    type Output = ();

    #[inline]
    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        let slot = self
            .buf
            .get_mut(self.used)
            .ok_or(postcard::Error::SerializeBufferFull)?;
        *slot = byte;
        self.used += 1;
        Ok(())
    }

    #[inline]
    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        let end = self.used + bytes.len();
        let dst = self
            .buf
            .get_mut(self.used..end)
            .ok_or(postcard::Error::SerializeBufferFull)?;
        dst.copy_from_slice(bytes);
        self.used = end;
        Ok(())
    }

    #[inline]
    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

impl<T: Message> Input<T> {
    /// Appends up to `max` (at least 1, at most [`BATCH_MESSAGES`]) messages to `out`, in
    /// order, in one runtime call where they are small, each counted and charged as a message:
    /// waits while the input is empty, then takes the first message and those already there by
    /// the time it is (a batch put's arrive together; a large one is taken alone, by a get).
    /// They are decoded after the runtime call. Returns how many it appended: 0 once the input
    /// is closed and drained. A message that does not decode as `T` fails the SSDlet.
    /// Messages put one by one arrive one by one: it takes as many as are there by then.
    #[inline]
    pub fn get_batch(&mut self, out: &mut Vec<T>, max: usize) -> usize {
        if self.closed {
            return 0;
        }
        let mut data = [0u8; BATCH_BYTES];
        let mut lens = [0u32; BATCH_MESSAGES];
        let max = max.clamp(1, BATCH_MESSAGES);
        let fail = |detail: String| -> ! {
            let e = RecvError {
                port: self.name,
                expected: T::SIG,
                detail,
            };
            self.rt.fail(&e.to_string())
        };
        let got = if self.rt.has_batch_ports() {
            match self.rt.port_get_batch(self.index, &mut data, &mut lens[..max]) {
                (Status::OK, got) => got,
                (Status::CLOSED, _) => return 0,
                (other, _) => fail(format!("the runtime refused the get: {}", other.name())),
            }
        } else {
            0
        };
        if got == 0 {
            // The next message is one the runtime does not batch (a large one): alone.
            return self.get().map_or(0, |v| {
                out.push(v);
                1
            });
        }
        let mut at = 0usize;
        for &len in &lens[..got] {
            let msg = data.get(at..at + len as usize).unwrap_or_default();
            at += len as usize;
            match postcard::take_from_bytes::<T>(msg) {
                Ok((v, [])) => out.push(v),
                Ok((_, rest)) => fail(format!("{} trailing bytes", rest.len())),
                Err(e) => fail(e.to_string()),
            }
        }
        got
    }
}
