//! Opening tcp and ipc sockets the way libzmq does: options applied between `socket()` and
//! `bind()` / `connect()` (which the standard library offers no room for), non-blocking
//! connects, and the checks made on accepted connections. The OS-call layer: `unsafe` here
//! is limited to `socket`, `bind`, `connect`, `listen` on fds this module creates.

#![allow(unsafe_code)]

use std::mem;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::sockopt;
use super::tcp_address::TcpAddressMask;
use crate::error::{Error, Result};
use crate::options::Options;
use crate::transport::connection::Connection;

fn sockaddr_of(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in fits in sockaddr_storage, which is suitably aligned.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in, sin) };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_in6 fits in sockaddr_storage, which is suitably aligned.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in6, sin6) };
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

fn new_socket(addr: &SocketAddr) -> Result<OwnedFd> {
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain syscall; the result is checked.
    let fd = unsafe {
        libc::socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    };
    if fd < 0 {
        return Err(Error::last_os_error());
    }
    // SAFETY: a fresh fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn bind_fd(fd: RawFd, addr: &SocketAddr) -> Result<()> {
    let (ss, len) = sockaddr_of(addr);
    // SAFETY: ss holds a valid sockaddr of length len.
    let rc = unsafe { libc::bind(fd, &ss as *const _ as *const libc::sockaddr, len) };
    if rc < 0 {
        return Err(Error::last_os_error());
    }
    Ok(())
}

/// A listening tcp socket bound to `addr`, with the socket's options; backlog ZMQ_BACKLOG.
pub fn tcp_listen(addr: &SocketAddr, opts: &Options) -> Result<std::net::TcpListener> {
    let fd = new_socket(addr)?;
    sockopt::prepare_tcp_listener(fd.as_raw_fd(), opts, addr.is_ipv6())?;
    bind_fd(fd.as_raw_fd(), addr)?;
    // SAFETY: listen on our own bound fd.
    if unsafe { libc::listen(fd.as_raw_fd(), opts.backlog.max(1)) } < 0 {
        return Err(Error::last_os_error());
    }
    Ok(std::net::TcpListener::from(fd))
}

/// Starts a non-blocking connect to `dest` (from `source` when given).
pub fn tcp_connect(
    dest: SocketAddr,
    source: Option<SocketAddr>,
    opts: &Options,
) -> std::io::Result<Connection> {
    let io = |e: Error| std::io::Error::from_raw_os_error(e.errno());
    let fd = new_socket(&dest).map_err(io)?;
    sockopt::prepare_tcp_connecter(fd.as_raw_fd(), opts, dest.is_ipv6(), source.is_some())
        .map_err(io)?;
    if let Some(src) = source {
        bind_fd(fd.as_raw_fd(), &src).map_err(io)?;
    }
    let (ss, len) = sockaddr_of(&dest);
    // SAFETY: ss holds a valid sockaddr of length len; fd is ours.
    let rc = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            &ss as *const _ as *const libc::sockaddr,
            len,
        )
    };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
    }
    let std_stream = std::net::TcpStream::from(fd);
    Ok(Connection::Tcp(mio::net::TcpStream::from_std(std_stream)))
}

/// Options for an established connection (accepted, or connect completed). False when the
/// connection must be dropped.
pub fn tune(stream: &Connection, opts: &Options) -> bool {
    match stream {
        Connection::Tcp(_) => sockopt::tune_tcp_connection(stream.raw_fd(), opts).is_ok(),
        Connection::Unix(_) => true,
    }
}

/// Whether an accepted connection passes ZMQ_TCP_ACCEPT_FILTER / ZMQ_IPC_FILTER_*.
pub fn accept_allowed(stream: &Connection, peer: Option<&SocketAddr>, opts: &Options) -> bool {
    match stream {
        Connection::Tcp(_) => {
            if opts.tcp_accept_filters.is_empty() {
                return true;
            }
            let Some(peer) = peer else { return false };
            opts.tcp_accept_filters.iter().any(|f| {
                TcpAddressMask::parse_bytes(f, opts.ipv6).is_ok_and(|m| m.matches(&peer.ip()))
            })
        }
        Connection::Unix(_) => match sockopt::peer_cred(stream.raw_fd()) {
            Ok(cred) => sockopt::ipc_peer_allowed(opts, &cred),
            Err(_) => {
                opts.ipc_filter_uid.is_empty()
                    && opts.ipc_filter_gid.is_empty()
                    && opts.ipc_filter_pid.is_empty()
            }
        },
    }
}

/// A duplicate of a caller's listening socket (ZMQ_USE_FD): we own and close the duplicate,
/// the caller keeps theirs.
pub fn dup_listener_fd(fd: RawFd) -> Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a caller-supplied fd; a bad fd gives EBADF, checked.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if new < 0 {
        return Err(Error::last_os_error());
    }
    // SAFETY: `new` is a fresh descriptor owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(new) };
    // SAFETY: fcntl on our own fd.
    let flags = unsafe { libc::fcntl(new, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(new, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(Error::last_os_error());
    }
    Ok(owned)
}
