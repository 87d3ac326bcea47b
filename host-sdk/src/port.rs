//! Host ends of ports: [`HostReceiver`] (device to host, Biscuit's `connectTo` port with
//! `get`) and [`HostSender`] (host to device, `put` and `close`). Messages are postcard,
//! the encoding SSDlets use.

use std::collections::VecDeque;
use std::marker::PhantomData;

use ndp_protocol::{IscRequest, IscResponse, ReceiverId, SenderId};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::device::{unexpected, Device};
use crate::error::{Error, Result};

/// Most messages one `Recv` command takes.
pub const RECV_BATCH: u32 = 4096;

/// Messages from an SSDlet output to the host.
pub struct HostReceiver<T> {
    device: Device,
    port: ReceiverId,
    label: String,
    buf: VecDeque<T>,
    batch: u32,
    taken: u64,
    ended: bool,
    error: Option<Error>,
    /// Turns one message's bytes into a `T` (postcard; or the bytes themselves).
    decode: fn(&[u8]) -> std::result::Result<T, String>,
    /// The type's name, for errors.
    ty: &'static str,
    _t: PhantomData<fn() -> T>,
}

fn postcard_decode<T: DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, String> {
    postcard::from_bytes(bytes).map_err(|e| e.to_string())
}

impl<T: DeserializeOwned> HostReceiver<T> {
    pub(crate) fn new(device: &Device, port: ReceiverId, label: String) -> Self {
        HostReceiver::with_decoder(
            device,
            port,
            label,
            postcard_decode::<T>,
            std::any::type_name::<T>(),
        )
    }
}

impl HostReceiver<Vec<u8>> {
    /// A receiver that hands over each message's encoded bytes as they are (tools that
    /// decode by the port's signature, such as `ndp run`).
    pub(crate) fn encoded(device: &Device, port: ReceiverId, label: String) -> Self {
        HostReceiver::with_decoder(device, port, label, |b| Ok(b.to_vec()), "encoded bytes")
    }
}

impl<T> HostReceiver<T> {
    fn with_decoder(
        device: &Device,
        port: ReceiverId,
        label: String,
        decode: fn(&[u8]) -> std::result::Result<T, String>,
        ty: &'static str,
    ) -> Self {
        HostReceiver {
            device: device.clone(),
            port,
            label: format!("{label} -> host"),
            buf: VecDeque::new(),
            batch: RECV_BATCH,
            taken: 0,
            ended: false,
            error: None,
            decode,
            ty,
            _t: PhantomData,
        }
    }

    /// The next message, waiting for it; `None` at the end of the stream (Biscuit's
    /// `while (port.get(value))`). `None` also ends the loop on an error, which
    /// [`HostReceiver::take_error`] then returns.
    pub fn get(&mut self) -> Option<T> {
        match self.try_get() {
            Ok(v) => v,
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    /// The device's id of this receiver (what a `Recv` command names).
    pub fn port(&self) -> ReceiverId {
        self.port
    }

    /// Most messages one `Recv` command takes (default [`RECV_BATCH`]; 0 counts as 1). A
    /// `Recv` completes no earlier than the last message it takes, so a host that acts on
    /// each message as it arrives (a prefetcher reading the pages a hint names) sets 1: its
    /// clock then moves to each message's own arrival instant.
    pub fn set_batch(&mut self, max: u32) {
        self.batch = max.max(1);
    }

    /// The error that ended a [`HostReceiver::get`] loop early, if any.
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }

    /// The next message, waiting for it; `Ok(None)` at the end of the stream.
    pub fn try_get(&mut self) -> Result<Option<T>> {
        loop {
            if let Some(v) = self.buf.pop_front() {
                return Ok(Some(v));
            }
            if self.ended {
                return Ok(None);
            }
            if let Some(e) = self.error.take() {
                return Err(e);
            }
            self.fetch()?;
        }
    }

    /// Every remaining message, until the end of the stream.
    pub fn collect_all(&mut self) -> Result<Vec<T>> {
        let mut out = Vec::new();
        while let Some(v) = self.try_get()? {
            out.push(v);
        }
        Ok(out)
    }

    fn fetch(&mut self) -> Result<()> {
        let req = IscRequest::Recv {
            port: self.port,
            max: self.batch,
            block: true,
        };
        match self.device.call(&req)? {
            IscResponse::Messages { messages, end } => {
                for m in messages {
                    let v = (self.decode)(&m).map_err(|reason| Error::Decode {
                        port: self.label.clone(),
                        ty: self.ty,
                        index: self.taken,
                        reason,
                    })?;
                    self.taken += 1;
                    self.buf.push_back(v);
                }
                self.ended = end;
                Ok(())
            }
            r => Err(unexpected(&req, &r)),
        }
    }
}

impl<T> Iterator for HostReceiver<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.get()
    }
}

/// Messages from the host to an SSDlet input.
pub struct HostSender<T> {
    device: Device,
    port: SenderId,
    label: String,
    _t: PhantomData<fn(T)>,
}

impl<T: Serialize> HostSender<T> {
    /// Sends one message (one command).
    pub fn put(&self, value: &T) -> Result<()> {
        self.put_all(std::slice::from_ref(value))
    }

    /// Sends several messages in one command, in order.
    pub fn put_all(&self, values: &[T]) -> Result<()> {
        let messages = values
            .iter()
            .map(|v| {
                postcard::to_stdvec(v).map_err(|e| Error::Encode {
                    port: self.label.clone(),
                    ty: std::any::type_name::<T>(),
                    reason: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.device.call_done(&IscRequest::Send {
            port: self.port,
            messages,
        })
    }
}

impl<T> HostSender<T> {
    pub(crate) fn new(device: &Device, port: SenderId, label: String) -> Self {
        HostSender {
            device: device.clone(),
            port,
            label: format!("host -> {label}"),
            _t: PhantomData,
        }
    }

    /// Closes the port: the SSDlet sees the end of its input stream.
    pub fn close(self) -> Result<()> {
        self.device
            .call_done(&IscRequest::CloseSender { port: self.port })
    }
}

/// The message type of a [`HostSender`] that sends bytes already encoded as the port's type
/// ([`Application::connect_from_encoded`](crate::Application::connect_from_encoded)).
#[derive(Debug)]
pub enum Encoded {}

impl HostSender<Encoded> {
    /// Sends messages already encoded (postcard) as the port's type, in one command, in order.
    /// The device does not decode them: a message that is not one value of the port's type
    /// fails the SSDlet that reads it, not the device.
    pub fn put_encoded(&self, messages: Vec<Vec<u8>>) -> Result<()> {
        self.device.call_done(&IscRequest::Send {
            port: self.port,
            messages,
        })
    }
}
