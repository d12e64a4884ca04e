//! An I/O thread: a `mio::Poll` loop over its mailbox (and, with network transports, the
//! sessions, engines and listeners it hosts). Objects on it are only touched by it.

use std::os::fd::RawFd;
use std::sync::Arc;
use std::thread::JoinHandle;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::command::Command;
use crate::error::Result;
use crate::mailbox::Mailbox;

const MAILBOX: Token = Token(0);

/// A running I/O thread.
pub struct IoThread {
    mailbox: Arc<Mailbox>,
    handle: Option<JoinHandle<()>>,
}

impl IoThread {
    /// Starts I/O thread number `n`.
    pub fn start(n: usize) -> Result<IoThread> {
        let mailbox = Arc::new(Mailbox::new()?);
        let poll = Poll::new()?;
        let fd: RawFd = mailbox.fd();
        poll.registry()
            .register(&mut SourceFd(&fd), MAILBOX, Interest::READABLE)?;
        let mb = mailbox.clone();
        let handle = std::thread::Builder::new()
            .name(format!("ZMQbg/IO/{n}"))
            .spawn(move || run(poll, mb))
            .map_err(crate::error::Error::from)?;
        Ok(IoThread {
            mailbox,
            handle: Some(handle),
        })
    }

    /// Where commands for objects on this thread go.
    pub fn mailbox(&self) -> &Arc<Mailbox> {
        &self.mailbox
    }

    /// Stops the loop and joins the thread.
    pub fn stop(mut self) {
        self.mailbox.send(Command::StopThread);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn run(mut poll: Poll, mailbox: Arc<Mailbox>) {
    let mut events = Events::with_capacity(256);
    loop {
        loop {
            match mailbox.recv(0) {
                Ok(Command::StopThread) => return,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                return;
            }
        }
    }
}
