//! The address part of `tcp://` endpoints (everything after `tcp://`), as libzmq reads it.
//!
//! Three moments, three functions:
//!
//! 1. `zmq_connect` only checks the syntax ([`check_connect_syntax`]) and keeps the endpoint
//!    string as given (that string is ZMQ_LAST_ENDPOINT and the `zmq_disconnect` key); the
//!    connecter resolves it each time it opens a socket ([`TcpAddress::resolve_connect`]),
//!    so a name that does not resolve yet is not an error of `zmq_connect`.
//! 2. `zmq_bind` resolves at once ([`resolve_bind`]); errors are the errno of `zmq_bind`.
//!    After `bind`, ZMQ_LAST_ENDPOINT and the `zmq_unbind` key are the canonical form of the
//!    socket's own address ([`endpoint_string`] of `getsockname`), e.g. `tcp://0.0.0.0:43211`
//!    for `tcp://*:*`, `tcp://[::ffff:127.0.0.1]:43211` for `tcp://127.0.0.1:*` under ZMQ_IPV6.
//! 3. `zmq_unbind` / `zmq_disconnect` look the string up as given, then the keys of
//!    [`term_endpoint_keys`] (so `zmq_unbind(s, "tcp://127.0.0.1:5555")` finds the bind that
//!    ZMQ_IPV6 recorded as `tcp://[::ffff:127.0.0.1]:5555`); `tcp://*:*` itself never matches.
//!
//! ```text
//! use zmq::transport::tcp_address::{self, TcpAddress};
//! // bind
//! let addr = tcp_address::resolve_bind("127.0.0.1:*", false).unwrap();
//! let listener = std::net::TcpListener::bind(addr).unwrap();
//! let last = tcp_address::endpoint_string(&listener.local_addr().unwrap());
//! assert!(last.starts_with("tcp://127.0.0.1:"));
//! // connect
//! tcp_address::check_connect_syntax("127.0.0.1:0;localhost:5555").unwrap();
//! let to = TcpAddress::resolve_connect("127.0.0.1:0;127.0.0.1:5555", false).unwrap();
//! assert_eq!(to.dest.port(), 5555);
//! assert_eq!(to.source.unwrap().port(), 0);
//! ```
//!
//! Under ZMQ_IPV6 every address resolves to an IPv6 one (IPv4 answers come back v4-mapped),
//! so the socket is AF_INET6 and dual-stack. libzmq falls back to IPv4 when creating that
//! socket fails with EAFNOSUPPORT: resolve again with `ipv6 = false` in that case.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use crate::error::{Error, Result};
use crate::transport::sockopt;

/// How a host string may be resolved (libzmq's resolver options).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolveOpts {
    /// The address is for `bind`: `*` means any address, port `*` means ephemeral, and
    /// failures are ENODEV rather than EINVAL.
    pub bindable: bool,
    /// Host names may be looked up (DNS, /etc/hosts); otherwise literals only.
    pub allow_dns: bool,
    /// A network interface name (`lo`, `eth0`) stands for its address.
    pub allow_nic_name: bool,
    /// ZMQ_IPV6: resolve to IPv6 (IPv4 as v4-mapped); otherwise IPv4 only.
    pub ipv6: bool,
    /// The string ends in `:port`.
    pub expect_port: bool,
}

impl ResolveOpts {
    /// The options libzmq uses for a bind address (`local`) or a connect destination.
    pub fn for_role(local: bool, ipv6: bool) -> ResolveOpts {
        ResolveOpts {
            bindable: local,
            allow_dns: !local,
            allow_nic_name: local,
            ipv6,
            expect_port: true,
        }
    }
}

/// `strtol`-then-cast semantics of C's `atoi`: leading blanks, a sign, then digits up to
/// the first non-digit; saturates like `strtol` before the cast to `int`.
fn c_atoi(s: &str) -> i32 {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i] == b' ' || (b'\t'..=b'\r').contains(&b[i])) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let mut v: i64 = 0;
    let mut overflow = false;
    while i < b.len() && b[i].is_ascii_digit() {
        match v
            .checked_mul(10)
            .and_then(|x| x.checked_add(i64::from(b[i] - b'0')))
        {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    let v = match (overflow, neg) {
        (true, false) => i64::MAX,
        (true, true) => i64::MIN,
        (false, false) => v,
        (false, true) => -v,
    };
    v as i32
}

/// The port of an address: `*` (bindable only) and `0` are 0; otherwise libzmq's `atoi`
/// cast to 16 bits, which must not be 0 (so `70000` is 4464 and `12ab` is 12, as libzmq).
fn parse_port(s: &str, bindable: bool) -> Result<u16> {
    match s {
        "*" if bindable => Ok(0),
        "*" => Err(Error::Inval),
        "0" => Ok(0),
        _ => match c_atoi(s) as u16 {
            0 => Err(Error::Inval),
            p => Ok(p),
        },
    }
}

/// Resolves `host[:port]` under `opts` to a socket address (port 0 when `!expect_port`).
///
/// Errors: EINVAL for a missing or bad port, a bad `%zone`, or (not bindable) a host that
/// does not resolve; ENODEV (bindable) for a host that is neither `*`, an interface nor a
/// literal; ENOMEM when the resolver runs out of memory.
pub fn resolve_ip(name: &str, opts: ResolveOpts) -> Result<SocketAddr> {
    let (mut host, port) = if opts.expect_port {
        let i = name.rfind(':').ok_or(Error::Inval)?;
        (&name[..i], parse_port(&name[i + 1..], opts.bindable)?)
    } else {
        (name, 0)
    };
    if host.len() >= 2 && host.starts_with('[') && host.ends_with(']') {
        host = &host[1..host.len() - 1];
    }
    let mut zone = 0u32;
    if let Some(i) = host.rfind('%') {
        let z = &host[i + 1..];
        host = &host[..i];
        zone = match z.as_bytes().first() {
            None => return Err(Error::Inval),
            Some(c) if c.is_ascii_alphabetic() => sockopt::if_nametoindex(z),
            Some(_) => c_atoi(z) as u32,
        };
        if zone == 0 {
            return Err(Error::Inval);
        }
    }
    let ip = resolve_host(host, opts)?;
    Ok(match ip {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V4(v4), port),
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, zone)),
    })
}

fn resolve_host(host: &str, opts: ResolveOpts) -> Result<IpAddr> {
    if opts.bindable && host == "*" {
        return Ok(if opts.ipv6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        });
    }
    if opts.allow_nic_name {
        if let Some(ip) = sockopt::interface_address(host, opts.ipv6)? {
            return Ok(ip);
        }
    }
    sockopt::getaddrinfo_ip(host, opts.ipv6, !opts.allow_dns, opts.bindable).map_err(|e| {
        if e.is_memory() {
            Error::NoMem
        } else if opts.bindable {
            Error::Os(libc::ENODEV)
        } else {
            Error::Inval
        }
    })
}

/// The address a listener binds for `tcp://ADDR` (`ADDR` is `host:port`; `host` is `*`, an
/// interface name or a numeric literal, never a DNS name; port `*` or `0` is ephemeral).
pub fn resolve_bind(addr: &str, ipv6: bool) -> Result<SocketAddr> {
    TcpAddress::resolve(addr, true, ipv6).map(|a| a.dest)
}

/// A resolved tcp address: where to connect (or bind), and the optional source address of
/// the connect form `tcp://src_host:src_port;dest_host:dest_port`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpAddress {
    /// The address to bind (bind) or to connect to (connect).
    pub dest: SocketAddr,
    /// Bind the connecting socket to this first (with SO_REUSEADDR); port 0 is any port.
    pub source: Option<SocketAddr>,
}

impl TcpAddress {
    /// Resolves `addr` as libzmq's tcp address does: `local` for bind, otherwise for
    /// connect. A `;` splits off a source part (at the last `;`), resolved as a bind
    /// address without DNS (`*`, interface name, literal).
    pub fn resolve(addr: &str, local: bool, ipv6: bool) -> Result<TcpAddress> {
        let (source, dest) = match addr.rfind(';') {
            Some(i) => {
                let src = resolve_ip(&addr[..i], ResolveOpts::for_role(true, ipv6))?;
                (Some(src), &addr[i + 1..])
            }
            None => (None, addr),
        };
        let dest = resolve_ip(dest, ResolveOpts::for_role(local, ipv6))?;
        Ok(TcpAddress { dest, source })
    }

    /// [`TcpAddress::resolve`] for a connecter (host names are looked up: this may block on
    /// DNS, so call it where libzmq does, when the connecter opens its socket).
    pub fn resolve_connect(addr: &str, ipv6: bool) -> Result<TcpAddress> {
        TcpAddress::resolve(addr, false, ipv6)
    }
}

/// The syntax check `zmq_connect` makes on `tcp://ADDR` before accepting it (EINVAL
/// otherwise); nothing is resolved. `ADDR` must start with a letter, digit, `[` or `:`;
/// continue with letters, digits and `.-:%;[]_*`; and the text after its last `:` must start
/// with a digit (so port `*`, a missing port and a service name are EINVAL).
pub fn check_connect_syntax(addr: &str) -> Result<()> {
    let b = addr.as_bytes();
    let first_ok = b
        .first()
        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'[' || c == b':');
    let rest_ok = b[1.min(b.len())..]
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || b".-:%;[]_*".contains(&c));
    if !first_ok || !rest_ok {
        return Err(Error::Inval);
    }
    match addr.rfind(':') {
        Some(i) if b.get(i + 1).is_some_and(|c| c.is_ascii_digit()) => Ok(()),
        _ => Err(Error::Inval),
    }
}

/// The text of an IPv6 address as inet_ntop writes it (embedded IPv4 for v4-mapped and
/// v4-compatible addresses, RFC 5952 zero compression otherwise).
fn ipv6_text(a: &Ipv6Addr) -> String {
    let s = a.segments();
    let v4 = || {
        let o = a.octets();
        Ipv4Addr::new(o[12], o[13], o[14], o[15])
    };
    if s[..5] == [0; 5] && s[5] == 0xffff {
        format!("::ffff:{}", v4())
    } else if s[..6] == [0; 6] && s[6] != 0 {
        format!("::{}", v4())
    } else {
        a.to_string()
    }
}

/// The host part (no brackets) as getnameinfo(NI_NUMERICHOST) gives it: IPv6 link-local
/// addresses keep their `%scope` (interface name, or number when it has none).
pub fn host_string(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => {
            let mut s = ipv6_text(a.ip());
            let seg0 = a.ip().segments()[0];
            let link_local = seg0 & 0xffc0 == 0xfe80 || seg0 & 0xff0f == 0xff02;
            if link_local && a.scope_id() != 0 {
                s.push('%');
                match sockopt::if_indextoname(a.scope_id()) {
                    Some(n) => s.push_str(&n),
                    None => s.push_str(&a.scope_id().to_string()),
                }
            }
            s
        }
    }
}

/// The canonical endpoint of a bound or connected address, as ZMQ_LAST_ENDPOINT reports a
/// bind: `tcp://127.0.0.1:43211`, `tcp://[::1]:43211`, `tcp://0.0.0.0:43211`.
pub fn endpoint_string(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(_) => format!("tcp://{}:{}", host_string(addr), addr.port()),
        SocketAddr::V6(_) => format!("tcp://[{}]:{}", host_string(addr), addr.port()),
    }
}

/// The further keys `zmq_unbind` / `zmq_disconnect` try for `tcp://ADDR` after the string as
/// given: ADDR resolved for connect, then for bind, each in canonical form (libzmq tries
/// them in that order and stops at the first registered one). Unresolvable forms add no key.
/// May block on DNS.
pub fn term_endpoint_keys(addr: &str, ipv6: bool) -> Vec<String> {
    let mut keys = Vec::new();
    if let Ok(a) = TcpAddress::resolve(addr, false, ipv6) {
        keys.push(endpoint_string(&a.dest));
        if let Ok(b) = TcpAddress::resolve(addr, true, ipv6) {
            keys.push(endpoint_string(&b.dest));
        }
    }
    keys.dedup();
    keys
}

/// One ZMQ_TCP_ACCEPT_FILTER entry: a network in CIDR form (`127.0.0.1/32`, `::1/128`,
/// `10.0.0.0/8`, or an address alone for a full-length mask).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpAddressMask {
    network: IpAddr,
    bits: u8,
}

impl TcpAddressMask {
    /// Parses a filter as `zmq_setsockopt(ZMQ_TCP_ACCEPT_FILTER)` does, with the socket's
    /// ZMQ_IPV6 at that moment (under it an IPv4 network is stored v4-mapped, as libzmq).
    /// EINVAL for a non-literal address, an empty mask, or a mask out of 0..=32 / 0..=128.
    pub fn parse(filter: &str, ipv6: bool) -> Result<TcpAddressMask> {
        let (addr, mask) = match filter.rfind('/') {
            Some(i) if i + 1 == filter.len() => return Err(Error::Inval),
            Some(i) => (&filter[..i], Some(&filter[i + 1..])),
            None => (filter, None),
        };
        let opts = ResolveOpts {
            bindable: false,
            allow_dns: false,
            allow_nic_name: false,
            ipv6,
            expect_port: false,
        };
        let network = resolve_ip(addr, opts)?.ip();
        let max = if network.is_ipv6() { 128 } else { 32 };
        let bits = match mask {
            None => max,
            Some("0") => 0,
            Some(m) => {
                let v = c_atoi(m) as i64;
                if v < 1 || v > i64::from(max) {
                    return Err(Error::Inval);
                }
                v as u8
            }
        };
        Ok(TcpAddressMask { network, bits })
    }

    /// [`TcpAddressMask::parse`] of the raw option bytes (not UTF-8 is EINVAL). Meant for the
    /// ZMQ_TCP_ACCEPT_FILTER setter, so a bad filter fails `zmq_setsockopt` as in libzmq.
    pub fn parse_bytes(filter: &[u8], ipv6: bool) -> Result<TcpAddressMask> {
        let s = std::str::from_utf8(filter).map_err(|_| Error::Inval)?;
        TcpAddressMask::parse(s, ipv6)
    }

    /// The network address (v4-mapped when parsed under ZMQ_IPV6 from an IPv4 literal).
    #[cfg(test)]
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length.
    #[cfg(test)]
    pub fn prefix_len(&self) -> u8 {
        self.bits
    }

    /// Whether `peer` is in this network. Families must match exactly (an IPv4 peer never
    /// matches an IPv6 network, v4-mapped or not, and vice versa).
    pub fn matches(&self, peer: &IpAddr) -> bool {
        let (ours, theirs): (Vec<u8>, Vec<u8>) = match (self.network, peer) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (a.octets().to_vec(), b.octets().to_vec()),
            (IpAddr::V6(a), IpAddr::V6(b)) => (a.octets().to_vec(), b.octets().to_vec()),
            _ => return false,
        };
        let full = usize::from(self.bits / 8);
        if ours[..full] != theirs[..full] {
            return false;
        }
        let rest = self.bits % 8;
        if rest == 0 {
            return true;
        }
        let m = 0xffu8 << (8 - rest);
        ours[full] & m == theirs[full] & m
    }
}

/// Whether an accepted peer passes the accept filters: no filter lets everyone in,
/// otherwise one of them must match.
pub fn accept_allowed(filters: &[TcpAddressMask], peer: &SocketAddr) -> bool {
    filters.is_empty() || filters.iter().any(|f| f.matches(&peer.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_example_resolves_binds_and_connects() {
        use crate::transport::tcp_address::{self, TcpAddress};
        // bind
        let addr = tcp_address::resolve_bind("127.0.0.1:*", false).unwrap();
        let listener = std::net::TcpListener::bind(addr).unwrap();
        let last = tcp_address::endpoint_string(&listener.local_addr().unwrap());
        assert!(last.starts_with("tcp://127.0.0.1:"));
        // connect
        tcp_address::check_connect_syntax("127.0.0.1:0;localhost:5555").unwrap();
        let to = TcpAddress::resolve_connect("127.0.0.1:0;127.0.0.1:5555", false).unwrap();
        assert_eq!(to.dest.port(), 5555);
        assert_eq!(to.source.unwrap().port(), 0);
    }

    const ENODEV: Error = Error::Os(libc::ENODEV);

    fn v4(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn bind_addresses() {
        assert_eq!(resolve_bind("*:*", false).unwrap(), v4("0.0.0.0:0"));
        assert_eq!(resolve_bind("*:5555", false).unwrap(), v4("0.0.0.0:5555"));
        assert_eq!(resolve_bind("*:*", true).unwrap(), v4("[::]:0"));
        assert_eq!(
            resolve_bind("127.0.0.1:0", false).unwrap(),
            v4("127.0.0.1:0")
        );
        assert_eq!(
            resolve_bind("127.0.0.1:*", true).unwrap(),
            v4("[::ffff:127.0.0.1]:0")
        );
        assert_eq!(resolve_bind("[::1]:*", true).unwrap(), v4("[::1]:0"));
        assert_eq!(resolve_bind("::1:7", true).unwrap(), v4("[::1]:7"));
        assert_eq!(
            resolve_bind("[127.0.0.1]:*", false).unwrap(),
            v4("127.0.0.1:0")
        );
        // inet_aton short forms, as getaddrinfo accepts them.
        assert_eq!(resolve_bind("127.1:*", false).unwrap(), v4("127.0.0.1:0"));
        assert_eq!(resolve_bind("lo:*", false).unwrap(), v4("127.0.0.1:0"));
    }

    #[test]
    fn bind_errors() {
        assert_eq!(resolve_bind("[::1]:*", false), Err(ENODEV));
        assert_eq!(resolve_bind("localhost:*", false), Err(ENODEV));
        assert_eq!(resolve_bind("nosuchdev0:*", false), Err(ENODEV));
        assert_eq!(resolve_bind(":5555", false), Err(ENODEV));
        assert_eq!(resolve_bind("127.0.0.1", false), Err(Error::Inval));
        assert_eq!(resolve_bind("127.0.0.1:", false), Err(Error::Inval));
        assert_eq!(resolve_bind("*:65536", false), Err(Error::Inval));
        assert_eq!(resolve_bind("*:abc", false), Err(Error::Inval));
        assert_eq!(resolve_bind("[::1%]:*", true), Err(Error::Inval));
        assert_eq!(resolve_bind("[::1%nosuchdev0]:*", true), Err(Error::Inval));
    }

    #[test]
    fn ports_follow_atoi_like_libzmq() {
        assert_eq!(resolve_bind("127.0.0.1:70000", false).unwrap().port(), 4464);
        assert_eq!(resolve_bind("127.0.0.1:12ab", false).unwrap().port(), 12);
        assert_eq!(resolve_bind("*:-1", false).unwrap().port(), 65535);
        assert_eq!(c_atoi(" +42x"), 42);
        assert_eq!(c_atoi("99999999999999999999999"), -1);
        assert_eq!(c_atoi(""), 0);
    }

    #[test]
    fn zones() {
        let lo = sockopt::if_nametoindex("lo");
        let a = resolve_bind("[::1%lo]:*", true).unwrap();
        let SocketAddr::V6(a6) = a else { panic!() };
        assert_eq!(a6.scope_id(), lo);
        let b = resolve_bind(&format!("[fe80::1%{lo}]:9"), true).unwrap();
        assert_eq!(host_string(&b), "fe80::1%lo");
        assert_eq!(endpoint_string(&b), "tcp://[fe80::1%lo]:9");
        // Not link-local: the scope is not shown (getnameinfo).
        assert_eq!(endpoint_string(&a), "tcp://[::1]:0");
    }

    #[test]
    fn connect_addresses() {
        let a = TcpAddress::resolve_connect("127.0.0.1:5555", false).unwrap();
        assert_eq!(
            a,
            TcpAddress {
                dest: v4("127.0.0.1:5555"),
                source: None
            }
        );
        let a = TcpAddress::resolve_connect("localhost:1234", false).unwrap();
        assert_eq!(a.dest, v4("127.0.0.1:1234"));
        let a = TcpAddress::resolve_connect("127.0.0.1:0;localhost:1234", false).unwrap();
        assert_eq!(a.source, Some(v4("127.0.0.1:0")));
        let a = TcpAddress::resolve_connect("lo:5555;127.0.0.1:1235", false).unwrap();
        assert_eq!(a.source, Some(v4("127.0.0.1:5555")));
        let a = TcpAddress::resolve_connect("*:*;127.0.0.1:1235", false).unwrap();
        assert_eq!(a.source, Some(v4("0.0.0.0:0")));
        assert_eq!(
            TcpAddress::resolve_connect("[::1]:1234", true)
                .unwrap()
                .dest,
            v4("[::1]:1234")
        );
    }

    #[test]
    fn connect_resolution_errors() {
        let r = |s| TcpAddress::resolve_connect(s, false);
        assert_eq!(r("127.0.0.1:*"), Err(Error::Inval));
        assert_eq!(r("[::1]:1234"), Err(Error::Inval));
        assert_eq!(r("lo:1234"), Err(Error::Inval)); // no interface names for the destination
        assert_eq!(r("localhost:5555;localhost:1235"), Err(ENODEV)); // no DNS for the source
        assert_eq!(r("a:1;"), Err(ENODEV)); // the source "a:1" fails first
        assert_eq!(r("127.0.0.1:1;127.0.0.1:2;127.0.0.1:3"), Err(ENODEV));
    }

    #[test]
    fn connect_syntax() {
        for ok in [
            "localhost:1234",
            "[::1]:1234",
            "127.0.0.1:0",
            "127.0.0.1:0;localhost:1234",
            "lo:5555;localhost:1235",
            "nosuch0:1;localhost:1235",
            "a_b:1",
            "a:1x",
            "[::1%lo]:1",
            "a:1;",
            "a:1;b:2;c:3",
            "::1:5",
        ] {
            assert_eq!(check_connect_syntax(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "localhost:invalid",
            "in val id:1234",
            "192.168.0.200:*",
            "*:5555;localhost:1235",
            "*:1",
            "-a:1",
            ".a:1",
            "_a:1",
            "a:",
            "a",
            "a/b:1",
            ";a:1",
            "a:-1",
            "é:1",
        ] {
            assert_eq!(check_connect_syntax(bad), Err(Error::Inval), "{bad}");
        }
    }

    #[test]
    fn canonical_strings() {
        assert_eq!(endpoint_string(&v4("0.0.0.0:44061")), "tcp://0.0.0.0:44061");
        assert_eq!(endpoint_string(&v4("[::]:40461")), "tcp://[::]:40461");
        assert_eq!(
            endpoint_string(&v4("[::ffff:127.0.0.1]:33949")),
            "tcp://[::ffff:127.0.0.1]:33949"
        );
        assert_eq!(endpoint_string(&v4("[::1]:1")), "tcp://[::1]:1");
        assert_eq!(endpoint_string(&v4("[::2:3]:1")), "tcp://[::0.2.0.3]:1");
        assert_eq!(
            endpoint_string(&v4("[2001:db8:0:0:1:0:0:1]:80")),
            "tcp://[2001:db8::1:0:0:1]:80"
        );
    }

    #[test]
    fn unbind_keys() {
        assert_eq!(
            term_endpoint_keys("127.0.0.1:5555", true),
            vec!["tcp://[::ffff:127.0.0.1]:5555"]
        );
        assert_eq!(
            term_endpoint_keys("localhost:5555", false),
            vec!["tcp://127.0.0.1:5555"]
        );
        // A wildcard resolves for bind only, and connect fails first: no key, as libzmq
        // (unbinding "tcp://*:*" is ENOENT).
        assert!(term_endpoint_keys("*:*", false).is_empty());
        // An interface name is not a connect destination: no key either.
        assert!(term_endpoint_keys("lo:5555", false).is_empty());
    }

    #[test]
    fn real_bind_reports_canonical_endpoint() {
        let addr = resolve_bind("127.0.0.1:*", false).unwrap();
        let l = std::net::TcpListener::bind(addr).unwrap();
        let local = l.local_addr().unwrap();
        assert_ne!(local.port(), 0);
        assert_eq!(
            endpoint_string(&local),
            format!("tcp://127.0.0.1:{}", local.port())
        );
        // The canonical string reads back as the same address.
        let back = resolve_bind(&endpoint_string(&local)[6..], false).unwrap();
        assert_eq!(back, local);
    }

    #[test]
    fn real_dual_stack_bind_reports_v4_mapped_endpoint() {
        let addr = resolve_bind("127.0.0.1:*", true).unwrap();
        let Ok(l) = std::net::TcpListener::bind(addr) else {
            return; // no IPv6 on this machine
        };
        let local = l.local_addr().unwrap();
        assert_eq!(
            endpoint_string(&local),
            format!("tcp://[::ffff:127.0.0.1]:{}", local.port())
        );
        // A client without ZMQ_IPV6 reaches it through the IPv4 form.
        let to = TcpAddress::resolve_connect(&format!("127.0.0.1:{}", local.port()), false);
        std::net::TcpStream::connect(to.unwrap().dest).unwrap();
        let (_, peer) = l.accept().unwrap();
        let f = TcpAddressMask::parse("127.0.0.1/128", true).unwrap();
        assert!(accept_allowed(&[f], &peer));
    }

    #[test]
    fn accept_filter_parsing() {
        for bad in [
            "foo",
            "0.0.0.0foo",
            "0.0.0.0/foo",
            "0.0.0.0/",
            "0.0.0.0/-1",
            "0.0.0.0/33",
        ] {
            assert_eq!(
                TcpAddressMask::parse(bad, false),
                Err(Error::Inval),
                "{bad}"
            );
        }
        assert_eq!(TcpAddressMask::parse("::1/128", false), Err(Error::Inval));
        assert_eq!(TcpAddressMask::parse("::1/129", true), Err(Error::Inval));
        assert_eq!(TcpAddressMask::parse("localhost", false), Err(Error::Inval));
        assert!(TcpAddressMask::parse("127.0.0.1/32", false).is_ok());
        assert!(TcpAddressMask::parse("0.0.0.0/0", false).is_ok());
        assert!(TcpAddressMask::parse("10.0.0.0/8", false).is_ok());
        assert!(TcpAddressMask::parse("[::1]/128", true).is_ok());
        assert!(TcpAddressMask::parse("10.0.0.0/8x", false).is_ok()); // strtol stops at 'x'
        assert!(TcpAddressMask::parse("1.2.3.4/ 8", false).is_ok()); // and skips blanks
        assert_eq!(
            TcpAddressMask::parse("0.0.0.0/00", false),
            Err(Error::Inval)
        );
        assert_eq!(TcpAddressMask::parse("lo", false), Err(Error::Inval));
        assert_eq!(TcpAddressMask::parse("[::1]/128", false), Err(Error::Inval));
        assert_eq!(
            TcpAddressMask::parse_bytes(b"127.0.0.1/32", false),
            TcpAddressMask::parse("127.0.0.1/32", false)
        );
        assert_eq!(
            TcpAddressMask::parse_bytes(b"\xff", false),
            Err(Error::Inval)
        );
        let m = TcpAddressMask::parse("127.0.0.1/32", true).unwrap();
        assert_eq!(m.network(), "::ffff:127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(m.prefix_len(), 32);
        let m = TcpAddressMask::parse("127.0.0.1", false).unwrap();
        assert_eq!(m.bits, 32);
        let m = TcpAddressMask::parse("::1", true).unwrap();
        assert_eq!(m.bits, 128);
    }

    #[test]
    fn accept_filter_matching() {
        let p = |s: &str| TcpAddressMask::parse(s, false).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(p("127.0.0.1/32").matches(&ip("127.0.0.1")));
        assert!(!p("127.0.0.255/32").matches(&ip("127.0.0.1")));
        assert!(p("0.0.0.0/0").matches(&ip("192.168.1.1")));
        assert!(p("10.0.0.0/8").matches(&ip("10.200.3.4")));
        assert!(!p("10.0.0.0/8").matches(&ip("11.0.0.1")));
        assert!(p("192.168.0.0/23").matches(&ip("192.168.1.200")));
        assert!(!p("192.168.0.0/23").matches(&ip("192.168.2.1")));
        assert!(p("127.0.0.1").matches(&ip("127.0.0.1")));
        assert!(!p("127.0.0.1/32").matches(&ip("::ffff:127.0.0.1")));
        let q = |s: &str| TcpAddressMask::parse(s, true).unwrap();
        assert!(q("::1/128").matches(&ip("::1")));
        assert!(!q("::1/128").matches(&ip("127.0.0.1")));
        assert!(q("fe80::/10").matches(&ip("febf::1")));
        assert!(!q("fe80::/10").matches(&ip("fec0::1")));
        assert!(q("127.0.0.1/128").matches(&ip("::ffff:127.0.0.1")));

        let peer = v4("127.0.0.1:4000");
        assert!(accept_allowed(&[], &peer));
        assert!(!accept_allowed(&[p("127.0.0.255/32")], &peer));
        assert!(accept_allowed(
            &[p("127.0.0.255/32"), p("127.0.0.0/8")],
            &peer
        ));
    }
}
