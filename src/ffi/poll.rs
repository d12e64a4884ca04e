//! `zmq_poll`: converts the C poll items for [`crate::poll::poll`] and back.

use std::ffi::{c_int, c_long};

use super::boundary;
use super::socket::SocketTable;
use super::types::zmq_pollitem_t;
use crate::error::{Error, Result};
use crate::poll::{poll, poll_masked, PollItem, Target};

/// `zmq_poll` and `zmq_ppoll`: converts the items, polls, writes back `revents`.
///
/// # Safety
/// `items` must point to `nitems` writable poll items, whose sockets are NULL or socket
/// handles.
unsafe fn poll_items(
    items: *mut zmq_pollitem_t,
    nitems: c_int,
    timeout: c_long,
    sigmask: Option<&libc::sigset_t>,
) -> Result<c_int> {
    if nitems < 0 {
        return Err(Error::Inval);
    }
    if nitems == 0 {
        return Ok(poll(&mut [], &mut [], timeout)? as c_int);
    }
    if items.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: the caller's contract: nitems items.
    let items = unsafe { std::slice::from_raw_parts_mut(items, nitems as usize) };
    let mut table = SocketTable::default();
    let mut polled = Vec::with_capacity(items.len());
    for it in items.iter() {
        let target = if it.socket.is_null() {
            Target::Fd(it.fd)
        } else {
            // SAFETY: a socket handle by the caller's contract, for this call.
            Target::Socket(unsafe { table.index(it.socket) }?)
        };
        polled.push(PollItem::new(target, it.events));
    }
    let n = poll_masked(&mut table.sockets, &mut polled, timeout, sigmask)?;
    for (it, p) in items.iter_mut().zip(polled) {
        it.revents = p.revents;
    }
    Ok(n as c_int)
}

/// Waits until items are ready or `timeout` (ms; -1 for ever) passes; returns the count.
///
/// # Safety
/// `items` must point to `nitems` writable poll items, whose sockets are NULL or socket
/// handles.
#[no_mangle]
pub unsafe extern "C" fn zmq_poll(
    items: *mut zmq_pollitem_t,
    nitems: c_int,
    timeout: c_long,
) -> c_int {
    // SAFETY: the contract above is poll_items'.
    boundary(|| unsafe { poll_items(items, nitems, timeout, None) })
}

/// As `zmq_poll`, with the thread's signal mask replaced by `*sigmask` while it waits
/// (draft, libzmq 4.3.5; NULL: as `zmq_poll`). Its prototype comes from
/// header/api-draft.h, declared only where `sigset_t` exists.
///
/// # Safety
/// As `zmq_poll`; `sigmask` must be NULL or point to a `sigset_t`.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_ppoll(
    items: *mut zmq_pollitem_t,
    nitems: c_int,
    timeout: c_long,
    sigmask: *const libc::sigset_t,
) -> c_int {
    // SAFETY: NULL or a sigset_t, by the contract above.
    let mask = unsafe { sigmask.as_ref() };
    // SAFETY: the contract above is poll_items'.
    boundary(|| unsafe { poll_items(items, nitems, timeout, mask) })
}
