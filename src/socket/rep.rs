//! REP: a ROUTER that serves one request at a time. `recv` strips the envelope (the routing
//! id and every part up to and including the empty delimiter) and keeps it; `send` puts it
//! back in front of the reply.
//!
//! Invariants: `sending_reply` is false while a request is being received and true from its
//! last part until the last part of the reply is sent; `envelope` is empty unless a reply is
//! due (or being received, once `request_begins` is false) and, when not, ends with the
//! empty delimiter. A request without a delimiter is dropped whole.

use std::collections::VecDeque;

use super::pipes::Pipes;
use super::router::Router;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::OptVal;

pub struct Rep {
    router: Router,
    sending_reply: bool,
    request_begins: bool,
    envelope: VecDeque<Msg>,
}

impl Default for Rep {
    fn default() -> Self {
        Rep {
            router: Router::default(),
            sending_reply: false,
            request_begins: true,
            envelope: VecDeque::new(),
        }
    }
}

impl SocketType for Rep {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, locally_initiated: bool) {
        self.router.attach(pipes, idx, locally_initiated);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if !self.sending_reply {
            return Err(Error::Fsm);
        }
        // The envelope first. With ROUTER_MANDATORY its routing id part may fail: EAGAIN
        // keeps it for the retry; a requester that is gone ends the exchange.
        while let Some(part) = self.envelope.front_mut() {
            match self.router.send(pipes, part) {
                Ok(()) => {}
                Err(Error::HostUnreach) => {
                    self.envelope.clear();
                    self.sending_reply = false;
                    return Err(Error::HostUnreach);
                }
                Err(e) => return Err(e),
            }
            self.envelope.pop_front();
        }
        let more = msg.more();
        self.router.send(pipes, msg)?;
        if !more {
            self.sending_reply = false;
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if self.sending_reply {
            return Err(Error::Fsm);
        }
        while self.request_begins {
            self.router.recv(pipes, msg)?;
            if msg.more() {
                let bottom = msg.size() == 0;
                self.envelope.push_back(msg.take());
                if bottom {
                    self.request_begins = false;
                }
            } else {
                // The message ended before a delimiter: drop it.
                self.envelope.clear();
                msg.clear();
            }
        }
        self.router.recv(pipes, msg)?;
        if !msg.more() {
            self.sending_reply = true;
            self.request_begins = true;
        }
        Ok(())
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        !self.sending_reply && self.router.has_in(pipes)
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.sending_reply && self.router.has_out(pipes)
    }

    fn read_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.router.read_activated(pipes, idx);
    }

    fn write_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.router.write_activated(pipes, idx);
    }

    fn terminated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.router.terminated(pipes, idx);
    }

    fn setsockopt(&mut self, pipes: &mut Pipes, id: i32, v: &[u8]) -> Option<Result<()>> {
        self.router.setsockopt(pipes, id, v)
    }

    fn getsockopt(&self, id: i32) -> Option<Result<OptVal>> {
        self.router.getsockopt(id)
    }
}
