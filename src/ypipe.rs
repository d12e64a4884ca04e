//! The lock-free single-producer single-consumer queue under every pipe (libzmq's `ypipe`).
//!
//! Items live in fixed-size chunks linked in a list. The writer appends items, marks the end
//! of each complete message (`write(item, incomplete)`), and publishes complete items with
//! [`Writer::flush`]. The one shared word `c` holds the number of items published so far, or
//! `ASLEEP` when the reader found nothing and went to sleep.
//!
//! Invariants:
//! - only the writer touches `Shared::w`; only the reader touches `Shared::r`;
//! - an item at position `p` is initialised iff `r.read <= p < w.written` (reader view: `< c`),
//!   except the one `Reader::read_with` hands its closure, at `r.read - 1`, which lives in its
//!   slot until that call drops it;
//! - `flush` returns `false` exactly when the reader was asleep: the caller must then wake it
//!   (libzmq's activate_read). Otherwise no syscall or command is needed — the hot path.
//! - `check_read` that finds nothing switches `c` to `ASLEEP` atomically, so a concurrent
//!   `flush` either publishes before (reader sees the data) or sees `ASLEEP` (writer wakes it).

// The lock-free queue under every pipe: items in raw chunk memory, published by atomics.
// One of the places DESIGN.md allows `unsafe`; each block says why it is sound.
#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;

const CHUNK: usize = 256;
const ASLEEP: u64 = u64::MAX;

/// Slots start on a cache line, so a 64-byte item (a `Msg`) fills exactly one: unaligned,
/// each item straddled two lines, and a reader right behind the writer (a PUB's I/O thread
/// draining pipes as fast as the socket fills them) took a line the writer was still
/// writing the next item into, at every item. Measured on fan-out to 10 SUBs over tcp: the
/// run fell into that lock-step about half the time, at half the delivered rate.
#[repr(C, align(64))]
struct Chunk<T> {
    slots: [UnsafeCell<MaybeUninit<T>>; CHUNK],
    next: AtomicPtr<Chunk<T>>,
    /// The chunk before this one; used by the writer alone, to step back in `unwrite`.
    prev: UnsafeCell<*mut Chunk<T>>,
}

impl<T> Chunk<T> {
    fn alloc() -> *mut Chunk<T> {
        Box::into_raw(Box::new(Chunk {
            slots: std::array::from_fn(|_| UnsafeCell::new(MaybeUninit::uninit())),
            next: AtomicPtr::new(ptr::null_mut()),
            prev: UnsafeCell::new(ptr::null_mut()),
        }))
    }
}

/// The writer's and the reader's private state each fill their own cache line(s): one
/// thread updates them on every item, and sharing a line with the other's (or with `c`)
/// would move that line between the two cores on every item.
#[repr(align(64))]
struct WriterState<T> {
    back: *mut Chunk<T>,
    back_start: u64,
    written: u64,
    complete: u64,
    published: u64,
}

#[repr(align(64))]
struct ReaderState<T> {
    front: *mut Chunk<T>,
    front_start: u64,
    read: u64,
    avail: u64,
}

struct Shared<T> {
    c: AtomicU64,
    spare: AtomicPtr<Chunk<T>>,
    w: UnsafeCell<WriterState<T>>,
    r: UnsafeCell<ReaderState<T>>,
}

// SAFETY: `w` is only accessed through the unique Writer, `r` through the unique Reader, and
// items cross threads only through the Release/Acquire pair on `c`; T itself must be Send.
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as above: each UnsafeCell has exactly one accessing handle.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // Both handles are gone: drop the items still queued and free every chunk.
        let (w, r) = (self.w.get_mut(), self.r.get_mut());
        let mut chunk = r.front;
        let mut start = r.front_start;
        let mut pos = r.read;
        while pos < w.written {
            if pos == start + CHUNK as u64 {
                // SAFETY: chunks are linked up to the writer's back chunk.
                let next = unsafe { (*chunk).next.load(Ordering::Acquire) };
                // SAFETY: chunk was allocated by Chunk::alloc and is no longer referenced.
                drop(unsafe { Box::from_raw(chunk) });
                chunk = next;
                start += CHUNK as u64;
            }
            // SAFETY: positions in [read, written) are initialised.
            unsafe { (*(*chunk).slots[(pos - start) as usize].get()).assume_init_drop() };
            pos += 1;
        }
        while !chunk.is_null() {
            // SAFETY: remaining chunks in the list are owned by the queue alone.
            let next = unsafe { (*chunk).next.load(Ordering::Acquire) };
            // SAFETY: each chunk came from `Box::into_raw` and is freed once, here.
            drop(unsafe { Box::from_raw(chunk) });
            chunk = next;
        }
        let spare = self.spare.swap(ptr::null_mut(), Ordering::Acquire);
        if !spare.is_null() {
            // SAFETY: the spare chunk is owned by the queue alone.
            drop(unsafe { Box::from_raw(spare) });
        }
    }
}

/// The producing end.
pub struct Writer<T> {
    shared: Arc<Shared<T>>,
}

/// The consuming end.
pub struct Reader<T> {
    shared: Arc<Shared<T>>,
}

// SAFETY: a Writer/Reader is the unique accessor of its half; moving it to another thread is
// fine when T is Send.
unsafe impl<T: Send> Send for Writer<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Reader<T> {}

/// A new empty queue; the reader starts awake.
pub fn ypipe<T>() -> (Writer<T>, Reader<T>) {
    let first = Chunk::alloc();
    let shared = Arc::new(Shared {
        c: AtomicU64::new(0),
        spare: AtomicPtr::new(ptr::null_mut()),
        w: UnsafeCell::new(WriterState {
            back: first,
            back_start: 0,
            written: 0,
            complete: 0,
            published: 0,
        }),
        r: UnsafeCell::new(ReaderState {
            front: first,
            front_start: 0,
            read: 0,
            avail: 0,
        }),
    });
    (
        Writer {
            shared: shared.clone(),
        },
        Reader { shared },
    )
}

impl<T> Writer<T> {
    #[allow(clippy::mut_from_ref)]
    fn state(&mut self) -> &mut WriterState<T> {
        // SAFETY: the writer state is only reached through this unique &mut Writer.
        unsafe { &mut *self.shared.w.get() }
    }

    /// Appends an item; `incomplete` means more parts of the same message follow, so the
    /// item is not flushable yet.
    pub fn write(&mut self, item: T, incomplete: bool) {
        let slot = self.free_slot();
        // SAFETY: `free_slot` gives the unused, unseen slot at `written`, ours to fill.
        unsafe { (*slot).write(item) };
        self.commit(incomplete);
    }

    /// Appends an item built in its slot by `fill`, with no temporary on the way (see
    /// DESIGN.md, "The message path"): `fill` writes the slot (`MaybeUninit::write`) and
    /// returns the item it wrote there with whether more parts of the same message follow,
    /// or returns None (then nothing is appended). An item returned from anywhere but the
    /// slot is not appended either (checked: an unwritten slot is never published). Returns
    /// whether an item was appended.
    #[inline]
    pub fn write_with(
        &mut self,
        fill: impl for<'a> FnOnce(&'a mut MaybeUninit<T>) -> Option<(&'a mut T, bool)>,
    ) -> bool {
        let slot = self.free_slot();
        let at = slot.cast::<T>().cast_const();
        // SAFETY: the slot at `written` is unused and unseen, so ours to fill; a slot that
        // `fill` leaves unwritten is not appended and never read.
        match fill(unsafe { &mut *slot }) {
            Some((item, incomplete)) if ptr::eq(item, at) => {
                self.commit(incomplete);
                true
            }
            _ => false,
        }
    }

    /// The slot at `written`, linking a new chunk first when the back one is full.
    #[inline]
    fn free_slot(&mut self) -> *mut MaybeUninit<T> {
        let spare = &self.shared.spare;
        // SAFETY: unique access to the writer state, see `state`.
        let w = unsafe { &mut *self.shared.w.get() };
        if w.written == w.back_start + CHUNK as u64 {
            // SAFETY: back is a live chunk; only the writer links chunks.
            let linked = unsafe { (*w.back).next.load(Ordering::Relaxed) };
            let next = if !linked.is_null() {
                // Linked before an `unwrite` stepped back: its items were never published.
                linked
            } else {
                let mut next = spare.swap(ptr::null_mut(), Ordering::Acquire);
                if next.is_null() {
                    next = Chunk::alloc();
                } else {
                    // SAFETY: the spare chunk is exclusively ours now.
                    unsafe { (*next).next.store(ptr::null_mut(), Ordering::Relaxed) };
                }
                // SAFETY: next is exclusively the writer's until published; back is live and
                // the reader follows `next` only after a later publish.
                unsafe {
                    *(*next).prev.get() = w.back;
                    (*w.back).next.store(next, Ordering::Release);
                }
                next
            };
            w.back = next;
            w.back_start += CHUNK as u64;
        }
        let idx = (w.written - w.back_start) as usize;
        // SAFETY: slot idx of the live back chunk is beyond `written`, so unused and unseen.
        unsafe { (*w.back).slots[idx].get() }
    }

    /// Counts the slot at `written` (just filled) as written.
    #[inline]
    fn commit(&mut self, incomplete: bool) {
        let w = self.state();
        w.written += 1;
        if !incomplete {
            w.complete = w.written;
        }
    }

    /// Takes back the last written item if it is not part of a complete message.
    pub fn unwrite(&mut self) -> Option<T> {
        let w = self.state();
        if w.written == w.complete {
            return None;
        }
        w.written -= 1;
        if w.written < w.back_start {
            // The unfinished message started in the previous chunk. The reader cannot have
            // released that chunk: it holds unpublished items.
            // SAFETY: `prev` is writer-only and was set when `back` was linked.
            w.back = unsafe { *(*w.back).prev.get() };
            w.back_start -= CHUNK as u64;
        }
        let idx = (w.written - w.back_start) as usize;
        // SAFETY: the item at `written` was initialised and never published.
        Some(unsafe { (*(*w.back).slots[idx].get()).assume_init_read() })
    }

    /// Publishes all complete items. Returns `false` when the reader was asleep and must be
    /// woken by the caller.
    pub fn flush(&mut self) -> bool {
        let shared = &*self.shared;
        // SAFETY: unique access to the writer state through &mut self.
        let w = unsafe { &mut *shared.w.get() };
        if w.published == w.complete {
            return true;
        }
        let target = w.complete;
        match shared
            .c
            .compare_exchange(w.published, target, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                w.published = target;
                true
            }
            Err(_) => {
                // The reader marked itself asleep; publish and tell the caller to wake it.
                shared.c.store(target, Ordering::Release);
                w.published = target;
                false
            }
        }
    }
}

impl<T> Reader<T> {
    /// Whether an item can be read. When none can, the reader is now asleep: the writer's
    /// next `flush` returns `false` so that the reader is woken.
    pub fn check_read(&mut self) -> bool {
        if self.peek_read() {
            return true;
        }
        let shared = &*self.shared;
        // SAFETY: unique access to the reader state through &mut self.
        let r = unsafe { &mut *shared.r.get() };
        match shared
            .c
            .compare_exchange(r.read, ASLEEP, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => false,
            Err(ASLEEP) => false,
            Err(v) => {
                r.avail = v;
                r.read < v
            }
        }
    }

    /// Whether an item can be read, without going to sleep when none can: the writer's
    /// flushes go on succeeding, so the caller must look again later (or call `check_read`).
    pub fn peek_read(&mut self) -> bool {
        let shared = &*self.shared;
        // SAFETY: unique access to the reader state through &mut self.
        let r = unsafe { &mut *shared.r.get() };
        if r.read < r.avail {
            return true;
        }
        // A plain look: it does not write the shared line (which the writer's next flush
        // would have to take back).
        let v = shared.c.load(Ordering::Acquire);
        if v != ASLEEP && v != r.read {
            r.avail = v;
            return r.read < v;
        }
        false
    }

    /// Whether an item can be read: with `sleep` as [`check_read`](Self::check_read) (a
    /// reader that finds none goes to sleep), without as [`peek_read`](Self::peek_read).
    #[inline]
    fn ready(&mut self, sleep: bool) -> bool {
        if sleep {
            self.check_read()
        } else {
            self.peek_read()
        }
    }

    /// Reads the next published item, if any (see `check_read` for sleeping).
    pub fn read(&mut self) -> Option<T> {
        if !self.check_read() {
            return None;
        }
        self.take()
    }

    /// As [`read`](Self::read), moving the item straight from its slot into `dst`, with no
    /// temporary on the way: `dst`'s old value is overwritten, not dropped (the caller
    /// empties it first). Returns whether an item was read. With `sleep`, a reader that
    /// finds nothing goes to sleep as in `read`; without, it only looks (`peek_read`), and
    /// must look again later or end with a sleeping read.
    #[inline]
    pub fn read_into(&mut self, dst: &mut T, sleep: bool) -> bool {
        if !self.ready(sleep) {
            return false;
        }
        let slot = self.next_slot();
        // SAFETY: `next_slot` hands out each published item once; `dst` is a live, unique
        // place, and its old value is forgotten (not dropped), which is safe.
        unsafe { ptr::copy_nonoverlapping(slot, dst, 1) };
        true
    }

    /// Reads the next published item where it lies: `f` gets it in its slot (and may take
    /// it, leaving a value behind), then what is left is dropped there; no move of the item
    /// on the way. None when nothing can be read; `sleep` as in
    /// [`read_into`](Self::read_into).
    #[inline]
    pub fn read_with<R>(&mut self, sleep: bool, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        if !self.ready(sleep) {
            return None;
        }
        let slot = self.next_slot();
        // SAFETY: `next_slot` hands out each published item once, so it is ours alone; it
        // stays in its slot until the reader's next call, after this one.
        let r = f(unsafe { &mut *slot });
        // SAFETY: as above; `f` left a valid item there, dropped once, here (if `f`
        // panics it is leaked instead, never dropped twice).
        unsafe { ptr::drop_in_place(slot) };
        Some(r)
    }

    /// Takes the next item, known to be published.
    fn take(&mut self) -> Option<T> {
        let slot = self.next_slot();
        // SAFETY: the item is published and `next_slot` hands it out exactly once.
        Some(unsafe { ptr::read(slot) })
    }

    /// The slot of the next item, known to be published, which the reader now owns: the
    /// caller moves the item out of it before the next call.
    #[inline]
    fn next_slot(&mut self) -> *mut T {
        let spare = &self.shared.spare;
        // SAFETY: unique access to the reader state.
        let r = unsafe { &mut *self.shared.r.get() };
        if r.read == r.front_start + CHUNK as u64 {
            // SAFETY: the writer linked `next` before publishing any item in it.
            let next = unsafe { (*r.front).next.load(Ordering::Acquire) };
            let old = spare.swap(r.front, Ordering::AcqRel);
            if !old.is_null() {
                // SAFETY: the previous spare is owned by the queue alone.
                drop(unsafe { Box::from_raw(old) });
            }
            r.front = next;
            r.front_start += CHUNK as u64;
        }
        let idx = (r.read - r.front_start) as usize;
        r.read += 1;
        // SAFETY: the item is published (read < avail). Its chunk is not handed back to the
        // writer (`spare`) before the reader's next call moves past it.
        unsafe { (*r.front).slots[idx].get().cast::<T>() }
    }

    /// A reference to the next item without taking it.
    pub fn probe(&mut self) -> Option<&T> {
        if !self.check_read() {
            return None;
        }
        // SAFETY: unique access to the reader state.
        let r = unsafe { &mut *self.shared.r.get() };
        let (chunk, idx) = if r.read == r.front_start + CHUNK as u64 {
            // SAFETY: as in `read`.
            (unsafe { (*r.front).next.load(Ordering::Acquire) }, 0)
        } else {
            (r.front, (r.read - r.front_start) as usize)
        };
        // SAFETY: the item is published and stays until `read` takes it.
        Some(unsafe { (*(*chunk).slots[idx].get()).assume_init_ref() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_across_chunks() {
        let (mut w, mut r) = ypipe::<u64>();
        for i in 0..1000 {
            w.write(i, false);
        }
        w.flush();
        for i in 0..1000 {
            assert_eq!(r.read(), Some(i));
        }
        assert_eq!(r.read(), None);
    }

    #[test]
    fn incomplete_items_are_not_published_and_can_be_unwritten() {
        let (mut w, mut r) = ypipe::<u32>();
        w.write(1, true);
        w.write(2, true);
        assert!(w.flush());
        assert_eq!(r.read(), None);
        assert_eq!(w.unwrite(), Some(2));
        w.write(3, false);
        assert!(
            !w.flush(),
            "reader went to sleep, flush must ask to wake it"
        );
        assert_eq!(r.read(), Some(1));
        assert_eq!(r.read(), Some(3));
    }

    #[test]
    fn an_item_built_in_its_slot_is_written_and_one_left_unbuilt_is_not() {
        let (mut w, mut r) = ypipe::<Box<u32>>();
        for i in 0..600u32 {
            assert!(!w.write_with(|_| None), "nothing built, nothing written");
            assert!(w.write_with(|slot| Some((slot.write(Box::new(i)), i % 2 == 0))));
        }
        w.flush();
        for i in 0..600u32 {
            assert_eq!(r.read().as_deref(), Some(&i));
        }
        assert_eq!(r.read(), None);
    }

    #[test]
    #[cfg_attr(miri, ignore)] // leaks the item from elsewhere on purpose (it must be 'static)
    fn an_item_from_elsewhere_than_its_slot_is_not_written() {
        let (mut w, mut r) = ypipe::<u32>();
        let elsewhere: &'static mut u32 = Box::leak(Box::new(5));
        assert!(!w.write_with(|_| Some((elsewhere, false))));
        w.write(6, false);
        w.flush();
        assert_eq!(r.read(), Some(6));
        assert_eq!(r.read(), None);
    }

    #[test]
    fn an_item_read_where_it_lies_is_dropped_there_unless_taken() {
        let (mut w, mut r) = ypipe::<Box<u32>>();
        for i in 0..600u32 {
            w.write(Box::new(i), false);
        }
        w.flush();
        let mut taken = Vec::new();
        for i in 0..600u32 {
            let got = r.read_with(false, |b| {
                assert_eq!(**b, i);
                if i % 3 == 0 {
                    taken.push(std::mem::replace(b, Box::new(0)));
                }
            });
            assert_eq!(got, Some(()));
        }
        assert_eq!(r.read_with(true, |_| ()), None);
        assert_eq!(taken.len(), 200);
        w.write(Box::new(7), false);
        assert!(!w.flush(), "the reader went to sleep");
        assert_eq!(r.read_with(true, |b| **b), Some(7));
    }

    #[test]
    fn flush_reports_a_sleeping_reader_once() {
        let (mut w, mut r) = ypipe::<u32>();
        w.write(1, false);
        assert!(w.flush(), "reader starts awake");
        assert_eq!(r.read(), Some(1));
        assert_eq!(r.read(), None);
        w.write(2, false);
        assert!(!w.flush());
        w.write(3, false);
        assert!(w.flush());
        assert_eq!(r.probe(), Some(&2));
        assert_eq!(r.read(), Some(2));
        assert_eq!(r.read(), Some(3));
    }

    #[test]
    fn a_reader_that_only_looks_stays_awake_until_it_reads() {
        let (mut w, mut r) = ypipe::<u32>();
        let mut got = 0;
        assert!(!r.read_into(&mut got, false), "nothing yet, and no sleep");
        w.write(1, false);
        assert!(w.flush(), "the reader did not sleep: no wake-up");
        assert!(r.peek_read());
        assert!(r.read_into(&mut got, false));
        assert_eq!(got, 1);
        assert!(!r.read_into(&mut got, false));
        w.write(2, false);
        assert!(w.flush(), "still awake");
        assert!(r.read_into(&mut got, false));
        assert_eq!(got, 2);
        // The last look is a read that may sleep: it sleeps, and the next flush must wake it.
        assert!(!r.read_into(&mut got, true));
        w.write(3, false);
        assert!(!w.flush());
        assert!(r.read_into(&mut got, false));
        assert_eq!(got, 3);
    }

    #[test]
    fn read_into_moves_the_item_and_forgets_what_it_overwrites() {
        let a = Arc::new(1);
        let b = Arc::new(2);
        let (mut w, mut r) = ypipe();
        w.write(a.clone(), false);
        w.flush();
        // The caller emptied `dst` first in the library; here it holds a clone of `b`,
        // which is overwritten and forgotten: b's count stays raised.
        let mut dst = b.clone();
        assert!(r.read_into(&mut dst, true));
        assert!(Arc::ptr_eq(&dst, &a));
        assert_eq!(Arc::strong_count(&a), 2, "moved, not cloned");
        assert_eq!(Arc::strong_count(&b), 2, "not dropped");
        drop(dst);
        assert_eq!(Arc::strong_count(&a), 1);
        // SAFETY: undo the forgotten clone so that the test ends balanced.
        unsafe { Arc::decrement_strong_count(Arc::as_ptr(&b)) };
        assert_eq!(Arc::strong_count(&b), 1);
        // Across chunks, in order.
        let (mut w, mut r) = ypipe::<u64>();
        for i in 0..(3 * CHUNK as u64) {
            w.write(i, false);
        }
        w.flush();
        let mut got = 0;
        for i in 0..(3 * CHUNK as u64) {
            assert!(r.read_into(&mut got, i % 2 == 0));
            assert_eq!(got, i);
        }
        assert!(!r.read_into(&mut got, true));
    }

    #[test]
    fn unwrite_steps_back_across_chunks() {
        let (mut w, mut r) = ypipe::<u32>();
        for i in 0..250 {
            w.write(i, false);
        }
        for i in 0..20 {
            w.write(1000 + i, true);
        }
        let mut back = Vec::new();
        while let Some(v) = w.unwrite() {
            back.push(v);
        }
        assert_eq!(back.len(), 20);
        assert_eq!(back[0], 1019);
        for i in 0..300 {
            w.write(2000 + i, false);
        }
        w.flush();
        for i in 0..250 {
            assert_eq!(r.read(), Some(i));
        }
        for i in 0..300 {
            assert_eq!(r.read(), Some(2000 + i));
        }
        assert_eq!(r.read(), None);
    }

    #[test]
    fn drops_unread_items() {
        let item = Arc::new(());
        let (mut w, r) = ypipe();
        for _ in 0..600 {
            w.write(item.clone(), false);
        }
        w.flush();
        drop(r);
        drop(w);
        assert_eq!(Arc::strong_count(&item), 1);
    }

    #[test]
    fn two_threads_no_loss_no_reorder() {
        let (mut w, mut r) = ypipe::<u64>();
        let n: u64 = if cfg!(miri) { 2_000 } else { 200_000 };
        let t = std::thread::spawn(move || {
            for i in 0..n {
                w.write(i, false);
                w.flush();
            }
        });
        let mut next = 0;
        while next < n {
            if let Some(v) = r.read() {
                assert_eq!(v, next);
                next += 1;
            } else {
                std::hint::spin_loop();
            }
        }
        t.join().unwrap();
    }
}
