//! `udp://`: datagrams, for RADIO (connect: sends), DISH (bind: receives) and DGRAM (bind:
//! both), as libzmq's udp transport.
//!
//! Address syntax (libzmq's `udp_address_t`): `[interface;]host:port`.
//! - No interface: a multicast `host` is the group to send to or join (the receiving
//!   socket binds any address on the port); a unicast one is, for a bind, the address to
//!   bind (`*` for any), and for a connect the destination (DNS allowed).
//! - `interface;group:port`: the group must be multicast; `interface` (`*`, an address or
//!   an interface name, no DNS) is where multicast goes out and where the group is joined.
//!
//! The socket is made here, on the application thread, so that `zmq_bind` and
//! `zmq_connect` report errors at once; a session then runs it on an I/O thread
//! ([`crate::engine::udp`]). A receiving socket takes SO_REUSEADDR (and SO_REUSEPORT for
//! multicast, so that several processes on one host receive a group), as libzmq's.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, OwnedFd};

use crate::error::{Error, Result};
use crate::options::Options;
use crate::sys;
use crate::transport::sockopt;
use crate::transport::tcp_address::{resolve_ip, ResolveOpts};

/// A resolved `udp://` address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpAddress {
    /// Where a sending socket sends (and, multicast, the group a receiving one joins).
    pub target: SocketAddr,
    /// What a receiving socket binds; for multicast, the interface address.
    pub bind: SocketAddr,
    /// The interface named for multicast (its index; 0: any, or not a name).
    pub interface: u32,
    pub multicast: bool,
}

impl UdpAddress {
    /// Resolves `name` for a bind (`bind`: receiving) or a connect (sending).
    pub fn resolve(name: &str, bind: bool, ipv6: bool) -> Result<UdpAddress> {
        let mut interface_addr = None;
        let mut interface = 0;
        let mut rest = name;
        if let Some(i) = name.rfind(';') {
            let src = &name[..i];
            let opts = ResolveOpts {
                bindable: true,
                allow_dns: false,
                allow_nic_name: true,
                ipv6,
                expect_port: false,
            };
            let a = resolve_ip(src, opts)?;
            if a.ip().is_multicast() {
                return Err(Error::Inval);
            }
            if src != "*" {
                interface = sockopt::if_nametoindex(src);
            }
            interface_addr = Some(a.ip());
            rest = &name[i + 1..];
        }
        let opts = ResolveOpts {
            bindable: bind,
            allow_dns: true,
            allow_nic_name: bind,
            ipv6,
            expect_port: true,
        };
        let target = resolve_ip(rest, opts)?;
        let multicast = target.ip().is_multicast();
        let any = |port| match target.ip() {
            IpAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
            IpAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
        };
        let bind_addr = match interface_addr {
            // An interface says where multicast goes: the target must be a group.
            Some(_) if !multicast => return Err(Error::Inval),
            Some(ip) => SocketAddr::new(ip, target.port()),
            None if multicast || !bind => any(target.port()),
            // A unicast bind address is what is bound; it is no destination.
            None => target,
        };
        if bind_addr.is_ipv4() != target.is_ipv4() {
            return Err(Error::Inval);
        }
        Ok(UdpAddress {
            target,
            bind: bind_addr,
            interface,
            multicast,
        })
    }
}

/// A udp socket made for an endpoint, and where its datagrams go.
pub struct UdpSocket {
    pub sock: std::net::UdpSocket,
    /// Where datagrams go (RADIO); `None` for a socket that only receives, or that sends
    /// where each message says (DGRAM).
    pub dest: Option<SocketAddr>,
}

/// Opens the socket of a udp endpoint: `send` and `recv` say what it does (RADIO sends,
/// DISH receives, DGRAM both, where each message names its peer).
pub fn open(address: &str, opts: &Options, send: bool, recv: bool, raw: bool) -> Result<UdpSocket> {
    let a = UdpAddress::resolve(address, recv, opts.ipv6)?;
    let v6 = a.target.is_ipv6();
    let fd: OwnedFd = sys::udp_socket(v6)?;
    let f = fd.as_fd();
    if !opts.bindtodevice.is_empty() {
        sockopt::bind_to_device(f, &opts.bindtodevice)?;
    }
    sockopt::set_buffers(f, opts.sndbuf, opts.rcvbuf)?;
    let sock = std::net::UdpSocket::from(fd);
    if send && a.multicast {
        if v6 {
            sock.set_multicast_loop_v6(opts.multicast_loop)?;
            if opts.multicast_hops > 0 {
                sockopt::set_int(
                    sock.as_fd(),
                    libc::IPPROTO_IPV6,
                    libc::IPV6_MULTICAST_HOPS,
                    opts.multicast_hops,
                )?;
            }
            if a.interface > 0 {
                sockopt::set_int(
                    sock.as_fd(),
                    libc::IPPROTO_IPV6,
                    libc::IPV6_MULTICAST_IF,
                    a.interface as i32,
                )?;
            }
        } else {
            sock.set_multicast_loop_v4(opts.multicast_loop)?;
            if opts.multicast_hops > 0 {
                sock.set_multicast_ttl_v4(opts.multicast_hops as u32)?;
            }
            if let IpAddr::V4(ip) = a.bind.ip() {
                if !ip.is_unspecified() {
                    sys::setsockopt_bytes(
                        sock.as_fd(),
                        libc::IPPROTO_IP,
                        libc::IP_MULTICAST_IF,
                        &ip.octets(),
                    )?;
                }
            }
        }
    }
    if recv {
        sockopt::set_reuseaddr(sock.as_fd())?;
        let bind_to = if a.multicast {
            // Several receivers of a group on one host: each binds the port.
            sockopt::set_int(sock.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
            match a.bind.ip() {
                IpAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), a.bind.port()),
                IpAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), a.bind.port()),
            }
        } else {
            a.bind
        };
        sys::bind(sock.as_fd(), &bind_to)?;
        if a.multicast {
            match (a.target.ip(), a.bind.ip()) {
                (IpAddr::V4(group), IpAddr::V4(iface)) => sock.join_multicast_v4(&group, &iface)?,
                (IpAddr::V6(group), _) => sock.join_multicast_v6(&group, a.interface)?,
                _ => return Err(Error::Inval),
            }
        }
    }
    let dest = (send && !raw).then_some(a.target);
    Ok(UdpSocket { sock, dest })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_unicast_bind_binds_the_address_and_a_connect_sends_to_it() {
        let b = UdpAddress::resolve("127.0.0.1:5556", true, false).unwrap();
        assert_eq!((b.bind, b.multicast), (addr("127.0.0.1:5556"), false));
        let b = UdpAddress::resolve("*:5556", true, false).unwrap();
        assert_eq!(b.bind, addr("0.0.0.0:5556"));
        let c = UdpAddress::resolve("127.0.0.1:5556", false, false).unwrap();
        assert_eq!(
            (c.target, c.bind),
            (addr("127.0.0.1:5556"), addr("0.0.0.0:5556"))
        );
        assert_eq!(
            UdpAddress::resolve("*:5556", false, false),
            Err(Error::Inval)
        );
    }

    #[test]
    fn a_group_is_joined_on_any_interface_or_the_one_named() {
        let m = UdpAddress::resolve("239.0.0.1:5556", true, false).unwrap();
        assert!(m.multicast);
        assert_eq!(
            (m.target, m.bind),
            (addr("239.0.0.1:5556"), addr("0.0.0.0:5556"))
        );
        let m = UdpAddress::resolve("127.0.0.1;239.0.0.1:5556", true, false).unwrap();
        assert_eq!(m.bind, addr("127.0.0.1:5556"));
        let m = UdpAddress::resolve("lo;239.0.0.1:5556", false, false).unwrap();
        assert_eq!(m.bind, addr("127.0.0.1:5556"));
        assert!(m.interface > 0);
        // An interface needs a group; a group is no interface.
        assert_eq!(
            UdpAddress::resolve("127.0.0.1;127.0.0.2:5556", true, false),
            Err(Error::Inval)
        );
        assert_eq!(
            UdpAddress::resolve("239.0.0.2;239.0.0.1:5556", true, false),
            Err(Error::Inval)
        );
    }
}
