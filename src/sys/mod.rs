//! The system-call layer: every libc call the crate makes outside `ffi/`, each behind a small
//! safe function with a stated contract. Linux only.
//!
//! - [`socket`]: tcp sockets (create, bind, connect, listen), socket options, peer
//!   credentials, `ZMQ_USE_FD` duplicates, `sendmsg` without SIGPIPE, and the conversion
//!   between [`std::net::SocketAddr`] and the C socket address structs.
//! - [`event`]: the eventfd of the signaler and its futex, `poll`, and the epoll set of `zmq_poller`.
//! - [`clock`]: the calling thread's CPU clock (the watch policy's measure of a sleep).
//! - [`lookup`]: the C library's look-ups: getaddrinfo, getifaddrs, interface names and
//!   indexes, the user and group databases.
//!
//! Errors are [`std::io::Error`]s carrying the errno of the failed call (callers convert to
//! [`crate::error::Error`] with `?`, which keeps the errno). A call that reports failure by
//! returning -1 goes through [`syscall!`], which turns that -1 into
//! [`std::io::Error::last_os_error`].
//!
//! Descriptors are passed as [`BorrowedFd`](std::os::fd::BorrowedFd) (the caller owns an
//! open descriptor for the call), except where a caller-supplied integer is the point
//! ([`socket::dup_nonblocking`]).

// This module is where the crate's system calls live, so it alone (outside ffi/, msg/, the
// queue) needs `unsafe`; every block says why it is sound.
#![allow(unsafe_code)]

use std::io;

/// Calls `libc::$name($args)` (unsafe: the call site has the `// SAFETY:` comment) and turns
/// a -1 return into `Err(io::Error::last_os_error())`; any other value is `Ok`.
macro_rules! syscall {
    ($name:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: stated by the `// SAFETY:` comment at each `syscall!` call site.
        let rc = unsafe { libc::$name($($arg),*) };
        $crate::sys::cvt(rc)
    }};
}

pub mod clock;
pub mod event;
pub mod lookup;
pub mod socket;

pub use clock::thread_cpu_time;
pub use event::{
    epoll_create, epoll_ctl, epoll_wait, eventfd, eventfd_read, eventfd_write, futex_wait,
    futex_wake_all, poll, poll_readable, ppoll,
};
#[cfg(test)]
pub use lookup::user_ids;
pub use lookup::{
    find_interface_address, getaddrinfo_first_ip, group_members, if_indextoname, if_nametoindex,
    user_name,
};
#[cfg(test)]
pub use socket::getsockopt_int;
pub use socket::{
    bind, bind_unix, connect, connect_unix, dup_nonblocking, listen, peer_cred, send_nosignal,
    setsockopt_bytes, setsockopt_int, tcp_socket, udp_socket, unix_stream_socket,
};

/// A C return type whose value -1 means "failed, see errno".
pub trait MinusOne: Copy + PartialEq {
    /// The value -1 of the type.
    const MINUS_ONE: Self;
}

impl MinusOne for i32 {
    const MINUS_ONE: Self = -1;
}

impl MinusOne for isize {
    const MINUS_ONE: Self = -1;
}

impl MinusOne for i64 {
    const MINUS_ONE: Self = -1;
}

/// `Err(last_os_error())` when `rc` is -1, `Ok(rc)` otherwise. Read errno right after the
/// call (nothing in between may touch it).
#[inline]
pub fn cvt<T: MinusOne>(rc: T) -> io::Result<T> {
    if rc == T::MINUS_ONE {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_one_becomes_the_errno() {
        assert_eq!(cvt(0).unwrap(), 0);
        assert_eq!(cvt(7isize).unwrap(), 7);
        assert_eq!(cvt(-2i64).unwrap(), -2);
        // SAFETY: closing -1 touches no descriptor; it fails with EBADF.
        let e = syscall!(close(-1)).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBADF));
        // SAFETY: F_GETFD on -1 touches no descriptor; it fails with EBADF.
        let e = syscall!(fcntl(-1, libc::F_GETFD)).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBADF));
    }
}
