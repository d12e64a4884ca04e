//! Socket options applied the way libzmq applies them, peer credentials for the IPC filters,
//! and the look-ups the address resolvers need, with libzmq's hints. The system calls
//! themselves are in [`crate::sys`]; this module decides which are made, when, and with what.
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
//! ```text
//! use std::os::fd::AsFd;
//! use zmq::options::Options;
//! use zmq::transport::sockopt;
//! let opts = Options::new(zmq::constants::ZMQ_PAIR);
//! let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//! sockopt::prepare_tcp_listener(listener.as_fd(), &opts, false)?;
//! let (conn, _peer) = listener.accept().unwrap();
//! sockopt::tune_tcp_connection(conn.as_fd(), &opts)?;
//! ```
//!
//! (std binds before we see the fd; a real listener creates the socket with
//! [`crate::sys::tcp_socket`] and runs [`prepare_tcp_listener`] between `socket` and `bind`.)

use std::ffi::{CStr, CString};
use std::net::IpAddr;
use std::os::fd::BorrowedFd;

use crate::error::{Error, Result};
use crate::options::Options;
use crate::sys;

pub use crate::sys::{group_members, if_indextoname, if_nametoindex, user_name};

/// `setsockopt` with a C `int` value.
pub fn set_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> Result<()> {
    Ok(sys::setsockopt_int(fd, level, name, value)?)
}

/// `getsockopt` of a C `int` value.
#[cfg(test)]
pub fn get_int(fd: BorrowedFd<'_>, level: libc::c_int, name: libc::c_int) -> Result<i32> {
    Ok(sys::getsockopt_int(fd, level, name)?)
}

/// TCP_NODELAY on: libzmq batches itself and never wants Nagle's delay.
pub fn set_nodelay(fd: BorrowedFd<'_>) -> Result<()> {
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)
}

/// SO_SNDBUF / SO_RCVBUF from ZMQ_SNDBUF / ZMQ_RCVBUF, each only when >= 0 (-1 keeps the OS
/// default).
pub fn set_buffers(fd: BorrowedFd<'_>, sndbuf: i32, rcvbuf: i32) -> Result<()> {
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
pub fn set_type_of_service(fd: BorrowedFd<'_>, tos: i32) -> Result<()> {
    set_int(fd, libc::IPPROTO_IP, libc::IP_TOS, tos)?;
    match set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, tos) {
        Err(Error::Os(libc::ENOPROTOOPT)) | Err(Error::Inval) => Ok(()),
        other => other,
    }
}

/// ZMQ_TCP_KEEPALIVE*: nothing when `keepalive` is -1; SO_KEEPALIVE set to `keepalive`
/// otherwise, and when it is 1, each of TCP_KEEPCNT / TCP_KEEPIDLE / TCP_KEEPINTVL that is
/// not -1.
pub fn set_keepalives(
    fd: BorrowedFd<'_>,
    keepalive: i32,
    cnt: i32,
    idle: i32,
    intvl: i32,
) -> Result<()> {
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
pub fn set_max_retransmit_timeout(fd: BorrowedFd<'_>, maxrt: i32) -> Result<()> {
    if maxrt == 0 {
        return Ok(());
    }
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, maxrt)
}

/// ZMQ_BINDTODEVICE: SO_BINDTODEVICE (needs CAP_NET_RAW; the error, e.g. EPERM, is returned
/// as libzmq returns it). An empty name does nothing.
pub fn bind_to_device(fd: BorrowedFd<'_>, device: &[u8]) -> Result<()> {
    if device.is_empty() {
        return Ok(());
    }
    Ok(sys::setsockopt_bytes(
        fd,
        libc::SOL_SOCKET,
        libc::SO_BINDTODEVICE,
        device,
    )?)
}

/// IPV6_V6ONLY: libzmq turns it off on every IPv6 socket (so `tcp://*:*` with ZMQ_IPV6
/// binds `[::]` dual-stack and v4-mapped peers are accepted).
pub fn set_ipv6_only(fd: BorrowedFd<'_>, only: bool) -> Result<()> {
    set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, only as i32)
}

/// SO_REUSEADDR on: listeners, and connecters that bind a source address.
pub fn set_reuseaddr(fd: BorrowedFd<'_>) -> Result<()> {
    set_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)
}

/// A tcp listener's socket, after `socket` and before `bind`: dual-stack when `is_ipv6`,
/// ZMQ_TOS when not 0, ZMQ_BINDTODEVICE, ZMQ_SNDBUF / ZMQ_RCVBUF, SO_REUSEADDR.
pub fn prepare_tcp_listener(fd: BorrowedFd<'_>, opts: &Options, is_ipv6: bool) -> Result<()> {
    prepare_common(fd, opts, is_ipv6)?;
    set_reuseaddr(fd)
}

/// A tcp connecter's socket, after `socket` and before `connect`: as
/// [`prepare_tcp_listener`], with SO_REUSEADDR only when a source address will be bound
/// (`tcp://src:port;dest:port`).
pub fn prepare_tcp_connecter(
    fd: BorrowedFd<'_>,
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

fn prepare_common(fd: BorrowedFd<'_>, opts: &Options, is_ipv6: bool) -> Result<()> {
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
pub fn tune_tcp_connection(fd: BorrowedFd<'_>, opts: &Options) -> Result<()> {
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
    set_max_retransmit_timeout(fd, opts.tcp_maxrt)?;
    // ZMQ_PRIORITY and ZMQ_BUSY_POLL (draft options; 0 in a build without drafts).
    if opts.priority != 0 {
        set_int(fd, libc::SOL_SOCKET, libc::SO_PRIORITY, opts.priority)?;
    }
    if opts.busy_poll > 0 {
        // Raising it may need CAP_NET_ADMIN: a refusal costs only the tuning.
        let _ = set_int(fd, libc::SOL_SOCKET, libc::SO_BUSY_POLL, opts.busy_poll);
    }
    Ok(())
}

/// The credentials of the process at the other end of a unix socket (SO_PEERCRED).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// SO_PEERCRED of a connected unix socket.
pub fn peer_cred(fd: BorrowedFd<'_>) -> Result<PeerCred> {
    let cred = sys::peer_cred(fd)?;
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
    let family = if ipv6 { libc::AF_INET6 } else { libc::AF_INET };
    sys::getaddrinfo_first_ip(host, family, flags).map_err(LookupError)
}

/// The first address of family IPv6 (when `ipv6`) or IPv4 of the network interface `name`
/// (getifaddrs); `Ok(None)` when no interface of that name has one.
pub fn interface_address(name: &str, ipv6: bool) -> Result<Option<IpAddr>> {
    Ok(sys::find_interface_address(|if_name, ip| {
        if if_name != name.as_bytes() {
            return None;
        }
        match ip {
            Some(ip @ IpAddr::V6(_)) if ipv6 => Some(ip),
            Some(ip @ IpAddr::V4(_)) if !ipv6 => Some(ip),
            _ => None,
        }
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::os::fd::AsFd;

    #[test]
    fn the_module_example_prepares_a_listener_and_tunes_a_connection() {
        use crate::options::Options;
        use crate::transport::sockopt;
        use std::os::fd::AsFd;
        let opts = Options::new(crate::constants::ZMQ_PAIR);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        sockopt::prepare_tcp_listener(listener.as_fd(), &opts, false).unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (conn, _peer) = listener.accept().unwrap();
        sockopt::tune_tcp_connection(conn.as_fd(), &opts).unwrap();
    }

    #[test]
    fn listener_options_are_applied_and_read_back() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fd = listener.as_fd();
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
        for fd in [server.as_fd(), client.as_fd()] {
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
        let fd = client.as_fd();
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
        let Ok(owned) = sys::tcp_socket(true) else {
            return; // no IPv6 on this machine
        };
        let fd = owned.as_fd();
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
        match bind_to_device(listener.as_fd(), b"lo") {
            Ok(()) | Err(Error::Os(libc::EPERM)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
        assert_eq!(
            bind_to_device(listener.as_fd(), b"nosuchdev0"),
            Err(Error::Os(libc::ENODEV))
        );
    }

    #[test]
    fn peer_credentials_of_a_socketpair_are_ours() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let cred = peer_cred(a.as_fd()).unwrap();
        assert_eq!(cred.pid, std::process::id() as i32);
        let (uid, gid) = sys::user_ids();
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
