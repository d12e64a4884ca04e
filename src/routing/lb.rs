//! Load balancing: each message goes to the next pipe with room (round robin), all parts of
//! one message to the same pipe. A full pipe leaves the active set until its peer gives credit.

use super::active_set::ActiveSet;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::pipes::Pipes;

/// Round-robin sender over a set of pipes.
#[derive(Default)]
pub struct Lb {
    set: ActiveSet,
    /// In the middle of a multipart message.
    more: bool,
    /// The pipe died in the middle of a message: drop the remaining parts.
    dropping: bool,
}

impl Lb {
    /// Adds a pipe, ready to take messages.
    pub fn attach(&mut self, idx: usize) {
        self.set.attach(idx);
    }

    /// Removes a pipe.
    pub fn terminated(&mut self, idx: usize) {
        if self.set.remove(idx) == Some(true) && self.more {
            self.dropping = true;
        }
    }

    /// A pipe has room again.
    pub fn activated(&mut self, idx: usize) {
        self.set.activate(idx);
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
        loop {
            let Some(idx) = self.set.current() else {
                return Err(Error::Again);
            };
            let p = pipes.get(idx);
            let written = if self.more {
                // Later parts of a message never hit the HWM (it counts whole messages).
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
            if written {
                self.more = more;
                if !more {
                    p.flush();
                    self.set.advance();
                }
                return Ok(Some(idx));
            }
            self.set.deactivate_current();
        }
    }

    /// Whether a message could be sent now.
    pub fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        if self.more {
            return true;
        }
        while let Some(idx) = self.set.current() {
            if pipes.get(idx).check_write() {
                return true;
            }
            self.set.deactivate_current();
        }
        false
    }
}
