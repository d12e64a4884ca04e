//! Sockets: tcp socket creation, bind / connect / listen, socket options, peer credentials,
//! `ZMQ_USE_FD` duplicates, `sendmsg` without SIGPIPE, and socket address conversions.

use std::io::{self, IoSlice};
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// The C form of `addr`: a `sockaddr_in` or `sockaddr_in6` in a `sockaddr_storage`, and its
/// length.
pub fn sockaddr_of(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
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

/// The address of an AF_INET / AF_INET6 socket address; None for a null pointer or another
/// family.
///
/// # Safety
/// `sa` is null or points to a readable sockaddr whose storage is as large as its family's
/// struct (`sockaddr_in` / `sockaddr_in6`) when the family is one of those two.
pub(super) unsafe fn socket_addr_from_raw(sa: *const libc::sockaddr) -> Option<SocketAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: per the contract, the family field is readable and selects the struct size.
    unsafe {
        match (*sa).sa_family as libc::c_int {
            libc::AF_INET => {
                let sin = &*(sa as *const libc::sockaddr_in);
                Some(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                    u16::from_be(sin.sin_port),
                )))
            }
            libc::AF_INET6 => {
                let sin6 = &*(sa as *const libc::sockaddr_in6);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

/// The address held in `ss` (the inverse of [`sockaddr_of`]); None for a family other than
/// AF_INET / AF_INET6.
#[cfg(test)]
pub fn socket_addr_of(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    // SAFETY: a sockaddr_storage is large enough and aligned for every address family.
    unsafe { socket_addr_from_raw((ss as *const libc::sockaddr_storage).cast()) }
}

/// A new non-blocking, close-on-exec tcp socket (`SOCK_STREAM`) of family AF_INET6 when
/// `ipv6`, AF_INET otherwise.
pub fn tcp_socket(ipv6: bool) -> io::Result<OwnedFd> {
    let family = if ipv6 { libc::AF_INET6 } else { libc::AF_INET };
    // SAFETY: no memory arguments; the result is checked.
    let fd = syscall!(socket(
        family,
        libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
        0,
    ))?;
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A new non-blocking, close-on-exec udp socket (`SOCK_DGRAM`) of family AF_INET6 when
/// `ipv6`, AF_INET otherwise.
pub fn udp_socket(ipv6: bool) -> io::Result<OwnedFd> {
    let family = if ipv6 { libc::AF_INET6 } else { libc::AF_INET };
    // SAFETY: no memory arguments; the result is checked.
    let fd = syscall!(socket(
        family,
        libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
        0,
    ))?;
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `bind(fd, addr)`.
pub fn bind(fd: BorrowedFd<'_>, addr: &SocketAddr) -> io::Result<()> {
    let (ss, len) = sockaddr_of(addr);
    // SAFETY: `ss` holds a valid sockaddr of length `len`, live for the call.
    syscall!(bind(
        fd.as_raw_fd(),
        &ss as *const _ as *const libc::sockaddr,
        len
    ))?;
    Ok(())
}

/// `connect(fd, addr)`; on a non-blocking socket an attempt under way is
/// `Err` with EINPROGRESS.
pub fn connect(fd: BorrowedFd<'_>, addr: &SocketAddr) -> io::Result<()> {
    let (ss, len) = sockaddr_of(addr);
    // SAFETY: `ss` holds a valid sockaddr of length `len`, live for the call.
    syscall!(connect(
        fd.as_raw_fd(),
        &ss as *const _ as *const libc::sockaddr,
        len
    ))?;
    Ok(())
}

/// A new non-blocking, close-on-exec unix stream socket (an ipc connect's or listener's).
pub fn unix_stream_socket() -> io::Result<OwnedFd> {
    // SAFETY: no memory arguments; the result is checked.
    let fd = syscall!(socket(
        libc::AF_UNIX,
        libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
        0,
    ))?;
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The C form of a unix socket address: a path, or an abstract name (EINVAL for an unnamed
/// address, ENAMETOOLONG when it does not fit), with its length.
fn sockaddr_un_of(
    addr: &std::os::unix::net::SocketAddr,
) -> io::Result<(libc::sockaddr_un, libc::socklen_t)> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
    let mut sun: libc::sockaddr_un = unsafe { mem::zeroed() };
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    // A path is followed by a NUL (counted in the length); an abstract name follows one
    // (its length is exact).
    let (name, abstract_name) = match (addr.as_pathname(), addr.as_abstract_name()) {
        (Some(p), _) => (p.as_os_str().as_bytes(), false),
        (None, Some(n)) => (n, true),
        (None, None) => return Err(io::Error::from_raw_os_error(libc::EINVAL)),
    };
    if name.len() + 1 > sun.sun_path.len() {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    let start = usize::from(abstract_name);
    for (d, &b) in sun.sun_path[start..].iter_mut().zip(name) {
        *d = b as libc::c_char;
    }
    let len = mem::offset_of!(libc::sockaddr_un, sun_path) + name.len() + 1;
    Ok((sun, len as libc::socklen_t))
}

/// `connect(fd, addr)` to a unix socket address (errors as [`sockaddr_un_of`]). On a
/// non-blocking socket a full backlog is `Err` with EAGAIN.
pub fn connect_unix(fd: BorrowedFd<'_>, addr: &std::os::unix::net::SocketAddr) -> io::Result<()> {
    let (sun, len) = sockaddr_un_of(addr)?;
    // SAFETY: `sun` is a valid sockaddr_un of at least `len` bytes, live for the call.
    syscall!(connect(
        fd.as_raw_fd(),
        &sun as *const _ as *const libc::sockaddr,
        len
    ))?;
    Ok(())
}

/// `bind(fd, addr)` to a unix socket address (errors as [`sockaddr_un_of`]).
pub fn bind_unix(fd: BorrowedFd<'_>, addr: &std::os::unix::net::SocketAddr) -> io::Result<()> {
    let (sun, len) = sockaddr_un_of(addr)?;
    // SAFETY: `sun` is a valid sockaddr_un of at least `len` bytes, live for the call.
    syscall!(bind(
        fd.as_raw_fd(),
        &sun as *const _ as *const libc::sockaddr,
        len
    ))?;
    Ok(())
}

/// `listen(fd, backlog)`.
pub fn listen(fd: BorrowedFd<'_>, backlog: libc::c_int) -> io::Result<()> {
    // SAFETY: no memory arguments.
    syscall!(listen(fd.as_raw_fd(), backlog))?;
    Ok(())
}

/// `setsockopt` with a C `int` value.
pub fn setsockopt_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` lives for the call and its size is passed.
    syscall!(setsockopt(
        fd.as_raw_fd(),
        level,
        name,
        (&value as *const libc::c_int).cast(),
        mem::size_of::<libc::c_int>() as libc::socklen_t,
    ))?;
    Ok(())
}

/// `setsockopt` with a byte string value (passed with its length, no NUL added).
pub fn setsockopt_bytes(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &[u8],
) -> io::Result<()> {
    // SAFETY: `value` is valid for reads of its length, which is passed.
    syscall!(setsockopt(
        fd.as_raw_fd(),
        level,
        name,
        value.as_ptr().cast(),
        value.len() as libc::socklen_t,
    ))?;
    Ok(())
}

/// `getsockopt` of a C `int` value.
#[cfg(test)]
pub fn getsockopt_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes and `len` holds the size of `value`.
    syscall!(getsockopt(
        fd.as_raw_fd(),
        level,
        name,
        (&mut value as *mut libc::c_int).cast(),
        &mut len,
    ))?;
    Ok(value)
}

/// SO_PEERCRED of a connected unix socket: the peer's pid, uid and gid.
pub fn peer_cred(fd: BorrowedFd<'_>) -> io::Result<libc::ucred> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for writes and `len` holds the size of `cred`.
    syscall!(getsockopt(
        fd.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_PEERCRED,
        (&mut cred as *mut libc::ucred).cast(),
        &mut len,
    ))?;
    Ok(cred)
}

/// A close-on-exec duplicate of descriptor number `fd` (F_DUPFD_CLOEXEC), made
/// non-blocking (O_NONBLOCK added to its file status flags, which the original shares).
/// `fd` is any integer a caller supplied (ZMQ_USE_FD): one that is not open gives EBADF.
pub fn dup_nonblocking(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: fcntl reads no memory; the kernel checks `fd`.
    let new = syscall!(fcntl(fd, libc::F_DUPFD_CLOEXEC, 0))?;
    // SAFETY: `new` is a fresh descriptor owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(new) };
    // SAFETY: fcntl on our own descriptor, no memory arguments.
    let flags = syscall!(fcntl(new, libc::F_GETFL))?;
    // SAFETY: as above.
    syscall!(fcntl(new, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
    Ok(owned)
}

/// One `sendmsg(fd, bufs, MSG_NOSIGNAL)`: a peer that went away gives EPIPE, never SIGPIPE.
/// Returns the number of bytes written (EINTR is the caller's to retry).
#[inline]
pub fn send_nosignal(fd: BorrowedFd<'_>, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: zero is a valid msghdr (no name, no control data).
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    // IoSlice is guaranteed to have the layout of `struct iovec` on Unix.
    msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = bufs.len() as _;
    // SAFETY: `msg` points to `bufs`, live for the call, which the kernel only reads.
    let n = syscall!(sendmsg(fd.as_raw_fd(), &msg, libc::MSG_NOSIGNAL))?;
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn socket_addresses_round_trip() {
        let addrs: [SocketAddr; 4] = [
            "127.0.0.1:5555".parse().unwrap(),
            "10.1.2.3:0".parse().unwrap(),
            "[::1]:65535".parse().unwrap(),
            SocketAddr::V6(SocketAddrV6::new(
                "fe80::1:2".parse().unwrap(),
                4242,
                0x12345,
                3,
            )),
        ];
        for a in addrs {
            let (ss, len) = sockaddr_of(&a);
            let expect = if a.is_ipv4() {
                mem::size_of::<libc::sockaddr_in>()
            } else {
                mem::size_of::<libc::sockaddr_in6>()
            };
            assert_eq!(len as usize, expect);
            assert_eq!(socket_addr_of(&ss), Some(a));
        }
    }

    #[test]
    fn c_address_layout_is_network_order() {
        let (ss, _) = sockaddr_of(&"1.2.3.4:258".parse().unwrap());
        // SAFETY: sockaddr_of wrote a sockaddr_in at the start of `ss`.
        let sin = unsafe { &*(&ss as *const _ as *const libc::sockaddr_in) };
        assert_eq!(sin.sin_family as i32, libc::AF_INET);
        assert_eq!(sin.sin_port.to_ne_bytes(), [1, 2]);
        assert_eq!(sin.sin_addr.s_addr.to_ne_bytes(), [1, 2, 3, 4]);
        let mut other: libc::sockaddr_storage = ss;
        other.ss_family = libc::AF_UNIX as libc::sa_family_t;
        assert_eq!(socket_addr_of(&other), None);
        // SAFETY: null is allowed by the contract.
        assert_eq!(unsafe { socket_addr_from_raw(std::ptr::null()) }, None);
    }

    #[test]
    fn bind_listen_connect_and_errors() {
        let l = tcp_socket(false).unwrap();
        setsockopt_int(l.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1).unwrap();
        bind(l.as_fd(), &"127.0.0.1:0".parse().unwrap()).unwrap();
        listen(l.as_fd(), 1).unwrap();
        let listener = std::net::TcpListener::from(l);
        let at = listener.local_addr().unwrap();
        let c = tcp_socket(false).unwrap();
        match connect(c.as_fd(), &at) {
            Ok(()) => {}
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EINPROGRESS)),
        }
        let (server, _) = listener.accept().unwrap();
        assert_eq!(
            getsockopt_int(server.as_fd(), libc::SOL_SOCKET, libc::SO_TYPE).unwrap(),
            libc::SOCK_STREAM
        );
        // A second bind of the same address fails with the kernel's errno.
        let again = tcp_socket(false).unwrap();
        let e = bind(again.as_fd(), &at).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EADDRINUSE));
        let e = setsockopt_bytes(
            again.as_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            b"nosuchdev0",
        )
        .unwrap_err();
        assert!(matches!(
            e.raw_os_error(),
            Some(libc::ENODEV) | Some(libc::EPERM)
        ));
    }

    #[test]
    fn duplicates_are_non_blocking_and_bad_numbers_fail() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let dup = dup_nonblocking(a.as_raw_fd()).unwrap();
        assert_ne!(dup.as_raw_fd(), a.as_raw_fd());
        // SAFETY: F_GETFL on our own descriptor.
        let flags = syscall!(fcntl(dup.as_raw_fd(), libc::F_GETFL)).unwrap();
        assert_ne!(flags & libc::O_NONBLOCK, 0);
        let e = dup_nonblocking(-1).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBADF));
    }

    #[test]
    fn send_to_a_closed_peer_is_epipe() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"cde")];
        assert_eq!(send_nosignal(a.as_fd(), &bufs).unwrap(), 5);
        drop(b);
        let e = send_nosignal(a.as_fd(), &bufs).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
        let cred = peer_cred(a.as_fd()).unwrap();
        assert_eq!(cred.pid, std::process::id() as i32);
    }
}
