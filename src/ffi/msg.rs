//! Message exports: `zmq_msg_*`. A `zmq_msg_t` holds a `crate::msg::Msg` in place.

use std::ffi::{c_char, c_int, c_void, CStr};

use super::types::{zmq_free_fn, zmq_msg_t};
use super::{guard, guard_ptr, set_errno};
use crate::constants::*;
use crate::error::{Error, Result};
use crate::msg::Msg;

/// The live message inside a C `zmq_msg_t`; EFAULT for NULL or uninitialised/closed ones.
pub(crate) fn msg_mut<'a>(p: *mut zmq_msg_t) -> Result<&'a mut Msg> {
    if p.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: zmq_msg_t is 64 bytes, 8-aligned, like Msg; `is_valid` only reads the tag
    // bytes, which are plain bytes whatever C stored there.
    let m = unsafe { &mut *(p as *mut Msg) };
    if !m.is_valid() {
        return Err(Error::Fault);
    }
    Ok(m)
}

/// Stores a new message into C memory without reading what was there.
pub(crate) fn msg_init(p: *mut zmq_msg_t, m: Msg) -> Result<c_int> {
    if p.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: p points to a zmq_msg_t (64 bytes, aligned) that C owns; its previous content
    // is not a live message by contract (init functions), so it is overwritten, not dropped.
    unsafe { std::ptr::write(p as *mut Msg, m) };
    Ok(0)
}

/// Initialises an empty message.
///
/// # Safety
/// `msg` must point to a writable `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_init(msg: *mut zmq_msg_t) -> c_int {
    guard(|| msg_init(msg, Msg::new()))
}

/// Initialises a message of `size` bytes.
///
/// # Safety
/// `msg` must point to a writable `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_init_size(msg: *mut zmq_msg_t, size: usize) -> c_int {
    guard(|| msg_init(msg, Msg::with_size(size)?))
}

/// Initialises a message over the caller's buffer, released with `ffn(data, hint)`.
///
/// # Safety
/// `msg` must point to a writable `zmq_msg_t`; `data` to `size` bytes that stay valid
/// until `ffn` is called (or for ever when `ffn` is NULL).
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_init_data(
    msg: *mut zmq_msg_t,
    data: *mut c_void,
    size: usize,
    ffn: Option<zmq_free_fn>,
    hint: *mut c_void,
) -> c_int {
    guard(|| {
        if data.is_null() && size != 0 {
            return Err(Error::Fault);
        }
        // SAFETY: the caller's contract above.
        let m = unsafe { Msg::from_user_data(data.cast(), size, ffn.map(|f| (f, hint)))? };
        msg_init(msg, m)
    })
}

/// Releases a message.
///
/// # Safety
/// `msg` must point to a `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_close(msg: *mut zmq_msg_t) -> c_int {
    guard(|| {
        msg_mut(msg)?.close();
        Ok(0)
    })
}

/// Moves `src` into `dest`; `src` becomes empty.
///
/// # Safety
/// Both must point to initialised `zmq_msg_t`s.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_move(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int {
    guard(|| {
        msg_mut(dest)?;
        let s = msg_mut(src)?.take();
        *msg_mut(dest)? = s;
        Ok(0)
    })
}

/// Makes `dest` share `src`'s content.
///
/// # Safety
/// Both must point to initialised `zmq_msg_t`s.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_copy(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int {
    guard(|| {
        msg_mut(dest)?;
        let s = msg_mut(src)?.share();
        *msg_mut(dest)? = s;
        Ok(0)
    })
}

/// The address of the message bytes.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_data(msg: *mut zmq_msg_t) -> *mut c_void {
    guard_ptr(|| Ok(msg_mut(msg)?.data_ptr().cast()))
}

/// The number of bytes.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_size(msg: *const zmq_msg_t) -> usize {
    match msg_mut(msg as *mut zmq_msg_t) {
        Ok(m) => m.size(),
        Err(e) => {
            set_errno(e.errno());
            0
        }
    }
}

/// Whether more parts follow.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_more(msg: *const zmq_msg_t) -> c_int {
    guard(|| Ok(msg_mut(msg as *mut zmq_msg_t)?.more() as c_int))
}

/// Reads a message property (ZMQ_MORE, ZMQ_SRCFD, ZMQ_SHARED).
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_get(msg: *const zmq_msg_t, property: c_int) -> c_int {
    guard(|| {
        let m = msg_mut(msg as *mut zmq_msg_t)?;
        match property {
            ZMQ_MORE => Ok(m.more() as c_int),
            ZMQ_SRCFD => Ok(m.metadata().map_or(-1, |md| md.fd())),
            ZMQ_SHARED => Ok(m.is_shared() as c_int),
            _ => Err(Error::Inval),
        }
    })
}

/// Sets a message property: none is settable, as in libzmq.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_set(
    msg: *mut zmq_msg_t,
    _property: c_int,
    _optval: c_int,
) -> c_int {
    guard(|| {
        msg_mut(msg)?;
        Err(Error::Inval)
    })
}

/// Reads a metadata property of a received message; EINVAL when absent.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`; `property` to a C string.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_gets(
    msg: *const zmq_msg_t,
    property: *const c_char,
) -> *const c_char {
    guard_ptr(|| {
        let m = msg_mut(msg as *mut zmq_msg_t)?;
        if property.is_null() {
            return Err(Error::Inval);
        }
        // SAFETY: non-NULL C string by contract.
        let name = unsafe { CStr::from_ptr(property) }
            .to_str()
            .map_err(|_| Error::Inval)?;
        let md = m.metadata().ok_or(Error::Inval)?;
        Ok(md.get(name).ok_or(Error::Inval)?.as_ptr() as *mut c_char)
    }) as *const c_char
}
