//! Host operations as the ISC commands ([`crate::isc`]) perform them: at an instant the
//! caller gives (when the command reached the device), with encoded messages, and with file
//! data moved inside the device (the controller has already charged the command's PCIe
//! transfers, so nothing here charges PCIe again).

use sim_nvme::trace::{self, Track};
use sim_nvme::{Lba, SimTime, LBA_BYTES};

use super::{AppId, AppState, FileId, ReceiverId, Runtime, RuntimeError, SenderId, Site};
use crate::namespace::FileEntry;
use crate::world::{FileBacking, HostEnd, Msg};

/// What [`Runtime::recv_encoded`] took from a host receiver.
#[derive(Debug, Default)]
pub struct Received {
    /// The encoded messages, oldest first.
    pub messages: Vec<Vec<u8>>,
    /// When the last of them reached host memory (`None` if none was taken).
    pub last_at: Option<SimTime>,
    /// The SSDlet has closed the port and every message has been taken: end of stream.
    pub end: bool,
}

impl Runtime {
    /// Sets the host's clock to `at`: the instant the next host operation happens.
    pub fn set_now(&mut self, at: SimTime) {
        self.host_now = at;
    }

    /// Queues encoded messages on a host sender, available to the SSDlet at `at` (their PCIe
    /// transfer is already paid; the bytes are attributed to the port's Application).
    /// Messages to an SSDlet that has finished are dropped.
    pub fn send_encoded(
        &mut self,
        port: SenderId,
        messages: Vec<Vec<u8>>,
        at: SimTime,
    ) -> Result<(), RuntimeError> {
        self.host_channel(port.0, HostEnd::Sender)?;
        let mut chans = self.world.channels.borrow_mut();
        let c = &mut chans[port.0];
        if c.sender_closed {
            return Err(RuntimeError::HostSenderClosed(port.0));
        }
        if c.receiver_closed {
            return Ok(());
        }
        let total: u64 = messages.iter().map(|m| m.len() as u64).sum();
        // A conventional run's messages from its host stay in host memory.
        if let Some(a) = c.apps[0].filter(|&a| self.apps[a].config.site == Site::Device) {
            self.apps[a].account.add_pcie_to_device(total);
        }
        if trace::enabled() {
            trace::slice(Track::HostPorts, &format!("send {}", c.name), at, at);
        }
        for bytes in messages {
            let len = bytes.len() as u64;
            let flow = trace::flow_start(Track::HostPorts, at);
            let receiver = c.push(
                Msg {
                    at,
                    bytes: crate::adopted::Payload::Copied(bytes),
                    flow,
                },
                len,
            );
            self.world.wake_any(receiver, at);
        }
        Ok(())
    }

    /// Takes up to `max` encoded messages from a host receiver; once they are all taken, a
    /// stream whose Application failed gives [`RuntimeError::AppFailed`] instead of its end.
    pub fn recv_encoded(&mut self, port: ReceiverId, max: usize) -> Result<Received, RuntimeError> {
        self.host_channel(port.0, HostEnd::Receiver)?;
        let mut chans = self.world.channels.borrow_mut();
        let c = &mut chans[port.0];
        let mut out = Received::default();
        let mut flows = Vec::new();
        // INVARIANT(port-fifo): the host takes the oldest messages first
        let taken = c.pop_for_host(max);
        let n = taken.len();
        for m in taken {
            out.last_at = Some(out.last_at.map_or(m.at, |t| t.max(m.at)));
            out.messages.push(m.bytes.into_vec());
            if m.flow.is_some() {
                flows.push(m.flow);
            }
        }
        if trace::enabled() && n > 0 {
            // The host has them once the last is in its memory (and not before it asked).
            let at = self.host_now.max(out.last_at.unwrap_or_default());
            trace::slice(Track::HostPorts, &format!("recv {}", c.name), at, at);
            for f in flows {
                trace::flow_end(f, Track::HostPorts, at);
            }
            trace::queue_depth(&c.name, at, c.queued);
        }
        out.end = c.sender_closed && c.queue.is_empty();
        // A stream cut short by its Application's failure ends with that failure, not a clean
        // end: after the messages it did send (this batch's first, then the error).
        if out.end {
            let failed = c
                .apps
                .iter()
                .flatten()
                .find_map(|&a| self.apps[a].failure.as_ref().map(|e| (a, e)));
            if let Some((a, e)) = failed {
                if !out.messages.is_empty() {
                    out.end = false;
                } else {
                    return Err(RuntimeError::AppFailed {
                        app: self.apps[a].name.clone(),
                        source: e.clone(),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Whether a host receiver has a message or has ended (a receive would not come back
    /// empty-handed).
    pub fn recv_ready(&self, port: ReceiverId) -> Result<bool, RuntimeError> {
        self.host_channel(port.0, HostEnd::Receiver)?;
        let c = &self.world.channels.borrow()[port.0];
        Ok(!c.queue.is_empty() || c.sender_closed)
    }

    /// Whether `app` has started and not finished (a wait would not answer yet).
    pub fn is_running(&self, app: AppId) -> Result<bool, RuntimeError> {
        Ok(self.app(app)?.state == AppState::Running)
    }

    /// Creates file `name` of `size` bytes (its blocks read as zeros until written) and
    /// commits the namespace at the host's clock. Returns its capability.
    pub fn create_sized_file(
        &mut self,
        name: &str,
        size: u64,
        owner: Option<ndp_protocol::Tenant>,
    ) -> Result<FileId, RuntimeError> {
        let entry = self.namespace.create_for(name, size, owner)?.clone();
        let t = self.namespace.commit(&mut self.world.ssd(), self.host_now)?;
        self.host_now = t;
        Ok(self.push_file(FileBacking::Device(entry)))
    }

    /// Writes `data` at byte `offset` of file `name` with internal writes (partial blocks at
    /// the edges are read, merged and rewritten), from the host's clock.
    pub fn write_file(&mut self, name: &str, offset: u64, data: &[u8]) -> Result<(), RuntimeError> {
        let entry = self.namespace.get(name)?.clone();
        entry
            .runs(offset, data.len() as u64)
            .map_err(crate::namespace::NamespaceError::from)?;
        let at = self.host_now;
        let mut done = at;
        let mut ssd = self.world.ssd();
        let err = |source| RuntimeError::FileWrite {
            name: name.to_owned(),
            source,
        };
        let mut block = vec![0u8; LBA_BYTES as usize];
        let mut pos = 0usize;
        while pos < data.len() {
            let off = offset + pos as u64;
            let (bi, within) = (off / LBA_BYTES, (off % LBA_BYTES) as usize);
            let n = (LBA_BYTES as usize - within).min(data.len() - pos);
            let lba = block_lba(&entry, bi)?;
            if n < LBA_BYTES as usize {
                let t = ssd.internal_read(at, lba, &mut block).map_err(err)?;
                done = done.max(t);
            }
            block[within..within + n].copy_from_slice(&data[pos..pos + n]);
            done = done.max(ssd.internal_write(done, lba, &block).map_err(err)?);
            pos += n;
        }
        self.host_now = done;
        Ok(())
    }

    /// Reads `len` bytes at byte `offset` of file `name` with internal reads (into device
    /// DRAM), from the host's clock.
    pub fn read_file(&mut self, name: &str, offset: u64, len: u64) -> Result<Vec<u8>, RuntimeError> {
        // A reply's bytes are held in the host's transport (e.g. a daemon's queue): bounded.
        if len > super::MAX_HOST_READ {
            return Err(RuntimeError::ReadTooLarge {
                name: name.to_owned(),
                len,
                max: super::MAX_HOST_READ,
            });
        }
        let entry = self.namespace.get(name)?.clone();
        entry
            .runs(offset, len)
            .map_err(crate::namespace::NamespaceError::from)?;
        let at = self.host_now;
        let mut done = at;
        let mut ssd = self.world.ssd();
        let mut out = Vec::with_capacity(len as usize);
        let mut block = vec![0u8; LBA_BYTES as usize];
        let mut off = offset;
        while off < offset + len {
            let (bi, within) = (off / LBA_BYTES, (off % LBA_BYTES) as usize);
            let n = (LBA_BYTES - within as u64).min(offset + len - off) as usize;
            let t = ssd
                .internal_read(at, block_lba(&entry, bi)?, &mut block)
                .map_err(|source| RuntimeError::FileRead {
                    name: name.to_owned(),
                    source,
                })?;
            done = done.max(t);
            out.extend_from_slice(&block[within..within + n]);
            off += n as u64;
        }
        self.host_now = done;
        Ok(out)
    }

    /// Lets other tenants read file `name` (`shared`), or stops them, committing the table.
    pub fn share_file(&mut self, name: &str, shared: bool) -> Result<(), RuntimeError> {
        self.namespace.share(name, shared)?;
        self.host_now = self.namespace.commit(&mut self.world.ssd(), self.host_now)?;
        Ok(())
    }

    /// Renames file `from` to `to` (which must be free) and commits the namespace: one table
    /// write, so the file appears under its new name whole or not at all.
    pub fn rename_file(&mut self, from: &str, to: &str) -> Result<(), RuntimeError> {
        self.namespace.rename(from, to)?;
        self.host_now = self.namespace.commit(&mut self.world.ssd(), self.host_now)?;
        Ok(())
    }

    /// Removes file `name`: deallocates its blocks and commits the namespace. Capabilities
    /// handed out earlier keep their extents (SSDlets holding them read whatever is there).
    pub fn remove_file(&mut self, name: &str) -> Result<(), RuntimeError> {
        let mut ssd = self.world.ssd();
        let (_, t) = self.namespace.remove(&mut ssd, self.host_now, name)?;
        self.host_now = self.namespace.commit(&mut ssd, t)?;
        Ok(())
    }
}

fn block_lba(entry: &FileEntry, index: u64) -> Result<Lba, RuntimeError> {
    entry.block(index).ok_or_else(|| {
        RuntimeError::Namespace(crate::namespace::NamespaceError::OutOfBounds {
            name: entry.name.clone(),
            offset: index * LBA_BYTES,
            len: LBA_BYTES,
            size: entry.size,
        })
    })
}
