//! The receive buffer of one connection, whose bytes received messages can refer to
//! instead of being copied out ("zero-copy receive").
//!
//! Ownership and counting. The buffer is one heap block (the same [`Block`] header as a
//! heap message's, bytes from [`DATA_OFFSET`]). Its count starts at [`BIAS`]: the owner (the
//! engine's decoder, on its I/O thread) hands out references with [`RecvBuffer::share`]
//! counting them in a plain field, so the hot path has no atomic operation on the I/O side;
//! each message's last close decrements the shared count once, as for any heap message.
//! When the owner lets the block go it takes away the bias less what it handed out: the
//! count is then exactly the number of messages still alive, and whoever brings it to zero
//! frees the block. Before that the count stays above `BIAS - handed`, far from zero.
//!
//! Invariants:
//! - bytes below `floor` may be read by messages handed out (on any thread): the owner
//!   never writes there until [`RecvBuffer::restart`] proved that every such message is
//!   gone, or moved to a fresh block;
//! - every byte of the block is initialised (`msg_pool::alloc_init`), so every slice given
//!   out is.

use std::ops::Range;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Block, HeapRef, Kind, MetadataRef, Msg, Payload, Release, MAGIC};
use crate::msg_pool;

/// The owner's share of the count while it holds the block (see the module docs).
const BIAS: usize = isize::MAX as usize;

/// Where the bytes start: a cache line after the header, so that the count (written by the
/// threads that close messages) never shares a line with bytes being received.
const DATA_OFFSET: usize = 64;

/// A connection's receive buffer; see the module docs.
pub struct RecvBuffer {
    block: NonNull<Block>,
    cap: usize,
    /// References handed out since the block was last known to be unreferenced.
    handed: usize,
    /// Bytes below this may be referenced by messages handed out.
    floor: usize,
}

// SAFETY: the block is owned by this value and the messages it handed out; the count is
// atomic and the bytes the messages read are never written while they may live.
unsafe impl Send for RecvBuffer {}

impl RecvBuffer {
    /// A buffer of `cap` bytes (initialised, content unspecified); None when out of memory.
    pub fn new(cap: usize) -> Option<RecvBuffer> {
        let total = DATA_OFFSET.checked_add(cap)?;
        let (p, real) = msg_pool::alloc_init(total)?;
        let block = NonNull::new(p.cast::<Block>())?;
        // SAFETY: p is an allocation of at least `total` initialised bytes, aligned for a
        // Block at offset 0, and ours alone.
        unsafe {
            block.as_ptr().write(Block {
                refs: AtomicUsize::new(BIAS),
                release: Release::Recv,
                alloc_size: real,
            });
        }
        Some(RecvBuffer {
            block,
            cap,
            handed: 0,
            floor: 0,
        })
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.cap
    }

    /// Frees a block whose count has come to zero (the last message, or the owner).
    ///
    /// # Safety
    /// `block` heads a buffer from [`RecvBuffer::new`] that nothing refers to any more.
    pub(super) unsafe fn free_block(block: *mut Block) {
        // SAFETY: the block is live until freed here, from alloc_init with this size; the
        // header (whose padding the typed write left undefined) is zeroed first, so that
        // the buffer goes back with every byte initialised, as alloc_init promises.
        unsafe {
            let real = (*block).alloc_size;
            block.cast::<u8>().write_bytes(0, DATA_OFFSET);
            msg_pool::free_init(block.cast(), real);
        }
    }

    #[inline]
    fn data(&self) -> *mut u8 {
        // SAFETY: DATA_OFFSET lies within the allocation (see `new`).
        unsafe { self.block.as_ptr().cast::<u8>().add(DATA_OFFSET) }
    }

    /// The bytes in `r`, for reading: `r` must lie within the buffer, at or above everything
    /// handed out (messages may write their own bytes, through `zmq_msg_data`).
    ///
    /// Sound whatever `r` is: the slice starts at `floor` at the lowest, so it never covers
    /// bytes that a message handed out may be writing; a caller asking for bytes below
    /// `floor` gets a shorter slice (its own logic error, caught by the debug assertion in
    /// tests; the decoder reads only at or after its position, which is at or after
    /// `floor`). The clamp is a conditional move, not a second branch, on the path of every
    /// message received.
    #[inline]
    pub(crate) fn bytes(&self, r: Range<usize>) -> &[u8] {
        debug_assert!(self.floor <= r.start);
        let start = r.start.max(self.floor);
        assert!(start <= r.end && r.end <= self.cap);
        // SAFETY: in bounds and initialised (module invariants); nobody writes there while
        // `self` is borrowed: the owner writes only through `&mut self`, and no message
        // refers to bytes at or above `floor`, where the slice starts.
        unsafe { std::slice::from_raw_parts(self.data().add(start), r.end - start) }
    }

    /// The bytes in `r`, for writing: `r` must lie at or above everything handed out.
    pub fn bytes_mut(&mut self, r: Range<usize>) -> &mut [u8] {
        assert!(self.floor <= r.start && r.start <= r.end && r.end <= self.cap);
        // SAFETY: in bounds and initialised; no message refers to bytes at or above
        // `floor`, and `&mut self` excludes the owner's other borrows.
        unsafe { std::slice::from_raw_parts_mut(self.data().add(r.start), r.end - r.start) }
    }

    /// A message whose bytes are `r` of this buffer, without a copy. The bytes are never
    /// written again while the message (or a copy of it) lives.
    pub fn share(&mut self, r: Range<usize>) -> Msg {
        self.share_with(r, 0, None)
    }

    /// As [`share`](Self::share), with the message's flags and metadata (built in one
    /// piece, see `Msg::small_from`).
    #[inline]
    pub fn share_with(&mut self, r: Range<usize>, flags: u8, metadata: Option<MetadataRef>) -> Msg {
        assert!(r.start <= r.end && r.end <= self.cap);
        self.handed += 1;
        self.floor = self.floor.max(r.end);
        Msg {
            payload: Payload {
                heap: HeapRef {
                    block: self.block,
                    // SAFETY: in bounds (asserted above).
                    data: unsafe { self.data().add(r.start) },
                    len: r.end - r.start,
                },
            },
            metadata,
            routing_id: 0,
            flags,
            inline_len: 0,
            kind: Kind::Heap,
            magic: MAGIC,
        }
    }

    /// Moves the bytes `keep` to the front of a buffer of `cap` bytes that no message
    /// refers to: this one when every message it handed out is gone and the size stays,
    /// else a fresh one. False, with nothing changed, when out of memory.
    pub fn restart(&mut self, keep: Range<usize>, cap: usize) -> bool {
        assert!(keep.start <= keep.end && keep.end <= self.cap && keep.len() <= cap);
        if cap == self.cap && self.reclaim() {
            if keep.start > 0 {
                // SAFETY: no message is left (reclaim), both ranges are in bounds.
                unsafe {
                    std::ptr::copy(self.data().add(keep.start), self.data(), keep.len());
                }
            }
            return true;
        }
        let Some(mut fresh) = RecvBuffer::new(cap) else {
            return false;
        };
        fresh
            .bytes_mut(0..keep.len())
            .copy_from_slice(self.bytes(keep));
        *self = fresh; // drops the old block's owner share
        true
    }

    /// Whether no message refers to the block any more; if so, the owner may write
    /// anywhere again.
    pub fn reclaim(&mut self) -> bool {
        if self.handed == 0 {
            self.floor = 0;
            return true;
        }
        // SAFETY: the block lives while the owner does.
        let refs = unsafe { &self.block.as_ref().refs };
        // Every message handed out was closed exactly when the count fell by `handed`;
        // Acquire pairs with their Release decrements (their reads happened before).
        if refs.load(Ordering::Acquire) != BIAS - self.handed {
            return false;
        }
        // Nobody else refers to the block: a plain store restores the bias.
        refs.store(BIAS, Ordering::Relaxed);
        self.handed = 0;
        self.floor = 0;
        true
    }
}

impl Drop for RecvBuffer {
    fn drop(&mut self) {
        // Give up the owner's share: the count becomes the number of live messages.
        let share = BIAS - self.handed;
        // SAFETY: the block lives while the owner does; after the subtraction it belongs
        // to the live messages, or, when none is left, to us alone.
        unsafe {
            if self.block.as_ref().refs.fetch_sub(share, Ordering::AcqRel) == share {
                RecvBuffer::free_block(self.block.as_ptr());
            }
        }
    }
}

impl std::fmt::Debug for RecvBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBuffer")
            .field("cap", &self.cap)
            .field("handed", &self.handed)
            .field("floor", &self.floor)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(cap: usize, bytes: &[u8]) -> RecvBuffer {
        let mut b = RecvBuffer::new(cap).unwrap();
        b.bytes_mut(0..bytes.len()).copy_from_slice(bytes);
        b
    }

    #[test]
    fn shared_messages_see_their_bytes_without_a_copy() {
        let mut b = filled(64, b"helloworld");
        let at = b.bytes(0..5).as_ptr();
        let m = b.share(0..5);
        let n = b.share(5..10);
        assert_eq!(m.data(), b"hello");
        assert_eq!(n.data(), b"world");
        assert_eq!(m.data().as_ptr(), at, "no copy");
    }

    #[test]
    fn a_buffer_is_reused_in_place_once_its_messages_are_gone() {
        let mut b = filled(64, b"abcdefgh");
        let at = b.bytes(0..1).as_ptr();
        let m = b.share(0..4);
        drop(m);
        assert!(b.restart(4..8, 64));
        assert_eq!(b.bytes(0..1).as_ptr(), at, "same block");
        assert_eq!(b.bytes(0..4), b"efgh");
        // Everything is writable again.
        b.bytes_mut(0..64).fill(1);
    }

    #[test]
    fn a_live_message_keeps_its_bytes_and_the_owner_moves_on() {
        let mut b = filled(64, b"abcdefgh");
        let at = b.bytes(0..1).as_ptr();
        let mut m = b.share(0..4);
        assert!(
            !m.is_shared(),
            "bytes of a receive buffer are not a copy of the message"
        );
        let copy = m.share();
        assert!(m.is_shared() && copy.is_shared());
        assert!(b.restart(4..8, 64));
        assert_ne!(b.bytes(0..1).as_ptr(), at, "a fresh block");
        assert_eq!(b.bytes(0..4), b"efgh");
        b.bytes_mut(0..64).fill(9);
        assert_eq!(m.data(), b"abcd");
        drop(m);
        assert_eq!(copy.data(), b"abcd");
        drop(copy); // the last reference frees the old block
    }

    #[test]
    fn messages_outliving_their_buffer_free_it_last() {
        let mut b = filled(64, b"abcdefgh");
        let m1 = b.share(0..2);
        let m2 = b.share(2..4);
        drop(b);
        assert_eq!(m2.data(), b"cd");
        drop(m2);
        assert_eq!(m1.data(), b"ab");
        drop(m1);
    }

    #[test]
    fn growing_keeps_the_unread_bytes() {
        let mut b = filled(16, b"0123456789abcdef");
        let m = b.share(0..10);
        assert!(b.restart(10..16, 32));
        assert_eq!(b.len(), 32);
        assert_eq!(b.bytes(0..6), b"abcdef");
        assert_eq!(m.data(), b"0123456789");
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn bytes_under_a_live_message_are_never_read() {
        let mut b = filled(16, b"0123456789");
        let _m = b.share(0..4);
        // A caller breaking the contract gets the bytes from the floor on, not the message's.
        assert_eq!(b.bytes(2..8), b"4567");
    }

    #[test]
    #[should_panic]
    fn bytes_under_a_live_message_are_not_writable() {
        let mut b = filled(16, b"0123");
        let _m = b.share(0..4);
        b.bytes_mut(2..8);
    }

    #[test]
    fn messages_are_freed_across_threads() {
        let mut b = RecvBuffer::new(1 << 12).unwrap();
        for round in 0..50u8 {
            b.bytes_mut(0..4096).fill(round);
            let msgs: Vec<Msg> = (0..64).map(|i| b.share(i * 64..i * 64 + 64)).collect();
            let t = std::thread::spawn(move || {
                for m in &msgs {
                    assert!(m.data().iter().all(|&x| x == round));
                }
            });
            assert!(b.restart(4096..4096, 1 << 12));
            t.join().unwrap();
        }
    }
}
