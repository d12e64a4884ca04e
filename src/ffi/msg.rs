//! Message exports: `zmq_msg_*`. A `zmq_msg_t` holds a `crate::msg::Msg` in place.

use std::ffi::{c_char, c_int, c_void};

use super::types::{zmq_free_fn, zmq_msg_t};
use super::{boundary, c_str};
use crate::constants::*;
use crate::error::{Error, Result};
use crate::msg::Msg;

/// The live message inside a C `zmq_msg_t`; EFAULT for NULL, uninitialised or closed ones
/// (checked through the raw pointer, see [`Msg::from_raw`]).
///
/// # Safety
/// `p` must be NULL or point to a `zmq_msg_t` that nothing else uses meanwhile (see
/// [`Msg::from_raw`]; the layouts agree, see `types.rs`).
pub(crate) unsafe fn msg_mut<'a>(p: *mut zmq_msg_t) -> Result<&'a mut Msg> {
    // SAFETY: the caller's contract is from_raw's.
    unsafe { Msg::from_raw(p.cast::<Msg>()) }
}

/// As [`msg_mut`], for reading only (the exports that take a `const zmq_msg_t *`).
///
/// # Safety
/// `p` must be NULL or point to a `zmq_msg_t` that nobody writes meanwhile (see
/// [`Msg::from_raw_ref`]).
pub(crate) unsafe fn msg_ref<'a>(p: *const zmq_msg_t) -> Result<&'a Msg> {
    // SAFETY: the caller's contract is from_raw_ref's.
    unsafe { Msg::from_raw_ref(p.cast::<Msg>()) }
}

/// Stores a new message into C memory without reading what was there.
///
/// # Safety
/// `p` must be NULL or point to a writable `zmq_msg_t`; what it held is not dropped (the
/// init functions' contract: it is not a live message, or its owner gives it up).
pub(crate) unsafe fn msg_init(p: *mut zmq_msg_t, m: Msg) -> Result<c_int> {
    if p.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: p points to a writable zmq_msg_t (64 bytes, aligned like Msg, see types.rs).
    unsafe { std::ptr::write(p.cast::<Msg>(), m) };
    Ok(0)
}

/// Initialises an empty message.
///
/// # Safety
/// `msg` must point to a writable `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_init(msg: *mut zmq_msg_t) -> c_int {
    // SAFETY: the contract above is msg_init's.
    boundary(|| unsafe { msg_init(msg, Msg::new()) })
}

/// Initialises a message of `size` bytes.
///
/// # Safety
/// `msg` must point to a writable `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_init_size(msg: *mut zmq_msg_t, size: usize) -> c_int {
    // SAFETY: the contract above is msg_init's.
    boundary(|| {
        if msg.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: msg points to a writable zmq_msg_t (64 bytes, aligned like Msg, see
        // types.rs), as the contract above says; a message is built in place, in one piece.
        unsafe { Msg::write_with_size(msg.cast::<Msg>(), size) }?;
        Ok(0)
    })
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
    boundary(|| {
        if data.is_null() && size != 0 {
            return Err(Error::Fault);
        }
        // SAFETY: the caller's contract above.
        let m = unsafe { Msg::from_user_data(data.cast(), size, ffn.map(|f| (f, hint)))? };
        // SAFETY: the caller's contract above.
        unsafe { msg_init(msg, m) }
    })
}

/// Releases a message.
///
/// # Safety
/// `msg` must point to a `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_close(msg: *mut zmq_msg_t) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is msg_mut's.
        unsafe { msg_mut(msg) }?.close();
        Ok(0)
    })
}

/// Moves (`share == false`) or copies `src` into `dest`, which is checked first; moving
/// leaves `src` empty.
///
/// # Safety
/// As [`msg_mut`] for both; they may be the same message.
unsafe fn msg_transfer(dest: *mut zmq_msg_t, src: *mut zmq_msg_t, share: bool) -> Result<c_int> {
    // SAFETY: the caller's contract. Each reference only checks its message and ends at once
    // (the two may be the same).
    unsafe { msg_mut(dest) }?;
    // SAFETY: as above.
    unsafe { msg_mut(src) }?;
    // SAFETY: both point to live messages (checked above) that no reference reaches, and the
    // caller's thread alone uses them during the call; `transfer` allows them to be the same.
    unsafe { Msg::transfer(dest.cast(), src.cast(), share) };
    Ok(0)
}

/// Moves `src` into `dest`; `src` becomes empty.
///
/// # Safety
/// Both must point to initialised `zmq_msg_t`s.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_move(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int {
    // SAFETY: the contract above is msg_transfer's.
    boundary(|| unsafe { msg_transfer(dest, src, false) })
}

/// Makes `dest` share `src`'s content.
///
/// # Safety
/// Both must point to initialised `zmq_msg_t`s.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_copy(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int {
    // SAFETY: the contract above is msg_transfer's.
    boundary(|| unsafe { msg_transfer(dest, src, true) })
}

/// The address of the message bytes.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_data(msg: *mut zmq_msg_t) -> *mut c_void {
    // SAFETY: the contract above is msg_mut's.
    boundary(|| Ok(unsafe { msg_mut(msg) }?.data_ptr().cast()))
}

/// The number of bytes (0, with errno EFAULT, for a bad message).
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_size(msg: *const zmq_msg_t) -> usize {
    // SAFETY: the contract above is msg_ref's.
    boundary(|| Ok(unsafe { msg_ref(msg) }?.size()))
}

/// Whether more parts follow.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_more(msg: *const zmq_msg_t) -> c_int {
    // SAFETY: the contract above is msg_ref's.
    boundary(|| Ok(unsafe { msg_ref(msg) }?.more() as c_int))
}

/// Reads a message property (ZMQ_MORE, ZMQ_SRCFD, ZMQ_SHARED).
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_get(msg: *const zmq_msg_t, property: c_int) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is msg_ref's.
        let m = unsafe { msg_ref(msg) }?;
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
    boundary(|| {
        // SAFETY: the contract above is msg_mut's.
        unsafe { msg_mut(msg) }?;
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
    boundary(|| {
        // SAFETY: the contract above is msg_ref's.
        let m = unsafe { msg_ref(msg) }?;
        // SAFETY: NULL or a C string by the contract above.
        let name = unsafe { c_str(property) }?;
        let md = m.metadata().ok_or(Error::Inval)?;
        Ok(md.get(name).ok_or(Error::Inval)?.as_ptr())
    })
}

/// Initialises a message holding a copy of `size` bytes at `buf` (draft).
///
/// # Safety
/// `msg` must point to a writable `zmq_msg_t`; `buf` to `size` readable bytes (or be NULL
/// with `size` 0).
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_init_buffer(
    msg: *mut zmq_msg_t,
    buf: *const c_void,
    size: usize,
) -> c_int {
    boundary(|| {
        if msg.is_null() || (buf.is_null() && size != 0) {
            return Err(Error::Fault);
        }
        let bytes: &[u8] = if size == 0 {
            &[]
        } else {
            // SAFETY: `size` readable bytes at the non-NULL `buf`, by the contract above.
            unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), size) }
        };
        // SAFETY: the contract above is msg_init's.
        unsafe { msg_init(msg, Msg::from_slice(bytes)?) }
    })
}

/// Sets the routing id a SERVER sends the message to (draft); 0 is EINVAL.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_set_routing_id(msg: *mut zmq_msg_t, routing_id: u32) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is msg_mut's.
        unsafe { msg_mut(msg) }?.set_routing_id(routing_id)?;
        Ok(0)
    })
}

/// The routing id of a message a SERVER or PEER received (draft); 0 when it has none.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_routing_id(msg: *mut zmq_msg_t) -> u32 {
    // SAFETY: the contract above is msg_ref's.
    boundary(|| Ok(unsafe { msg_ref(msg) }?.routing_id()))
}

/// Sets the RADIO/DISH group of a message (draft): at most 255 bytes, else EINVAL.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`; `group` to a C string.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_set_group(msg: *mut zmq_msg_t, group: *const c_char) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is msg_mut's.
        let m = unsafe { msg_mut(msg) }?;
        if group.is_null() {
            return Err(Error::Inval);
        }
        // SAFETY: a non-NULL C string by the contract above.
        let g = unsafe { std::ffi::CStr::from_ptr(group) };
        m.set_group(g.to_bytes())?;
        Ok(0)
    })
}

/// The RADIO/DISH group of a message (draft): "" when it has none. The string lives as
/// long as the message.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_group(msg: *mut zmq_msg_t) -> *const c_char {
    // SAFETY: the contract above is msg_ref's.
    boundary(|| Ok(unsafe { msg_ref(msg) }?.group().as_ptr()))
}
