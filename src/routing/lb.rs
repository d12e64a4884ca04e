//! Load balancing: each message goes to the next pipe with room (round robin), all parts of
//! one message to the same pipe. Pipes `[0, active)` of the list can take messages.

use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::pipes::Pipes;

/// Round-robin sender over a set of pipes.
#[derive(Default)]
pub struct Lb {
    pipes: Vec<usize>,
    active: usize,
    current: usize,
    /// In the middle of a multipart message.
    more: bool,
    /// The pipe died in the middle of a message: drop the remaining parts.
    dropping: bool,
}

impl Lb {
    /// Adds a pipe, ready to take messages.
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
        if pos == self.current && self.more {
            self.dropping = true;
        }
        if pos < self.active {
            self.active -= 1;
            self.pipes.swap(pos, self.active);
            if self.current == self.active {
                self.current = 0;
            }
        }
        self.pipes.swap_remove(pos);
        if self.current >= self.active.max(1) {
            self.current = 0;
        }
    }

    /// A pipe has room again.
    pub fn activated(&mut self, idx: usize) {
        if let Some(pos) = self.pipes.iter().position(|&p| p == idx) {
            if pos >= self.active {
                self.pipes.swap(pos, self.active);
                self.active += 1;
            }
        }
    }

    /// Sends one part; EAGAIN (message kept) when no pipe has room.
    pub fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.send_pipe(pipes, msg).map(|_| ())
    }

    /// As `send`, also telling which pipe took the part (None when it was dropped).
    pub fn send_pipe(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<Option<usize>> {
        if self.dropping {
            self.more = msg.more();
            self.dropping = self.more;
            msg.clear();
            return Ok(None);
        }
        let more = msg.more();
        while self.active > 0 {
            let idx = self.pipes[self.current];
            let p = pipes.get(idx);
            let ok = if self.more {
                p.write_unchecked(msg.take());
                true
            } else {
                match p.write(msg.take()) {
                    Ok(()) => true,
                    Err(m) => {
                        *msg = m;
                        false
                    }
                }
            };
            if ok {
                self.more = more;
                break;
            }
            // The pipe is full: deactivate it and try the next one.
            self.active -= 1;
            self.pipes.swap(self.current, self.active);
            if self.current == self.active {
                self.current = 0;
            }
        }
        if self.active == 0 {
            return Err(Error::Again);
        }
        let idx = self.pipes[self.current];
        if !self.more {
            pipes.get(idx).flush();
            self.current = (self.current + 1) % self.active;
        }
        Ok(Some(idx))
    }

    /// Whether a message could be sent now.
    pub fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        if self.more {
            return true;
        }
        while self.active > 0 {
            if pipes.get(self.pipes[self.current]).check_write() {
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
