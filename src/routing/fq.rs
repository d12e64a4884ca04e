//! Fair queueing: receive from pipes in turn, all parts of one message from the same pipe.
//! Pipes `[0, active)` may have messages; a pipe found empty is deactivated until its peer
//! wakes it (`activated`).

use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::pipes::Pipes;

/// Round-robin receiver over a set of pipes.
#[derive(Default)]
pub struct Fq {
    pipes: Vec<usize>,
    active: usize,
    current: usize,
    /// In the middle of a multipart message.
    more: bool,
    /// The pipe the last part came from.
    last_in: Option<usize>,
}

impl Fq {
    /// Adds a pipe.
    pub fn attach(&mut self, idx: usize) {
        self.pipes.push(idx);
        let last = self.pipes.len() - 1;
        self.pipes.swap(self.active, last);
        self.active += 1;
    }

    /// Removes a pipe.
    pub fn terminated(&mut self, idx: usize) {
        let Some(pos) = self.pipes.iter().position(|&p| p == idx) else {
            return;
        };
        if pos < self.active {
            self.active -= 1;
            self.pipes.swap(pos, self.active);
            if self.current == self.active {
                self.current = 0;
            }
        }
        self.pipes.swap_remove(pos);
        if self.last_in == Some(idx) {
            self.last_in = None;
            self.more = false;
        }
        if self.current >= self.active.max(1) {
            self.current = 0;
        }
    }

    /// A pipe has messages again.
    pub fn activated(&mut self, idx: usize) {
        if let Some(pos) = self.pipes.iter().position(|&p| p == idx) {
            if pos >= self.active {
                self.pipes.swap(pos, self.active);
                self.active += 1;
            }
        }
    }

    /// Receives one part; EAGAIN when no pipe has one.
    pub fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.recv_pipe(pipes, msg).map(|_| ())
    }

    /// As `recv`, also telling which pipe the part came from.
    pub fn recv_pipe(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<usize> {
        while self.active > 0 {
            let idx = self.pipes[self.current];
            if let Some(m) = pipes.get(idx).read() {
                self.more = m.more();
                *msg = m;
                self.last_in = Some(idx);
                if !self.more {
                    self.current = (self.current + 1) % self.active;
                }
                return Ok(idx);
            }
            // A message is atomic: an empty pipe mid-message means the pipe died; move on.
            self.more = false;
            self.active -= 1;
            self.pipes.swap(self.current, self.active);
            if self.current == self.active {
                self.current = 0;
            }
        }
        Err(Error::Again)
    }

    /// Whether a message part can be received now.
    pub fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.more {
            return true;
        }
        while self.active > 0 {
            if pipes.get(self.pipes[self.current]).check_read() {
                return true;
            }
            self.active -= 1;
            self.pipes.swap(self.current, self.active);
            if self.current == self.active {
                self.current = 0;
            }
        }
        false
    }
}
