//! Listeners: a bound tcp or ipc socket on an I/O thread, accepting connections and making
//! an accepted-role session for each.
//!
//! The listening socket is bound on the application thread by its transport ([`Listening`],
//! from `tcp::listen` / `ipc::listen`, so `zmq_bind` reports errors at once) and handed over. Ownership: the socket owns the listener; the listener tracks the
//! sessions it made until they finish, and ends them when it is told to end (close, unbind).
//! It acknowledges its own end to the socket only when every such session has finished
//! (flushed within LINGER), so `zmq_ctx_term` waits for their last messages, as in libzmq.

use std::collections::HashSet;

use mio::event::Source;
use mio::net::{TcpListener, UnixListener};
use mio::Interest;

use std::os::fd::AsRawFd;

use crate::command::{Command, ObjCmd, PipeCmd};
use crate::constants::*;
use crate::io::io_thread::{IoCtx, IoObject};
use crate::session::{next_object_id, Owner, Session};
use crate::stream::Stream;
use crate::transport::net;

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
    Unix(UnixListener, Option<(std::path::PathBuf, (u64, u64))>),
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
    id: u64,
    owner: Owner,
    endpoint: String,
    sock: Option<ListenSock>,
    children: HashSet<u64>,
    /// Kept alive as long as the listener (e.g. the temporary directory of `ipc://*`).
    keep: Option<Box<dyn Send>>,
    done: bool,
    /// Told to end: waiting for the children's `ChildDone` before the `TermAck`.
    ending: bool,
}

impl Listener {
    /// Once told to end and every session it made has finished: acknowledges to the socket.
    fn end_when_children_done(&mut self) {
        if self.ending && !self.done && self.children.is_empty() {
            self.done = true;
            self.owner.mailbox.send(Command::TermAck(self.id));
        }
    }

    /// A listener over what a transport bound.
    pub fn new(owner: Owner, l: Listening) -> Listener {
        Listener {
            id: next_object_id(),
            owner,
            endpoint: l.endpoint,
            sock: Some(l.sock),
            children: HashSet::new(),
            keep: l.keep,
            done: false,
            ending: false,
        }
    }

    fn accept_all(&mut self, io: &mut IoCtx) {
        loop {
            let accepted = match self.sock.as_ref() {
                Some(ListenSock::Tcp(l)) => l.accept().map(|(s, a)| (Stream::Tcp(s), Some(a))),
                Some(ListenSock::Unix(l, _)) => l.accept().map(|(s, _)| (Stream::Unix(s), None)),
                None => return,
            };
            match accepted {
                Ok((stream, peer)) => {
                    let o = &self.owner.options;
                    if !net::accept_allowed(&stream, peer.as_ref(), o) || !net::tune(&stream, o) {
                        continue; // dropped: closes the connection
                    }
                    self.owner
                        .event(ZMQ_EVENT_ACCEPTED, stream.raw_fd() as u32, &self.endpoint);
                    let peer = peer.map(|a| a.ip().to_string()).unwrap_or_default();
                    let s = Session::accepted(
                        self.owner.clone(),
                        self.endpoint.clone(),
                        stream,
                        peer,
                        self.id,
                    );
                    self.children.insert(s.id());
                    io.spawn(Box::new(s));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // Out of fds and the like: try again on the next readiness.
                Err(_) => return,
            }
        }
    }
}

impl IoObject for Listener {
    fn id(&self) -> u64 {
        self.id
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

    fn timer(&mut self, _io: &mut IoCtx, _timer_id: u32) {}

    fn pipe_command(&mut self, _io: &mut IoCtx, _pipe_id: u64, _cmd: PipeCmd) {}

    fn command(&mut self, io: &mut IoCtx, cmd: ObjCmd) {
        match cmd {
            ObjCmd::Term { linger } => {
                let fd = self.sock.as_ref().map_or(-1, ListenSock::fd);
                match self.sock.take() {
                    Some(ListenSock::Tcp(mut l)) => {
                        let _ = l.deregister(io.registry);
                    }
                    Some(ListenSock::Unix(mut l, path)) => {
                        let _ = l.deregister(io.registry);
                        // Remove the socket file only if it is still ours: another socket
                        // may have bound the same path since (a quick rebind).
                        drop(l);
                        if let Some((p, id)) = path {
                            if same_file(&p, id) {
                                let _ = std::fs::remove_file(p);
                            }
                        }
                    }
                    None => {}
                }
                for &child in &self.children {
                    io.mailbox
                        .send(Command::Object(child, ObjCmd::Term { linger }));
                }
                self.keep = None;
                self.owner
                    .event(ZMQ_EVENT_CLOSED, fd as u32, &self.endpoint);
                self.ending = true;
                self.end_when_children_done();
            }
            ObjCmd::ChildDone(child) => {
                self.children.remove(&child);
                self.end_when_children_done();
            }
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

/// Whether the file at `path` is still the one with `id` (device, inode).
fn same_file(path: &std::path::Path, id: (u64, u64)) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == id)
}
