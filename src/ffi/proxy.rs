//! `zmq_proxy`, `zmq_proxy_steerable`, `zmq_device`: convert the socket handles for
//! [`crate::proxy::run`].

use std::ffi::{c_int, c_void};

use super::boundary;
use super::socket::SocketTable;
use crate::error::{Error, Result};
use crate::proxy::{run, Roles};
use crate::socket::SocketAccess;

/// Looks up the proxy's sockets (capture and control may be NULL) and runs it.
///
/// # Safety
/// Each argument must be NULL or a socket handle (front and back may not be NULL).
unsafe fn proxy(
    front: *mut c_void,
    back: *mut c_void,
    capture: *mut c_void,
    control: *mut c_void,
) -> Result<c_int> {
    if front.is_null() || back.is_null() {
        return Err(Error::Fault);
    }
    let mut table = SocketTable::default();
    // SAFETY: socket handles by the caller's contract, used for this call only (the table
    // looks up each distinct handle once); the same for the three below.
    let front = unsafe { table.index(front) }?;
    // SAFETY: as above.
    let back = unsafe { table.index(back) }?;
    let capture = match capture.is_null() {
        true => None,
        // SAFETY: as above.
        false => Some(unsafe { table.index(capture) }?),
    };
    let control = match control.is_null() {
        true => None,
        // SAFETY: as above.
        false => Some(unsafe { table.index(control) }?),
    };
    let roles = Roles {
        front,
        back,
        capture,
        control,
    };
    // The proxy moves multipart messages, which thread-safe sockets do not carry.
    let mut sockets = Vec::with_capacity(table.sockets.len());
    for s in table.sockets {
        match s {
            SocketAccess::Classic(s) => sockets.push(s),
            SocketAccess::Safe(_) => return Err(Error::NotSup),
        }
    }
    run(&mut sockets, roles)?;
    Ok(0)
}

/// Forwards between `frontend` and `backend` until the context terminates.
///
/// # Safety
/// Arguments must be socket handles (capture may be NULL).
#[no_mangle]
pub unsafe extern "C" fn zmq_proxy(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
) -> c_int {
    // SAFETY: the contract above is proxy's.
    boundary(|| unsafe { proxy(frontend, backend, capture, std::ptr::null_mut()) })
}

/// As `zmq_proxy`, steered by PAUSE / RESUME / TERMINATE / STATISTICS on `control`.
///
/// # Safety
/// Arguments must be socket handles (capture and control may be NULL).
#[no_mangle]
pub unsafe extern "C" fn zmq_proxy_steerable(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
    control: *mut c_void,
) -> c_int {
    // SAFETY: the contract above is proxy's.
    boundary(|| unsafe { proxy(frontend, backend, capture, control) })
}

/// Old API: `zmq_proxy` without capture (the device type is ignored, as in libzmq).
///
/// # Safety
/// Arguments must be socket handles.
#[no_mangle]
pub unsafe extern "C" fn zmq_device(
    _type: c_int,
    frontend: *mut c_void,
    backend: *mut c_void,
) -> c_int {
    // SAFETY: the contract above is proxy's.
    boundary(|| unsafe {
        proxy(
            frontend,
            backend,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    })
}
