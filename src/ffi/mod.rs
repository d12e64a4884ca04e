//! The C ABI: every `extern "C"` function of `zmq.h` lives below this module, and nowhere else.
//!
//! Each export decodes its C arguments, calls into the safe core, and maps the outcome to
//! libzmq's convention (a value, or -1 / NULL with `errno` set). Every export runs inside
//! [`guard`] (or [`guard_ptr`]), so a panic never unwinds into C: it becomes EFAULT.

use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result};

pub mod ctx;
pub mod msg;
pub mod poll;
pub mod proxy;
pub mod socket;
pub mod types;
pub mod util;
pub mod version;

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

/// Reports `e` the C way: sets errno, returns -1.
pub(crate) fn fail(e: Error) -> c_int {
    set_errno(e.errno());
    -1
}

/// Runs `f` behind the panic boundary; an `Err` becomes -1 with errno, a panic becomes EFAULT.
pub(crate) fn guard<F: FnOnce() -> Result<c_int>>(f: F) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => fail(e),
        Err(_) => fail(Error::Fault),
    }
}

/// As [`guard`], for exports that return a pointer: NULL with errno on failure.
pub(crate) fn guard_ptr<T, F: FnOnce() -> Result<*mut T>>(f: F) -> *mut T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            set_errno(e.errno());
            std::ptr::null_mut()
        }
        Err(_) => {
            set_errno(Error::Fault.errno());
            std::ptr::null_mut()
        }
    }
}

/// As [`guard`], for exports that return nothing: a panic is swallowed.
pub(crate) fn guard_void<F: FnOnce()>(f: F) {
    let _ = catch_unwind(AssertUnwindSafe(f));
}
