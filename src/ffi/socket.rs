//! Socket exports: `zmq_socket`, `zmq_close`, options, endpoints, send and receive, and the
//! socket handle.

use std::ffi::{c_char, c_int, c_void};

use super::ctx::ctx_ref;
use super::handle::{Handle, Tagged};
use super::msg::msg_mut;
use super::types::zmq_msg_t;
use super::{boundary, c_str};
use crate::constants::*;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::thread_safe::ThreadSafe;
use crate::socket::{SocketAccess, SocketBase};

/// What a `void *socket` holds: the socket until it is closed. A classic socket is lent to
/// one thread per call (`sock`); a thread-safe one is shared by every thread that calls,
/// and is never lent as `&mut` (its handle is only ever read). Closed sockets are retired
/// (see [`Handle::retire`]): a stale handle gives ENOTSOCK.
pub(crate) struct SocketHandle {
    sock: Option<Box<SocketBase>>,
    /// Boxed: the handle of every socket, closed ones included, stays 24 bytes.
    safe: Option<Box<ThreadSafe>>,
}

impl Tagged for SocketHandle {
    const TAG: u32 = 0xbadd_ecaf;
    const BAD: Error = Error::NotSock;
    const KEPT: bool = true;
}

/// The socket behind a C handle; ENOTSOCK for NULL, foreign or closed handles.
///
/// # Safety
/// `p` must be NULL or a handle of this crate that was not destroyed (see
/// [`Handle::get_mut`]); for a classic socket, no other reference to the same socket may
/// be in use while the result is (a classic socket is used by one thread at a time, and
/// once per call).
pub(crate) unsafe fn sock<'a>(p: *mut c_void) -> Result<SocketAccess<'a>> {
    // SAFETY: the caller's contract is Handle::get's; the shared reference is dropped
    // before a classic socket is lent mutably below.
    let h = unsafe { Handle::<SocketHandle>::get(p) }?;
    if let Some(t) = &h.safe {
        return Ok(SocketAccess::Safe(t));
    }
    // SAFETY: a classic socket: the caller's contract is Handle::get_mut's.
    let h = unsafe { Handle::<SocketHandle>::get_mut(p) }?;
    Ok(SocketAccess::Classic(
        h.sock.as_deref_mut().ok_or(Error::NotSock)?,
    ))
}

/// Sockets named by C handles for one call (`zmq_poll`, `zmq_proxy`), each looked up once:
/// handles that repeat name the same entry, so no socket is borrowed twice.
#[derive(Default)]
pub(crate) struct SocketTable<'a> {
    handles: Vec<*mut c_void>,
    pub(crate) sockets: Vec<SocketAccess<'a>>,
}

impl<'a> SocketTable<'a> {
    /// The index of the socket behind `p`, looked up on its first appearance.
    ///
    /// # Safety
    /// As [`sock`] for `p`, for all of `'a`.
    pub(crate) unsafe fn index(&mut self, p: *mut c_void) -> Result<usize> {
        if let Some(i) = self.handles.iter().position(|&h| h == p) {
            return Ok(i);
        }
        // SAFETY: the caller's contract; a handle seen before is not looked up again, so
        // this is the only reference to the socket in the table.
        let sock = unsafe { sock(p) }?;
        self.handles.push(p);
        self.sockets.push(sock);
        Ok(self.sockets.len() - 1)
    }
}

fn size_result(n: usize) -> c_int {
    n.min(c_int::MAX as usize) as c_int
}

/// Runs an endpoint operation (bind, connect, unbind, disconnect) for the C API.
///
/// # Safety
/// As [`sock`] for `s`; `addr` must be NULL or a C string.
unsafe fn endpoint_op(
    s: *mut c_void,
    addr: *const c_char,
    op: fn(&mut SocketBase, &str) -> Result<()>,
) -> c_int {
    boundary(|| {
        // SAFETY: the caller's contract.
        let mut sock = unsafe { sock(s) }?;
        // SAFETY: the caller's contract.
        let addr = unsafe { c_str(addr) }?;
        sock.with(|s| op(s, addr))?;
        Ok(0)
    })
}

/// Creates a socket of `type_` in `context`.
///
/// # Safety
/// `context` must be NULL or a context handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_socket(context: *mut c_void, type_: c_int) -> *mut c_void {
    boundary(|| {
        // SAFETY: the contract above.
        let ctx = unsafe { ctx_ref(context) }?;
        let sock = SocketBase::new(ctx, type_)?;
        let h = if sock.is_thread_safe() {
            SocketHandle {
                sock: None,
                safe: Some(Box::new(ThreadSafe::new(sock))),
            }
        } else {
            SocketHandle {
                sock: Some(sock),
                safe: None,
            }
        };
        Ok(Handle::into_raw(h))
    })
}

/// Closes a socket; pending work finishes in the background (LINGER).
///
/// # Safety
/// `s` must be NULL or a socket handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_close(s: *mut c_void) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        if let Some(t) = &unsafe { Handle::<SocketHandle>::get(s) }?.safe {
            // Shared with other threads: closed through the lock, the handle only read.
            t.close()?;
            // SAFETY: as above; the handle stays allocated, so stale copies (and threads
            // still in a call) read a dead tag or find the socket gone.
            unsafe { Handle::<SocketHandle>::retire(s) }?;
            return Ok(0);
        }
        // SAFETY: the contract above; a classic socket is not in use elsewhere (libzmq's
        // rule).
        let sock = unsafe { Handle::<SocketHandle>::get_mut(s) }?.sock.take();
        // SAFETY: as above; the handle stays allocated, so stale copies read a dead tag.
        unsafe { Handle::<SocketHandle>::retire(s) }?;
        if let Some(sock) = sock {
            sock.close();
        }
        Ok(0)
    })
}

/// String options that take NULL (length 0: clear, or for PLAIN's credentials, back to NULL)
/// and refuse an empty non-NULL string.
const STRICT_EMPTY: [c_int; 8] = [
    ZMQ_SOCKS_PROXY,
    ZMQ_TCP_ACCEPT_FILTER,
    ZMQ_BINDTODEVICE,
    ZMQ_PLAIN_USERNAME,
    ZMQ_PLAIN_PASSWORD,
    ZMQ_IPC_FILTER_UID,
    ZMQ_IPC_FILTER_GID,
    ZMQ_IPC_FILTER_PID,
];

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
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
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
        sock.with(|s| s.setsockopt(option, v))?;
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
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
        if optvallen.is_null() || optval.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: the caller's contract: *optvallen writable bytes at optval.
        let out = unsafe { std::slice::from_raw_parts_mut(optval.cast::<u8>(), *optvallen) };
        let n = sock.with(|s| s.getsockopt(option, out))?;
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
    // SAFETY: the contract above is endpoint_op's.
    unsafe { endpoint_op(s, addr, SocketBase::bind) }
}

/// Connects the socket to an endpoint.
///
/// # Safety
/// `addr` must be a C string.
#[no_mangle]
pub unsafe extern "C" fn zmq_connect(s: *mut c_void, addr: *const c_char) -> c_int {
    // SAFETY: the contract above is endpoint_op's.
    unsafe { endpoint_op(s, addr, SocketBase::connect) }
}

/// Stops listening on an endpoint.
///
/// # Safety
/// `addr` must be a C string.
#[no_mangle]
pub unsafe extern "C" fn zmq_unbind(s: *mut c_void, addr: *const c_char) -> c_int {
    // SAFETY: the contract above is endpoint_op's.
    unsafe { endpoint_op(s, addr, SocketBase::unbind) }
}

/// Disconnects from an endpoint.
///
/// # Safety
/// `addr` must be a C string.
#[no_mangle]
pub unsafe extern "C" fn zmq_disconnect(s: *mut c_void, addr: *const c_char) -> c_int {
    // SAFETY: the contract above is endpoint_op's.
    unsafe { endpoint_op(s, addr, SocketBase::disconnect) }
}

fn send_msg(sock: &mut SocketAccess<'_>, m: &mut Msg, flags: c_int) -> Result<c_int> {
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
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
        if buf.is_null() && len != 0 {
            return Err(Error::Fault);
        }
        let data: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: the caller's contract.
            unsafe { std::slice::from_raw_parts(buf.cast(), len) }
        };
        let mut m = Msg::new();
        m.assign_copy(data)?;
        send_msg(&mut sock, &mut m, flags)
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
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
        if buf.is_null() && len != 0 {
            return Err(Error::Fault);
        }
        // SAFETY: the caller's contract: `len` bytes, unchanged while any copy of the
        // message lives.
        let mut m = unsafe { Msg::from_const(buf.cast(), len) };
        send_msg(&mut sock, &mut m, flags)
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
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
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

/// `zmq_msg_send` and its old name.
///
/// # Safety
/// As [`sock`] for `s` and [`msg_mut`] for `msg`.
unsafe fn msg_send(msg: *mut zmq_msg_t, s: *mut c_void, flags: c_int) -> Result<c_int> {
    // SAFETY: the caller's contract.
    let mut sock = unsafe { sock(s) }?;
    // SAFETY: the caller's contract.
    send_msg(&mut sock, unsafe { msg_mut(msg) }?, flags)
}

/// `zmq_msg_recv` and its old name.
///
/// # Safety
/// As [`sock`] for `s` and [`msg_mut`] for `msg`.
unsafe fn msg_recv(msg: *mut zmq_msg_t, s: *mut c_void, flags: c_int) -> Result<c_int> {
    // SAFETY: the caller's contract.
    let mut sock = unsafe { sock(s) }?;
    // SAFETY: the caller's contract.
    let m = unsafe { msg_mut(msg) }?;
    // Straight into the caller's message: the socket empties it when it looks for a
    // message (as libzmq's do), and leaves it as it was on an error before that.
    sock.recv(m, flags)?;
    Ok(size_result(m.size()))
}

/// Sends a message; on success it is emptied.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_send(msg: *mut zmq_msg_t, s: *mut c_void, flags: c_int) -> c_int {
    // SAFETY: the contract above is msg_send's.
    boundary(|| unsafe { msg_send(msg, s, flags) })
}

/// Receives a message part into `msg`.
///
/// # Safety
/// `msg` must point to an initialised `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_recv(msg: *mut zmq_msg_t, s: *mut c_void, flags: c_int) -> c_int {
    // SAFETY: the contract above is msg_recv's.
    boundary(|| unsafe { msg_recv(msg, s, flags) })
}

/// Old name of `zmq_msg_send` (socket first).
///
/// # Safety
/// As `zmq_msg_send`.
#[no_mangle]
pub unsafe extern "C" fn zmq_sendmsg(s: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> c_int {
    // SAFETY: the contract above is msg_send's.
    boundary(|| unsafe { msg_send(msg, s, flags) })
}

/// Old name of `zmq_msg_recv` (socket first).
///
/// # Safety
/// As `zmq_msg_recv`.
#[no_mangle]
pub unsafe extern "C" fn zmq_recvmsg(s: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> c_int {
    // SAFETY: the contract above is msg_recv's.
    boundary(|| unsafe { msg_recv(msg, s, flags) })
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
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
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
            rc = send_msg(&mut sock, &mut m, f)?;
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
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
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
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
        let addr = if addr.is_null() {
            None
        } else {
            // SAFETY: non-NULL, a C string by the contract above.
            Some(unsafe { c_str(addr) }?)
        };
        // As libzmq: version 1, a PAIR, and the int mask widened with its sign.
        sock.with(|s| s.monitor(addr, events as i64 as u64, 1, ZMQ_PAIR))?;
        Ok(0)
    })
}

/// A group argument: NULL is EINVAL; any bytes up to the NUL.
///
/// # Safety
/// `group` must be NULL or a C string.
#[cfg(feature = "draft")]
unsafe fn group_arg<'a>(group: *const c_char) -> Result<&'a [u8]> {
    if group.is_null() {
        return Err(Error::Inval);
    }
    // SAFETY: a non-NULL C string, by the contract.
    Ok(unsafe { std::ffi::CStr::from_ptr(group) }.to_bytes())
}

/// Joins a group (DISH; ENOTSUP for other types).
///
/// # Safety
/// `s` must be NULL or a socket handle; `group` NULL or a C string.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_join(s: *mut c_void, group: *const c_char) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
        // SAFETY: the contract above.
        let group = unsafe { group_arg(group) }?;
        sock.with(|s| s.join_leave(group, true))?;
        Ok(0)
    })
}

/// Leaves a group (DISH; ENOTSUP for other types).
///
/// # Safety
/// `s` must be NULL or a socket handle; `group` NULL or a C string.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_leave(s: *mut c_void, group: *const c_char) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
        // SAFETY: the contract above.
        let group = unsafe { group_arg(group) }?;
        sock.with(|s| s.join_leave(group, false))?;
        Ok(0)
    })
}

/// Connects a PEER socket and returns the routing id of the new connection (0 on failure:
/// ENOTSUP for another type, EFAULT with ZMQ_IMMEDIATE).
///
/// # Safety
/// `s` must be NULL or a socket handle; `addr` NULL or a C string.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_connect_peer(s: *mut c_void, addr: *const c_char) -> u32 {
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
        // SAFETY: the contract above.
        let addr = unsafe { c_str(addr) }?;
        sock.with(|s| s.connect_peer(addr))
    })
}

/// Monitors the socket with events of `event_version` (1 or 2) sent by a socket of `type_`
/// (PAIR, PUB or PUSH) bound at `addr` (inproc); a NULL `addr` stops monitoring.
///
/// # Safety
/// `s` must be NULL or a socket handle; `addr` NULL or a C string.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_socket_monitor_versioned(
    s: *mut c_void,
    addr: *const c_char,
    events: u64,
    event_version: c_int,
    type_: c_int,
) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
        let addr = if addr.is_null() {
            None
        } else {
            // SAFETY: non-NULL, a C string by the contract above.
            Some(unsafe { c_str(addr) }?)
        };
        sock.with(|s| s.monitor(addr, events, event_version, type_))?;
        Ok(0)
    })
}

/// Asks every pipe of the socket for its queue counts, reported as ZMQ_EVENT_PIPES_STATS
/// events to the socket's monitor (EINVAL unless it wants them, EAGAIN without a pipe).
///
/// # Safety
/// `s` must be NULL or a socket handle.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_socket_monitor_pipes_stats(s: *mut c_void) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
        sock.with(|s| s.monitor_pipes_stats())?;
        Ok(0)
    })
}

/// What the ROUTER's peer `routing_id` can take now: ZMQ_POLLOUT when it has room
/// (EHOSTUNREACH for an unknown peer; ENOTSUP for other socket types).
///
/// # Safety
/// `s` must be NULL or a socket handle; `routing_id` must point to `routing_id_size`
/// readable bytes (or be NULL with size 0).
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_socket_get_peer_state(
    s: *mut c_void,
    routing_id: *const c_void,
    routing_id_size: usize,
) -> c_int {
    boundary(|| {
        // SAFETY: the contract above.
        let mut sock = unsafe { sock(s) }?;
        // SAFETY: the contract above.
        let id = unsafe { super::bytes_arg(routing_id, routing_id_size) }?;
        sock.with(|s| s.peer_state(id))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_handle_is_three_words_closed_or_not() {
        // What every closed socket keeps for the life of the process (README, scale).
        assert_eq!(std::mem::size_of::<Handle<SocketHandle>>(), 24);
    }
}
