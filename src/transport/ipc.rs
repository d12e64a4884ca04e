//! The ipc transport (unix domain stream sockets): the listening socket of an `ipc://` bind,
//! and the connect target and connect attempts of an `ipc://` connect.
//!
//! Runs on the caller's thread: [`listen`] on the application thread (`zmq_bind`),
//! [`close`] on the listener's I/O thread, [`start_connect`] on the I/O thread of the
//! connecting session (through its connecter).

use std::os::unix::fs::MetadataExt;
use std::os::unix::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use crate::error::Result;
use crate::options::Options;
use crate::transport::connection::{ConnectError, Connection};
use std::os::fd::{AsFd, AsRawFd};

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
    let (l, path) = if use_fd >= 0 {
        let l = std::os::unix::net::UnixListener::from(net::dup_listener_fd(use_fd)?);
        (l, None)
    } else {
        let _files = lock_files();
        ipc.remove_stale_file();
        // Non-blocking from the start, and ZMQ_BACKLOG as libzmq's ipc listener has it
        // (std's listener would take the system's maximum).
        let fd = crate::sys::unix_stream_socket()?;
        crate::sys::bind_unix(fd.as_fd(), &ipc.to_socket_addr()?)?;
        crate::sys::listen(fd.as_fd(), opts.backlog)?;
        let l = std::os::unix::net::UnixListener::from(fd);
        let path = match &ipc {
            // Remembered with its identity, so closing removes only our own file (for `*`
            // too: its directory goes with the listener, and only once it is empty).
            IpcAddress::Path(p) => file_id(Path::new(p)).map(|id| (PathBuf::from(p), id)),
            IpcAddress::Abstract(_) => None,
        };
        (l, path)
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

/// Starts a non-blocking connect to `addr`: the socket is non-blocking before it connects, so
/// a listener whose backlog is full gives EAGAIN (a failed attempt, retried after
/// ZMQ_RECONNECT_IVL, as libzmq) instead of stalling the I/O thread until it accepts.
pub fn start_connect(addr: &SocketAddr) -> std::result::Result<Connection, ConnectError> {
    let fd = crate::sys::unix_stream_socket().map_err(ConnectError::before_socket)?;
    if let Err(error) = crate::sys::connect_unix(fd.as_fd(), addr) {
        if error.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(ConnectError {
                error,
                fd: Some(fd.as_raw_fd()),
            });
        }
    }
    let s = std::os::unix::net::UnixStream::from(fd);
    Ok(Connection::Unix(mio::net::UnixStream::from_std(s)))
}

/// A bound socket file: its path, and its identity (device, inode) when bound.
pub type SocketFile = (PathBuf, (u64, u64));

/// The socket files of this process's ipc binds: a bind (removing a stale file, binding,
/// reading the new file's identity) and a listener's removal of its own file (`close`) take
/// this lock, so a listener that ends while another socket binds the same path again never
/// removes the new socket's file.
static FILES: Mutex<()> = Mutex::new(());
/// The process whose thread took `FILES` last.
static FILES_PID: AtomicU32 = AtomicU32::new(0);

/// Takes `FILES`. None in a child forked while a thread of its parent held it: that thread
/// does not exist here, and the lock would never come free (a bind in the child's new
/// context then goes on without it, as before the lock existed).
fn lock_files() -> Option<MutexGuard<'static, ()>> {
    let me = std::process::id();
    loop {
        match FILES.try_lock() {
            Ok(g) => {
                FILES_PID.store(me, Ordering::Relaxed);
                return Some(g);
            }
            // Nothing is left half-done under the lock: a panic elsewhere cannot spoil it.
            Err(TryLockError::Poisoned(e)) => {
                FILES_PID.store(me, Ordering::Relaxed);
                return Some(e.into_inner());
            }
            Err(TryLockError::WouldBlock) if FILES_PID.load(Ordering::Relaxed) != me => {
                return None
            }
            // Held for an unlink and a bind at most.
            Err(TryLockError::WouldBlock) => std::thread::yield_now(),
        }
    }
}

/// The identity (device, inode) of the file at `path`.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Closes a listening socket and removes its file `path` (with the identity it had when
/// bound) if it is still that file. The identity is compared while the socket is still open:
/// its file cannot then have been freed and its inode number given to a newer file.
pub fn close(sock: mio::net::UnixListener, path: Option<SocketFile>) {
    if let Some((p, id)) = path {
        let _files = lock_files();
        if file_id(&p) == Some(id) {
            let _ = std::fs::remove_file(&p);
        }
    }
    drop(sock);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::ZMQ_PULL;
    use crate::session::tests::bench::ipc_endpoint;
    use std::sync::{mpsc, Barrier};

    fn unix(l: Listening) -> (mio::net::UnixListener, Option<SocketFile>) {
        match l.sock {
            ListenSock::Unix(s, path) => (s, path),
            ListenSock::Tcp(_) => panic!("an ipc bind gave a tcp listener"),
        }
    }

    #[test]
    fn a_listener_that_ends_while_its_path_is_bound_again_leaves_the_new_file() {
        let endpoint = ipc_endpoint();
        let address = endpoint.strip_prefix("ipc://").unwrap().to_string();
        let opts = Options::new(ZMQ_PULL);
        // Each round: one thread binds the path again while the other closes the listener
        // bound in the round before, at the same moment; then the path must be the newest
        // listener's file. (Whatever order they take, the close must not remove it.)
        let start = Barrier::new(2);
        let (to_closer, closer_gets) = mpsc::channel();
        let (closed, closed_seen) = mpsc::channel();
        std::thread::scope(|s| {
            let start = &start;
            s.spawn(move || {
                while let Ok((sock, path)) = closer_gets.recv() {
                    start.wait();
                    close(sock, path);
                    closed.send(()).unwrap();
                }
            });
            let mut old = unix(listen(&address, &opts).unwrap());
            for round in 0..300 {
                to_closer.send(old).unwrap();
                start.wait();
                let new = unix(listen(&address, &opts).unwrap());
                closed_seen.recv().unwrap();
                let (_, id) = new.1.clone().expect("a path bind has a file");
                assert_eq!(
                    file_id(Path::new(&address)),
                    Some(id),
                    "round {round}: the newest listener's file is gone"
                );
                old = new;
            }
            let (sock, path) = old;
            close(sock, path);
            drop(to_closer);
        });
        assert!(
            !Path::new(&address).exists(),
            "the last listener left its file"
        );
    }

    #[test]
    fn a_listener_is_non_blocking_and_queues_only_zmq_backlog_connections() {
        for backlog in [0, 2] {
            let endpoint = ipc_endpoint();
            let address = endpoint.strip_prefix("ipc://").unwrap().to_string();
            let mut opts = Options::new(ZMQ_PULL);
            opts.backlog = backlog;
            let (sock, path) = unix(listen(&address, &opts).unwrap());
            // Nothing waits: accepting returns at once.
            assert_eq!(
                sock.accept().err().map(|e| e.kind()),
                Some(std::io::ErrorKind::WouldBlock)
            );
            // Nobody accepts: Linux queues one more than the backlog given to listen(2)
            // (libzmq passes ZMQ_BACKLOG as it is, 0 included), then a non-blocking connect
            // finds the queue full. std's listener would queue thousands.
            let target = IpcAddress::parse(&address)
                .unwrap()
                .to_socket_addr()
                .unwrap();
            let mut queued = Vec::new();
            let full = loop {
                match start_connect(&target) {
                    Ok(c) => queued.push(c),
                    Err(e) => break e.error,
                }
                assert!(
                    queued.len() <= 16,
                    "backlog {backlog}: {} queued",
                    queued.len()
                );
            };
            assert_eq!(full.raw_os_error(), Some(libc::EAGAIN));
            assert_eq!(queued.len(), backlog as usize + 1, "backlog {backlog}");
            drop(queued);
            close(sock, path);
        }
    }
}
