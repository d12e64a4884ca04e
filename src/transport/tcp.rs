//! The tcp transport: the listening socket of a `tcp://` bind, and the connect target and
//! connect attempts of a `tcp://` connect.
//!
//! Runs on the caller's thread: [`listen`] on the application thread (`zmq_bind`), the
//! others on the I/O thread of the connecting session (through its connecter).

use crate::error::Result;
use crate::options::Options;
use crate::transport::connection::{ConnectError, Connection};

use super::connecter::Target;
use super::listener::{ListenSock, Listening};
use super::net;
use super::tcp_address::{self, TcpAddress};

/// Opens the listening socket of `tcp://address` (or takes over ZMQ_USE_FD's). Its
/// endpoint is the bound address in canonical form, port chosen, as ZMQ_LAST_ENDPOINT
/// shows it.
pub fn listen(address: &str, opts: &Options) -> Result<Listening> {
    let l = if opts.use_fd >= 0 {
        std::net::TcpListener::from(net::dup_listener_fd(opts.use_fd)?)
    } else {
        let a = tcp_address::resolve_bind(address, opts.ipv6)?;
        net::tcp_listen(&a, opts)?
    };
    let local = l.local_addr()?;
    Ok(Listening {
        sock: ListenSock::Tcp(mio::net::TcpListener::from_std(l)),
        endpoint: tcp_address::endpoint_string(&local),
        keep: None,
    })
}

/// What a connect to `tcp://address` goes to, after `zmq_connect`'s syntax check (EINVAL);
/// nothing is resolved yet.
pub fn connect_target(address: &str, opts: &Options) -> Result<Target> {
    tcp_address::check_connect_syntax(address)?;
    Ok(Target::Tcp {
        addr: address.to_string(),
        ipv6: opts.ipv6,
    })
}

/// Resolves `address` (`[source;]host:port`) and starts a non-blocking connect to it.
pub fn start_connect(
    address: &str,
    ipv6: bool,
    opts: &Options,
) -> std::result::Result<Connection, ConnectError> {
    match TcpAddress::resolve_connect(address, ipv6) {
        Ok(a) => net::tcp_connect(a.dest, a.source, opts),
        Err(e) => Err(ConnectError::before_socket(
            std::io::Error::from_raw_os_error(e.errno()),
        )),
    }
}
