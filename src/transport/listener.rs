//! Listeners: a bound tcp or ipc socket on an I/O thread, accepting connections and making
//! an accepted-role session for each.
//!
//! The listening socket is bound on the application thread by its transport ([`Listening`],
//! from `tcp::listen` / `ipc::listen`, so `zmq_bind` reports errors at once) and handed
//! over. Ownership ([`crate::own`]): the socket owns the listener; the listener owns the
//! sessions it made until they finish, and ends them when it is told to end (close,
//! unbind). It acknowledges its own end to the socket only when every such session has
//! finished (flushed within LINGER), so `zmq_ctx_term` waits for their last messages, as
//! in libzmq. Monitor events go to the socket's monitor directly.
//!
//! An accept that fails for want of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM) reports
//! ZMQ_EVENT_ACCEPT_FAILED and is tried again after [`ACCEPT_RETRY`]: the poller is
//! edge-triggered, so waiting for the next readiness could wait forever with connections
//! already queued. (libzmq's level-triggered poller retries at every turn instead.)
//!
//! Threads: the listener lives on one I/O thread; each session it makes goes to the
//! context's next I/O thread in turn (`CtxInner::choose_io_thread`, within ZMQ_AFFINITY;
//! libzmq picks the one with the fewest file descriptors), and is reached only by commands.
//! After a panic in its code the I/O thread calls [`IoObject::abort`]: the listener ends as
//! for a `Term` with linger 0.

use crate::monitor::Endpoints;
use mio::event::Source;
use mio::net::{TcpListener, UnixListener};
use mio::Interest;

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use crate::command::{Command, ObjCmd, PipeCmd};
use crate::constants::*;
use crate::io::io_thread::{IoCtx, IoObject};
use crate::own::{Own, OwnerRef};
use crate::session::{Session, SocketRef};
use crate::transport::connection::Connection;
use crate::transport::net;

/// How long a listener waits before it tries again an accept that failed for want of
/// resources (descriptors, memory).
pub const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// A bound listening socket, as its transport made it, before it goes to an I/O thread.
pub struct Listening {
    pub sock: ListenSock,
    /// The canonical endpoint (ZMQ_LAST_ENDPOINT, the unbind key, monitor events).
    pub endpoint: String,
    /// What must live as long as the listener (e.g. the temporary directory of `ipc://*`).
    pub keep: Option<Box<dyn Send>>,
}

/// The listening socket.
pub enum ListenSock {
    Tcp(TcpListener),
    /// With the path to remove when the listener ends, and that file's (device, inode) so
    /// a file another socket bound since is left alone (None for abstract names).
    Unix(UnixListener, Option<super::ipc::SocketFile>),
}

impl ListenSock {
    /// The listening fd (for monitor events).
    pub fn fd(&self) -> std::os::fd::RawFd {
        match self {
            ListenSock::Tcp(l) => l.as_raw_fd(),
            ListenSock::Unix(l, _) => l.as_raw_fd(),
        }
    }
}

/// A listener. See the module documentation.
pub struct Listener {
    /// Its place in the tree: owned by the socket, owning the sessions it made.
    own: Own,
    socket: SocketRef,
    endpoint: String,
    sock: Option<ListenSock>,
    /// Kept alive as long as the listener (e.g. the temporary directory of `ipc://*`).
    keep: Option<Box<dyn Send>>,
    /// Ended, and every session it made has too: acknowledged to the socket.
    done: bool,
    /// An accept retry is scheduled (see the module docs).
    retry_pending: bool,
    /// A round's worth was accepted with more queued: the next round was asked for.
    resumes: bool,
}

impl Listener {
    /// A listener over what a transport bound, for `socket`, owned by `owner` (the socket).
    pub fn new(socket: SocketRef, owner: OwnerRef, l: Listening) -> Listener {
        Listener {
            own: Own::new(Some(owner)),
            socket,
            endpoint: l.endpoint,
            sock: Some(l.sock),
            keep: l.keep,
            done: false,
            retry_pending: false,
            resumes: false,
        }
    }

    /// Stops listening and ends the sessions it made (each flushing within `linger`); the
    /// listener is done when they are. Once only (the listening socket is taken here).
    ///
    /// As in libzmq, the listening socket closes (ZMQ_EVENT_CLOSED) before the sessions are
    /// told to end: those on other I/O threads may report their own ends at once.
    fn close(&mut self, io: &mut IoCtx, linger: i32) {
        let Some(sock) = self.sock.take() else {
            return;
        };
        let fd = sock.fd();
        match sock {
            ListenSock::Tcp(mut l) => {
                let _ = l.deregister(io.registry);
            }
            ListenSock::Unix(mut l, path) => {
                let _ = l.deregister(io.registry);
                // The socket file goes only if it is still ours: another socket may have
                // bound the same path since (a quick rebind).
                super::ipc::close(l, path);
            }
        }
        self.keep = None;
        self.socket.monitor.event(
            ZMQ_EVENT_CLOSED,
            fd as u32,
            &Endpoints::bound(&self.endpoint),
        );
        self.own.terminate(linger);
        self.done = self.own.try_finish();
    }

    /// Accepts what is queued, a round's worth at most (`engine::base`, fairness: a flood
    /// of connections cannot hold the thread); the rest in the next round, which it asks for.
    fn accept_all(&mut self, io: &mut IoCtx) {
        if self.resumes {
            return; // the next round was asked for and goes on
        }
        let mut left = crate::engine::base::reads_this_round(io);
        loop {
            if left == 0 {
                self.resumes = true;
                io.call_next_round();
                return;
            }
            left -= 1;
            let accepted = match self.sock.as_ref() {
                Some(ListenSock::Tcp(l)) => l.accept().map(|(s, a)| (Connection::Tcp(s), Some(a))),
                Some(ListenSock::Unix(l, _)) => {
                    l.accept().map(|(s, _)| (Connection::Unix(s), None))
                }
                None => return,
            };
            match accepted {
                Ok((stream, peer)) => {
                    let o = &self.socket.options;
                    if !net::accept_allowed(&stream, peer.as_ref(), o) || !net::tune(&stream, o) {
                        continue; // dropped: closes the connection
                    }
                    let at = Endpoints {
                        local: self.endpoint.clone(),
                        remote: stream.peer_uri(),
                        bound: true,
                    };
                    self.socket
                        .monitor
                        .event(ZMQ_EVENT_ACCEPTED, stream.raw_fd() as u32, &at);
                    let peer = stream.peer_address();
                    let s = Session::accepted(
                        self.socket.clone(),
                        self.own.as_owner(io.mailbox.clone()),
                        self.endpoint.clone(),
                        stream,
                        peer,
                    );
                    // The context's next I/O thread in turn (within ZMQ_AFFINITY): a
                    // server's connections spread over all its I/O threads, not only the
                    // listener's.
                    let at = self
                        .socket
                        .ctx
                        .upgrade()
                        .and_then(|c| c.choose_io_thread(o.affinity).ok())
                        .filter(|m| !Arc::ptr_eq(m, io.mailbox));
                    match at {
                        Some(there) => {
                            self.own.adopt(OwnerRef::new(there.clone(), s.id()), ());
                            there.send(Command::Plug(Box::new(s)));
                        }
                        None => {
                            self.own
                                .adopt(OwnerRef::new(io.mailbox.clone(), s.id()), ());
                            io.spawn(Box::new(s));
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let errno = e.raw_os_error().unwrap_or(0);
                    self.socket.monitor.event(
                        ZMQ_EVENT_ACCEPT_FAILED,
                        errno as u32,
                        &Endpoints::bound(&self.endpoint),
                    );
                    match errno {
                        // That one connection went wrong (reset before it was accepted, or
                        // refused by a firewall rule): the next may be fine.
                        libc::ECONNABORTED | libc::EPROTO | libc::EPERM => continue,
                        // Out of descriptors or memory, or anything else: the queued
                        // connections wait until the retry.
                        _ => {
                            if !self.retry_pending {
                                self.retry_pending = true;
                                io.add_timer(ACCEPT_RETRY, 0);
                            }
                            return;
                        }
                    }
                }
            }
        }
    }
}

impl IoObject for Listener {
    fn id(&self) -> u64 {
        self.own.id()
    }

    fn plug(&mut self, io: &mut IoCtx) {
        let token = io.token();
        let ok = match self.sock.as_mut() {
            Some(ListenSock::Tcp(l)) => l.register(io.registry, token, Interest::READABLE).is_ok(),
            Some(ListenSock::Unix(l, _)) => {
                l.register(io.registry, token, Interest::READABLE).is_ok()
            }
            None => false,
        };
        if ok {
            self.accept_all(io);
        }
    }

    fn event(&mut self, io: &mut IoCtx, _ev: &mio::event::Event) {
        self.accept_all(io);
    }

    fn timer(&mut self, io: &mut IoCtx, _timer_id: u32) {
        self.retry_pending = false;
        self.accept_all(io);
    }

    fn next_round(&mut self, io: &mut IoCtx) {
        self.resumes = false;
        self.accept_all(io);
    }

    fn pipe_command(&mut self, _io: &mut IoCtx, _pipe_id: u64, _cmd: PipeCmd) {}

    fn command(&mut self, io: &mut IoCtx, cmd: ObjCmd) {
        match cmd {
            ObjCmd::Term { linger } => self.close(io, linger),
            ObjCmd::TermAck(child) => {
                self.own.term_ack(child);
                if !self.done {
                    self.done = self.own.try_finish();
                }
            }
            // Its sessions never ask (only connect-role sessions may).
            ObjCmd::TermReq(_) => {}
        }
    }

    fn abort(&mut self, io: &mut IoCtx) {
        self.close(io, 0);
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
#[path = "listener_tests.rs"]
mod tests;
