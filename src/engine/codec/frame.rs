//! Frames: the incremental [`Decoder`] and the batching [`Encoder`], for ZMTP 3.x, 2.0 and
//! 1.0 framing.
//!
//! - ZMTP 3.x: flags byte (bit 0 MORE, bit 1 LONG, bit 2 COMMAND, others reserved), then the
//!   body size in 1 byte, or in 8 bytes big-endian when LONG, then the body.
//! - ZMTP 2.0: the same without COMMAND (bit 2 reserved too).
//! - ZMTP 1.0: a length counting the flags byte and the body, in 1 byte, or `FF` then 8 bytes
//!   big-endian; then the flags byte (bit 0 MORE; the other bits are ignored, as old
//!   implementations set some); then the body.
//!
//! Decoding, without copies for large bodies:
//!
//! ```text
//! loop {
//!     while let Some(msg) = dec.decode()? { deliver(msg) }   // until None: input used up
//!     let n = read(fd, dec.read_buf())?;                     // the shared buffer, or the
//!     if n == 0 { break }                                    // body of a large message
//!     dec.advance(n);
//! }
//! ```
//!
//! Encoding, batching small messages and writing large bodies in place:
//!
//! ```text
//! while enc.has_room() { match pipe.read() { Some(m) => enc.push(m), None => break } }
//! let n = writev(fd, &enc.io_slices())?;
//! enc.consume(n);
//! ```

use std::collections::VecDeque;
use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::ops::{Deref, Range};

use super::error::CodecError;
use crate::msg::{self, MetadataRef, MetadataStock, Msg, RecvBuffer};

/// Which framing a connection uses (decided by the greeting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    V1,
    V2,
    V3,
}

/// Flag bits on the wire (ZMTP 2.0 / 3.x).
pub const FLAG_MORE: u8 = 1;
pub const FLAG_LONG: u8 = 2;
pub const FLAG_COMMAND: u8 = 4;

/// Size of the decoder's shared read buffer and of the encoder's batch at first.
pub const DEFAULT_BATCH: usize = 8192;

/// What a busy connection's read buffer grows to (see `Decoder::grow_buffer`).
pub const MAX_READ_BUFFER: usize = 65536;

/// What a busy connection's write batch grows to (see `Encoder::grow_batch`): several large
/// messages per vectored write. Measured over loopback tcp with 64 KiB messages: one
/// message per write costs the sender 2.5 times the CPU of four per write (each write is
/// pushed out on its own, with its own segments, wake-ups and ACK work).
pub const MAX_WRITE_BATCH: usize = 4 * 65536;

/// Bodies claimed larger than this are not allocated up front: they grow as bytes arrive.
const MAX_UPFRONT: usize = 64 << 20;
/// Growth step of such bodies.
const GROW_STEP: usize = 4 << 20;

/// Frames claimed larger than this are refused whatever ZMQ_MAXMSGSIZE says: no 64-bit
/// platform gives a process more than 2^56 bytes of address space (x86-64 with 5-level
/// paging, RISC-V Sv57; AArch64 gives 2^52), so such a body could never be held. Waiting
/// for it would keep a hostile peer's connection open on a claim that cannot succeed.
const MAX_FRAME_EVER: u64 = 1 << 56;

/// Largest header: `FF` + 8-byte length + flags (1.0), or flags + 8-byte size.
const MAX_HEADER: usize = 10;

enum State {
    /// Reading a header into `hdr`.
    Header,
    /// Reading a body into its message, allocated to its full size.
    Body { msg: Msg, filled: usize },
    /// Reading a huge body into a vector that grows as the bytes arrive.
    Grow {
        data: Vec<u8>,
        filled: usize,
        size: usize,
        flags: u8,
    },
}

/// The incremental frame decoder of one connection.
pub struct Decoder {
    framing: Framing,
    /// ZMQ_MAXMSGSIZE: the largest frame body accepted, -1 for none.
    max_msg_size: i64,
    /// The shared read buffer; bodies that lie whole in it are handed out without a copy
    /// when `share` says so.
    buf: RecvBuffer,
    /// Unconsumed input is `buf[pos..end]`.
    pos: usize,
    end: usize,
    /// The last read into the shared buffer was large (a quarter of it at least): its
    /// messages refer to the buffer instead of being copied. After small reads (a peer
    /// sending now and then) they are copied, so that a message kept for long does not
    /// hold a buffer many times its size.
    share: bool,
    /// A fresh buffer could not be allocated: the next `decode` reports it.
    out_of_memory: bool,
    /// The metadata every decoded message carries (from the handshake on).
    stamp: Option<MetadataStock>,
    hdr: [u8; MAX_HEADER],
    hlen: usize,
    state: State,
    /// The last `read_buf` handed out the body (true) or the shared buffer (false).
    direct: bool,
    /// Bodies of at least this many remaining bytes are read in place.
    direct_min: usize,
    /// The last frame started was that large: reads into the shared buffer take at most
    /// `direct_min` bytes, so the next large body is mostly read in place, not copied.
    large_seen: bool,
}

impl Decoder {
    /// A decoder with an 8 KiB read buffer (OutOfMemory if it cannot be allocated).
    pub fn new(framing: Framing, max_msg_size: i64) -> Result<Decoder, CodecError> {
        Decoder::with_buffer(framing, max_msg_size, DEFAULT_BATCH)
    }

    /// A decoder with a read buffer of `buf_size` bytes (at least 16; OutOfMemory if it
    /// cannot be allocated); bodies with at least that many bytes still to come are read
    /// straight into their message.
    pub fn with_buffer(
        framing: Framing,
        max_msg_size: i64,
        buf_size: usize,
    ) -> Result<Decoder, CodecError> {
        let buf_size = buf_size.max(16);
        Ok(Decoder {
            framing,
            max_msg_size,
            buf: RecvBuffer::new(buf_size).ok_or(CodecError::OutOfMemory)?,
            pos: 0,
            end: 0,
            share: false,
            out_of_memory: false,
            stamp: None,
            hdr: [0; MAX_HEADER],
            hlen: 0,
            state: State::Header,
            direct: false,
            direct_min: buf_size,
            large_seen: false,
        })
    }

    /// Whether no input is buffered and no frame is half-read.
    #[cfg(test)]
    pub fn is_idle(&self) -> bool {
        self.pos == self.end && self.hlen == 0 && matches!(self.state, State::Header)
    }

    /// Where the next read from the transport should go: the shared buffer's free tail, or,
    /// inside a large body with nothing buffered, the rest of that body. Call after
    /// [`decode`](Self::decode) returned `None`; then [`advance`](Self::advance) by what
    /// was read. Empty only when buffered input was left undecoded and fills the buffer.
    pub fn read_buf(&mut self) -> &mut [u8] {
        let [first, _] = self.read_bufs();
        first
    }

    /// As [`read_buf`](Self::read_buf), plus, when that is the rest of a large body, the
    /// start of the shared buffer for what follows the body (for one vectored read: a
    /// short read then tells the socket was drained, without a read that finds nothing).
    /// [`advance`](Self::advance) fills the body first, then the second slice.
    pub fn read_bufs(&mut self) -> [&mut [u8]; 2] {
        let len = self.buf.len();
        if self.pos == self.end {
            // Nothing buffered: start again at the front once no message refers to the
            // buffer. While some may, go on after them, or in a fresh buffer when little
            // room is left.
            if self.buf.reclaim() {
                self.pos = 0;
                self.end = 0;
            } else if len - self.end < len / 4 && !self.restart(len) {
                return [&mut [], &mut []];
            }
            let dm = self.direct_min;
            let in_place = match &self.state {
                State::Body { msg, filled } => msg.size() - *filled >= dm,
                State::Grow { size, filled, .. } => *size - *filled >= dm,
                State::Header => false,
            };
            if in_place {
                let mut no_memory = false;
                if let State::Grow {
                    data, filled, size, ..
                } = &mut self.state
                {
                    if data.len() == *filled {
                        let target = (*filled + GROW_STEP).min(*size);
                        if data.try_reserve_exact(target - data.len()).is_ok() {
                            data.resize(target, 0);
                        } else {
                            no_memory = true;
                        }
                    }
                }
                if no_memory {
                    // Leave it to the shared buffer (decode reports no memory).
                    self.direct = false;
                    let end = self.end;
                    return [self.buf.bytes_mut(end..len), &mut []];
                }
                self.direct = true;
                let spill = (self.end + dm).min(len);
                let Decoder {
                    state, buf, end, ..
                } = self;
                let body: &mut [u8] = match state {
                    State::Body { msg, filled } => &mut msg.data_mut()[*filled..],
                    State::Grow { data, filled, .. } => &mut data[*filled..],
                    State::Header => &mut [],
                };
                return [body, buf.bytes_mut(*end..spill)];
            }
        } else if self.end == len && self.pos > 0 && !self.restart(len) {
            return [&mut [], &mut []];
        }
        self.direct = false;
        let cap = if self.large_seen {
            (self.end + self.direct_min).min(len)
        } else {
            len
        };
        let end = self.end;
        [self.buf.bytes_mut(end..cap), &mut []]
    }

    /// Moves the unread input to the front of a shared buffer of `len` bytes that no
    /// message refers to; false (and `decode` reports it) when out of memory.
    fn restart(&mut self, len: usize) -> bool {
        if !self.try_restart(len) {
            self.out_of_memory = true;
            return false;
        }
        true
    }

    /// As [`restart`](Self::restart), leaving everything as it was when out of memory.
    #[cold]
    #[inline(never)]
    fn try_restart(&mut self, len: usize) -> bool {
        if !self.buf.restart(self.pos..self.end, len) {
            return false;
        }
        self.end -= self.pos;
        self.pos = 0;
        true
    }

    /// Doubles the shared read buffer, up to `max` bytes, when the last read filled it (a
    /// busy connection: fewer, larger reads). Bodies read in place keep their threshold.
    pub fn grow_buffer(&mut self, max: usize) {
        let len = self.buf.len();
        if self.end == len && len < max {
            // Optional: without memory for a larger one, the buffer stays as it is.
            self.try_restart((len * 2).min(max));
        }
    }

    /// Whether the read buffer grew beyond its first size (a busy connection's).
    pub fn is_grown(&self) -> bool {
        self.buf.len() > self.direct_min
    }

    /// Goes back to a read buffer of the first size when nothing is buffered or half-read
    /// (a connection gone quiet gives back what a burst made it take); true when it did.
    /// The large buffer is freed once the messages that refer to it are gone.
    pub fn trim(&mut self) -> bool {
        let idle = self.pos == self.end && self.hlen == 0 && matches!(self.state, State::Header);
        if !idle || !self.is_grown() {
            return false;
        }
        self.try_restart(self.direct_min)
    }

    /// From now on, decoded messages carry `md` (the connection's properties).
    pub fn set_metadata(&mut self, md: MetadataRef) {
        self.stamp = Some(MetadataStock::new(md));
    }

    /// A reference to the metadata for one message, if there is any.
    #[inline]
    fn stamp(&mut self) -> Option<MetadataRef> {
        self.stamp.as_mut().map(MetadataStock::take)
    }

    /// Whether a buffer could not be allocated (the connection cannot go on).
    pub fn is_out_of_memory(&self) -> bool {
        self.out_of_memory
    }

    /// `n` bytes were written at the start of the slice [`read_buf`](Self::read_buf) gave
    /// (or across the two [`read_bufs`](Self::read_bufs) gave, in order).
    pub fn advance(&mut self, n: usize) {
        if self.direct {
            self.direct = false;
            let body = match &mut self.state {
                State::Body { msg, filled } => {
                    let k = n.min(msg.size() - *filled);
                    *filled += k;
                    k
                }
                State::Grow { data, filled, .. } => {
                    let k = n.min(data.len() - *filled);
                    *filled += k;
                    k
                }
                State::Header => 0,
            };
            // What went past the body landed in the shared buffer.
            self.end = (self.end + (n - body)).min(self.buf.len());
            self.share = false;
        } else {
            self.end = (self.end + n).min(self.buf.len());
            self.share = n >= self.buf.len() / 4;
        }
    }

    /// Copies as much of `data` as fits into [`read_buf`](Self::read_buf) and returns how
    /// much; for bytes that were read elsewhere (after the greeting) and for tests.
    pub fn feed(&mut self, data: &[u8]) -> usize {
        let b = self.read_buf();
        let n = b.len().min(data.len());
        b[..n].copy_from_slice(&data[..n]);
        self.advance(n);
        n
    }

    /// The next complete frame from the input received so far, or `None` when more input
    /// is needed. The message carries `msg::MORE` and `msg::COMMAND` as the frame says.
    /// After an error the connection must be dropped.
    #[inline(always)]
    pub fn decode(&mut self) -> Result<Option<Msg>, CodecError> {
        if self.out_of_memory {
            return Err(CodecError::OutOfMemory);
        }
        if let Some(m) = self.decode_short()? {
            return Ok(Some(m));
        }
        let mut m = self.decode_long()?;
        if let Some(m) = m.as_mut() {
            m.set_metadata(self.stamp());
        }
        Ok(m)
    }

    /// The general path of [`decode`](Self::decode): any framing, split headers and
    /// bodies, errors; the message without its metadata.
    fn decode_long(&mut self) -> Result<Option<Msg>, CodecError> {
        loop {
            match &mut self.state {
                State::Header => {
                    let need = self.header_len()?;
                    if self.hlen < need {
                        if self.pos == self.end {
                            return Ok(None);
                        }
                        let k = (need - self.hlen).min(self.end - self.pos);
                        self.hdr[self.hlen..self.hlen + k]
                            .copy_from_slice(self.buf.bytes(self.pos..self.pos + k));
                        self.hlen += k;
                        self.pos += k;
                        continue;
                    }
                    // The header is complete (header_len does not grow any more).
                    if let Some(msg) = self.start_body()? {
                        return Ok(Some(msg));
                    }
                }
                State::Body { msg, filled } => {
                    let size = msg.size();
                    let k = (size - *filled).min(self.end - self.pos);
                    if k > 0 {
                        msg.data_mut()[*filled..*filled + k]
                            .copy_from_slice(self.buf.bytes(self.pos..self.pos + k));
                        *filled += k;
                        self.pos += k;
                    }
                    if *filled == size {
                        let State::Body { msg, .. } =
                            std::mem::replace(&mut self.state, State::Header)
                        else {
                            unreachable!()
                        };
                        return Ok(Some(msg));
                    }
                    return Ok(None);
                }
                State::Grow {
                    data,
                    filled,
                    size,
                    flags,
                } => {
                    let k = (*size - *filled).min(self.end - self.pos);
                    if k > 0 {
                        let need = *filled + k;
                        if data.len() < need {
                            let target = need.max((*filled + GROW_STEP).min(*size));
                            data.try_reserve_exact(target - data.len())
                                .map_err(|_| CodecError::OutOfMemory)?;
                            data.resize(target, 0);
                        }
                        data[*filled..need].copy_from_slice(self.buf.bytes(self.pos..self.pos + k));
                        *filled = need;
                        self.pos += k;
                    }
                    if *filled == *size {
                        // The vector becomes the message: no second copy of a huge body.
                        let mut m = Msg::from_vec(std::mem::take(data));
                        m.set_flags(*flags);
                        self.state = State::Header;
                        return Ok(Some(m));
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// The common case in one step: a short 2.0/3.x frame with its header and body both
    /// buffered. `None` leaves everything else (long frames, bad flags, a split frame, a size
    /// over the limit) to the general path, which reports errors.
    #[inline(always)]
    fn decode_short(&mut self) -> Result<Option<Msg>, CodecError> {
        match self.short_frame() {
            Some((body, flags)) => self.build_short(body, flags).map(Some),
            None => Ok(None),
        }
    }

    /// As [`decode`](Self::decode) for a short data frame (no COMMAND flag) whole in the
    /// buffer, the message built in `dst` with no temporary on the way (see DESIGN.md, "The
    /// message path"), which it returns. None, with `dst` untouched, for anything else:
    /// `decode` then takes it.
    #[inline(always)]
    pub fn decode_data_into<'a>(
        &mut self,
        dst: &'a mut MaybeUninit<Msg>,
    ) -> Result<Option<&'a mut Msg>, CodecError> {
        if self.out_of_memory {
            return Ok(None);
        }
        match self.short_frame() {
            Some((body, flags)) if flags & msg::COMMAND == 0 => {
                Ok(Some(dst.write(self.build_short(body, flags)?)))
            }
            _ => Ok(None),
        }
    }

    /// The next frame when it is short (a one-byte size) and whole in the buffer, with no
    /// header half read: its body's place in the buffer and the message's flags.
    #[inline]
    fn short_frame(&self) -> Option<(Range<usize>, u8)> {
        if self.hlen != 0 || !matches!(self.state, State::Header) {
            return None;
        }
        let allowed = match self.framing {
            Framing::V3 => FLAG_MORE | FLAG_COMMAND,
            Framing::V2 => FLAG_MORE,
            Framing::V1 => return None,
        };
        let avail = self.buf.bytes(self.pos..self.end);
        let [wire_flags, size, ..] = *avail else {
            return None;
        };
        let size = usize::from(size);
        if wire_flags & !allowed != 0
            || avail.len() < 2 + size
            || (self.max_msg_size >= 0 && size as u64 > self.max_msg_size as u64)
        {
            return None;
        }
        let mut flags = 0;
        if wire_flags & FLAG_MORE != 0 {
            flags |= msg::MORE;
        }
        if wire_flags & FLAG_COMMAND != 0 {
            flags |= msg::COMMAND;
        }
        Some((self.pos + 2..self.pos + 2 + size, flags))
    }

    /// The message of the short frame whose body is at `body`, which it moves past.
    #[inline(always)]
    fn build_short(&mut self, body: Range<usize>, flags: u8) -> Result<Msg, CodecError> {
        let size = body.len();
        let m = if size <= msg::INLINE_CAP {
            let wide = body.start..body.start + msg::INLINE_CAP;
            if wide.end <= self.buf.len() {
                // Copied as a whole array (a few wide moves); what follows the body in the
                // buffer rides along unread.
                let md = self.stamp();
                let bytes = self.buf.bytes(wide).try_into().expect("INLINE_CAP bytes");
                Msg::small_from(bytes, size, flags, md)
            } else {
                let mut m = Msg::small(self.buf.bytes(body.clone()), flags);
                m.set_metadata(self.stamp());
                m
            }
        } else if self.share {
            let md = self.stamp();
            self.buf.share_with(body.clone(), flags, md)
        } else {
            let mut m = Msg::from_slice(self.buf.bytes(body.clone()))
                .map_err(|_| CodecError::OutOfMemory)?;
            m.set_flags(flags);
            m.set_metadata(self.stamp());
            m
        };
        self.pos = body.end;
        self.large_seen = false;
        Ok(m)
    }

    /// The length of the header being read, as far as its first bytes tell.
    fn header_len(&self) -> Result<usize, CodecError> {
        if self.hlen == 0 {
            return Ok(1);
        }
        let first = self.hdr[0];
        Ok(match self.framing {
            Framing::V3 | Framing::V2 => {
                let reserved = if self.framing == Framing::V3 {
                    !(FLAG_MORE | FLAG_LONG | FLAG_COMMAND)
                } else {
                    !(FLAG_MORE | FLAG_LONG)
                };
                if first & reserved != 0 {
                    return Err(
                        if self.framing == Framing::V2 && first & FLAG_COMMAND != 0 {
                            CodecError::CommandInOldFraming
                        } else {
                            CodecError::ReservedFlags(first)
                        },
                    );
                }
                if first & FLAG_LONG != 0 {
                    9
                } else {
                    2
                }
            }
            Framing::V1 => {
                if first == 0 {
                    return Err(CodecError::ZeroLength);
                }
                if first == 0xFF {
                    10
                } else {
                    2
                }
            }
        })
    }

    /// Parses the complete header and prepares the body; returns an empty frame at once, and
    /// a body already buffered by a large read in place.
    fn start_body(&mut self) -> Result<Option<Msg>, CodecError> {
        let (size, wire_flags) = match self.framing {
            Framing::V3 | Framing::V2 => {
                let f = self.hdr[0];
                let size = if f & FLAG_LONG != 0 {
                    u64::from_be_bytes(self.hdr[1..9].try_into().unwrap_or([0xFF; 8]))
                } else {
                    u64::from(self.hdr[1])
                };
                (size, f)
            }
            Framing::V1 => {
                let (len, f) = if self.hdr[0] == 0xFF {
                    (
                        u64::from_be_bytes(self.hdr[1..9].try_into().unwrap_or([0xFF; 8])),
                        self.hdr[9],
                    )
                } else {
                    (u64::from(self.hdr[0]), self.hdr[1])
                };
                if len == 0 {
                    return Err(CodecError::ZeroLength);
                }
                (len - 1, f & FLAG_MORE)
            }
        };
        self.hlen = 0;
        if self.max_msg_size >= 0 && size > self.max_msg_size as u64 {
            return Err(CodecError::TooLarge {
                size,
                max: self.max_msg_size,
            });
        }
        if size > (isize::MAX as u64).min(MAX_FRAME_EVER) {
            return Err(CodecError::TooLarge { size, max: -1 });
        }
        let size = size as usize;
        self.large_seen = size >= self.direct_min;
        let mut flags = 0;
        if wire_flags & FLAG_MORE != 0 {
            flags |= msg::MORE;
        }
        if wire_flags & FLAG_COMMAND != 0 {
            flags |= msg::COMMAND;
        }
        if size == 0 {
            let mut m = Msg::new();
            m.set_flags(flags);
            return Ok(Some(m));
        }
        if self.share && size > msg::INLINE_CAP && self.end - self.pos >= size {
            // The whole body came with a large read: hand it out in place.
            let mut m = self.buf.share(self.pos..self.pos + size);
            m.set_flags(flags);
            self.pos += size;
            return Ok(Some(m));
        }
        if size <= MAX_UPFRONT {
            let mut m = Msg::with_size(size).map_err(|_| CodecError::OutOfMemory)?;
            m.set_flags(flags);
            self.state = State::Body { msg: m, filled: 0 };
        } else {
            self.state = State::Grow {
                data: Vec::new(),
                filled: 0,
                size,
                flags,
            };
        }
        Ok(None)
    }
}

/// One run of bytes waiting to be written.
enum Seg {
    /// `batch[start..end]`.
    Batch { start: usize, end: usize },
    /// A large message's own bytes.
    Body(Msg),
}

/// Up to [`MAX_IOV`] slices for one vectored write.
pub struct IoSlices<'a> {
    v: [IoSlice<'a>; MAX_IOV],
    n: usize,
}

/// Most slices handed out at once.
pub const MAX_IOV: usize = 16;

impl<'a> Deref for IoSlices<'a> {
    type Target = [IoSlice<'a>];
    fn deref(&self) -> &[IoSlice<'a>] {
        &self.v[..self.n]
    }
}

/// The frame encoder of one connection: messages in, byte runs out.
pub struct Encoder {
    framing: Framing,
    batch: Vec<u8>,
    segs: VecDeque<Seg>,
    /// Bytes of the first segment already written.
    head_off: usize,
    /// Unwritten bytes in all segments.
    pending: usize,
    batch_size: usize,
    /// Bodies at least this large are written from the message, not copied.
    zero_copy_min: usize,
}

impl Encoder {
    /// An encoder batching up to 8 KiB; bodies of 8 KiB or more are not copied.
    pub fn new(framing: Framing) -> Encoder {
        Encoder::with_batch(framing, DEFAULT_BATCH)
    }

    /// An encoder batching up to `batch_size` bytes (at least 16); bodies of at least that
    /// size are written from the message's own buffer. The batch allocates as it fills, so
    /// a connection that sends little holds little.
    pub fn with_batch(framing: Framing, batch_size: usize) -> Encoder {
        let batch_size = batch_size.max(16);
        Encoder {
            framing,
            batch: Vec::new(),
            segs: VecDeque::new(),
            head_off: 0,
            pending: 0,
            batch_size,
            zero_copy_min: batch_size,
        }
    }

    /// Whether another message should be pushed before writing (less than a batch waits).
    pub fn has_room(&self) -> bool {
        self.pending < self.batch_size
    }

    /// Doubles the batch, up to `max` bytes. The engine calls it when a full batch went out
    /// in one flush (a busy connection whose peer keeps up: fewer, larger writes), never
    /// when the socket is full: a slow peer's connection keeps a small batch, so it holds
    /// little beyond the pipe's HWM and its bytes stay in cache. Bodies written in place
    /// keep their threshold.
    pub fn grow_batch(&mut self, max: usize) {
        self.batch_size = (self.batch_size * 2).min(max.max(self.batch_size));
    }

    /// Halves the batch, down to `min` bytes: the engine calls it when the socket filled up
    /// before the batch was written (a peer slower than us gets small batches again, so its
    /// connection holds little beyond the pipe's HWM).
    pub fn shrink_batch(&mut self, min: usize) {
        self.batch_size = (self.batch_size / 2).max(min.min(self.batch_size));
    }

    /// Whether nothing waits to be written.
    pub fn is_empty(&self) -> bool {
        self.pending == 0
    }

    /// Whether the batch holds memory beyond a first batch (a busy connection's).
    pub fn is_grown(&self) -> bool {
        self.batch.capacity() > DEFAULT_BATCH + MAX_HEADER
    }

    /// Frees the batch's memory when nothing waits to be written (a connection gone quiet
    /// gives back what a burst made it take); true when it did. Its size limit stays: it
    /// is what the connection learnt of its peer, not memory.
    pub fn trim(&mut self) -> bool {
        if !self.is_empty() || !self.segs.is_empty() || !self.is_grown() {
            return false;
        }
        self.batch = Vec::new();
        self.head_off = 0;
        true
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Appends raw bytes (no framing), e.g. a ZMTP 1.0 peer's expected routing id body.
    pub fn push_raw(&mut self, bytes: &[u8]) {
        if self.batch.len() >= self.batch_size {
            self.compact();
        }
        let start = self.batch.len();
        self.batch.extend_from_slice(bytes);
        self.add_batch(start);
    }

    /// Appends a message's bytes with no framing (raw sockets): small bodies are copied
    /// into the batch, bodies of at least a batch are written from the message itself.
    pub fn push_body(&mut self, msg: Msg) {
        let size = msg.size();
        if size < self.zero_copy_min {
            self.push_raw(msg.data());
        } else {
            self.compact();
            self.pending += size;
            self.segs.push_back(Seg::Body(msg));
        }
    }

    /// Encodes one frame: `msg::MORE` and `msg::COMMAND` from the message's flags (COMMAND
    /// exists only in ZMTP 3.x framing and is dropped in older ones).
    pub fn push(&mut self, mut msg: Msg) {
        self.push_from(&mut msg);
    }

    /// As [`push`](Self::push), from the message where it lies (a pipe's slot): a small
    /// body is copied, a large one taken (the message is left empty), with no move of the
    /// message on the way (see DESIGN.md, "The message path").
    #[inline]
    pub fn push_from(&mut self, msg: &mut Msg) {
        // Dropping the written prefix can wait until the batch is full: it stays bounded
        // (about three batches) and small pushes skip the bookkeeping.
        if self.batch.len() >= self.batch_size {
            self.compact();
        }
        let size = msg.size();
        let more = msg.flags() & msg::MORE != 0;
        let start = self.batch.len();
        match self.framing {
            Framing::V3 | Framing::V2 => {
                let mut f = if more { FLAG_MORE } else { 0 };
                if self.framing == Framing::V3 && msg.flags() & msg::COMMAND != 0 {
                    f |= FLAG_COMMAND;
                }
                if size > 255 {
                    self.batch.push(f | FLAG_LONG);
                    self.batch.extend_from_slice(&(size as u64).to_be_bytes());
                } else {
                    self.batch.push(f);
                    self.batch.push(size as u8);
                }
            }
            Framing::V1 => {
                let len = size as u64 + 1;
                if len < 0xFF {
                    self.batch.push(len as u8);
                } else {
                    self.batch.push(0xFF);
                    self.batch.extend_from_slice(&len.to_be_bytes());
                }
                self.batch.push(u8::from(more));
            }
        }
        if size < self.zero_copy_min {
            self.batch.extend_from_slice(msg.data());
            self.add_batch(start);
        } else {
            self.add_batch(start);
            self.pending += size;
            self.segs.push_back(Seg::Body(std::mem::take(msg)));
        }
    }

    /// Records `batch[start..]` as waiting, joining the previous run when adjacent.
    fn add_batch(&mut self, start: usize) {
        let end = self.batch.len();
        self.pending += end - start;
        if let Some(Seg::Batch { end: e, .. }) = self.segs.back_mut() {
            if *e == start {
                *e = end;
                return;
            }
        }
        if end > start {
            self.segs.push_back(Seg::Batch { start, end });
        }
    }

    /// Drops the written prefix of the batch once it is large, so it never grows unbounded.
    fn compact(&mut self) {
        // Fold a partly written batch run's progress into its start.
        if let Some(Seg::Batch { start, .. }) = self.segs.front_mut() {
            *start += self.head_off;
            self.head_off = 0;
        }
        let first = self.segs.iter().find_map(|s| match s {
            Seg::Batch { start, .. } => Some(*start),
            Seg::Body(_) => None,
        });
        let k = first.unwrap_or(self.batch.len());
        if k == 0 || (k < self.batch_size && first.is_some()) {
            return;
        }
        self.batch.drain(..k);
        for s in &mut self.segs {
            if let Seg::Batch { start, end } = s {
                *start -= k;
                *end -= k;
            }
        }
    }

    /// The waiting bytes, in order, for one vectored write (at most [`MAX_IOV`] slices).
    pub fn io_slices(&self) -> IoSlices<'_> {
        let mut out = IoSlices {
            v: [IoSlice::new(&[]); MAX_IOV],
            n: 0,
        };
        for (i, s) in self.segs.iter().take(MAX_IOV).enumerate() {
            let skip = if i == 0 { self.head_off } else { 0 };
            let bytes = match s {
                Seg::Batch { start, end } => &self.batch[start + skip..*end],
                Seg::Body(m) => &m.data()[skip..],
            };
            out.v[out.n] = IoSlice::new(bytes);
            out.n += 1;
        }
        out
    }

    /// The first run of waiting bytes, for a plain write.
    #[cfg(test)]
    pub fn first_slice(&self) -> &[u8] {
        match self.segs.front() {
            Some(Seg::Batch { start, end }) => &self.batch[start + self.head_off..*end],
            Some(Seg::Body(m)) => &m.data()[self.head_off..],
            None => &[],
        }
    }

    /// `n` bytes of the waiting ones were written.
    pub fn consume(&mut self, mut n: usize) {
        n = n.min(self.pending);
        self.pending -= n;
        while n > 0 {
            let Some(front) = self.segs.front() else {
                break;
            };
            let len = match front {
                Seg::Batch { start, end } => end - start,
                Seg::Body(m) => m.size(),
            };
            let left = len - self.head_off;
            if n >= left {
                n -= left;
                self.head_off = 0;
                self.segs.pop_front();
            } else {
                self.head_off += n;
                n = 0;
            }
        }
        if self.segs.is_empty() {
            self.batch.clear();
            self.head_off = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::codec::testutil::Rng;

    fn msg(data: &[u8], flags: u8) -> Msg {
        let mut m = Msg::from_slice(data).unwrap();
        m.set_flags(flags);
        m
    }

    /// Encodes into one byte vector, writing in chunks of `wchunk`.
    fn encode_all(framing: Framing, msgs: Vec<Msg>, batch: usize, wchunk: usize) -> Vec<u8> {
        let mut enc = Encoder::with_batch(framing, batch);
        let mut out = Vec::new();
        let mut it = msgs.into_iter().peekable();
        while it.peek().is_some() || !enc.is_empty() {
            while enc.has_room() {
                match it.next() {
                    Some(m) => enc.push(m),
                    None => break,
                }
            }
            let sl = enc.io_slices();
            let mut budget = wchunk;
            let mut written = 0;
            for s in sl.iter() {
                let k = s.len().min(budget);
                out.extend_from_slice(&s[..k]);
                budget -= k;
                written += k;
                if budget == 0 {
                    break;
                }
            }
            enc.consume(written);
        }
        out
    }

    /// Decodes `data` fed in chunks of sizes from `chunks` (cycled).
    fn decode_all(
        framing: Framing,
        max: i64,
        data: &[u8],
        chunks: &[usize],
        buf: usize,
    ) -> Result<Vec<Msg>, CodecError> {
        let mut dec = Decoder::with_buffer(framing, max, buf).unwrap();
        let mut out = Vec::new();
        let mut pos = 0;
        let mut ci = 0;
        loop {
            while let Some(m) = dec.decode()? {
                out.push(m);
            }
            if pos == data.len() {
                break;
            }
            let want = chunks[ci % chunks.len()].max(1);
            ci += 1;
            let b = dec.read_buf();
            let k = b.len().min(want).min(data.len() - pos);
            b[..k].copy_from_slice(&data[pos..pos + k]);
            dec.advance(k);
            pos += k;
        }
        Ok(out)
    }

    fn sample() -> Vec<Msg> {
        vec![
            msg(b"", 0),
            msg(b"hello", msg::MORE),
            msg(&[7u8; 255], msg::MORE),
            msg(&[8u8; 256], 0),
            msg(&[9u8; 253], 0),
            msg(&[10u8; 254], 0),
            msg(
                &(0..20000u32).map(|i| i as u8).collect::<Vec<_>>(),
                msg::MORE,
            ),
            msg(b"READY-ish", msg::COMMAND),
            msg(&[1u8; 9000], 0),
            msg(b"x", 0),
        ]
    }

    fn check_same(a: &[Msg], b: &[Msg], commands: bool) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert_eq!(x.data(), y.data());
            let mask = msg::MORE | if commands { msg::COMMAND } else { 0 };
            assert_eq!(x.flags() & mask, y.flags() & mask);
        }
    }

    #[test]
    fn short_data_frames_decode_in_place_and_the_rest_is_left_to_decode() {
        let wire = encode_all(Framing::V3, sample(), 1 << 16, usize::MAX);
        let mut dec = Decoder::new(Framing::V3, -1).unwrap();
        let mut fed = 0;
        let mut got = Vec::new();
        let mut in_place = 0;
        loop {
            let mut slot = MaybeUninit::uninit();
            if let Some(m) = dec.decode_data_into(&mut slot).unwrap() {
                assert_eq!(m.flags() & msg::COMMAND, 0, "commands are left to decode");
                assert!(m.size() <= 255, "long frames are left to decode");
                got.push(std::mem::take(m));
                in_place += 1;
            } else if let Some(m) = dec.decode().unwrap() {
                got.push(m);
            } else if fed < wire.len() {
                fed += dec.feed(&wire[fed..]);
            } else {
                break;
            }
        }
        check_same(&got, &sample(), true);
        assert_eq!(in_place, 6, "every short data frame");
    }

    #[test]
    fn v3_wire_format() {
        let out = encode_all(Framing::V3, vec![msg(b"ab", msg::MORE)], 64, 1000);
        assert_eq!(out, [1, 2, b'a', b'b']);
        let out = encode_all(Framing::V3, vec![msg(b"\x05READY", msg::COMMAND)], 64, 1000);
        assert_eq!(&out[..2], &[4, 6]);
        let out = encode_all(Framing::V3, vec![msg(&[0; 256], msg::MORE)], 64, 1000);
        assert_eq!(&out[..9], &[3, 0, 0, 0, 0, 0, 0, 1, 0]);
        assert_eq!(out.len(), 9 + 256);
        let out = encode_all(Framing::V3, vec![msg(&[0; 300], msg::COMMAND)], 64, 1000);
        assert_eq!(out[0], 6);
    }

    #[test]
    fn v2_wire_format_drops_command() {
        let out = encode_all(
            Framing::V2,
            vec![msg(b"ab", msg::MORE | msg::COMMAND)],
            64,
            99,
        );
        assert_eq!(out, [1, 2, b'a', b'b']);
    }

    #[test]
    fn v1_wire_format() {
        let out = encode_all(Framing::V1, vec![msg(b"ab", msg::MORE)], 64, 1000);
        assert_eq!(out, [3, 1, b'a', b'b']);
        let out = encode_all(Framing::V1, vec![msg(&[0; 253], 0)], 64, 1000);
        assert_eq!(&out[..2], &[254, 0]);
        let out = encode_all(Framing::V1, vec![msg(&[0; 254], 0)], 64, 1000);
        assert_eq!(&out[..10], &[0xFF, 0, 0, 0, 0, 0, 0, 0, 255, 0]);
        let out = encode_all(Framing::V1, vec![msg(b"", 0)], 64, 1000);
        assert_eq!(out, [1, 0]);
    }

    #[test]
    fn round_trips_every_framing_and_chunking() {
        for framing in [Framing::V1, Framing::V2, Framing::V3] {
            for (batch, wchunk) in [(16, 1), (64, 7), (8192, 100_000), (1024, 333)] {
                let data = encode_all(framing, sample(), batch, wchunk);
                for chunks in [&[1usize][..], &[3, 1, 200], &[8192], &[100_000]] {
                    for buf in [16, 100, 8192] {
                        let got = decode_all(framing, -1, &data, chunks, buf).unwrap();
                        check_same(&sample(), &got, framing == Framing::V3);
                    }
                }
            }
        }
    }

    #[test]
    fn large_bodies_are_not_copied_by_the_encoder() {
        let big = msg(&[5u8; 10000], 0);
        let ptr = big.data().as_ptr();
        let mut enc = Encoder::with_batch(Framing::V3, 8192);
        enc.push(msg(b"small", msg::MORE));
        enc.push(big);
        assert!(!enc.has_room());
        let sl = enc.io_slices();
        assert_eq!(sl.len(), 2);
        assert_eq!(sl[0].len(), 2 + 5 + 9);
        assert_eq!(sl[1].as_ptr(), ptr);
        assert_eq!(enc.pending(), 16 + 10000);
        enc.consume(20);
        assert_eq!(enc.first_slice().len(), 10000 - 4);
        enc.consume(10000 - 4);
        assert!(enc.is_empty());
        assert!(enc.first_slice().is_empty());
    }

    #[test]
    fn large_bodies_are_read_in_place() {
        let mut enc = Encoder::with_batch(Framing::V3, 8192);
        enc.push(msg(&[6u8; 50000], 0));
        let mut wire = Vec::new();
        for s in enc.io_slices().iter() {
            wire.extend_from_slice(s);
        }
        let mut dec = Decoder::with_buffer(Framing::V3, -1, 8192).unwrap();
        // The header and a little of the body through the shared buffer.
        assert_eq!(dec.feed(&wire[..100]), 100);
        assert!(dec.decode().unwrap().is_none());
        // Then the decoder hands out the body itself.
        let b = dec.read_buf();
        assert_eq!(b.len(), 50000 - 91);
        b.copy_from_slice(&wire[100..]);
        dec.advance(50000 - 91);
        let m = dec.decode().unwrap().unwrap();
        assert_eq!(m.data(), &[6u8; 50000][..]);
        assert!(dec.is_idle());
    }

    #[test]
    fn bodies_of_a_large_read_are_handed_out_in_place_and_never_overwritten() {
        let batch =
            |fill: u8| -> Vec<Msg> { (0..100u8).map(|i| msg(&[fill ^ i; 60], 0)).collect() };
        let first = encode_all(Framing::V3, batch(0), 1 << 16, usize::MAX);
        assert_eq!(first.len(), 100 * 62);
        let mut dec = Decoder::with_buffer(Framing::V3, -1, 8192).unwrap();
        // One read of three quarters of the buffer: its bodies are not copied.
        assert_eq!(dec.feed(&first), first.len());
        let kept: Vec<Msg> = std::iter::from_fn(|| dec.decode().unwrap()).collect();
        assert_eq!(kept.len(), 100);
        for w in kept.windows(2) {
            assert_eq!(
                w[1].data().as_ptr() as usize,
                w[0].data().as_ptr() as usize + 62,
                "the next body follows in the same read buffer"
            );
        }
        // Later reads, while those messages live, go elsewhere.
        for round in 1..4u8 {
            let more = encode_all(Framing::V3, batch(round << 4), 1 << 16, usize::MAX);
            assert_eq!(dec.feed(&more), more.len());
            let got: Vec<Msg> = std::iter::from_fn(|| dec.decode().unwrap()).collect();
            assert_eq!(got.len(), 100);
            assert!(got[99].data().iter().all(|&b| b == (round << 4) ^ 99));
        }
        for (i, m) in kept.iter().enumerate() {
            assert!(m.data().iter().all(|&b| b == i as u8), "message {i} intact");
        }
        // Long frames too (8-byte size).
        let long: Vec<Msg> = (0..20u8).map(|i| msg(&[i; 300], 0)).collect();
        let long = encode_all(Framing::V3, long, 1 << 16, usize::MAX);
        assert_eq!(dec.feed(&long), long.len());
        let got: Vec<Msg> = std::iter::from_fn(|| dec.decode().unwrap()).collect();
        assert_eq!(got.len(), 20);
        for w in got.windows(2) {
            assert_eq!(
                w[1].data().as_ptr() as usize,
                w[0].data().as_ptr() as usize + 309,
                "the next body follows in the same read buffer"
            );
        }
        // A small read (a message now and then) is copied: it holds no buffer.
        let one = encode_all(Framing::V3, vec![msg(&[5; 60], 0)], 1 << 16, usize::MAX);
        dec.feed(&one);
        let m = dec.decode().unwrap().unwrap();
        assert!(!m.is_shared());
        assert_eq!(m.data(), &[5; 60][..]);
    }

    #[test]
    fn max_msg_size() {
        let data = encode_all(Framing::V3, vec![msg(&[0; 100], 0)], 64, 1000);
        assert_eq!(
            decode_all(Framing::V3, 100, &data, &[1], 64).unwrap().len(),
            1
        );
        assert_eq!(
            decode_all(Framing::V3, 99, &data, &[1], 64).unwrap_err(),
            CodecError::TooLarge { size: 100, max: 99 }
        );
        assert_eq!(
            decode_all(Framing::V3, 0, &[0, 0], &[1], 64).unwrap().len(),
            1
        );
        for f in [Framing::V1, Framing::V2] {
            let data = encode_all(f, vec![msg(&[0; 300], 0)], 64, 1000);
            assert!(matches!(
                decode_all(f, 299, &data, &[5], 64),
                Err(CodecError::TooLarge { .. })
            ));
        }
    }

    #[test]
    fn hostile_sizes_do_not_allocate_up_front() {
        // 2^63 bytes claimed, no limit: rejected (cannot ever be held).
        let mut wire = vec![2u8];
        wire.extend_from_slice(&(1u64 << 63).to_be_bytes());
        assert!(matches!(
            decode_all(Framing::V3, -1, &wire, &[1], 64),
            Err(CodecError::TooLarge { .. })
        ));
        let mut wire = vec![0xFFu8];
        wire.extend_from_slice(&u64::MAX.to_be_bytes());
        wire.push(0);
        assert!(matches!(
            decode_all(Framing::V1, -1, &wire, &[3], 64),
            Err(CodecError::TooLarge { .. })
        ));
        // 2^62 bytes, or just over 2^56, claimed, no limit: rejected on the header alone
        // (no address space holds that much), in every framing.
        for size in [1u64 << 62, MAX_FRAME_EVER + 1] {
            let mut wire = vec![2u8];
            wire.extend_from_slice(&size.to_be_bytes());
            for f in [Framing::V3, Framing::V2] {
                assert_eq!(
                    decode_all(f, -1, &wire, &[1], 64).unwrap_err(),
                    CodecError::TooLarge { size, max: -1 }
                );
            }
            let mut wire = vec![0xFFu8];
            wire.extend_from_slice(&(size + 1).to_be_bytes());
            wire.push(0);
            assert_eq!(
                decode_all(Framing::V1, -1, &wire, &[3], 64).unwrap_err(),
                CodecError::TooLarge { size, max: -1 }
            );
        }
        // 2^40 bytes claimed: accepted, but memory grows only with what arrives.
        let mut wire = vec![2u8];
        wire.extend_from_slice(&(1u64 << 40).to_be_bytes());
        wire.extend_from_slice(&[1u8; 1000]);
        let mut dec = Decoder::with_buffer(Framing::V3, -1, 64).unwrap();
        let mut pos = 0;
        while pos < wire.len() {
            pos += dec.feed(&wire[pos..]);
            assert!(dec.decode().unwrap().is_none());
        }
        // A direct read hands out at most one growth step.
        assert!(dec.read_buf().len() <= GROW_STEP);
    }

    #[test]
    fn huge_body_grows_and_completes() {
        let size = MAX_UPFRONT + 10;
        let mut wire = vec![2u8];
        wire.extend_from_slice(&(size as u64).to_be_bytes());
        let mut dec = Decoder::new(Framing::V3, -1).unwrap();
        assert_eq!(dec.feed(&wire), 9);
        assert!(dec.decode().unwrap().is_none());
        let mut left = size;
        let mut n = 0u8;
        let mut got = None;
        while got.is_none() {
            let b = dec.read_buf();
            let k = b.len().min(left).min(3 << 20);
            b[..k].fill(n);
            n = n.wrapping_add(1);
            dec.advance(k);
            left -= k;
            got = dec.decode().unwrap();
        }
        assert_eq!(left, 0);
        let m = got.unwrap();
        assert_eq!(m.size(), size);
        assert_eq!(m.data()[0], 0);
        assert_eq!(m.data()[size - 1], n - 1);
    }

    #[test]
    fn reserved_flags() {
        for b in [8u8, 0x10, 0x20, 0x40, 0x80, 0xF8] {
            assert_eq!(
                decode_all(Framing::V3, -1, &[b, 0], &[1], 64).unwrap_err(),
                CodecError::ReservedFlags(b)
            );
            assert!(decode_all(Framing::V2, -1, &[b, 0], &[1], 64).is_err());
        }
        assert_eq!(
            decode_all(Framing::V2, -1, &[4, 0], &[1], 64).unwrap_err(),
            CodecError::CommandInOldFraming
        );
        // 1.0 ignores the other flag bits.
        let got = decode_all(Framing::V1, -1, &[2, 0xFE, b'z'], &[1], 64).unwrap();
        assert_eq!(got[0].data(), b"z");
        assert!(!got[0].more());
    }

    #[test]
    fn v1_zero_length() {
        assert_eq!(
            decode_all(Framing::V1, -1, &[0], &[1], 64).unwrap_err(),
            CodecError::ZeroLength
        );
        let mut long_zero = vec![0xFF];
        long_zero.extend_from_slice(&[0; 8]);
        long_zero.push(0);
        assert_eq!(
            decode_all(Framing::V1, -1, &long_zero, &[4], 64).unwrap_err(),
            CodecError::ZeroLength
        );
    }

    #[test]
    fn truncated_input_waits() {
        let data = encode_all(Framing::V3, sample(), 8192, 100_000);
        for cut in [1, 2, 5, 9, 100, data.len() - 1] {
            let got = decode_all(Framing::V3, -1, &data[..cut], &[7], 64).unwrap();
            assert!(got.len() < sample().len());
        }
        // A long header cut short.
        assert!(decode_all(Framing::V3, -1, &[2, 0, 0, 0], &[1], 64)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn flags_are_carried() {
        let data = [1u8, 0, 4, 1, b'P', 5, 1, b'x'];
        let got = decode_all(Framing::V3, -1, &data, &[2], 64).unwrap();
        assert_eq!(got.len(), 3);
        assert!(got[0].more() && got[0].data().is_empty());
        assert_eq!(got[1].flags() & msg::COMMAND, msg::COMMAND);
        assert!(!got[1].more());
        assert_eq!(
            got[2].flags() & (msg::COMMAND | msg::MORE),
            msg::COMMAND | msg::MORE
        );
    }

    #[test]
    fn push_body_writes_bytes_without_framing() {
        let mut enc = Encoder::with_batch(Framing::V3, 16);
        enc.push_body(msg(b"abc", msg::MORE));
        enc.push_body(msg(b"", 0));
        let big = vec![7u8; 40];
        enc.push_body(msg(&big, 0));
        enc.push_body(msg(b"de", 0));
        assert_eq!(enc.pending(), 45);
        let mut out = Vec::new();
        while !enc.is_empty() {
            let first = enc.first_slice().to_vec();
            // Write in odd pieces, as a socket might.
            let n = first.len().min(7);
            out.extend_from_slice(&first[..n]);
            enc.consume(n);
        }
        let mut want = b"abc".to_vec();
        want.extend_from_slice(&big);
        want.extend_from_slice(b"de");
        assert_eq!(out, want);
    }

    #[test]
    fn push_raw_and_compaction() {
        let mut enc = Encoder::with_batch(Framing::V3, 32);
        enc.push_raw(b"abc");
        assert_eq!(enc.first_slice(), b"abc");
        // Many rounds of partial writes keep the batch bounded.
        let mut out = Vec::new();
        let mut i = 0u32;
        while i < 10_000 {
            if enc.has_room() {
                enc.push(msg(&i.to_be_bytes(), 0));
                i += 1;
            }
            let k = enc.first_slice().len().min(5);
            out.extend_from_slice(&enc.first_slice()[..k]);
            enc.consume(k);
            assert!(enc.batch.len() < 200, "batch grew to {}", enc.batch.len());
        }
        while !enc.is_empty() {
            let s = enc.first_slice().to_vec();
            out.extend_from_slice(&s);
            enc.consume(s.len());
        }
        assert_eq!(&out[..3], b"abc");
        let got = decode_all(Framing::V3, -1, &out[3..], &[13], 64).unwrap();
        assert_eq!(got.len(), 10_000);
        assert_eq!(got[9999].data(), &9999u32.to_be_bytes());
    }

    #[test]
    fn many_large_messages_and_slice_limit() {
        let mut enc = Encoder::with_batch(Framing::V3, 16);
        let msgs: Vec<Msg> = (0..40).map(|i| msg(&[i as u8; 20], 0)).collect();
        for m in msgs {
            enc.push(m);
        }
        assert_eq!(enc.io_slices().len(), MAX_IOV);
        let mut out = Vec::new();
        while !enc.is_empty() {
            let sl = enc.io_slices();
            let mut n = 0;
            for s in sl.iter() {
                out.extend_from_slice(s);
                n += s.len();
            }
            enc.consume(n);
        }
        let got = decode_all(Framing::V3, -1, &out, &[1000], 16).unwrap();
        assert_eq!(got.len(), 40);
        assert_eq!(got[39].data(), &[39u8; 20]);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng::new(42);
        for round in 0..3000 {
            let framing = [Framing::V1, Framing::V2, Framing::V3][round % 3];
            let max = [-1i64, 0, 100, 1 << 20][rng.below(4)];
            let n = rng.below(600);
            let mut data = rng.bytes(n);
            // Bias towards plausible headers so that bodies get exercised too.
            if round % 2 == 0 {
                let mut i = 0;
                while i < data.len() {
                    data[i] &= match framing {
                        Framing::V3 => 7,
                        Framing::V2 => 3,
                        Framing::V1 => 0x7F,
                    };
                    i += 2 + rng.below(40);
                }
            }
            let mut dec = Decoder::with_buffer(framing, max, [16, 64, 8192][rng.below(3)]).unwrap();
            let mut pos = 0;
            'outer: loop {
                loop {
                    match dec.decode() {
                        Ok(Some(m)) => assert!(max < 0 || m.size() as i64 <= max),
                        Ok(None) => break,
                        Err(_) => break 'outer,
                    }
                }
                if pos == data.len() {
                    break;
                }
                let b = dec.read_buf();
                let k = b.len().min(1 + rng.below(50)).min(data.len() - pos);
                b[..k].copy_from_slice(&data[pos..pos + k]);
                dec.advance(k);
                pos += k;
            }
        }
    }

    #[test]
    fn random_round_trips() {
        let mut rng = Rng::new(9);
        for round in 0..200 {
            let framing = [Framing::V1, Framing::V2, Framing::V3][round % 3];
            let msgs: Vec<Msg> = (0..rng.below(30))
                .map(|_| {
                    let n = [0, 1, 254, 255, 256, 3000, 9000][rng.below(7)];
                    let mut f = if rng.below(2) == 0 { msg::MORE } else { 0 };
                    if framing == Framing::V3 && rng.below(4) == 0 {
                        f |= msg::COMMAND;
                    }
                    msg(&rng.bytes(n), f)
                })
                .collect();
            let copy: Vec<Msg> = msgs.iter().map(|m| msg(m.data(), m.flags())).collect();
            let wire = encode_all(framing, msgs, 1 + rng.below(9000), 1 + rng.below(5000));
            let chunks: Vec<usize> = (0..5).map(|_| 1 + rng.below(3000)).collect();
            let got = decode_all(framing, -1, &wire, &chunks, 16 + rng.below(9000)).unwrap();
            check_same(&copy, &got, framing == Framing::V3);
        }
    }

    #[test]
    fn a_grown_read_buffer_is_trimmed_only_with_nothing_half_read() {
        let mut dec = Decoder::with_buffer(Framing::V3, -1, 16).unwrap();
        // Fill the buffer with whole empty frames: it grows to 32.
        let n = dec.read_buf().len();
        dec.read_buf().fill(0);
        dec.advance(n);
        dec.grow_buffer(64);
        assert!(dec.is_grown());
        // Half a frame buffered: no trim.
        assert_eq!(dec.feed(&[0, 3, b'a']), 3);
        while let Some(m) = dec.decode().unwrap() {
            assert_eq!(m.size(), 0);
        }
        assert!(!dec.trim(), "a frame is half-read");
        // The rest of it: decoded whole, then the buffer goes back to its first size.
        assert_eq!(dec.feed(b"bc"), 2);
        assert_eq!(dec.decode().unwrap().unwrap().data(), b"abc");
        assert!(dec.trim());
        assert!(!dec.is_grown());
        assert_eq!(dec.feed(&[0, 1, b'z']), 3);
        assert_eq!(dec.decode().unwrap().unwrap().data(), b"z");
        // A batch with bytes waiting is not trimmed either; once written, it is freed.
        let mut enc = Encoder::new(Framing::V3);
        for _ in 0..200 {
            enc.push(msg(&[1; 100], 0));
        }
        assert!(enc.is_grown());
        assert!(!enc.trim(), "20 KB wait to be written");
        enc.consume(enc.pending());
        assert!(enc.trim());
        assert_eq!(enc.batch.capacity(), 0);
        enc.push(msg(b"ok", 0));
        assert_eq!(enc.pending(), 4);
    }

    #[test]
    fn a_batch_allocates_as_it_fills() {
        // A connection that sends little holds little: nothing before the first message,
        // then about what it held, never the whole batch up front.
        let mut enc = Encoder::new(Framing::V3);
        assert_eq!(enc.batch.capacity(), 0);
        enc.push(msg(b"hello", 0));
        assert!(enc.batch.capacity() < DEFAULT_BATCH / 8);
        let out = enc.io_slices().iter().map(|s| s.len()).sum::<usize>();
        assert_eq!(out, 7);
    }

    #[test]
    fn a_busy_connection_grows_its_read_buffer_and_batch_up_to_the_maximum() {
        // Reads: the buffer doubles only after a read that filled it.
        let mut dec = Decoder::with_buffer(Framing::V3, -1, 16).unwrap();
        assert_eq!(dec.feed(&[0u8; 10]), 10);
        dec.grow_buffer(64);
        assert_eq!(dec.read_buf().len(), 6, "not full: no growth");
        // A recycled buffer holds what was left in it: "read" six zero bytes for real.
        dec.read_buf().fill(0);
        dec.advance(6);
        dec.grow_buffer(64);
        // Eight empty frames were buffered and survive the growth.
        for _ in 0..8 {
            assert_eq!(dec.decode().unwrap().unwrap().size(), 0);
        }
        assert_eq!(dec.read_buf().len(), 32);
        dec.advance(32);
        dec.grow_buffer(40);
        // Capped at 40: the 32 unread bytes stay, 8 are free.
        assert_eq!(dec.read_buf().len(), 8);
        // Writes: the batch doubles at each call, up to the cap.
        let mut enc = Encoder::with_batch(Framing::V3, 16);
        for _ in 0..4 {
            enc.push(msg(b"abc", 0));
        }
        assert!(!enc.has_room(), "20 bytes pending in a 16-byte batch");
        enc.grow_batch(64);
        assert!(enc.has_room(), "grown to 32");
        for _ in 0..3 {
            enc.push(msg(b"abc", 0));
        }
        assert!(!enc.has_room(), "35 bytes pending in a 32-byte batch");
        enc.grow_batch(64);
        enc.grow_batch(64);
        enc.grow_batch(64);
        enc.shrink_batch(16);
        enc.grow_batch(64);
        for _ in 0..5 {
            enc.push(msg(b"abc", 0));
        }
        assert!(enc.has_room(), "60 bytes pending in the 64-byte cap");
        enc.push(msg(b"abc", 0));
        assert!(!enc.has_room(), "65 bytes: never past the cap");
        // Halved at each call, down to the floor.
        for _ in 0..4 {
            enc.shrink_batch(16);
        }
        let mut small = Encoder::with_batch(Framing::V3, 16);
        small.shrink_batch(32); // a floor above the batch leaves it as it is
        for e in [&mut enc, &mut small] {
            e.consume(e.pending());
            for _ in 0..3 {
                e.push(msg(b"abc", 0));
            }
            assert!(e.has_room(), "15 bytes pending in a 16-byte batch");
            e.push(msg(b"abc", 0));
            assert!(!e.has_room(), "20 bytes: the batch is 16 again");
        }
    }

    #[test]
    fn after_a_large_frame_shared_reads_are_short_so_the_next_body_is_read_in_place() {
        let mut dec = Decoder::with_buffer(Framing::V3, -1, 16).unwrap();
        dec.grow_buffer(64);
        assert_eq!(
            dec.read_buf().len(),
            16,
            "not grown: the buffer was not full"
        );
        assert_eq!(dec.feed(&[0u8; 16]), 16);
        dec.grow_buffer(64);
        for _ in 0..8 {
            assert!(dec.decode().unwrap().is_some());
        }
        assert_eq!(
            dec.read_buf().len(),
            32,
            "small frames: the whole (grown) buffer"
        );
        // A 100-byte frame (at least the 16-byte in-place threshold), all of it at once.
        let mut enc = Encoder::with_batch(Framing::V3, 16);
        enc.push(msg(&[7u8; 100], 0));
        let mut wire = Vec::new();
        for sl in enc.io_slices().iter() {
            wire.extend_from_slice(sl);
        }
        let mut off = 0;
        let m = loop {
            if let Some(m) = dec.decode().unwrap() {
                break m;
            }
            let b = dec.read_buf();
            let n = b.len().min(wire.len() - off);
            b[..n].copy_from_slice(&wire[off..off + n]);
            dec.advance(n);
            off += n;
        };
        assert_eq!(m.size(), 100);
        assert_eq!(
            dec.read_buf().len(),
            16,
            "after a large frame: one threshold's worth"
        );
        // A small frame puts it back.
        dec.feed(&[0, 1, b'x']);
        assert_eq!(dec.decode().unwrap().unwrap().data(), b"x");
        assert_eq!(dec.read_buf().len(), 32);
    }

    #[test]
    fn one_vectored_read_fills_a_large_body_and_what_follows_it() {
        let mut enc = Encoder::with_batch(Framing::V3, 16);
        enc.push(msg(&[9u8; 100], 0));
        enc.push(msg(b"next", 0));
        let mut wire = Vec::new();
        for sl in enc.io_slices().iter() {
            wire.extend_from_slice(sl);
        }
        let mut dec = Decoder::with_buffer(Framing::V3, -1, 16).unwrap();
        // The 2-byte header and 14 body bytes through the shared buffer.
        assert_eq!(dec.feed(&wire[..16]), 16);
        assert!(dec.decode().unwrap().is_none());
        let rest = &wire[16..];
        let [body, spill] = dec.read_bufs();
        assert_eq!(body.len(), 100 - 14, "the rest of the body, in place");
        assert_eq!(spill.len(), 16, "then the shared buffer");
        let (a, b) = rest.split_at(body.len());
        body.copy_from_slice(a);
        spill[..b.len()].copy_from_slice(b);
        dec.advance(rest.len());
        assert_eq!(dec.decode().unwrap().unwrap().data(), &[9u8; 100][..]);
        assert_eq!(dec.decode().unwrap().unwrap().data(), b"next");
        assert!(dec.decode().unwrap().is_none());
        assert!(dec.is_idle());
    }
}
