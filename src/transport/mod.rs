//! Transports: endpoint addresses and OS socket setup.
//!
//! What is here so far is the part of the tcp and ipc transports that needs no I/O thread:
//!
//! - [`tcp_address`]: the address part of `tcp://` endpoints, the syntax check `zmq_connect`
//!   does, the resolution the listener (bind) and the connecter (connect) do, the canonical
//!   string form of `ZMQ_LAST_ENDPOINT`, the keys `zmq_unbind` / `zmq_disconnect` try, and the
//!   `ZMQ_TCP_ACCEPT_FILTER` masks.
//! - [`ipc_address`]: the address part of `ipc://` endpoints (paths, Linux abstract names,
//!   the `ipc://*` wildcard and its temporary directory).
//! - [`sockopt`]: the only module here with `unsafe`: socket options applied to a raw fd as
//!   libzmq applies them, peer credentials for the IPC filters, and the few libc look-ups the
//!   resolvers need (getaddrinfo, getifaddrs, if_nametoindex).
//! - [`socks`]: the SOCKS5 client handshake a connecting session runs through
//!   ZMQ_SOCKS_PROXY before the ZMTP engine starts.
//!
//! The listeners, connecters and engines that use them live elsewhere; each function says
//! at which step libzmq calls its counterpart.

#![deny(unsafe_code)]

pub mod ipc_address;
pub mod net;
pub mod sockopt;
pub mod socks;
pub mod tcp_address;
