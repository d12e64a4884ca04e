//! `zmq_version`, `zmq_errno`, `zmq_strerror`, `zmq_has`.

use std::ffi::{c_char, c_int, CStr};

use super::boundary;
use crate::constants::{ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH};

/// Writes the library version (4.3.5) into the three pointers (each may be NULL).
///
/// # Safety
/// Non-NULL pointers must be writable.
#[no_mangle]
pub unsafe extern "C" fn zmq_version(major: *mut c_int, minor: *mut c_int, patch: *mut c_int) {
    boundary(|| {
        for (p, v) in [
            (major, ZMQ_VERSION_MAJOR),
            (minor, ZMQ_VERSION_MINOR),
            (patch, ZMQ_VERSION_PATCH),
        ] {
            if !p.is_null() {
                // SAFETY: non-NULL and writable by contract.
                unsafe { *p = v };
            }
        }
        Ok(())
    })
}

/// The calling thread's errno.
#[no_mangle]
pub extern "C" fn zmq_errno() -> c_int {
    boundary(|| Ok(super::errno()))
}

/// The text of an error number; the string lives for the whole program.
#[no_mangle]
pub extern "C" fn zmq_strerror(errnum: c_int) -> *const c_char {
    boundary(|| Ok(crate::error::strerror(errnum).as_ptr()))
}

/// Whether this build has a capability: transports and security mechanisms by name.
///
/// # Safety
/// `capability` must be NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn zmq_has(capability: *const c_char) -> c_int {
    boundary(|| {
        if capability.is_null() {
            return Ok(0);
        }
        // SAFETY: a C string by contract.
        let c = unsafe { CStr::from_ptr(capability) }.to_bytes();
        // Only what works end to end is reported: pgm, tipc, norm and gssapi are not in
        // this library; the draft API is in a build with the `draft` feature.
        let have: &[&[u8]] = &[
            b"ipc",
            b"curve",
            if cfg!(feature = "draft") {
                b"draft"
            } else {
                b""
            },
        ];
        if c.is_empty() {
            return Ok(0);
        }
        Ok(have.contains(&c) as c_int)
    })
}
