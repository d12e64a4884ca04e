//! A connection: the connected byte stream of a network transport (tcp or ipc), as the
//! engine sees it.
//!
//! Writes go through `sendmsg` with MSG_NOSIGNAL: a peer that went away must close that one
//! connection (EPIPE), never raise SIGPIPE in the application ([`sys::send_nosignal`]).

use std::io::{self, IoSlice, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use mio::event::Source;
use mio::net::{TcpStream, UnixStream};
use mio::{Interest, Registry, Token};

use crate::sys;

/// A non-blocking connected stream.
pub enum Connection {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// A connect that failed at once: why, and the number of the descriptor it had opened (closed
/// now), which the monitor reports with ZMQ_EVENT_CLOSED as libzmq does.
#[derive(Debug)]
pub struct ConnectError {
    pub error: io::Error,
    pub fd: Option<RawFd>,
}

impl ConnectError {
    /// A failure before any descriptor was opened (an address that does not resolve).
    pub fn before_socket(error: io::Error) -> ConnectError {
        ConnectError { error, fd: None }
    }
}

/// A unix socket address as an `ipc://` endpoint: its path, `@name` for an abstract one,
/// nothing after `ipc://` for an unnamed one.
fn unix_uri(a: Option<std::os::unix::net::SocketAddr>) -> String {
    use std::os::linux::net::SocketAddrExt;
    let Some(a) = a else {
        return "ipc://".to_string();
    };
    if let Some(p) = a.as_pathname() {
        return format!("ipc://{}", p.display());
    }
    match a.as_abstract_name() {
        Some(n) => format!("ipc://@{}", String::from_utf8_lossy(n)),
        None => "ipc://".to_string(),
    }
}

impl Connection {
    /// Reads into `buf` (WouldBlock when nothing is there).
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Connection::Tcp(s) => s.read(buf),
            Connection::Unix(s) => s.read(buf),
        }
    }

    /// Reads into several buffers at once (in order).
    pub fn read_vectored(&mut self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        match self {
            Connection::Tcp(s) => s.read_vectored(bufs),
            Connection::Unix(s) => s.read_vectored(bufs),
        }
    }

    /// Writes from several buffers at once.
    pub fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        loop {
            match sys::send_nosignal(self.as_fd(), bufs) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
        }
    }

    /// Writes from one buffer.
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    /// The peer's address as libzmq reports it (Peer-Address, the ZAP request): the IP address
    /// for tcp; `localhost:UID:GID:PID` of the peer process for ipc; empty when unknown.
    pub fn peer_address(&self) -> String {
        match self {
            Connection::Tcp(s) => s
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            Connection::Unix(_) => super::sockopt::peer_cred(self.as_fd())
                .map(|c| format!("localhost:{}:{}:{}", c.uid, c.gid, c.pid))
                .unwrap_or_default(),
        }
    }

    /// This end's address as an endpoint (`tcp://127.0.0.1:40000`, `ipc://` for an unnamed
    /// unix socket), as libzmq's monitor events (version 2) name it.
    pub fn local_uri(&self) -> String {
        match self {
            Connection::Tcp(s) => s
                .local_addr()
                .map(|a| super::tcp_address::endpoint_string(&a))
                .unwrap_or_default(),
            Connection::Unix(s) => unix_uri(s.local_addr().ok()),
        }
    }

    /// The peer's address as an endpoint, as `local_uri`.
    pub fn peer_uri(&self) -> String {
        match self {
            Connection::Tcp(s) => s
                .peer_addr()
                .map(|a| super::tcp_address::endpoint_string(&a))
                .unwrap_or_default(),
            Connection::Unix(s) => unix_uri(s.peer_addr().ok()),
        }
    }

    /// The fd, for socket options and ZMQ_SRCFD.
    pub fn raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }

    /// Registers for both directions, edge-triggered.
    pub fn register(&mut self, reg: &Registry, token: Token) -> io::Result<()> {
        let interest = Interest::READABLE | Interest::WRITABLE;
        match self {
            Connection::Tcp(s) => s.register(reg, token, interest),
            Connection::Unix(s) => s.register(reg, token, interest),
        }
    }

    /// Removes the stream from the poll.
    pub fn deregister(&mut self, reg: &Registry) {
        let _ = match self {
            Connection::Tcp(s) => s.deregister(reg),
            Connection::Unix(s) => s.deregister(reg),
        };
    }
}

impl AsFd for Connection {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Connection::Tcp(s) => s.as_fd(),
            Connection::Unix(s) => s.as_fd(),
        }
    }
}
