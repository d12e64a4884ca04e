//! Transports: endpoints, and how each transport binds and connects.
//!
//! An endpoint string (`proto://address`) is parsed once, by [`Endpoint::parse`], into an
//! [`Endpoint`]: one variant per transport, holding the address part as given. What the
//! address part means is the transport's own business, decided when it is used (a tcp host
//! name is resolved at each connect attempt, as DNS may change; an unbind matches strings).
//!
//! One module per transport:
//! - [`tcp`]: the listening socket of a `tcp://` bind, the connect target and its attempts.
//! - [`ipc`]: the same for `ipc://` (paths, abstract names, the `ipc://*` wildcard).
//! - [`inproc`]: `inproc://`, which needs no I/O thread: the pipes between two sockets of
//!   the context, directly or through the context's pending connections.
//! - [`udp`]: `udp://` (RADIO, DISH, DGRAM): its address syntax and its socket, made at
//!   the bind or connect and run by a session with the udp engine (no listener, no
//!   connecter: nothing connects).
//!
//! and what the network transports (tcp, ipc) share:
//! - [`listener`]: the I/O-thread object accepting connections on a bound endpoint and
//!   making an accepted session for each.
//! - [`connecter`]: a connect-role session's connect attempt (SOCKS proxy included) and
//!   the RECONNECT_IVL / RECONNECT_IVL_MAX backoff; it hands a connected stream to the
//!   session, which decides whether and when to try again.
//!
//! The address helpers they use:
//! - [`tcp_address`]: the address part of `tcp://` endpoints, the syntax check `zmq_connect`
//!   does, the resolution the listener (bind) and the connecter (connect) do, the canonical
//!   string form of `ZMQ_LAST_ENDPOINT`, the keys `zmq_unbind` / `zmq_disconnect` try, and the
//!   `ZMQ_TCP_ACCEPT_FILTER` masks.
//! - [`ipc_address`]: the address part of `ipc://` endpoints (paths, Linux abstract names,
//!   the `ipc://*` wildcard and its temporary directory).
//! - [`net`]: opening tcp sockets with libzmq's options, accept filters, ZMQ_USE_FD.
//! - [`sockopt`]: socket options applied to a socket as libzmq applies them, peer credentials
//!   for the IPC filters, and the look-ups the resolvers need (getaddrinfo with libzmq's
//!   hints, getifaddrs, if_nametoindex). The system calls themselves are [`crate::sys`]'s:
//!   nothing here is `unsafe`.
//! - [`socks`]: the SOCKS5 client handshake the connecter runs through ZMQ_SOCKS_PROXY
//!   before the ZMTP engine starts.
//!
//! Adding a transport: one module here, one [`Endpoint`] variant (its scheme in
//! [`Endpoint::parse`]), and its arms in the `match`es on `Endpoint` (bind, connect).
//!
//! Threads: parsing, binding (the listening socket is made on the application thread, so
//! `zmq_bind` reports errors at once) and inproc connects run on the socket's thread;
//! listeners and connecters run on an I/O thread, inside the objects that own them.

pub mod connecter;
pub mod connection;
pub mod inproc;
pub mod ipc;
pub mod ipc_address;
pub mod listener;
pub mod net;
pub mod sockopt;
pub mod socks;
pub mod tcp;
pub mod tcp_address;
pub mod udp;

use crate::error::{Error, Result};
use crate::options::Options;

/// A parsed endpoint: the transport, and the address part as given (never empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `tcp://host:port` (bind: `interface:port`, port `*` or `0` for any; connect:
    /// optionally `source;host:port`).
    Tcp(String),
    /// `ipc://path`, `ipc://@abstract`, `ipc://*`.
    Ipc(String),
    /// `inproc://name`.
    Inproc(String),
    /// `udp://[interface;]host:port`.
    Udp(String),
}

impl Endpoint {
    /// Parses `proto://address`: EINVAL when malformed (no `://`, an empty protocol or
    /// address), EPROTONOSUPPORT for a transport this build does not provide.
    pub fn parse(addr: &str) -> Result<Endpoint> {
        let Some((protocol, address)) = addr.split_once("://") else {
            return Err(Error::Inval);
        };
        if protocol.is_empty() || address.is_empty() {
            return Err(Error::Inval);
        }
        let address = address.to_string();
        match protocol {
            "tcp" => Ok(Endpoint::Tcp(address)),
            "ipc" => Ok(Endpoint::Ipc(address)),
            "inproc" => Ok(Endpoint::Inproc(address)),
            "udp" => Ok(Endpoint::Udp(address)),
            _ => Err(Error::ProtoNoSupport),
        }
    }

    /// The scheme: `tcp`, `ipc`, `inproc`.
    pub fn protocol(&self) -> &'static str {
        match self {
            Endpoint::Tcp(_) => "tcp",
            Endpoint::Ipc(_) => "ipc",
            Endpoint::Inproc(_) => "inproc",
            Endpoint::Udp(_) => "udp",
        }
    }

    /// The address part (after `://`).
    pub fn address(&self) -> &str {
        match self {
            Endpoint::Tcp(a) | Endpoint::Ipc(a) | Endpoint::Inproc(a) | Endpoint::Udp(a) => a,
        }
    }

    /// Whether the transport runs on an I/O thread (a listener or a connecter with a
    /// session), rather than between two sockets' pipes directly.
    #[cfg(test)]
    pub fn is_network(&self) -> bool {
        !matches!(self, Endpoint::Inproc(_))
    }

    /// A network transport's bind: its listening socket, made now (its errors are
    /// `zmq_bind`'s), for a listener to run.
    pub fn listen(&self, opts: &Options) -> Result<listener::Listening> {
        match self {
            Endpoint::Tcp(address) => tcp::listen(address, opts),
            Endpoint::Ipc(address) => ipc::listen(address, opts),
            Endpoint::Inproc(_) | Endpoint::Udp(_) => Err(Error::ProtoNoSupport),
        }
    }

    /// A network transport's connect: what its connecter connects to, checked now (its
    /// errors are `zmq_connect`'s).
    pub fn connect_target(&self, opts: &Options) -> Result<connecter::Target> {
        match self {
            Endpoint::Tcp(address) => tcp::connect_target(address, opts),
            Endpoint::Ipc(address) => ipc::connect_target(address),
            Endpoint::Inproc(_) | Endpoint::Udp(_) => Err(Error::ProtoNoSupport),
        }
    }

    /// The further keys `zmq_unbind` / `zmq_disconnect` try when the endpoint's text names
    /// no bind or connect: its canonical forms (tcp: resolved for connect, then for bind;
    /// may block on DNS). None for the other transports, whose text is the key.
    pub fn term_keys(&self, opts: &Options) -> Vec<String> {
        match self {
            Endpoint::Tcp(address) => tcp_address::term_endpoint_keys(address, opts.ipv6),
            Endpoint::Ipc(_) | Endpoint::Inproc(_) | Endpoint::Udp(_) => Vec::new(),
        }
    }
}

/// The endpoint as a string: exactly the text it was parsed from.
impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.protocol(), self.address())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_transport_and_prints_back_the_same_text() {
        for (text, ep) in [
            (
                "tcp://127.0.0.1:5555",
                Endpoint::Tcp("127.0.0.1:5555".into()),
            ),
            ("tcp://*:*", Endpoint::Tcp("*:*".into())),
            ("ipc://@name", Endpoint::Ipc("@name".into())),
            ("ipc:///tmp/a b", Endpoint::Ipc("/tmp/a b".into())),
            ("inproc://x", Endpoint::Inproc("x".into())),
            // Only the first `://` separates.
            ("inproc://a://b", Endpoint::Inproc("a://b".into())),
        ] {
            let parsed = Endpoint::parse(text).unwrap();
            assert_eq!(parsed, ep);
            assert_eq!(parsed.to_string(), text);
        }
        assert_eq!(Endpoint::parse("tcp://h:1").unwrap().protocol(), "tcp");
        assert_eq!(Endpoint::parse("ipc://p").unwrap().address(), "p");
        assert!(Endpoint::parse("tcp://h:1").unwrap().is_network());
        assert!(!Endpoint::parse("inproc://n").unwrap().is_network());
    }

    #[test]
    fn malformed_is_einval_and_unknown_transports_eprotonosupport() {
        for bad in ["", "tcp", "tcp:/x", "://x", "tcp://", "inproc://", "://"] {
            assert_eq!(Endpoint::parse(bad), Err(Error::Inval), "{bad:?}");
        }
        assert_eq!(
            Endpoint::parse("udp://h:1"),
            Ok(Endpoint::Udp("h:1".into()))
        );
        for other in ["pgm://e;h:1", "ws://h:1", "TCP://h:1", "vmci://1:1"] {
            assert_eq!(
                Endpoint::parse(other),
                Err(Error::ProtoNoSupport),
                "{other:?}"
            );
        }
    }
}
