//! Runs: the messages one batch put queued as one channel entry (`port_put_batch`), so a batch
//! costs the simulator one queue entry and one copy in and one out (a batch get's), not one per
//! message; a single get copies its message out of the run once more.
//!
//! A run is still its messages to everything the simulation sees (INVARIANT
//! `batch-is-one-call`): the channel counts them one by one against its capacity, a single get
//! takes the first of them alone ([`crate::world::Channel::pop`]), and a batch get copies as
//! many as it has room for. Runs are only ever queued between SSDlets: a host receiver's
//! channel gets the messages one by one ([`crate::world::Channel::push_run`]).

/// Messages encoded back to back in `data`, the `i`-th `lens[i]` bytes long; the first not yet
/// taken is `lens[next]`, at byte `offset`. Never empty while queued.
#[derive(Debug)]
pub(crate) struct Run {
    data: Vec<u8>,
    lens: Vec<u32>,
    next: usize,
    offset: usize,
}

impl Run {
    /// The messages of `lens` in `data` (`data` is cleared first: a pooled buffer).
    pub(crate) fn new(mut data: Vec<u8>, bytes: &[u8], lens: &[u32]) -> Run {
        data.clear();
        data.extend_from_slice(bytes);
        Run {
            data,
            lens: lens.to_vec(),
            next: 0,
            offset: 0,
        }
    }

    /// Messages not yet taken.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.lens.len() - self.next
    }

    /// The first message not yet taken (empty if none is left).
    #[inline]
    pub(crate) fn first(&self) -> &[u8] {
        let len = self.lens.get(self.next).map_or(0, |&l| l as usize);
        self.data.get(self.offset..self.offset + len).unwrap_or_default()
    }

    /// Takes the first message not yet taken: its bytes.
    #[inline]
    pub(crate) fn take_first(&mut self) -> &[u8] {
        let (start, len) = (self.offset, self.first().len());
        self.next += 1;
        self.offset += len;
        self.data.get(start..start + len).unwrap_or_default()
    }

    /// Takes as many of the messages not yet taken as fit, in order, into `buf` (their
    /// encodings back to back) and `lens` (their lengths): returns how many messages and bytes.
    #[inline]
    pub(crate) fn take_into(&mut self, buf: &mut [u8], lens: &mut [u32]) -> (usize, usize) {
        let left = self.lens.get(self.next..).unwrap_or_default();
        let (mut n, mut bytes) = (0, 0);
        for &len in left.iter().take(lens.len()) {
            if bytes + len as usize > buf.len() {
                break;
            }
            bytes += len as usize;
            n += 1;
        }
        let (from, to) = (self.offset, self.offset + bytes);
        if let (Some(dst), Some(src), Some(dst_lens)) =
            (buf.get_mut(..bytes), self.data.get(from..to), lens.get_mut(..n))
        {
            dst.copy_from_slice(src);
            dst_lens.copy_from_slice(&left[..n]);
            self.next += n;
            self.offset = to;
            (n, bytes)
        } else {
            (0, 0)
        }
    }

    /// The buffer, for reuse.
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::Run;

    #[test]
    fn a_run_hands_out_its_messages_in_order_as_they_fit() {
        let mut run = Run::new(vec![9; 3], b"abcdefghij", &[1, 0, 3, 6]);
        assert_eq!(run.len(), 4);
        assert_eq!(run.first(), b"a");
        assert_eq!(run.take_first(), b"a");
        let (mut buf, mut lens) = ([0u8; 4], [0u32; 8]);
        // Room for "" and "bcd", not for "efghij".
        assert_eq!(run.take_into(&mut buf, &mut lens), (2, 3));
        assert_eq!((&buf[..3], &lens[..2]), (&b"bcd"[..], &[0, 3][..]));
        assert_eq!(run.len(), 1);
        assert_eq!(run.take_into(&mut buf, &mut lens), (0, 0));
        // At most as many as there are lengths to fill.
        let mut big = [0u8; 16];
        assert_eq!(run.take_into(&mut big, &mut lens[..0]), (0, 0));
        assert_eq!(run.take_into(&mut big, &mut lens[..1]), (1, 6));
        assert_eq!(&big[..6], b"efghij");
        assert_eq!(run.len(), 0);
        assert_eq!(run.first(), b"");
    }
}
