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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    fn on(s: &mut Req, h: &mut Harness, id: i32) {
        assert_eq!(
            s.setsockopt(&mut h.pipes, id, &1i32.to_ne_bytes()),
            Some(Ok(()))
        );
    }

    #[test]
    fn a_request_goes_out_behind_an_empty_delimiter() {
        let mut h = Harness::new();
        let mut s = Req::default();
        let p = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"hello", b"world"]).unwrap();
        assert_eq!(h.peer_recv(p), vec![parts(&[b"", b"hello", b"world"])]);
    }

    #[test]
    fn receiving_before_sending_a_request_is_efsm() {
        let mut h = Harness::new();
        let mut s = Req::default();
        h.connect(&mut s, [0, 0]);
        assert_eq!(h.recv(&mut s), Err(Error::Fsm));
    }

    #[test]
    fn a_second_request_before_the_reply_is_efsm() {
        let mut h = Harness::new();
        let mut s = Req::default();
        h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"1"]).unwrap();
        assert_eq!(h.send(&mut s, &[b"2"]), Err(Error::Fsm));
        assert!(!s.has_out(&mut h.pipes));
    }

    #[test]
    fn the_reply_is_delivered_without_its_delimiter_and_the_next_request_may_go() {
        let mut h = Harness::new();
        let mut s = Req::default();
        let p = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"q"]).unwrap();
        assert!(h.peer_send(p, &[b"", b"r1", b"r2"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"r1", b"r2"]));
        assert_eq!(h.recv(&mut s), Err(Error::Fsm), "one reply per request");
        h.send(&mut s, &[b"q2"]).unwrap();
        assert_eq!(h.peer_recv(p).len(), 2);
    }

    #[test]
    fn requests_go_to_peers_in_turn() {
        let mut h = Harness::new();
        let mut s = Req::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"to a"]).unwrap();
        assert!(h.peer_send(a, &[b"", b"ra"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"ra"]));
        h.send(&mut s, &[b"to b"]).unwrap();
        assert_eq!(h.peer_recv(a), vec![parts(&[b"", b"to a"])]);
        assert_eq!(h.peer_recv(b), vec![parts(&[b"", b"to b"])]);
    }

    #[test]
    fn a_reply_from_a_peer_not_asked_is_dropped() {
        let mut h = Harness::new();
        let mut s = Req::default();
        let asked = h.connect(&mut s, [0, 0]);
        let other = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"q"]).unwrap();
        assert_eq!(h.peer_recv(asked).len(), 1);
        assert!(h.peer_send(other, &[b"", b"bogus"]));
        assert!(h.peer_send(asked, &[b"", b"genuine"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"genuine"]));
    }

    #[test]
    fn a_reply_without_the_delimiter_is_dropped() {
        let mut h = Harness::new();
        let mut s = Req::default();
        let p = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"q"]).unwrap();
        assert!(h.peer_send(p, &[b"no delimiter", b"x"]));
        assert_eq!(h.recv(&mut s), Err(Error::Again));
        assert!(h.peer_send(p, &[b"", b"ok"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"ok"]));
    }

    #[test]
    fn with_req_relaxed_a_new_request_abandons_the_old_reply() {
        let mut h = Harness::new();
        let mut s = Req::default();
        on(&mut s, &mut h, ZMQ_REQ_RELAXED);
        let p = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"first"]).unwrap();
        assert!(h.peer_send(p, &[b"", b"late reply"]));
        h.send(&mut s, &[b"second"]).unwrap();
        assert!(h.peer_send(p, &[b"", b"reply to second"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"reply to second"]));
    }

    #[test]
    fn with_req_correlate_requests_carry_an_id_and_only_the_matching_reply_is_delivered() {
        let mut h = Harness::new();
        let mut s = Req::default();
        on(&mut s, &mut h, ZMQ_REQ_CORRELATE);
        on(&mut s, &mut h, ZMQ_REQ_RELAXED);
        let p = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"one"]).unwrap();
        h.send(&mut s, &[b"two"]).unwrap();
        let got = h.peer_recv(p);
        assert_eq!(got.len(), 2);
        for m in &got {
            assert_eq!(m.len(), 3, "id, delimiter, body: {m:?}");
            assert_eq!((m[0].len(), m[1].as_slice()), (4, &b""[..]));
        }
        assert_ne!(got[0][0], got[1][0], "each request has its own id");
        // The reply to the first request comes late: only the second's is delivered.
        let (id1, id2) = (got[0][0].clone(), got[1][0].clone());
        assert!(h.peer_send(p, &[&id1, b"", b"reply one"]));
        assert!(h.peer_send(p, &[&id2, b"", b"reply two"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"reply two"]));
    }

    #[test]
    fn once_the_asked_peer_is_gone_a_reply_from_any_peer_is_accepted() {
        // As libzmq's REQ: the reply pipe is forgotten when it terminates.
        let mut h = Harness::new();
        let mut s = Req::default();
        let asked = h.connect(&mut s, [0, 0]);
        let other = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"q"]).unwrap();
        h.peer_close(&mut s, asked);
        assert_eq!(h.recv(&mut s), Err(Error::Again));
        h.settle(&mut s);
        assert!(h.is_gone(asked));
        assert!(h.peer_send(other, &[b"", b"from other"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"from other"]));
    }
}
