//! `zmq_curve_keypair`, `zmq_curve_public`: CURVE key helpers, unsupported in this build.

use std::ffi::{c_char, c_int};

use super::boundary;
use crate::error::Error;

/// Generates a CURVE key pair. This build has no CURVE support: fails with ENOTSUP, as a
/// libzmq built without libsodium does.
///
/// # Safety
///
/// Always safe to call; the buffers are not touched.
#[no_mangle]
pub unsafe extern "C" fn zmq_curve_keypair(
    z85_public_key: *mut c_char,
    z85_secret_key: *mut c_char,
) -> c_int {
    let _ = (z85_public_key, z85_secret_key);
    boundary(|| Err(Error::NotSup))
}

/// Derives a CURVE public key from a secret key. This build has no CURVE support: fails
/// with ENOTSUP, as a libzmq built without libsodium does.
///
/// # Safety
///
/// Always safe to call; the buffers are not touched.
#[no_mangle]
pub unsafe extern "C" fn zmq_curve_public(
    z85_public_key: *mut c_char,
    z85_secret_key: *const c_char,
) -> c_int {
    let _ = (z85_public_key, z85_secret_key);
    boundary(|| Err(Error::NotSup))
}
