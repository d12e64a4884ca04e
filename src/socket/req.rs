//! REQ: a DEALER that alternates strictly between sending a request and receiving its
//! reply. Each request goes out as `[request id (REQ_CORRELATE)] [empty delimiter] body...`;
//! only a reply from the pipe the request went to, starting with the same prefix, is
//! delivered (others are dropped).
//!
//! Invariants: `receiving_reply` is true from the last part of a request until the last part
//! of its reply; `message_begins` is true before the first part of a request (sending) or
//! before the prefix of a reply has been matched (receiving); `reply_pipe` is the pipe the
//! current request went to (None once it is gone). With REQ_RELAXED a new request may be
//! sent while a reply is due: the old reply is then never delivered.

use super::dealer::Dealer;
use super::pipes::Pipes;
use super::router::{flag_of, random_u32};
use super::SocketType;
use crate::constants::*;
use crate::error::{Error, Result};
use crate::msg::{self, Msg};

pub struct Req {
    dealer: Dealer,
    receiving_reply: bool,
    message_begins: bool,
    reply_pipe: Option<usize>,
    request_id: u32,
    correlate: bool,
    strict: bool,
}

impl Default for Req {
    fn default() -> Self {
        Req {
            dealer: Dealer::default(),
            receiving_reply: false,
            message_begins: true,
            reply_pipe: None,
            request_id: random_u32(),
            correlate: false,
            strict: true,
        }
    }
}

impl Req {
    /// Receives one part from the pipe the request went to, dropping parts from others.
    fn recv_reply_part(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        loop {
            let idx = self.dealer.fq.recv_pipe(pipes, msg)?;
            if self.reply_pipe.is_none_or(|r| r == idx) {
                return Ok(());
            }
        }
    }

    /// Drops the rest of a message whose first part was `msg`.
    fn skip_rest(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        while msg.more() {
            self.recv_reply_part(pipes, msg)?;
        }
        Ok(())
    }

    fn send_prefix_part(&mut self, pipes: &mut Pipes, mut part: Msg) -> Result<()> {
        part.set_flags(msg::MORE);
        if let Some(idx) = self.dealer.lb.send_pipe(pipes, &mut part)? {
            self.reply_pipe = Some(idx);
        }
        Ok(())
    }
}

impl SocketType for Req {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, li: bool) {
        self.dealer.attach(pipes, idx, li);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if self.receiving_reply {
            if self.strict {
                return Err(Error::Fsm);
            }
            self.receiving_reply = false;
            self.message_begins = true;
        }
        if self.message_begins {
            self.reply_pipe = None;
            if self.correlate {
                let id = Msg::from_slice(&self.request_id.wrapping_add(1).to_ne_bytes())?;
                self.send_prefix_part(pipes, id)?;
                self.request_id = self.request_id.wrapping_add(1);
            }
            // After the id part the same pipe takes the rest, so this cannot fail then.
            self.send_prefix_part(pipes, Msg::new())?;
            self.message_begins = false;
            // Drop replies that arrived before this request went out (late ones).
            let mut drop = Msg::new();
            while self.dealer.fq.recv(pipes, &mut drop).is_ok() {}
        }
        let more = msg.more();
        self.dealer.send(pipes, msg)?;
        if !more {
            self.receiving_reply = true;
            self.message_begins = true;
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if !self.receiving_reply {
            return Err(Error::Fsm);
        }
        while self.message_begins {
            if self.correlate {
                self.recv_reply_part(pipes, msg)?;
                let want = self.request_id.to_ne_bytes();
                if !(msg.more() && msg.data() == want) {
                    self.skip_rest(pipes, msg)?;
                    continue;
                }
            }
            self.recv_reply_part(pipes, msg)?;
            if !(msg.more() && msg.size() == 0) {
                self.skip_rest(pipes, msg)?;
                continue;
            }
            self.message_begins = false;
        }
        self.recv_reply_part(pipes, msg)?;
        if !msg.more() {
            self.receiving_reply = false;
            self.message_begins = true;
        }
        Ok(())
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.receiving_reply && self.dealer.has_in(pipes)
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        !(self.receiving_reply && self.strict) && self.dealer.has_out(pipes)
    }

    fn read_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.dealer.read_activated(pipes, idx);
    }

    fn write_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.dealer.write_activated(pipes, idx);
    }

    fn terminated(&mut self, pipes: &mut Pipes, idx: usize) {
        if self.reply_pipe == Some(idx) {
            self.reply_pipe = None;
        }
        self.dealer.terminated(pipes, idx);
    }

    fn setsockopt(&mut self, pipes: &mut Pipes, id: i32, v: &[u8]) -> Option<Result<()>> {
        match id {
            ZMQ_REQ_CORRELATE => Some(flag_of(v).map(|b| self.correlate = b)),
            ZMQ_REQ_RELAXED => Some(flag_of(v).map(|b| self.strict = !b)),
            _ => self.dealer.setsockopt(pipes, id, v),
        }
    }
}
