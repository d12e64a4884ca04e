//! The ipc transport (unix domain stream sockets): the listening socket of an `ipc://` bind,
//! and the connect target and connect attempts of an `ipc://` connect.
//!
//! Runs on the caller's thread: [`listen`] on the application thread (`zmq_bind`),
//! [`start_connect`] on the I/O thread of the connecting session (through its connecter).

use std::os::unix::net::SocketAddr;

use crate::error::Result;
use crate::options::Options;
use crate::transport::connection::Connection;

use super::connecter::Target;
use super::ipc_address::{self, IpcAddress};
use super::listener::{ListenSock, Listening};
use super::net;

/// Opens the listening socket of `ipc://address` (or takes over ZMQ_USE_FD's). `*` makes a
/// fresh directory, which the listener keeps until it ends. Its endpoint is the path bound
/// (for `*`, the generated one), as ZMQ_LAST_ENDPOINT shows it.
pub fn listen(address: &str, opts: &Options) -> Result<Listening> {
    let (ipc, wildcard) = if ipc_address::is_wildcard(address) {
        let dir = ipc_address::WildcardDir::create(|v| std::env::var_os(v))?;
        (dir.address(), Some(dir))
    } else {
        (IpcAddress::parse(address)?, None)
    };
    let use_fd = opts.use_fd;
    let l = if use_fd >= 0 {
        std::os::unix::net::UnixListener::from(net::dup_listener_fd(use_fd)?)
    } else {
        ipc.remove_stale_file();
        std::os::unix::net::UnixListener::bind_addr(&ipc.to_socket_addr()?)?
    };
    l.set_nonblocking(true)?;
    let path = match &ipc {
        IpcAddress::Path(p) if wildcard.is_none() && use_fd < 0 => {
            // Remembered with its identity, so closing removes only our own file.
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(p)
                .ok()
                .map(|m| (std::path::PathBuf::from(p), (m.dev(), m.ino())))
        }
        _ => None,
    };
    Ok(Listening {
        sock: ListenSock::Unix(mio::net::UnixListener::from_std(l), path),
        endpoint: ipc.endpoint_string(),
        keep: wildcard.map(|w| Box::new(w) as Box<dyn Send>),
    })
}

/// What a connect to `ipc://address` goes to (EINVAL, ENAMETOOLONG as the address says).
pub fn connect_target(address: &str) -> Result<Target> {
    Ok(Target::Ipc(IpcAddress::parse(address)?.to_socket_addr()?))
}

/// Starts a non-blocking connect to `addr`.
pub fn start_connect(addr: &SocketAddr) -> std::io::Result<Connection> {
    std::os::unix::net::UnixStream::connect_addr(addr).and_then(|s| {
        s.set_nonblocking(true)?;
        Ok(Connection::Unix(mio::net::UnixStream::from_std(s)))
    })
}
