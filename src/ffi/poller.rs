//! `zmq_poller_*` (draft): a poller behind a handle. The poller is [`crate::poller::Poller`];
//! this module checks the arguments as libzmq does (EFAULT for a bad poller, ENOTSOCK for a
//! bad socket, EBADF for the fd -1, EINVAL for unknown event bits) and converts events.

use std::ffi::{c_int, c_long, c_short, c_void};

use super::boundary;
use super::handle::{Handle, Tagged};
use super::socket::sock;
use super::types::{zmq_fd_t, zmq_poller_event_t};
use crate::constants::*;
use crate::error::{Error, Result};
use crate::poller::{Event, Poller, Target};
use crate::socket::SocketBase;

/// The object behind a `zmq_poller_new` handle; used by one thread at a time, as libzmq's.
struct PollerHandle {
    poller: Poller,
    /// The events of the last wait, kept to save an allocation per wait.
    events: Vec<Event>,
}

impl Tagged for PollerHandle {
    const TAG: u32 = 0x504f_4c4c;
    const BAD: Error = Error::Fault;
}

/// The poller behind `p`; EFAULT for NULL or a handle that is not a live poller.
///
/// # Safety
/// As [`Handle::get_mut`]: NULL or a handle of this crate not destroyed, used by one
/// thread at a time.
unsafe fn poller_of<'a>(p: *mut c_void) -> Result<&'a mut PollerHandle> {
    // SAFETY: the caller's contract is Handle::get_mut's.
    unsafe { Handle::<PollerHandle>::get_mut(p) }
}

/// The event bits a poller item may ask for.
fn check_events(events: c_short) -> Result<i16> {
    let known = (ZMQ_POLLIN | ZMQ_POLLOUT | ZMQ_POLLERR | ZMQ_POLLPRI) as c_short;
    if events & !known != 0 {
        return Err(Error::Inval);
    }
    Ok(events)
}

/// A descriptor argument: -1 (libzmq's retired fd) is EBADF.
fn check_fd(fd: zmq_fd_t) -> Result<zmq_fd_t> {
    if fd == -1 {
        return Err(Error::BadF);
    }
    Ok(fd)
}

/// Runs `f` on the socket whose handle is `h` (for the poller's look-ups).
///
/// # Safety
/// As [`sock`]: `h` is the address of a socket handle of this crate, live or retired.
unsafe fn with_socket(h: usize, f: &mut dyn FnMut(&mut SocketBase) -> Result<()>) -> Result<()> {
    // SAFETY: the caller's contract.
    unsafe { sock(h as *mut c_void) }?.with(f)
}

/// Creates an empty poller.
#[no_mangle]
pub extern "C" fn zmq_poller_new() -> *mut c_void {
    boundary(|| {
        Ok(Handle::into_raw(PollerHandle {
            poller: Poller::new()?,
            events: Vec::new(),
        }))
    })
}

/// Destroys the poller `*poller_p` and sets `*poller_p` to NULL; EFAULT when either
/// pointer is NULL or the handle is not a live poller. The sockets it held stay open.
///
/// # Safety
/// `poller_p` must be NULL or point to a `void *` that is NULL or a poller handle; the
/// sockets the poller holds must be live or closed socket handles.
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_destroy(poller_p: *mut *mut c_void) -> c_int {
    boundary(|| {
        if poller_p.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-NULL and pointing to a handle slot, per the contract.
        let raw = unsafe { *poller_p };
        // SAFETY: NULL or a poller handle, per the contract.
        unsafe { poller_of(raw) }?;
        // SAFETY: live (just checked); nothing else uses it (one thread at a time).
        let mut h = unsafe { Handle::<PollerHandle>::destroy(raw) }?;
        // SAFETY: the sockets it holds are socket handles, per the contract.
        h.poller.detach(&mut |s, f| unsafe { with_socket(s, f) });
        // SAFETY: as above, poller_p points to the caller's handle slot.
        unsafe { *poller_p = std::ptr::null_mut() };
        Ok(0)
    })
}

/// The number of items (sockets and descriptors) in the poller.
///
/// # Safety
/// `poller` must be NULL or a poller handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_size(poller: *mut c_void) -> c_int {
    // SAFETY: the contract above is poller_of's.
    boundary(|| Ok(unsafe { poller_of(poller) }?.poller.size() as c_int))
}

/// Adds a socket, watched for `events`, reported with `user_data`.
///
/// # Safety
/// `poller` must be NULL or a poller handle, `socket` NULL or a socket handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_add(
    poller: *mut c_void,
    socket: *mut c_void,
    user_data: *mut c_void,
    events: c_short,
) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let p = unsafe { poller_of(poller) }?;
        // SAFETY: the contract above.
        let mut s = unsafe { sock(socket) }?;
        let events = check_events(events)?;
        p.poller
            .add(socket as usize, &mut s, user_data as usize, events)?;
        Ok(0)
    })
}

/// Changes the events a socket is watched for.
///
/// # Safety
/// As `zmq_poller_add`.
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_modify(
    poller: *mut c_void,
    socket: *mut c_void,
    events: c_short,
) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let p = unsafe { poller_of(poller) }?;
        // SAFETY: the contract above (the socket is only checked).
        unsafe { sock(socket) }?;
        let events = check_events(events)?;
        p.poller.modify(socket as usize, events)?;
        Ok(0)
    })
}

/// Removes a socket.
///
/// # Safety
/// As `zmq_poller_add`.
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_remove(poller: *mut c_void, socket: *mut c_void) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let p = unsafe { poller_of(poller) }?;
        // SAFETY: the contract above.
        let mut s = unsafe { sock(socket) }?;
        p.poller.remove(socket as usize, Some(&mut s))?;
        Ok(0)
    })
}

/// Adds a file descriptor, watched for `events`, reported with `user_data`.
///
/// # Safety
/// `poller` must be NULL or a poller handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_add_fd(
    poller: *mut c_void,
    fd: zmq_fd_t,
    user_data: *mut c_void,
    events: c_short,
) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let p = unsafe { poller_of(poller) }?;
        let fd = check_fd(fd)?;
        let events = check_events(events)?;
        p.poller.add_fd(fd, user_data as usize, events)?;
        Ok(0)
    })
}

/// Changes the events a file descriptor is watched for.
///
/// # Safety
/// `poller` must be NULL or a poller handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_modify_fd(
    poller: *mut c_void,
    fd: zmq_fd_t,
    events: c_short,
) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let p = unsafe { poller_of(poller) }?;
        let fd = check_fd(fd)?;
        let events = check_events(events)?;
        p.poller.modify_fd(fd, events)?;
        Ok(0)
    })
}

/// Removes a file descriptor.
///
/// # Safety
/// `poller` must be NULL or a poller handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_remove_fd(poller: *mut c_void, fd: zmq_fd_t) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let p = unsafe { poller_of(poller) }?;
        p.poller.remove_fd(check_fd(fd)?)?;
        Ok(0)
    })
}

/// Writes one event into C memory.
fn to_c(e: &Event) -> zmq_poller_event_t {
    let (socket, fd) = match e.target {
        Target::Socket(h) => (h as *mut c_void, -1),
        Target::Fd(fd) => (std::ptr::null_mut(), fd),
    };
    zmq_poller_event_t {
        socket,
        fd,
        user_data: e.user_data as *mut c_void,
        events: e.events,
    }
}

/// The empty event libzmq writes where no event is (socket NULL, fd -1).
fn no_event() -> zmq_poller_event_t {
    zmq_poller_event_t {
        socket: std::ptr::null_mut(),
        fd: -1,
        user_data: std::ptr::null_mut(),
        events: 0,
    }
}

/// Waits up to `timeout` ms (-1: no limit) for ready items; writes up to `n_events` into
/// `events` (the rest cleared) and returns how many. EAGAIN when none became ready.
///
/// # Safety
/// `poller` must be NULL or a poller handle; `events` NULL or `n_events` writable events.
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_wait_all(
    poller: *mut c_void,
    events: *mut zmq_poller_event_t,
    n_events: c_int,
    timeout: c_long,
) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let p = unsafe { poller_of(poller) }?;
        if events.is_null() {
            return Err(Error::Fault);
        }
        let n = usize::try_from(n_events).map_err(|_| Error::Inval)?;
        let PollerHandle {
            poller,
            events: got,
        } = p;
        // SAFETY: the sockets the poller holds are socket handles (zmq_poller_add's
        // contract), used by this thread for the call.
        let found = poller.wait(got, n, timeout, &mut |s, f| unsafe { with_socket(s, f) })?;
        // SAFETY: `n_events` writable events at `events`, per the contract.
        let out = unsafe { std::slice::from_raw_parts_mut(events, n) };
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = got.get(i).map_or_else(no_event, to_c);
        }
        Ok(found as c_int)
    })
}

/// Waits up to `timeout` ms for one ready item, written into `*event`; 0 on success,
/// EAGAIN (with `*event` cleared) when none became ready.
///
/// # Safety
/// As `zmq_poller_wait_all` with one event.
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_wait(
    poller: *mut c_void,
    event: *mut zmq_poller_event_t,
    timeout: c_long,
) -> c_int {
    // SAFETY: the contract above.
    let rc = unsafe { zmq_poller_wait_all(poller, event, 1, timeout) };
    if rc < 0 {
        if !event.is_null() {
            // SAFETY: a writable event, per the contract.
            unsafe { *event = no_event() };
        }
        return -1;
    }
    0
}

/// The descriptor that becomes readable when an item may be ready (for an outside event
/// loop); EINVAL unless the poller holds a thread-safe socket, as libzmq.
///
/// # Safety
/// `poller` must be NULL or a poller handle; `fd` must point to a writable `zmq_fd_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_fd(poller: *mut c_void, fd: *mut zmq_fd_t) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let p = unsafe { poller_of(poller) }?;
        let got = p.poller.fd()?;
        if fd.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: a writable zmq_fd_t, per the contract.
        unsafe { *fd = got };
        Ok(0)
    })
}
