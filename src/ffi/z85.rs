//! `zmq_z85_encode`, `zmq_z85_decode`: the Z85 text encoding (ZeroMQ RFC 32).

use std::ffi::{c_char, CStr};

use super::boundary;
use crate::error::Error;
use crate::z85 as codec;

/// Encodes `size` bytes at `data` as Z85 text into `dest`, with a terminating NUL.
///
/// Returns `dest`, or NULL with errno EINVAL when `size` is not a multiple of 4 (EFAULT
/// when `dest`, or `data` with a non-zero `size`, is NULL).
///
/// # Safety
///
/// `data` must point to `size` readable bytes and `dest` to `size * 5 / 4 + 1` writable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_z85_encode(
    dest: *mut c_char,
    data: *const u8,
    size: usize,
) -> *mut c_char {
    boundary(|| {
        if !size.is_multiple_of(4) {
            return Err(Error::Inval);
        }
        if dest.is_null() || (data.is_null() && size > 0) {
            return Err(Error::Fault);
        }
        let text_len = (size / 4).checked_mul(5).ok_or(Error::Inval)?;
        let input: &[u8] = if size == 0 {
            &[]
        } else {
            // SAFETY: data is non-NULL and the caller guarantees `size` readable bytes.
            unsafe { std::slice::from_raw_parts(data, size) }
        };
        // SAFETY: dest is non-NULL and the caller guarantees size * 5 / 4 + 1 writable bytes;
        // the input and output buffers of a valid call do not overlap.
        let out = unsafe { std::slice::from_raw_parts_mut(dest.cast::<u8>(), text_len + 1) };
        codec::encode_into(input, &mut out[..text_len])?;
        out[text_len] = 0;
        Ok(dest)
    })
}

/// Decodes the NUL-terminated Z85 text `string` into `dest`.
///
/// Returns `dest`, or NULL with errno EINVAL when `string` is empty or its length is not a
/// multiple of 5, it holds a character outside the Z85 alphabet, or a group overflows 32 bits
/// (EFAULT when a pointer is NULL).
///
/// # Safety
///
/// `string` must be a NUL-terminated string and `dest` must have room for
/// `strlen(string) * 4 / 5` bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_z85_decode(dest: *mut u8, string: *const c_char) -> *mut u8 {
    boundary(|| {
        if string.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: string is non-NULL and the caller guarantees it is NUL-terminated.
        let text = unsafe { CStr::from_ptr(string) }.to_bytes();
        // libzmq also refuses the empty string (while it encodes zero bytes to "").
        if text.is_empty() || !text.len().is_multiple_of(5) {
            return Err(Error::Inval);
        }
        if dest.is_null() {
            return Err(Error::Fault);
        }
        let len = codec::decoded_len(text.len());
        // SAFETY: dest is non-NULL and the caller guarantees room for strlen * 4 / 5 bytes.
        let out = unsafe { std::slice::from_raw_parts_mut(dest, len) };
        codec::decode_into(text, out)?;
        Ok(dest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::errno;

    #[test]
    fn z85_through_the_c_api() {
        let data = [0x86u8, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];
        let mut text = [0x55 as c_char; 11];
        // SAFETY: the buffers have the sizes the functions need.
        unsafe {
            assert_eq!(
                zmq_z85_encode(text.as_mut_ptr(), data.as_ptr(), 8),
                text.as_mut_ptr()
            );
            assert_eq!(CStr::from_ptr(text.as_ptr()).to_bytes(), b"HelloWorld");
            let mut back = [0u8; 8];
            assert_eq!(
                zmq_z85_decode(back.as_mut_ptr(), text.as_ptr()),
                back.as_mut_ptr()
            );
            assert_eq!(back, data);
            assert!(zmq_z85_decode(back.as_mut_ptr(), c"".as_ptr()).is_null());
            assert_eq!(errno(), libc::EINVAL);
        }
    }

    #[test]
    fn null_pointers_give_efault_not_a_crash() {
        // SAFETY: NULL is allowed for every argument below.
        unsafe {
            assert!(zmq_z85_encode(std::ptr::null_mut(), std::ptr::null(), 4).is_null());
            assert_eq!(errno(), libc::EFAULT);
            assert!(zmq_z85_decode(std::ptr::null_mut(), std::ptr::null()).is_null());
            assert_eq!(errno(), libc::EFAULT);
        }
    }
}
