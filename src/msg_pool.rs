//! Recycling of message buffers between threads.
//!
//! A large message is allocated by the sending thread and freed by the receiving one; with
//! the C library's malloc that round trip costs an arena lock and often page faults on every
//! message. Here freed buffers of common sizes go into a small bounded lock-free queue per
//! size class, and the next allocation of that class takes one back.
//!
//! Size classes: four per power of two, from 65 bytes to 256 KiB (48 classes). Each class keeps
//! at most about 1 MiB (8 to 8192 buffers: a queue of small messages between a fast writer and a slower
//! reader must not fall back to malloc), and a class of up to 2 KiB at least 2048 buffers (a
//! burst freed by the reader of a full default-HWM queue); what does not fit is freed normally. Buffers kept
//! here stay allocated for the life of the process.
//!
//! In front of the rings, each thread keeps the last few small buffers it freed (up to 8 per
//! class up to 1 KiB, about 50 KB at most per thread) for its own next allocations, without
//! an atomic operation; they go to the rings when the thread ends.
//!
//! Connections' receive buffers (`msg::RecvBuffer`) have rings of their own, larger (they
//! are few and each one can be held by the messages received into it) and holding only
//! buffers whose every byte was written: they are zeroed once, when first allocated, and
//! never again ([`alloc_init`], [`free_init`]).
//!
//! The queue is the classic bounded multi-producer multi-consumer ring with one sequence
//! number per slot: a slot is writable when its sequence equals the enqueue position and
//! readable when it equals the dequeue position + 1.

// Recycled raw buffers in lock-free rings: part of the message buffer, one of the places
// DESIGN.md allows `unsafe`; each block says why it is sound.
#![allow(unsafe_code)]

use std::alloc::{alloc, alloc_zeroed, dealloc, Layout};
use std::cell::{RefCell, UnsafeCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

const CLASSES: usize = 48;
const MIN_SIZE: usize = 65;
const MAX_SIZE: usize = 1 << 18;
const CLASS_BYTES: usize = 1 << 20;
/// What each class of initialised buffers keeps at most.
const INIT_CLASS_BYTES: usize = 4 << 20;
/// Alignment of every buffer (the block header needs 8).
pub const ALIGN: usize = 8;

/// Buffers of at least this size start on a cache line of their own: a message's header
/// (with its reference count, written by the thread that frees it) then never shares a line
/// with another message being written by another thread (measured: 1 KiB messages over tcp
/// +25 %). Smaller ones keep [`ALIGN`]: for them the padding costs more than it saves.
const LINE_FROM: usize = 256;

/// The alignment of a buffer of `real` bytes (the same at allocation and at release).
fn align_of_size(real: usize) -> usize {
    if real >= LINE_FROM {
        64
    } else {
        ALIGN
    }
}

/// The size class of an allocation of `size` bytes: its index and the size it rounds up to.
pub fn class_of(size: usize) -> Option<(usize, usize)> {
    if !(MIN_SIZE..=MAX_SIZE).contains(&size) {
        return None;
    }
    // size is in (2^e, 2^(e+1)], split into four equal steps.
    let e = (usize::BITS - 1 - (size - 1).leading_zeros()) as usize;
    let base = 1usize << e;
    let step = base >> 2;
    let q = (size - base).div_ceil(step) - 1;
    Some(((e - 6) * 4 + q, base + (q + 1) * step))
}

#[repr(align(64))]
struct Padded(AtomicUsize);

struct Slot {
    seq: AtomicUsize,
    ptr: UnsafeCell<*mut u8>,
}

struct Ring {
    slots: Box<[Slot]>,
    mask: usize,
    enqueue: Padded,
    dequeue: Padded,
}

// SAFETY: a slot's pointer is written only by the thread that claimed the slot for writing
// and read only by the one that claimed it for reading; the sequence number's Release/Acquire
// orders those accesses.
unsafe impl Sync for Ring {}
// SAFETY: as above; the raw pointers are plain buffers owned by whoever holds them.
unsafe impl Send for Ring {}

impl Ring {
    fn new(cap: usize) -> Ring {
        let slots = (0..cap)
            .map(|i| Slot {
                seq: AtomicUsize::new(i),
                ptr: UnsafeCell::new(std::ptr::null_mut()),
            })
            .collect();
        Ring {
            slots,
            mask: cap - 1,
            enqueue: Padded(AtomicUsize::new(0)),
            dequeue: Padded(AtomicUsize::new(0)),
        }
    }

    /// Stores `p` for a later [`Ring::pop`]; false when the ring is full.
    ///
    /// # Safety
    /// `p` must be a buffer of this ring's class size (and alignment) from the global
    /// allocator that nobody uses any more: `pop` hands it out as a fresh buffer.
    unsafe fn push(&self, p: *mut u8) -> bool {
        let mut pos = self.enqueue.0.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[pos & self.mask];
            let seq = slot.seq.load(Ordering::Acquire);
            let dif = seq as isize - pos as isize;
            if dif == 0 {
                match self.enqueue.0.compare_exchange_weak(
                    pos,
                    pos + 1,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: this thread claimed the slot for writing (see the type docs).
                        unsafe { *slot.ptr.get() = p };
                        slot.seq.store(pos + 1, Ordering::Release);
                        return true;
                    }
                    Err(now) => pos = now,
                }
            } else if dif < 0 {
                return false;
            } else {
                pos = self.enqueue.0.load(Ordering::Relaxed);
            }
        }
    }

    fn pop(&self) -> Option<*mut u8> {
        let mut pos = self.dequeue.0.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[pos & self.mask];
            let seq = slot.seq.load(Ordering::Acquire);
            let dif = seq as isize - (pos + 1) as isize;
            if dif == 0 {
                match self.dequeue.0.compare_exchange_weak(
                    pos,
                    pos + 1,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: this thread claimed the slot for reading.
                        let p = unsafe { *slot.ptr.get() };
                        slot.seq.store(pos + self.mask + 1, Ordering::Release);
                        return Some(p);
                    }
                    Err(now) => pos = now,
                }
            } else if dif < 0 {
                return None;
            } else {
                pos = self.dequeue.0.load(Ordering::Relaxed);
            }
        }
    }
}

static RINGS: [OnceLock<Ring>; CLASSES] = [const { OnceLock::new() }; CLASSES];
static INIT_RINGS: [OnceLock<Ring>; CLASSES] = [const { OnceLock::new() }; CLASSES];

/// Buffers a ring of a class up to [`SMALL_KEPT_UP_TO`] bytes keeps at least, whatever its
/// byte budget: a queue at the default HWM (1000 each way: an inproc pipe holds 2000) is freed
/// in bursts by its reader, and a ring that cannot hold the burst sends the rest to `free`
/// while the writer mallocs new ones (measured: 1 KiB messages, whose 1280-byte class had
/// 512 slots, ran at 0.72x libzmq on one CPU; 900-byte ones, 1024 slots, did not).
const SMALL_KEPT: usize = 2048;
/// See [`SMALL_KEPT`] (at most 4 MiB kept per such class).
const SMALL_KEPT_UP_TO: usize = 2048;

/// A ring of at most about `bytes` of buffers of `class_size` (a power of two of slots, 8 to
/// 8192), or of [`SMALL_KEPT`] small ones.
fn new_ring(bytes: usize, class_size: usize) -> Ring {
    let mut cap = (bytes / class_size).clamp(8, 8192);
    if class_size <= SMALL_KEPT_UP_TO {
        cap = cap.max(SMALL_KEPT);
    }
    Ring::new(cap.next_power_of_two() / if cap.is_power_of_two() { 1 } else { 2 })
}

fn ring(class: usize, class_size: usize) -> &'static Ring {
    RINGS[class].get_or_init(|| new_ring(CLASS_BYTES, class_size))
}

fn init_ring(class: usize, class_size: usize) -> &'static Ring {
    INIT_RINGS[class].get_or_init(|| new_ring(INIT_CLASS_BYTES, class_size))
}

/// Classes (up to 1 KiB) whose buffers a thread also keeps for itself.
const LOCAL_CLASSES: usize = 16;
/// Buffers a thread keeps per such class.
const LOCAL_DEPTH: usize = 8;

/// The buffers of small classes this thread freed last, taken back by its next allocations
/// without an atomic operation: a message built and dropped by one thread (a PUB send no
/// subscriber matches, a part dropped at the HWM) then costs no trip through the ring.
/// Messages that cross threads still go through the rings: the freeing thread's stack
/// fills, and what does not fit goes to the ring. Given back when the thread ends.
struct Local {
    bufs: [[*mut u8; LOCAL_DEPTH]; LOCAL_CLASSES],
    len: [u8; LOCAL_CLASSES],
}

impl Drop for Local {
    fn drop(&mut self) {
        for (c, bufs) in self.bufs.iter().enumerate() {
            for &p in &bufs[..usize::from(self.len[c])] {
                let real = class_size(c);
                // SAFETY: each kept buffer came from `take` with its class's size and is
                // used by nobody (it was given back).
                unsafe { give(p, real, ring) };
            }
        }
    }
}

thread_local! {
    static LOCAL: RefCell<Local> = const {
        RefCell::new(Local {
            bufs: [[std::ptr::null_mut(); LOCAL_DEPTH]; LOCAL_CLASSES],
            len: [0; LOCAL_CLASSES],
        })
    };
}

/// The size of class `c`'s buffers (the inverse of [`class_of`]).
fn class_size(c: usize) -> usize {
    let base = 1usize << (c / 4 + 6);
    base + (c % 4 + 1) * (base >> 2)
}

/// A buffer of at least `size` bytes (aligned to [`ALIGN`]) and its real size, to give back
/// to [`free_buf`]. None when out of memory.
pub fn alloc_buf(size: usize) -> Option<(*mut u8, usize)> {
    if let Some((c, s)) = class_of(size).filter(|&(c, _)| c < LOCAL_CLASSES) {
        // (While the thread ends, its stack is gone: the ring serves.)
        let kept = LOCAL
            .try_with(|l| {
                let mut l = l.try_borrow_mut().ok()?;
                let n = l.len[c].checked_sub(1)?;
                l.len[c] = n;
                Some(l.bufs[c][usize::from(n)])
            })
            .ok()
            .flatten();
        if let Some(p) = kept {
            return Some((p, s));
        }
    }
    take(size, ring, alloc)
}

/// Gives back a buffer from [`alloc_buf`] with the size it returned.
///
/// # Safety
/// `p` must come from `alloc_buf` with this `real` size, and not be used afterwards.
pub unsafe fn free_buf(p: *mut u8, real: usize) {
    if let Some((c, _)) = class_of(real).filter(|&(c, s)| c < LOCAL_CLASSES && s == real) {
        let kept = LOCAL
            .try_with(|l| {
                let Ok(mut l) = l.try_borrow_mut() else {
                    return false;
                };
                let n = usize::from(l.len[c]);
                if n == LOCAL_DEPTH {
                    return false;
                }
                l.bufs[c][n] = p;
                l.len[c] += 1;
                true
            })
            .unwrap_or(false);
        if kept {
            return;
        }
    }
    // SAFETY: the caller's contract, passed on.
    unsafe { give(p, real, ring) }
}

/// As [`alloc_buf`], but every byte of the buffer is initialised: zeroed when newly
/// allocated, or as its last user left it. Give it back with [`free_init`].
pub fn alloc_init(size: usize) -> Option<(*mut u8, usize)> {
    take(size, init_ring, alloc_zeroed)
}

/// Gives back a buffer from [`alloc_init`] with the size it returned.
///
/// # Safety
/// `p` must come from `alloc_init` with this `real` size, and not be used afterwards.
pub unsafe fn free_init(p: *mut u8, real: usize) {
    // SAFETY: the caller's contract, passed on.
    unsafe { give(p, real, init_ring) }
}

/// A buffer of `size` bytes or more from the class's ring in `rings`, else from `allocate`.
#[inline(always)]
fn take(
    size: usize,
    rings: fn(usize, usize) -> &'static Ring,
    allocate: unsafe fn(Layout) -> *mut u8,
) -> Option<(*mut u8, usize)> {
    let real = match class_of(size) {
        Some((c, s)) => {
            if let Some(p) = rings(c, s).pop() {
                return Some((p, s));
            }
            s
        }
        None => size,
    };
    let layout = Layout::from_size_align(real, align_of_size(real)).ok()?;
    if layout.size() == 0 {
        // (Callers allocate a header at least; a zero-size allocation would be undefined.)
        return None;
    }
    // SAFETY: the layout has a non-zero size (checked above).
    let p = unsafe { allocate(layout) };
    (!p.is_null()).then_some((p, real))
}

/// Puts a buffer from [`take`] with the same `rings` back in its ring, or frees it.
///
/// # Safety
/// `p` must come from `take` with these `rings` and this `real` size, and not be used
/// afterwards.
#[inline(always)]
unsafe fn give(p: *mut u8, real: usize, rings: fn(usize, usize) -> &'static Ring) {
    if let Some((c, s)) = class_of(real) {
        // SAFETY: the caller's contract: a buffer of the class's size, no longer used.
        if s == real && unsafe { rings(c, s).push(p) } {
            return;
        }
    }
    // SAFETY: allocated by `take` with this size and its alignment.
    unsafe {
        dealloc(
            p,
            Layout::from_size_align_unchecked(real, align_of_size(real)),
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_round_up_by_quarters() {
        assert_eq!(class_of(64), None);
        assert_eq!(class_of(65), Some((0, 80)));
        assert_eq!(class_of(128), Some((3, 128)));
        assert_eq!(class_of(129), Some((4, 160)));
        assert_eq!(class_of(65536 + 24), Some((10 * 4, 81920)));
        assert_eq!(class_of(1 << 18), Some((47, 1 << 18)));
        assert_eq!(class_of((1 << 18) + 1), None);
        for s in MIN_SIZE..5000 {
            let (_, r) = class_of(s).unwrap();
            assert!(r >= s && r < s + s / 4 + 1, "{s} -> {r}");
        }
    }

    #[test]
    fn rings_of_small_classes_hold_a_full_queue() {
        let slots = |size| new_ring(CLASS_BYTES, size).mask + 1;
        assert_eq!(
            slots(1280),
            SMALL_KEPT,
            "1 KiB messages: 1 MiB alone gave 512"
        );
        assert_eq!(
            slots(80),
            8192,
            "the byte budget still rules where it gives more"
        );
        assert_eq!(slots(4096), 256, "larger classes keep their byte budget");
    }

    #[test]
    fn class_sizes_invert_class_of() {
        for c in 0..CLASSES {
            assert_eq!(
                class_of(class_size(c)),
                Some((c, class_size(c))),
                "class {c}"
            );
        }
    }

    #[test]
    fn a_thread_takes_back_the_last_buffers_it_freed_first() {
        // On a thread of its own: its stack starts empty.
        std::thread::spawn(|| {
            let bufs: Vec<_> = (0..LOCAL_DEPTH + 2)
                .map(|_| alloc_buf(700).unwrap())
                .collect();
            for &(p, r) in &bufs {
                // SAFETY: p came from alloc_buf with size r and is not used again.
                unsafe { free_buf(p, r) };
            }
            // The stack holds the first LOCAL_DEPTH freed (the two after went elsewhere)
            // and hands them back last in, first out.
            for i in (0..LOCAL_DEPTH).rev() {
                let (p, r) = alloc_buf(700).unwrap();
                assert_eq!((p, r), bufs[i]);
            }
            for &(p, r) in &bufs[..LOCAL_DEPTH] {
                // SAFETY: as above (each was handed out again just now).
                unsafe { free_buf(p, r) };
            }
        })
        .join()
        .unwrap();
    }

    #[test]
    fn buffers_are_recycled() {
        let (p, r) = alloc_buf(1000).unwrap();
        // SAFETY: p came from alloc_buf with size r and is not used again.
        unsafe { free_buf(p, r) };
        let (q, r2) = alloc_buf(1000).unwrap();
        assert_eq!(r, r2);
        // SAFETY: as above.
        unsafe { free_buf(q, r2) };
    }

    #[test]
    fn initialised_buffers_come_zeroed_or_as_left() {
        // (A size no other test uses: the rings are shared by the whole process.)
        let (p, r) = alloc_init(200_000).unwrap();
        // SAFETY: p is valid for r initialised bytes until freed.
        let bytes = unsafe { std::slice::from_raw_parts_mut(p, r) };
        assert!(bytes.iter().all(|&b| b == 0), "a new buffer is zeroed");
        bytes.fill(7);
        // SAFETY: p came from alloc_init with size r and is not used again.
        unsafe { free_init(p, r) };
        let (q, r2) = alloc_init(200_000).unwrap();
        assert_eq!((q, r2), (p, r), "recycled as it was left");
        // SAFETY: as above.
        assert!(unsafe { std::slice::from_raw_parts(q, r2) }
            .iter()
            .all(|&b| b == 7));
        // SAFETY: as above.
        unsafe { free_init(q, r2) };
    }

    #[test]
    fn ring_is_fifo_and_bounded() {
        let r = Ring::new(4);
        // SAFETY: the ring is dropped without handing the (bogus) pointers to anyone who
        // would use them as buffers: they are only compared.
        unsafe {
            for i in 1..=4usize {
                assert!(r.push(std::ptr::without_provenance_mut(i)));
            }
            assert!(!r.push(std::ptr::without_provenance_mut(5)));
        }
        for i in 1..=4usize {
            assert_eq!(r.pop(), Some(std::ptr::without_provenance_mut(i)));
        }
        assert_eq!(r.pop(), None);
    }

    #[test]
    fn two_producers_and_two_consumers_hand_each_buffer_over_once() {
        // Real buffers, written by the producer and read by the consumer that takes them:
        // Miri (`cargo miri test`) checks that every hand-over orders the bytes.
        let per_producer = if cfg!(miri) { 40 } else { 20_000 };
        let ring = std::sync::Arc::new(Ring::new(8));
        let taken = std::sync::Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for p in 0..2usize {
            let ring = ring.clone();
            threads.push(std::thread::spawn(move || {
                for i in 0..per_producer {
                    let b = Box::into_raw(Box::new([0u8; 16])).cast::<u8>();
                    // SAFETY: b is a fresh 16-byte buffer; writing it before the push is
                    // what the consumer must see.
                    unsafe { b.write(((p * per_producer + i) % 251) as u8) };
                    // SAFETY: b is nobody else's; the ring hands it out once.
                    while !unsafe { ring.push(b) } {
                        std::thread::yield_now();
                    }
                }
            }));
        }
        for _ in 0..2 {
            let ring = ring.clone();
            let taken = taken.clone();
            threads.push(std::thread::spawn(move || {
                while taken.load(Ordering::Relaxed) < 2 * per_producer {
                    match ring.pop() {
                        Some(b) => {
                            taken.fetch_add(1, Ordering::Relaxed);
                            // SAFETY: the ring gave b to this thread alone; it is the box
                            // a producer made and wrote.
                            let v = unsafe { Box::from_raw(b.cast::<[u8; 16]>()) };
                            assert!(v[0] < 251);
                        }
                        None => std::thread::yield_now(),
                    }
                }
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(taken.load(Ordering::Relaxed), 2 * per_producer);
        assert_eq!(ring.pop(), None);
    }

    #[test]
    fn a_zero_size_request_allocates_nothing() {
        assert_eq!(alloc_buf(0), None);
        assert_eq!(alloc_init(0), None);
    }
}
