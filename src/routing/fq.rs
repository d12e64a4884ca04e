//! Fair queueing: receive from pipes in turn, all parts of one message from the same pipe.
//! Pipes `[0, active)` may have messages; a pipe found empty is deactivated until its peer
//! wakes it (`activated`).

use super::active_set::ActiveSet;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::pipes::Pipes;

/// Round-robin receiver over a set of pipes.
#[derive(Default)]
pub struct Fq {
    set: ActiveSet,
    /// In the middle of a multipart message.
    more: bool,
    /// The pipe the last part came from.
    last_in: Option<usize>,
}

impl Fq {
    /// Adds a pipe.
    pub fn attach(&mut self, idx: usize) {
        self.set.attach(idx);
    }

    /// Removes a pipe.
    pub fn terminated(&mut self, idx: usize) {
        self.set.remove(idx);
        if self.last_in == Some(idx) {
            self.last_in = None;
            self.more = false;
        }
    }

    /// A pipe has messages again.
    pub fn activated(&mut self, idx: usize) {
        self.set.activate(idx);
    }

    /// Receives one part; EAGAIN when no pipe has one.
    pub fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.recv_pipe(pipes, msg).map(|_| ())
    }

    /// As `recv`, also telling which pipe the part came from.
    pub fn recv_pipe(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<usize> {
        while let Some(idx) = self.set.current() {
            if let Some(m) = pipes.get(idx).read() {
                self.more = m.more();
                *msg = m;
                self.last_in = Some(idx);
                if !self.more {
                    self.set.advance();
                }
                return Ok(idx);
            }
            // A message is atomic: an empty pipe mid-message means the pipe died; move on.
            self.more = false;
            self.set.deactivate_current();
        }
        Err(Error::Again)
    }

    /// Whether a message part can be received now.
    pub fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.more {
            return true;
        }
        while let Some(idx) = self.set.current() {
            if pipes.get(idx).check_read() {
                return true;
            }
            self.set.deactivate_current();
        }
        false
    }
}
