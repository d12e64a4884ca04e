//! The reaper thread: finishes closed sockets. `zmq_close` hands the socket over; the reaper
//! processes its commands until every pipe has terminated (peers acknowledged), then drops
//! it and tells the context. A socket's mailbox fd is registered in the reaper's poll.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use super::Worker;
use crate::command::Command;
use crate::ctx::CtxInner;
use crate::error::Result;
use crate::mailbox::Mailbox;
use crate::socket::SocketBase;

const MAILBOX: Token = Token(usize::MAX);

/// Starts the reaper of `ctx`. It holds only a weak view of the context: the context owns
/// the reaper.
pub fn start(ctx: &Arc<CtxInner>, name: String) -> Result<Worker> {
    let weak = Arc::downgrade(ctx);
    Worker::start(name, MAILBOX, move |poll, mb| run(poll, mb, weak))
}

fn run(mut poll: Poll, mailbox: Arc<Mailbox>, ctx: std::sync::Weak<CtxInner>) {
    let mut events = Events::with_capacity(64);
    // By token: a closed socket, and whether its mailbox's fd is in the poll.
    let mut sockets: HashMap<usize, (Box<SocketBase>, bool)> = HashMap::new();
    let mut unwatched = 0usize;
    let mut next_token = 0usize;
    loop {
        // Our own commands: new sockets to finish, or stop. (The signal is cleared before
        // the queue is drained to empty, so a later command raises it again.)
        mailbox.clear_signal();
        while let Ok(cmd) = mailbox.recv(0) {
            match cmd {
                Command::StopThread => return,
                Command::Reap(mut s) => {
                    // A panic must not kill the reaper (every later close would hang
                    // zmq_ctx_term): the socket is then given up on.
                    let ok = catch_unwind(AssertUnwindSafe(|| s.start_reaping())).is_ok();
                    if !ok || s.is_reaped() {
                        finish(&ctx, s);
                    } else {
                        let t = next_token;
                        next_token += 1;
                        // Without a descriptor to wait on (the process is out of them) the
                        // socket is still finished, by a look every millisecond.
                        let watched = s.mailbox_fd().is_ok_and(|fd| {
                            poll.registry()
                                .register(&mut SourceFd(&fd), Token(t), Interest::READABLE)
                                .is_ok()
                        });
                        unwatched += usize::from(!watched);
                        sockets.insert(t, (s, watched));
                    }
                }
                _ => {}
            }
        }
        // Every hosted socket: process its commands (edge-triggered: drain each time).
        let done: Vec<usize> = sockets
            .iter_mut()
            .filter_map(|(t, (s, _))| {
                let ok = catch_unwind(AssertUnwindSafe(|| s.reaper_process_commands())).is_ok();
                (!ok || s.is_reaped()).then_some(*t)
            })
            .collect();
        for t in done {
            if let Some((s, watched)) = sockets.remove(&t) {
                if watched {
                    if let Ok(fd) = s.mailbox_fd() {
                        let _ = poll.registry().deregister(&mut SourceFd(&fd));
                    }
                } else {
                    unwatched -= 1;
                }
                finish(&ctx, s);
            }
        }
        // Inproc pipes have no linger: they end when the peer acknowledges. (Sessions, which
        // flush to the network within LINGER, live on I/O threads.)
        let timeout = (unwatched > 0).then_some(std::time::Duration::from_millis(1));
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                return;
            }
        }
    }
}

fn finish(ctx: &std::sync::Weak<CtxInner>, mut s: Box<SocketBase>) {
    let id = s.id();
    // Last event of the socket: everything before it has been reported.
    s.stop_monitor();
    drop(s);
    if let Some(c) = ctx.upgrade() {
        c.socket_reaped(id);
    }
}
