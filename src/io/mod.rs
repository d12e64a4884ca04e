//! Background threads: I/O threads (one `mio::Poll` each) and the reaper. Each is a
//! [`Worker`]: a thread running a poll loop whose first source is the thread's mailbox.

pub mod io_thread;
pub mod reaper;
pub mod timer_heap;

use std::sync::Arc;
use std::thread::JoinHandle;

use mio::unix::SourceFd;
use mio::{Interest, Poll, Token};

use crate::command::Command;
use crate::error::{Error, Result};
use crate::mailbox::Mailbox;

/// A running background thread with its mailbox.
pub struct Worker {
    mailbox: Arc<Mailbox>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts thread `name` running `body(poll, mailbox)`; the mailbox's fd is registered in
    /// the poll under `token`.
    pub fn start(
        name: String,
        token: Token,
        body: impl FnOnce(Poll, Arc<Mailbox>) + Send + 'static,
    ) -> Result<Worker> {
        let mailbox = Arc::new(Mailbox::new());
        let poll = Poll::new()?;
        let fd = mailbox.fd()?;
        poll.registry()
            .register(&mut SourceFd(&fd), token, Interest::READABLE)?;
        let mb = mailbox.clone();
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || body(poll, mb))
            .map_err(Error::from)?;
        Ok(Worker {
            mailbox,
            handle: Some(handle),
        })
    }

    /// Where commands for this thread go.
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
