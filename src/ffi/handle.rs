//! [`Handle`]: what a C `void *` handle (context, socket, atomic counter, stopwatch, thread,
//! timer set) points to: a box holding a tag word, then the object.
//!
//! The tag says which kind of object the box holds and whether it is still live. Every use
//! checks it first, reading only the tag word through the raw pointer; a reference to the
//! whole box is formed only once the tag matches. Closing a handle clears its tag, so a
//! closed (or foreign, or NULL) handle is refused with the kind's error (ENOTSOCK for
//! sockets, EFAULT for the rest) instead of being used.
//!
//! A handle ends in one of two ways:
//! - [`Handle::destroy`]: the tag is cleared and the box freed (counters, stopwatches,
//!   threads, timer sets: using a freed handle is the caller's fault, as in libzmq);
//! - [`Handle::retire`]: the tag is cleared and the handle stays allocated for the life of
//!   the process, so a stale handle keeps reading a dead tag (contexts and sockets, which
//!   libzmq programs are known to use after closing them). Those kinds ([`Tagged::KEPT`]) are
//!   not boxed one by one but carved from blocks that are never freed (`Arena`): a closed
//!   socket keeps its 24 bytes and nothing more (no allocator header, no list entry).

use std::ffi::c_void;
use std::mem::{align_of, size_of};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The tag of a handle that was closed (or never was a handle of this crate).
const DEAD: u32 = 0xdead_0bad;

/// An object that C holds through a [`Handle`].
pub(crate) trait Tagged: Sized {
    /// The tag of a live handle of this kind; distinct for every kind, never [`DEAD`].
    const TAG: u32;
    /// The error for a NULL, foreign or closed handle of this kind.
    const BAD: Error;
    /// Handles of this kind are retired, never destroyed: they live in the `Arena`.
    const KEPT: bool = false;
}

/// A tagged box; see the module docs. The tag is the first word, whatever `T` is, so that a
/// handle of one kind can be told from one of another kind by reading that word alone.
#[repr(C)]
pub(crate) struct Handle<T: Tagged> {
    tag: AtomicU32,
    value: T,
}

/// Memory for the handles of [`Tagged::KEPT`] kinds: blocks of [`Arena::BLOCK_WORDS`] words,
/// taken one after the other, never freed or reused (each block stays reachable from here, for
/// leak checkers).
struct Arena {
    /// The next free word of the last block, and how many are left in it.
    next: *mut u64,
    left: usize,
    blocks: Vec<*mut u64>,
}

// SAFETY: the pointers are to blocks that nothing frees, handed out once each under the
// mutex that holds the arena; any thread may do that.
unsafe impl Send for Arena {}

static ARENA: Mutex<Arena> = Mutex::new(Arena {
    next: std::ptr::null_mut(),
    left: 0,
    blocks: Vec::new(),
});

impl Arena {
    /// 64 KiB: room for 2 730 socket handles.
    const BLOCK_WORDS: usize = 8192;

    /// `words` 8-byte-aligned words that are the caller's for ever (uninitialised as far as
    /// the caller is concerned). `words` is at most `BLOCK_WORDS`.
    fn take(words: usize) -> *mut u64 {
        let mut a = ARENA.lock().unwrap_or_else(|p| p.into_inner());
        if a.left < words {
            let block = Box::into_raw(vec![0u64; Self::BLOCK_WORDS].into_boxed_slice());
            let start = block.cast::<u64>();
            a.blocks.push(start);
            a.next = start;
            a.left = Self::BLOCK_WORDS;
        }
        let p = a.next;
        // SAFETY: `left >= words`, so `p + words` is within the block or one past its end.
        a.next = unsafe { p.add(words) };
        a.left -= words;
        p
    }
}

impl<T: Tagged> Handle<T> {
    /// Makes `value` a live handle (boxed, or in the arena for a kept kind); the pointer is
    /// what C gets.
    pub(crate) fn into_raw(value: T) -> *mut c_void {
        let h = Handle {
            tag: AtomicU32::new(T::TAG),
            value,
        };
        if !T::KEPT {
            return Box::into_raw(Box::new(h)).cast();
        }
        const {
            assert!(align_of::<Handle<T>>() <= align_of::<u64>());
            assert!(size_of::<Handle<T>>() <= Arena::BLOCK_WORDS * size_of::<u64>());
        }
        let p = Arena::take(size_of::<Handle<T>>().div_ceil(size_of::<u64>())).cast::<Handle<T>>();
        // SAFETY: `p` is fresh arena memory, ours alone, large and aligned enough for a
        // Handle<T> (checked above); it is never freed, so the handle lives for the process.
        unsafe { p.write(h) };
        p.cast()
    }

    /// Checks the tag of `p` and returns the live handle.
    ///
    /// # Safety
    /// `p` must be NULL, or point to at least 4 readable bytes aligned for a `u32` (for
    /// instance a handle of any kind made by [`Handle::into_raw`], live or retired, but not
    /// destroyed) that no thread writes except through an atomic access.
    unsafe fn checked<'a>(p: *mut c_void) -> Result<&'a Handle<T>> {
        if p.is_null() {
            return Err(T::BAD);
        }
        // SAFETY: by the contract, the first word is readable and only accessed atomically;
        // every `Handle` starts with its tag (repr(C)).
        let tag = unsafe { &*p.cast::<AtomicU32>() };
        if tag.load(Ordering::Acquire) != T::TAG {
            return Err(T::BAD);
        }
        // SAFETY: only `into_raw` writes T's tag, at the head of a `Handle<T>`; the tag is
        // cleared before such a box is freed, so this one is live.
        Ok(unsafe { &*p.cast::<Handle<T>>() })
    }

    /// The object behind a live handle; `T::BAD` for NULL, foreign or closed handles.
    ///
    /// # Safety
    /// As [`Handle::checked`]: `p` is NULL or points to a readable, `u32`-aligned word (any
    /// handle of this crate not destroyed). The object is shared: `T` takes care of its own
    /// synchronisation.
    pub(crate) unsafe fn get<'a>(p: *mut c_void) -> Result<&'a T> {
        // SAFETY: the caller's contract is `checked`'s.
        Ok(&unsafe { Self::checked(p) }?.value)
    }

    /// The object behind a live handle, for exclusive use; `T::BAD` otherwise.
    ///
    /// # Safety
    /// As [`Handle::get`]; moreover no other reference to the object may be in use while the
    /// result is (libzmq's rule that a socket is used by one thread at a time).
    pub(crate) unsafe fn get_mut<'a>(p: *mut c_void) -> Result<&'a mut T> {
        // SAFETY: the caller's contract is `checked`'s.
        unsafe { Self::checked(p) }?;
        // SAFETY: `checked` proved a live Handle<T>; exclusivity is the caller's contract
        // (the tag, which others may read, is not part of the reference).
        Ok(unsafe { &mut (*p.cast::<Handle<T>>()).value })
    }

    /// Clears the tag of a live handle (the one caller that sees it live wins), so that
    /// every later lookup fails; the box stays allocated.
    ///
    /// # Safety
    /// As [`Handle::get`].
    unsafe fn kill<'a>(p: *mut c_void) -> Result<&'a Handle<T>> {
        // SAFETY: the caller's contract is `checked`'s.
        let h = unsafe { Self::checked(p) }?;
        h.tag
            .compare_exchange(T::TAG, DEAD, Ordering::AcqRel, Ordering::Acquire)
            .map_err(|_| T::BAD)?;
        Ok(h)
    }

    /// Closes a live handle of a kept kind for good (it stays allocated for ever, so a stale
    /// copy of the pointer is refused later); returns the object, which stays where it is.
    ///
    /// # Safety
    /// As [`Handle::get`].
    pub(crate) unsafe fn retire<'a>(p: *mut c_void) -> Result<&'a T> {
        const { assert!(T::KEPT, "only kept kinds are retired") };
        // SAFETY: the caller's contract is `kill`'s.
        Ok(&unsafe { Self::kill(p) }?.value)
    }

    /// Closes a live handle and frees its box; returns the object.
    ///
    /// # Safety
    /// As [`Handle::get`]; moreover nothing may use the object (through an earlier lookup)
    /// any more, and the pointer must not be used again (it may then point to freed memory).
    pub(crate) unsafe fn destroy(p: *mut c_void) -> Result<T> {
        // SAFETY: the caller's contract is `kill`'s.
        unsafe { Self::kill(p) }?;
        // SAFETY: a live Handle<T> comes from `into_raw`; nobody uses it any more.
        Ok(unsafe { Self::free_killed(p) })
    }

    /// Closes a live handle without freeing it (yet): for an object that is still in use
    /// up the stack, which frees it later with [`Handle::free_killed`].
    ///
    /// # Safety
    /// As [`Handle::get`].
    pub(crate) unsafe fn close_later<'a>(p: *mut c_void) -> Result<&'a T> {
        // SAFETY: the caller's contract is `kill`'s.
        Ok(&unsafe { Self::kill(p) }?.value)
    }

    /// Frees a handle closed by [`Handle::close_later`] (or `kill`); returns the object.
    ///
    /// # Safety
    /// `p` comes from [`Handle::into_raw`] for this `T`, its tag was cleared, it was not
    /// freed yet, and no reference to it is in use.
    pub(crate) unsafe fn free_killed(p: *mut c_void) -> T {
        const { assert!(!T::KEPT, "kept kinds are never freed") };
        // SAFETY: by the contract, `p` is an unfreed box from `into_raw`, ours alone.
        let b = unsafe { Box::from_raw(p.cast::<Handle<T>>()) };
        b.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Apple(u32);
    impl Tagged for Apple {
        const TAG: u32 = 0x4150_504c;
        const BAD: Error = Error::NotSock;
    }

    struct Pear(u64);
    impl Tagged for Pear {
        const TAG: u32 = 0x5045_4152;
        const BAD: Error = Error::Fault;
    }

    #[test]
    fn live_handles_are_found_and_mutable() {
        let p = Handle::into_raw(Apple(1));
        // SAFETY: p is a live Apple handle, used by this thread only.
        unsafe {
            assert_eq!(Handle::<Apple>::get(p).map(|a| a.0), Ok(1));
            Handle::<Apple>::get_mut(p).unwrap().0 = 5;
            assert_eq!(Handle::<Apple>::destroy(p).map(|a| a.0), Ok(5));
        }
    }

    #[test]
    fn null_and_foreign_handles_give_the_kinds_error() {
        let pear = Handle::into_raw(Pear(9));
        let word = AtomicU32::new(0x1234_5678);
        let bogus = (&word as *const AtomicU32).cast_mut().cast::<c_void>();
        // SAFETY: every pointer is NULL, a live handle or a readable u32.
        unsafe {
            assert_eq!(
                Handle::<Apple>::get(std::ptr::null_mut()).err(),
                Some(Error::NotSock)
            );
            assert_eq!(
                Handle::<Pear>::get(std::ptr::null_mut()).err(),
                Some(Error::Fault)
            );
            assert_eq!(Handle::<Apple>::get(pear).err(), Some(Error::NotSock));
            assert_eq!(Handle::<Apple>::destroy(pear).err(), Some(Error::NotSock));
            assert_eq!(Handle::<Apple>::get(bogus).err(), Some(Error::NotSock));
            assert_eq!(Handle::<Pear>::get_mut(bogus).err(), Some(Error::Fault));
            assert_eq!(Handle::<Pear>::get(pear).map(|p| p.0), Ok(9));
            assert!(Handle::<Pear>::destroy(pear).is_ok());
        }
    }

    struct Plum(u64, u32);
    impl Tagged for Plum {
        const TAG: u32 = 0x504c_554d;
        const BAD: Error = Error::NotSock;
        const KEPT: bool = true;
    }

    #[test]
    fn retired_handles_are_refused_but_stay_readable() {
        let p = Handle::into_raw(Plum(3, 4));
        // SAFETY: p is live, then retired (never freed).
        unsafe {
            assert_eq!(Handle::<Plum>::retire(p).map(|a| a.0), Ok(3));
            assert_eq!(Handle::<Plum>::get(p).err(), Some(Error::NotSock));
            assert_eq!(Handle::<Plum>::retire(p).err(), Some(Error::NotSock));
            assert_eq!(Handle::<Plum>::get_mut(p).err(), Some(Error::NotSock));
            assert_eq!(Handle::<Apple>::get(p).err(), Some(Error::NotSock));
        }
    }

    #[test]
    fn kept_handles_take_their_size_from_blocks_across_block_ends() {
        // More than a block's worth (24 bytes each: 2 730 to a block), from two threads.
        let make = || {
            (0..3000u64)
                .map(|i| Handle::into_raw(Plum(i, 7)) as usize)
                .collect()
        };
        let other = std::thread::spawn(make);
        let mut all: Vec<usize> = make();
        all.extend(other.join().unwrap());
        for &p in &all {
            assert_eq!(p % std::mem::align_of::<Handle<Plum>>(), 0);
        }
        let mut sorted = all.clone();
        sorted.sort_unstable();
        for w in sorted.windows(2) {
            assert!(
                w[1] - w[0] >= std::mem::size_of::<Handle<Plum>>(),
                "no overlap"
            );
        }
        for (k, &p) in all.iter().enumerate() {
            let p = p as *mut c_void;
            // SAFETY: every p is a live Plum handle, then retired (never freed).
            unsafe {
                assert_eq!(
                    Handle::<Plum>::get(p).map(|v| (v.0, v.1)),
                    Ok((k as u64 % 3000, 7))
                );
                assert!(Handle::<Plum>::retire(p).is_ok());
                assert_eq!(Handle::<Plum>::get(p).err(), Some(Error::NotSock));
            }
        }
    }

    #[test]
    fn a_handle_closed_for_later_is_refused_then_freed() {
        let p = Handle::into_raw(Pear(4));
        // SAFETY: p is live, closed, then freed once, and not used after.
        unsafe {
            assert_eq!(Handle::<Pear>::close_later(p).map(|x| x.0), Ok(4));
            assert_eq!(Handle::<Pear>::get(p).err(), Some(Error::Fault));
            assert_eq!(Handle::<Pear>::destroy(p).err(), Some(Error::Fault));
            assert_eq!(Handle::<Pear>::free_killed(p).0, 4);
        }
    }
}
