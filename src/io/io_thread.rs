//! An I/O thread: a `mio::Poll` loop over its mailbox (and, with network transports, the
//! sessions, engines and listeners it hosts). Objects on it are only touched by it.

use std::sync::Arc;

use mio::{Events, Poll, Token};

use super::Worker;
use crate::command::Command;
use crate::error::Result;
use crate::mailbox::Mailbox;

const MAILBOX: Token = Token(0);

/// Starts I/O thread number `n`.
pub fn start(n: usize) -> Result<Worker> {
    Worker::start(format!("ZMQbg/IO/{n}"), MAILBOX, run)
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
