//! Socket exports: `zmq_socket`, `zmq_close`, options, endpoints, send and receive.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use super::ctx::ctx_ref;
use super::msg::msg_mut;
use super::types::zmq_msg_t;
use super::{guard, guard_ptr};
use crate::constants::*;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::SocketBase;

const SOCKET_TAG: u32 = 0xbaddecaf;
const SOCKET_DEAD: u32 = 0xdeadecaf;

/// What a `void *socket` points to.
pub struct SocketHandle {
    tag: AtomicU32,
    sock: Option<Box<SocketBase>>,
}

/// Closed handles stay allocated and reachable, so a stale handle gives ENOTSOCK.
static CLOSED: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// The socket behind a C handle; ENOTSOCK for NULL, foreign or closed handles.
pub(crate) fn sock_mut<'a>(p: *mut c_void) -> Result<&'a mut SocketBase> {
    if p.is_null() {
        return Err(Error::NotSock);
    }
    // SAFETY: non-NULL socket handles come from zmq_socket and are never freed; the tag
    // is checked before the rest is used.
    let h = unsafe { &mut *(p as *mut SocketHandle) };
    if h.tag.load(Ordering::Acquire) != SOCKET_TAG {
        return Err(Error::NotSock);
    }
    h.sock.as_deref_mut().ok_or(Error::NotSock)
}

fn c_str<'a>(p: *const c_char) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::Inval);
    }
    // SAFETY: a non-NULL C string by the API's contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| Error::Inval)
}

fn size_result(n: usize) -> c_int {
    n.min(c_int::MAX as usize) as c_int
}

/// Runs an endpoint operation (bind, connect, unbind, disconnect) for the C API.
fn endpoint_op(
    s: *mut c_void,
    addr: *const c_char,
    op: fn(&mut SocketBase, &str) -> Result<()>,
) -> c_int {
    guard(|| {
        let sock = sock_mut(s)?;
        op(sock, c_str(addr)?)?;
        Ok(0)
    })
}

/// Creates a socket of `type_` in `context`.
///
/// # Safety
/// `context` must be NULL or a context handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_socket(context: *mut c_void, type_: c_int) -> *mut c_void {
    guard_ptr(|| {
        let ctx = ctx_ref(context)?;
        let sock = SocketBase::new(&ctx.inner, type_)?;
        Ok(Box::into_raw(Box::new(SocketHandle {
            tag: AtomicU32::new(SOCKET_TAG),
            sock: Some(sock),
        })) as *mut c_void)
    })
}

/// Closes a socket; pending work finishes in the background (LINGER).
///
/// # Safety
/// `s` must be NULL or a socket handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_close(s: *mut c_void) -> c_int {
    guard(|| {
        sock_mut(s)?;
        // SAFETY: checked above: a live socket handle.
        let h = unsafe { &mut *(s as *mut SocketHandle) };
        h.tag.store(SOCKET_DEAD, Ordering::Release);
        if let Some(sock) = h.sock.take() {
            sock.close();
        }
        CLOSED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(s as usize);
        Ok(0)
    })
}

/// String options that NULL (length 0) clears and an empty non-NULL string does not.
const STRICT_EMPTY: [c_int; 3] = [ZMQ_SOCKS_PROXY, ZMQ_TCP_ACCEPT_FILTER, ZMQ_BINDTODEVICE];

/// Sets a socket option.
///
/// # Safety
/// `optval` must point to `optvallen` readable bytes (or be NULL with length 0).
#[no_mangle]
pub unsafe extern "C" fn zmq_setsockopt(
    s: *mut c_void,
    option: c_int,
    optval: *const c_void,
    optvallen: usize,
) -> c_int {
    guard(|| {
        let sock = sock_mut(s)?;
        let v: &[u8] = if optval.is_null() {
            if optvallen != 0 {
                return Err(Error::Inval);
            }
            &[]
        } else if optvallen == 0 && STRICT_EMPTY.contains(&option) {
            // These clear with NULL only; an empty string is EINVAL, as in libzmq.
            return Err(Error::Inval);
        } else {
            // SAFETY: the caller's contract.
            unsafe { std::slice::from_raw_parts(optval.cast(), optvallen) }
        };
        sock.setsockopt(option, v)?;
        Ok(0)
    })
}

/// Reads a socket option.
///
/// # Safety
/// `optval` must point to `*optvallen` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_getsockopt(
    s: *mut c_void,
    option: c_int,
    optval: *mut c_void,
    optvallen: *mut usize,
) -> c_int {
    guard(|| {
        let sock = sock_mut(s)?;
        if optvallen.is_null() || optval.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: the caller's contract: *optvallen writable bytes at optval.
        let out = unsafe { std::slice::from_raw_parts_mut(optval.cast::<u8>(), *optvallen) };
        let n = sock.getsockopt(option, out)?;
        // SAFETY: optvallen is non-NULL and writable.
        unsafe { *optvallen = n };
        Ok(0)
    })
}

/// Binds the socket to an endpoint.
///
/// # Safety
/// `addr` must be a C string.
#[no_mangle]
pub unsafe extern "C" fn zmq_bind(s: *mut c_void, addr: *const c_char) -> c_int {
    endpoint_op(s, addr, SocketBase::bind)
}

/// Connects the socket to an endpoint.
///
/// # Safety
/// `addr` must be a C string.
#[no_mangle]
pub unsafe extern "C" fn zmq_connect(s: *mut c_void, addr: *const c_char) -> c_int {
    endpoint_op(s, addr, SocketBase::connect)
}

/// Stops listening on an endpoint.
///
/// # Safety
/// `addr` must be a C string.
#[no_mangle]
pub unsafe extern "C" fn zmq_unbind(s: *mut c_void, addr: *const c_char) -> c_int {
    endpoint_op(s, addr, SocketBase::unbind)
}

/// Disconnects from an endpoint.
///
/// # Safety
/// `addr` must be a C string.
#[no_mangle]
pub unsafe extern "C" fn zmq_disconnect(s: *mut c_void, addr: *const c_char) -> c_int {
    endpoint_op(s, addr, SocketBase::disconnect)
}

fn send_msg(sock: &mut SocketBase, m: &mut Msg, flags: c_int) -> Result<c_int> {
    let n = m.size();
    sock.send(m, flags)?;
    Ok(size_result(n))
}

/// Sends a copy of `len` bytes.
///
/// # Safety
/// `buf` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_send(
    s: *mut c_void,
    buf: *const c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    guard(|| {
        let sock = sock_mut(s)?;
        if buf.is_null() && len != 0 {
            return Err(Error::Fault);
        }
        let data: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: the caller's contract.
            unsafe { std::slice::from_raw_parts(buf.cast(), len) }
        };
        let mut m = Msg::from_slice(data)?;
        send_msg(sock, &mut m, flags)
    })
}

/// Sends `len` bytes without copying; the buffer must stay valid and unchanged.
///
/// # Safety
/// `buf` must point to `len` bytes that outlive the message.
#[no_mangle]
pub unsafe extern "C" fn zmq_send_const(
    s: *mut c_void,
    buf: *const c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    guard(|| {
        let sock = sock_mut(s)?;
        if buf.is_null() && len != 0 {
            return Err(Error::Fault);
        }
        let mut m = Msg::from_const(buf.cast(), len);
        send_msg(sock, &mut m, flags)
    })
}

/// Receives one part into `buf`, truncating; returns the full size.
///
/// # Safety
/// `buf` must point to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_recv(
    s: *mut c_void,
    buf: *mut c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    guard(|| {
        let sock = sock_mut(s)?;
        if buf.is_null() && len != 0 {
            return Err(Error::Fault);
        }
        let mut m = Msg::new();
        sock.recv(&mut m, flags)?;
        let data = m.data();
        let n = data.len().min(len);
        if n > 0 {
            // SAFETY: buf has len >= n writable bytes.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), buf.cast::<u8>(), n) };
        }
        Ok(size_result(data.len()))
    })
}

/// Sends a message; on success it is emptied.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_send(msg: *mut zmq_msg_t, s: *mut c_void, flags: c_int) -> c_int {
    guard(|| {
        let sock = sock_mut(s)?;
        send_msg(sock, msg_mut(msg)?, flags)
    })
}

/// Receives a message part into `msg`.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_recv(msg: *mut zmq_msg_t, s: *mut c_void, flags: c_int) -> c_int {
    guard(|| {
        let sock = sock_mut(s)?;
        let m = msg_mut(msg)?;
        let mut got = Msg::new();
        sock.recv(&mut got, flags)?;
        *m = got;
        Ok(size_result(m.size()))
    })
}

/// Old name of `zmq_msg_send` (socket first).
///
/// # Safety
/// As `zmq_msg_send`.
#[no_mangle]
pub unsafe extern "C" fn zmq_sendmsg(s: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> c_int {
    zmq_msg_send(msg, s, flags)
}

/// Old name of `zmq_msg_recv` (socket first).
///
/// # Safety
/// As `zmq_msg_recv`.
#[no_mangle]
pub unsafe extern "C" fn zmq_recvmsg(s: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> c_int {
    zmq_msg_recv(msg, s, flags)
}

/// Sends `count` buffers as the parts of one message.
///
/// # Safety
/// `a` must point to `count` iovecs describing readable memory.
#[no_mangle]
pub unsafe extern "C" fn zmq_sendiov(
    s: *mut c_void,
    a: *mut libc::iovec,
    count: usize,
    flags: c_int,
) -> c_int {
    guard(|| {
        let sock = sock_mut(s)?;
        if count == 0 || a.is_null() {
            return Err(Error::Inval);
        }
        // SAFETY: the caller's contract.
        let iov = unsafe { std::slice::from_raw_parts(a, count) };
        let mut rc = 0;
        for (i, v) in iov.iter().enumerate() {
            let data: &[u8] = if v.iov_len == 0 {
                &[]
            } else {
                // SAFETY: each iovec describes readable memory by contract.
                unsafe { std::slice::from_raw_parts(v.iov_base.cast(), v.iov_len) }
            };
            let mut m = Msg::from_slice(data)?;
            let f = if i == count - 1 {
                flags & !ZMQ_SNDMORE
            } else {
                flags
            };
            rc = send_msg(sock, &mut m, f)?;
        }
        Ok(rc)
    })
}

/// Receives up to `*count` parts into buffers allocated with malloc (the caller frees
/// them); `*count` becomes the number received.
///
/// # Safety
/// `a` must point to `*count` writable iovecs.
#[no_mangle]
pub unsafe extern "C" fn zmq_recviov(
    s: *mut c_void,
    a: *mut libc::iovec,
    count: *mut usize,
    flags: c_int,
) -> c_int {
    guard(|| {
        let sock = sock_mut(s)?;
        // SAFETY: count is checked for NULL before it is read.
        if count.is_null() || unsafe { *count } == 0 || a.is_null() {
            return Err(Error::Inval);
        }
        // SAFETY: as above.
        let max = unsafe { *count };
        // SAFETY: the caller's contract: `max` writable iovecs.
        let iov = unsafe { std::slice::from_raw_parts_mut(a, max) };
        // SAFETY: count is non-NULL.
        unsafe { *count = 0 };
        let mut nread = 0;
        for v in iov.iter_mut() {
            let mut m = Msg::new();
            sock.recv(&mut m, flags)?;
            let data = m.data();
            // SAFETY: malloc of the part's size (at least 1 byte so the pointer is usable).
            let p = unsafe { libc::malloc(data.len().max(1)) } as *mut u8;
            if p.is_null() {
                return Err(Error::NoMem);
            }
            // SAFETY: p has room for data.len() bytes.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
            v.iov_base = p.cast();
            v.iov_len = data.len();
            // SAFETY: count is non-NULL.
            unsafe { *count += 1 };
            nread += 1;
            if !m.more() {
                break;
            }
        }
        Ok(nread)
    })
}

/// Sends the socket's events (`events` mask) to a PAIR socket bound at `addr` (inproc);
/// a NULL `addr` stops monitoring.
///
/// # Safety
/// `addr` must be NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn zmq_socket_monitor(
    s: *mut c_void,
    addr: *const c_char,
    events: c_int,
) -> c_int {
    guard(|| {
        let sock = sock_mut(s)?;
        let addr = if addr.is_null() {
            None
        } else {
            Some(c_str(addr)?)
        };
        sock.monitor(addr, events)?;
        Ok(0)
    })
}
