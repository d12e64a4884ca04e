//! `zmq_curve_keypair`, `zmq_curve_public`: CURVE key helpers, keys as 40 Z85 characters and
//! a NUL (41 bytes).

use std::ffi::{c_char, c_int, CStr};

use super::boundary;
use crate::error::{Error, Result};
use crate::mechanism::curve;
use crate::z85;

/// Writes `key` as Z85 and a NUL into the 41 bytes at `out`.
///
/// # Safety
///
/// `out` must be NULL or point to 41 writable bytes.
unsafe fn write_z85_key(out: *mut c_char, key: &[u8; 32]) -> Result<()> {
    if out.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: non-NULL, and 41 writable bytes by the caller's contract.
    let out = unsafe { std::slice::from_raw_parts_mut(out.cast::<u8>(), 41) };
    z85::encode_into(key, &mut out[..40])?;
    out[40] = 0;
    Ok(())
}

/// Generates a CURVE key pair (X25519, as libsodium's `crypto_box_keypair`).
///
/// # Safety
///
/// Each pointer must be NULL (EFAULT) or point to 41 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_curve_keypair(
    z85_public_key: *mut c_char,
    z85_secret_key: *mut c_char,
) -> c_int {
    boundary(|| {
        if z85_public_key.is_null() || z85_secret_key.is_null() {
            return Err(Error::Fault);
        }
        // The generator failing is the one way to fail here.
        let (public, secret) = curve::keypair().ok_or(Error::Fault)?;
        let secret = zeroize::Zeroizing::new(secret.to_bytes());
        // SAFETY: both non-NULL, 41 bytes each by the caller's contract.
        unsafe {
            write_z85_key(z85_public_key, public.as_bytes())?;
            write_z85_key(z85_secret_key, &secret)?;
        }
        Ok(0)
    })
}

/// Derives the CURVE public key of a secret key given as 40 Z85 characters; EINVAL when
/// that is not what it is.
///
/// # Safety
///
/// `z85_secret_key` must be NULL (EFAULT) or a NUL-terminated string; `z85_public_key` NULL
/// or 41 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_curve_public(
    z85_public_key: *mut c_char,
    z85_secret_key: *const c_char,
) -> c_int {
    boundary(|| {
        if z85_public_key.is_null() || z85_secret_key.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-NULL and NUL-terminated by the caller's contract.
        let text = unsafe { CStr::from_ptr(z85_secret_key) }.to_bytes();
        if text.len() != 40 {
            return Err(Error::Inval);
        }
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        z85::decode_into(text, &mut secret[..])?;
        // SAFETY: non-NULL, 41 bytes by the caller's contract.
        unsafe { write_z85_key(z85_public_key, &curve::public_of(&secret)) }?;
        Ok(0)
    })
}
