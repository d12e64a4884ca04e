//! The OS-call layer of the tcp and ipc transports: socket options applied to a raw fd the
//! way libzmq applies them, peer credentials for the IPC filters, and the libc look-ups the
//! address resolvers need. This is the one module of `transport` with `unsafe`; every block
//! says why it is sound.
//!
//! Which helper runs when (mirroring libzmq):
//!
//! | step | helper |
//! |---|---|
//! | listener socket created, before `bind` | [`prepare_tcp_listener`] |
//! | connecter socket created, before (source `bind` and) `connect` | [`prepare_tcp_connecter`] |
//! | connection accepted or connect completed, before the engine starts | [`tune_tcp_connection`] |
//! | ipc connection accepted, any `ZMQ_IPC_FILTER_*` set | [`peer_cred`] then [`ipc_peer_allowed`] |
//!
//! ```no_run
//! use std::os::fd::AsRawFd;
//! use zmq::options::Options;
//! use zmq::transport::sockopt;
//! # fn main() -> zmq::error::Result<()> {
//! let opts = Options::new(zmq::constants::ZMQ_PAIR);
//! let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//! sockopt::prepare_tcp_listener(listener.as_raw_fd(), &opts, false)?;
//! let (conn, _peer) = listener.accept().unwrap();
//! sockopt::tune_tcp_connection(conn.as_raw_fd(), &opts)?;
//! # Ok(()) }
//! ```
//!
//! (std binds before we see the fd; a real listener creates the socket with `socket2`-like
//! raw calls or mio and runs [`prepare_tcp_listener`] between `socket` and `bind`.)

#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::RawFd;

use crate::error::{Error, Result};
use crate::options::Options;

fn check(rc: libc::c_int) -> Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::last_os_error())
    }
}

/// `setsockopt` with a C `int` value.
pub fn set_int(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> Result<()> {
    // SAFETY: `value` lives for the call and its size is passed; the kernel validates `fd`.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    check(rc)
}

/// `getsockopt` of a C `int` value.
pub fn get_int(fd: RawFd, level: libc::c_int, name: libc::c_int) -> Result<i32> {
    let mut value: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes and `len` holds the size of `value`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    check(rc)?;
    Ok(value)
}

/// TCP_NODELAY on: libzmq batches itself and never wants Nagle's delay.
pub fn set_nodelay(fd: RawFd) -> Result<()> {
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)
}

/// SO_SNDBUF / SO_RCVBUF from ZMQ_SNDBUF / ZMQ_RCVBUF, each only when >= 0 (-1 keeps the OS
/// default).
pub fn set_buffers(fd: RawFd, sndbuf: i32, rcvbuf: i32) -> Result<()> {
    if sndbuf >= 0 {
        set_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, sndbuf)?;
    }
    if rcvbuf >= 0 {
        set_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, rcvbuf)?;
    }
    Ok(())
}

/// ZMQ_TOS: IP_TOS, and IPV6_TCLASS too; the latter fails on an IPv4 socket, which is
/// ignored as libzmq ignores it.
pub fn set_type_of_service(fd: RawFd, tos: i32) -> Result<()> {
    set_int(fd, libc::IPPROTO_IP, libc::IP_TOS, tos)?;
    match set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, tos) {
        Err(Error::Os(libc::ENOPROTOOPT)) | Err(Error::Inval) => Ok(()),
        other => other,
    }
}

/// ZMQ_TCP_KEEPALIVE*: nothing when `keepalive` is -1; SO_KEEPALIVE set to `keepalive`
/// otherwise, and when it is 1, each of TCP_KEEPCNT / TCP_KEEPIDLE / TCP_KEEPINTVL that is
/// not -1.
pub fn set_keepalives(fd: RawFd, keepalive: i32, cnt: i32, idle: i32, intvl: i32) -> Result<()> {
    if keepalive == -1 {
        return Ok(());
    }
    set_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, keepalive)?;
    if keepalive == 1 {
        if cnt != -1 {
            set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, cnt)?;
        }
        if idle != -1 {
            set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, idle)?;
        }
        if intvl != -1 {
            set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, intvl)?;
        }
    }
    Ok(())
}

/// ZMQ_TCP_MAXRT (milliseconds) as Linux's TCP_USER_TIMEOUT; 0 keeps the OS default.
pub fn set_max_retransmit_timeout(fd: RawFd, maxrt: i32) -> Result<()> {
    if maxrt == 0 {
        return Ok(());
    }
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, maxrt)
}

/// ZMQ_BINDTODEVICE: SO_BINDTODEVICE (needs CAP_NET_RAW; the error, e.g. EPERM, is returned
/// as libzmq returns it). An empty name does nothing.
pub fn bind_to_device(fd: RawFd, device: &[u8]) -> Result<()> {
    if device.is_empty() {
        return Ok(());
    }
    // SAFETY: `device` is valid for reads of its length, which is passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            device.as_ptr().cast(),
            device.len() as libc::socklen_t,
        )
    };
    check(rc)
}

/// IPV6_V6ONLY: libzmq turns it off on every IPv6 socket (so `tcp://*:*` with ZMQ_IPV6
/// binds `[::]` dual-stack and v4-mapped peers are accepted).
pub fn set_ipv6_only(fd: RawFd, only: bool) -> Result<()> {
    set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, only as i32)
}

/// SO_REUSEADDR on: listeners, and connecters that bind a source address.
pub fn set_reuseaddr(fd: RawFd) -> Result<()> {
    set_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)
}

/// A tcp listener's socket, after `socket` and before `bind`: dual-stack when `is_ipv6`,
/// ZMQ_TOS when not 0, ZMQ_BINDTODEVICE, ZMQ_SNDBUF / ZMQ_RCVBUF, SO_REUSEADDR.
pub fn prepare_tcp_listener(fd: RawFd, opts: &Options, is_ipv6: bool) -> Result<()> {
    prepare_common(fd, opts, is_ipv6)?;
    set_reuseaddr(fd)
}

/// A tcp connecter's socket, after `socket` and before `connect`: as
/// [`prepare_tcp_listener`], with SO_REUSEADDR only when a source address will be bound
/// (`tcp://src:port;dest:port`).
pub fn prepare_tcp_connecter(
    fd: RawFd,
    opts: &Options,
    is_ipv6: bool,
    has_source: bool,
) -> Result<()> {
    prepare_common(fd, opts, is_ipv6)?;
    if has_source {
        set_reuseaddr(fd)?;
    }
    Ok(())
}

fn prepare_common(fd: RawFd, opts: &Options, is_ipv6: bool) -> Result<()> {
    if is_ipv6 {
        set_ipv6_only(fd, false)?;
    }
    if opts.tos != 0 {
        set_type_of_service(fd, opts.tos)?;
    }
    bind_to_device(fd, &opts.bindtodevice)?;
    set_buffers(fd, opts.sndbuf, opts.rcvbuf)
}

/// An established tcp connection (accepted, or connect completed), before its engine
/// starts: ZMQ_SNDBUF / ZMQ_RCVBUF and ZMQ_TOS again (harmless when inherited from the
/// listener), TCP_NODELAY, keepalives, ZMQ_TCP_MAXRT. An error means the connection should be
/// closed (libzmq drops it).
pub fn tune_tcp_connection(fd: RawFd, opts: &Options) -> Result<()> {
    set_buffers(fd, opts.sndbuf, opts.rcvbuf)?;
    if opts.tos != 0 {
        set_type_of_service(fd, opts.tos)?;
    }
    set_nodelay(fd)?;
    set_keepalives(
        fd,
        opts.tcp_keepalive,
        opts.tcp_keepalive_cnt,
        opts.tcp_keepalive_idle,
        opts.tcp_keepalive_intvl,
    )?;
    set_max_retransmit_timeout(fd, opts.tcp_maxrt)
}

/// The credentials of the process at the other end of a unix socket (SO_PEERCRED).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// SO_PEERCRED of a connected unix socket.
pub fn peer_cred(fd: RawFd) -> Result<PeerCred> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for writes and `len` holds the size of `cred`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    check(rc)?;
    Ok(PeerCred {
        pid: cred.pid,
        uid: cred.uid,
        gid: cred.gid,
    })
}

/// Whether an ipc peer passes the ZMQ_IPC_FILTER_* options: all lists empty lets everyone
/// in; otherwise the peer's uid, gid or pid must be listed, or the peer's user must be a
/// member (in the group database) of one of the listed groups.
pub fn ipc_peer_allowed(opts: &Options, cred: &PeerCred) -> bool {
    if opts.ipc_filter_uid.is_empty()
        && opts.ipc_filter_gid.is_empty()
        && opts.ipc_filter_pid.is_empty()
    {
        return true;
    }
    if opts.ipc_filter_uid.iter().any(|&u| u as u32 == cred.uid)
        || opts.ipc_filter_gid.iter().any(|&g| g as u32 == cred.gid)
        || opts.ipc_filter_pid.contains(&cred.pid)
    {
        return true;
    }
    let Some(user) = user_name(cred.uid) else {
        return false;
    };
    opts.ipc_filter_gid
        .iter()
        .any(|&g| group_members(g as u32).is_some_and(|m| m.contains(&user)))
}

fn buffer_size(name: libc::c_int) -> usize {
    // SAFETY: sysconf has no memory effects.
    let n = unsafe { libc::sysconf(name) };
    if n > 0 {
        n as usize
    } else {
        16384
    }
}

/// The largest buffer a reentrant database lookup grows to before giving up.
const LOOKUP_BUFFER_LIMIT: usize = 1 << 24;

/// Runs a reentrant database lookup (getpwuid_r, getgrgid_r) into a buffer first sized from
/// `sysconf(size_name)`, doubling the buffer while the call answers ERANGE, up to
/// [`LOOKUP_BUFFER_LIMIT`]. `call` makes the raw call with the buffer and returns its rc and
/// what it extracted from the result (None when the entry was not found); any other nonzero rc,
/// or ERANGE with the buffer at its limit, gives None.
fn lookup_with_buffer<T>(
    size_name: libc::c_int,
    mut call: impl FnMut(&mut [u8]) -> (libc::c_int, Option<T>),
) -> Option<T> {
    let mut buf = vec![0u8; buffer_size(size_name)];
    loop {
        let (rc, found) = call(&mut buf);
        if rc == libc::ERANGE && buf.len() < LOOKUP_BUFFER_LIMIT {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        return if rc == 0 { found } else { None };
    }
}

/// The login name of `uid` (getpwuid_r), if it has one.
pub fn user_name(uid: u32) -> Option<Vec<u8>> {
    lookup_with_buffer(libc::_SC_GETPW_R_SIZE_MAX, |buf| {
        // SAFETY: a zeroed passwd is a valid value (null pointers, zero ids).
        let mut pwd: libc::passwd = unsafe { mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for writes; `buf` is valid for `buf.len()` bytes.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return (rc, None);
        }
        // SAFETY: on success pw_name points to a NUL-terminated string inside `buf`.
        let name = unsafe { CStr::from_ptr(pwd.pw_name) };
        (rc, Some(name.to_bytes().to_vec()))
    })
}

/// The member user names of group `gid` (getgrgid_r), if the group exists.
pub fn group_members(gid: u32) -> Option<Vec<Vec<u8>>> {
    lookup_with_buffer(libc::_SC_GETGR_R_SIZE_MAX, |buf| {
        // SAFETY: a zeroed group is a valid value (null pointers, zero id).
        let mut grp: libc::group = unsafe { mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is valid for writes; `buf` is valid for `buf.len()` bytes.
        let rc = unsafe {
            libc::getgrgid_r(
                gid,
                &mut grp,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        if rc != 0 || result.is_null() {
            return (rc, None);
        }
        let mut members = Vec::new();
        let mut p = grp.gr_mem;
        // SAFETY: on success gr_mem is a NULL-terminated array of NUL-terminated strings
        // inside `buf`, which outlives this loop.
        unsafe {
            while !p.is_null() && !(*p).is_null() {
                members.push(CStr::from_ptr(*p).to_bytes().to_vec());
                p = p.add(1);
            }
        }
        (rc, Some(members))
    })
}

/// How [`getaddrinfo_ip`] failed: the EAI_* code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupError(pub i32);

impl LookupError {
    /// Whether the resolver ran out of memory (EAI_MEMORY).
    pub fn is_memory(self) -> bool {
        self.0 == libc::EAI_MEMORY
    }
}

/// The first address getaddrinfo gives for `host`, with libzmq's hints: family AF_INET6 with
/// AI_V4MAPPED when `ipv6` (an IPv4 answer comes back as `::ffff:a.b.c.d`), AF_INET
/// otherwise; AI_NUMERICHOST when `numeric_only`; AI_PASSIVE when `passive`; SOCK_STREAM.
pub fn getaddrinfo_ip(
    host: &str,
    ipv6: bool,
    numeric_only: bool,
    passive: bool,
) -> std::result::Result<IpAddr, LookupError> {
    let c_host = CString::new(host).map_err(|_| LookupError(libc::EAI_NONAME))?;
    let mut flags = 0;
    if numeric_only {
        flags |= libc::AI_NUMERICHOST;
    }
    if passive {
        flags |= libc::AI_PASSIVE;
    }
    if ipv6 {
        flags |= libc::AI_V4MAPPED;
    }
    let mut rc = lookup(&c_host, ipv6, flags);
    if rc == Err(LookupError(libc::EAI_BADFLAGS)) && flags & libc::AI_V4MAPPED != 0 {
        rc = lookup(&c_host, ipv6, flags & !libc::AI_V4MAPPED);
    }
    rc
}

fn lookup(host: &CStr, ipv6: bool, flags: libc::c_int) -> std::result::Result<IpAddr, LookupError> {
    // SAFETY: a zeroed addrinfo is the documented way to start hints.
    let mut hints: libc::addrinfo = unsafe { mem::zeroed() };
    hints.ai_family = if ipv6 { libc::AF_INET6 } else { libc::AF_INET };
    hints.ai_socktype = libc::SOCK_STREAM;
    hints.ai_flags = flags;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `host` is NUL-terminated, `hints` and `res` are valid; `res` is freed below.
    let rc = unsafe { libc::getaddrinfo(host.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        return Err(LookupError(rc));
    }
    let mut found = None;
    let mut p = res;
    while !p.is_null() && found.is_none() {
        // SAFETY: `p` is a node of the list getaddrinfo returned, not yet freed.
        let ai = unsafe { &*p };
        // SAFETY: ai_addr points to ai_addrlen bytes of a sockaddr of family ai_family.
        found = unsafe { sockaddr_ip(ai.ai_addr) };
        p = ai.ai_next;
    }
    // SAFETY: `res` came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(res) };
    found.ok_or(LookupError(libc::EAI_NONAME))
}

/// The IP address of an AF_INET / AF_INET6 sockaddr.
///
/// # Safety
/// `sa` is null or points to a sockaddr whose storage is as large as its family's struct.
unsafe fn sockaddr_ip(sa: *const libc::sockaddr) -> Option<IpAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: per the contract, the family field is readable and selects the struct size.
    unsafe {
        match (*sa).sa_family as libc::c_int {
            libc::AF_INET => {
                let sin = &*(sa as *const libc::sockaddr_in);
                Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    sin.sin_addr.s_addr,
                ))))
            }
            libc::AF_INET6 => {
                let sin6 = &*(sa as *const libc::sockaddr_in6);
                Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
            }
            _ => None,
        }
    }
}

/// The first address of family IPv6 (when `ipv6`) or IPv4 of the network interface `name`
/// (getifaddrs); `Ok(None)` when no interface of that name has one.
pub fn interface_address(name: &str, ipv6: bool) -> Result<Option<IpAddr>> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `list` is valid for writes; it is freed below.
    check(unsafe { libc::getifaddrs(&mut list) })?;
    let mut found = None;
    let mut p = list;
    while !p.is_null() && found.is_none() {
        // SAFETY: `p` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*p };
        // SAFETY: ifa_name is a NUL-terminated string of the list.
        let if_name = unsafe { CStr::from_ptr(ifa.ifa_name) };
        if if_name.to_bytes() == name.as_bytes() {
            // SAFETY: ifa_addr is null or a sockaddr sized for its family.
            found = match unsafe { sockaddr_ip(ifa.ifa_addr) } {
                Some(ip @ IpAddr::V6(_)) if ipv6 => Some(ip),
                Some(ip @ IpAddr::V4(_)) if !ipv6 => Some(ip),
                _ => None,
            };
        }
        p = ifa.ifa_next;
    }
    // SAFETY: `list` came from a successful getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(list) };
    Ok(found)
}

/// The index of network interface `name`, 0 when there is none (if_nametoindex).
pub fn if_nametoindex(name: &str) -> u32 {
    let Ok(c) = CString::new(name) else {
        return 0;
    };
    // SAFETY: `c` is NUL-terminated.
    unsafe { libc::if_nametoindex(c.as_ptr()) }
}

/// The name of network interface number `index`, if there is one (if_indextoname).
pub fn if_indextoname(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE bytes if_indextoname may write.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: on success `buf` holds a NUL-terminated name.
    Some(
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd};

    #[test]
    fn listener_options_are_applied_and_read_back() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fd = listener.as_raw_fd();
        let mut opts = Options::new(crate::constants::ZMQ_PAIR);
        opts.sndbuf = 65536;
        opts.rcvbuf = 32768;
        opts.tos = 0x28;
        prepare_tcp_listener(fd, &opts, false).unwrap();
        // Linux doubles the value for bookkeeping.
        assert!(get_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF).unwrap() >= 65536);
        assert!(get_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF).unwrap() >= 32768);
        assert_eq!(get_int(fd, libc::IPPROTO_IP, libc::IP_TOS).unwrap(), 0x28);
        assert_eq!(
            get_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR).unwrap(),
            1
        );
    }

    #[test]
    fn connection_tuning_sets_nodelay_keepalives_and_user_timeout() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        let mut opts = Options::new(crate::constants::ZMQ_PAIR);
        opts.tcp_keepalive = 1;
        opts.tcp_keepalive_cnt = 4;
        opts.tcp_keepalive_idle = 30;
        opts.tcp_keepalive_intvl = 5;
        opts.tcp_maxrt = 1500;
        for fd in [server.as_raw_fd(), client.as_raw_fd()] {
            tune_tcp_connection(fd, &opts).unwrap();
            assert_eq!(
                get_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY).unwrap(),
                1
            );
            assert_eq!(
                get_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE).unwrap(),
                1
            );
            assert_eq!(
                get_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT).unwrap(),
                4
            );
            assert_eq!(
                get_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE).unwrap(),
                30
            );
            assert_eq!(
                get_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL).unwrap(),
                5
            );
            assert_eq!(
                get_int(fd, libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT).unwrap(),
                1500
            );
        }
    }

    #[test]
    fn defaults_leave_the_socket_alone() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let fd = client.as_raw_fd();
        let before = get_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF).unwrap();
        tune_tcp_connection(fd, &Options::new(crate::constants::ZMQ_PAIR)).unwrap();
        assert_eq!(
            get_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF).unwrap(),
            before
        );
        assert_eq!(
            get_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE).unwrap(),
            0
        );
        assert_eq!(
            get_int(fd, libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT).unwrap(),
            0
        );
        // keepalive 0 turns it off explicitly and ignores the counts.
        set_keepalives(fd, 0, 3, 3, 3).unwrap();
        assert_eq!(
            get_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE).unwrap(),
            0
        );
    }

    #[test]
    fn dual_stack_listener() {
        // SAFETY: socket has no memory effects; the fd is owned right below.
        let raw = unsafe { libc::socket(libc::AF_INET6, libc::SOCK_STREAM, 0) };
        if raw < 0 {
            return; // no IPv6 on this machine
        }
        // SAFETY: `raw` is a fresh fd that nothing else owns.
        let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
        let fd = owned.as_raw_fd();
        prepare_tcp_listener(fd, &Options::new(crate::constants::ZMQ_PAIR), true).unwrap();
        assert_eq!(
            get_int(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY).unwrap(),
            0
        );
        set_type_of_service(fd, 0x10).unwrap();
        assert_eq!(
            get_int(fd, libc::IPPROTO_IPV6, libc::IPV6_TCLASS).unwrap(),
            0x10
        );
    }

    #[test]
    fn bind_to_device_needs_privilege_or_works() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        match bind_to_device(listener.as_raw_fd(), b"lo") {
            Ok(()) | Err(Error::Os(libc::EPERM)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
        assert_eq!(
            bind_to_device(listener.as_raw_fd(), b"nosuchdev0"),
            Err(Error::Os(libc::ENODEV))
        );
    }

    #[test]
    fn peer_credentials_of_a_socketpair_are_ours() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let cred = peer_cred(a.as_raw_fd()).unwrap();
        assert_eq!(cred.pid, std::process::id() as i32);
        // SAFETY: getuid/getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        assert_eq!((cred.uid, cred.gid), (uid, gid));

        let mut opts = Options::new(crate::constants::ZMQ_PAIR);
        assert!(ipc_peer_allowed(&opts, &cred));
        opts.ipc_filter_pid.push(cred.pid + 1);
        assert!(!ipc_peer_allowed(&opts, &cred));
        opts.ipc_filter_uid.push(uid as i32);
        assert!(ipc_peer_allowed(&opts, &cred));
        opts.ipc_filter_uid.clear();
        opts.ipc_filter_pid.clear();
        opts.ipc_filter_gid.push(gid as i32);
        assert!(ipc_peer_allowed(&opts, &cred));
    }

    #[test]
    fn user_and_group_database_lookups() {
        assert_eq!(user_name(0).as_deref(), Some(&b"root"[..]));
        assert_eq!(user_name(0xFFFF_FFF0), None);
        assert!(group_members(0).is_some());
        assert_eq!(group_members(0xFFFF_FFF0), None);
    }

    #[test]
    fn lookups() {
        assert_eq!(
            getaddrinfo_ip("127.0.0.1", false, true, false),
            Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        assert_eq!(
            getaddrinfo_ip("127.0.0.1", true, true, false),
            Ok(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()))
        );
        assert!(getaddrinfo_ip("::1", false, true, false).is_err());
        assert!(getaddrinfo_ip("localhost", false, true, false).is_err());
        assert_eq!(
            interface_address("lo", false).unwrap(),
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        assert_eq!(interface_address("nosuchdev0", false).unwrap(), None);
        let lo = if_nametoindex("lo");
        assert_ne!(lo, 0);
        assert_eq!(if_indextoname(lo).as_deref(), Some("lo"));
        assert_eq!(if_nametoindex("nosuchdev0"), 0);
    }
}
