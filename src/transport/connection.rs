//! A connection: the connected byte stream of a network transport (tcp or ipc), as the
//! engine sees it.
//!
//! Writes go through `sendmsg` with MSG_NOSIGNAL: a peer that went away must close that one
//! connection (EPIPE), never raise SIGPIPE in the application. This is the only `unsafe`.

#![allow(unsafe_code)]

use std::io::{self, IoSlice, Read};

use mio::event::Source;
use mio::net::{TcpStream, UnixStream};
use mio::{Interest, Registry, Token};

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
        // SAFETY: zero is a valid msghdr (no name, no control data).
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        // IoSlice is guaranteed to have the layout of `struct iovec` on Unix.
        msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = bufs.len() as _;
        loop {
            // SAFETY: msg points to `bufs`, live for the call; the fd is ours.
            let rc = unsafe { libc::sendmsg(self.raw_fd(), &msg, libc::MSG_NOSIGNAL) };
            if rc >= 0 {
                return Ok(rc as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// Writes from one buffer.
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    /// The fd, for socket options and ZMQ_SRCFD.
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        match self {
            Connection::Tcp(s) => s.as_raw_fd(),
            Connection::Unix(s) => s.as_raw_fd(),
        }
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
