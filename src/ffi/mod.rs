//! The C ABI: every `extern "C"` function of `zmq.h` lives below this module, and nowhere else.
//!
//! Each export decodes its C arguments, calls into the safe core, and maps the outcome to
//! libzmq's convention. The body of every export runs inside [`boundary`], the one FFI
//! boundary: a panic never unwinds into C (it becomes EFAULT), and an `Err` sets `errno` and
//! returns the failure value of the export's return type ([`FfiReturn`]).
//!
//! Handles (`void *` contexts, sockets, counters, ...) are [`handle::Handle`]s: tagged boxes,
//! so a closed or bogus handle is refused with an error instead of being used.

// The C ABI: raw pointers and C strings from the caller are what this module takes in, so
// it needs `unsafe` (DESIGN.md, rules of the house); each block says why it is sound.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result};

pub mod ctx;
pub mod msg;
pub mod poll;
#[cfg(feature = "draft")]
pub mod poller;
pub mod proxy;
pub mod socket;
pub mod types;

// The API areas that need no context, one group each so that they stay in the order of the
// header (cbindgen follows this order).
pub mod z85;

pub mod curve;

pub mod atomic_counter;

pub mod stopwatch;

pub mod thread;

pub mod timers;

pub mod version;

pub(crate) mod handle;

/// Sets the calling thread's C `errno`, which `zmq_errno` and C callers read.
pub(crate) fn set_errno(e: c_int) {
    // SAFETY: __errno_location returns the calling thread's errno slot, always valid.
    unsafe { *libc::__errno_location() = e };
}

/// Reads the calling thread's C `errno`.
pub(crate) fn errno() -> c_int {
    // SAFETY: as in set_errno.
    unsafe { *libc::__errno_location() }
}

/// A type an export returns, with the value that reports failure (errno tells why).
pub(crate) trait FfiReturn {
    /// What the export returns when it fails.
    const FAILED: Self;
}

/// `int` results: -1, as almost every libzmq function.
impl FfiReturn for i32 {
    const FAILED: i32 = -1;
}

/// `long` results (`zmq_timers_timeout`): -1.
impl FfiReturn for i64 {
    const FAILED: i64 = -1;
}

/// `unsigned long` results (the stopwatch): 0.
impl FfiReturn for u64 {
    const FAILED: u64 = 0;
}

/// `unsigned long` results on targets where it is 32 bits wide: 0.
impl FfiReturn for u32 {
    const FAILED: u32 = 0;
}

/// `size_t` results (`zmq_msg_size`): 0.
impl FfiReturn for usize {
    const FAILED: usize = 0;
}

/// Pointer results: NULL.
impl<T> FfiReturn for *mut T {
    const FAILED: *mut T = std::ptr::null_mut();
}

/// Pointer results: NULL.
impl<T> FfiReturn for *const T {
    const FAILED: *const T = std::ptr::null();
}

/// `void` functions: they report failure through errno only.
impl FfiReturn for () {
    const FAILED: () = ();
}

/// A C string argument as UTF-8 text; EINVAL when NULL or not UTF-8.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that stays unchanged for `'a`.
pub(crate) unsafe fn c_str<'a>(p: *const c_char) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::Inval);
    }
    // SAFETY: non-NULL, NUL-terminated and unchanged for 'a by the contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| Error::Inval)
}

/// `len` bytes at `p` (NULL with length 0: none); EFAULT for NULL with a length.
///
/// # Safety
/// `p` must be NULL or point to `len` readable bytes that stay unchanged for `'a`.
#[cfg(feature = "draft")]
pub(crate) unsafe fn bytes_arg<'a>(p: *const std::ffi::c_void, len: usize) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: `len` readable bytes at the non-NULL `p`, by the contract.
    Ok(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
}

/// The FFI boundary around the body of every export: runs `f`; an `Err` sets errno and
/// returns `R::FAILED`; a panic is caught (it never unwinds into C) and reported as EFAULT.
#[inline(always)]
pub(crate) fn boundary<R: FfiReturn, F: FnOnce() -> Result<R>>(f: F) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            set_errno(e.errno());
            R::FAILED
        }
        Err(_) => {
            set_errno(Error::Fault.errno());
            R::FAILED
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_maps_errors_and_panics_to_the_failure_value() {
        assert_eq!(boundary(|| Ok(7i32)), 7);
        assert_eq!(boundary::<i32, _>(|| Err(Error::Inval)), -1);
        assert_eq!(errno(), libc::EINVAL);
        assert_eq!(boundary::<usize, _>(|| Err(Error::Fault)), 0);
        assert_eq!(boundary::<i64, _>(|| Err(Error::Inval)), -1);
        assert!(boundary::<*mut u8, _>(|| Err(Error::NoMem)).is_null());
        assert_eq!(errno(), libc::ENOMEM);
        set_errno(0);
        assert!(boundary::<*const u8, _>(|| panic!("inside")).is_null());
        assert_eq!(errno(), libc::EFAULT);
        boundary::<(), _>(|| Err(Error::NotSock));
        assert_eq!(errno(), libc::ENOTSOCK);
    }
}
