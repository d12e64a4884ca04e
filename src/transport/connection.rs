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
