//! Opening tcp and ipc sockets the way libzmq does: options applied between `socket()` and
//! `bind()` / `connect()` (which the standard library offers no room for), non-blocking
//! connects, and the checks made on accepted connections. The system calls are
//! [`crate::sys`]'s.

use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use super::sockopt;
use super::tcp_address;
use crate::error::{Error, Result};
use crate::options::Options;
use crate::sys;
use crate::transport::connection::{ConnectError, Connection};

/// A listening tcp socket bound to `addr`, with the socket's options; backlog ZMQ_BACKLOG.
pub fn tcp_listen(addr: &SocketAddr, opts: &Options) -> Result<std::net::TcpListener> {
    let fd = sys::tcp_socket(addr.is_ipv6())?;
    sockopt::prepare_tcp_listener(fd.as_fd(), opts, addr.is_ipv6())?;
    sys::bind(fd.as_fd(), addr)?;
    sys::listen(fd.as_fd(), opts.backlog)?;
    Ok(std::net::TcpListener::from(fd))
}

/// Starts a non-blocking connect to `dest` (from `source` when given).
pub fn tcp_connect(
    dest: SocketAddr,
    source: Option<SocketAddr>,
    opts: &Options,
) -> std::result::Result<Connection, ConnectError> {
    let fd = sys::tcp_socket(dest.is_ipv6()).map_err(ConnectError::before_socket)?;
    let failed = |error| ConnectError {
        error,
        fd: Some(fd.as_raw_fd()),
    };
    sockopt::prepare_tcp_connecter(fd.as_fd(), opts, dest.is_ipv6(), source.is_some())
        .map_err(|e: Error| failed(std::io::Error::from_raw_os_error(e.errno())))?;
    if let Some(src) = source {
        sys::bind(fd.as_fd(), &src).map_err(failed)?;
    }
    if let Err(e) = sys::connect(fd.as_fd(), &dest) {
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(failed(e));
        }
    }
    let std_stream = std::net::TcpStream::from(fd);
    Ok(Connection::Tcp(mio::net::TcpStream::from_std(std_stream)))
}

/// Options for an established connection (accepted, or connect completed). False when the
/// connection must be dropped.
pub fn tune(stream: &Connection, opts: &Options) -> bool {
    match stream {
        Connection::Tcp(_) => sockopt::tune_tcp_connection(stream.as_fd(), opts).is_ok(),
        Connection::Unix(_) => true,
    }
}

/// Whether an accepted connection passes ZMQ_TCP_ACCEPT_FILTER / ZMQ_IPC_FILTER_*.
pub fn accept_allowed(stream: &Connection, peer: Option<&SocketAddr>, opts: &Options) -> bool {
    match stream {
        Connection::Tcp(_) => match peer {
            Some(peer) => tcp_address::accept_allowed(&opts.tcp_accept_filters, peer),
            None => opts.tcp_accept_filters.is_empty(),
        },
        Connection::Unix(_) => match sockopt::peer_cred(stream.as_fd()) {
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
    Ok(sys::dup_nonblocking(fd)?)
}
