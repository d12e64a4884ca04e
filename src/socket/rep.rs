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
use crate::constants::ZMQ_ROUTER_RAW;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::{int_of, OptVal};

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
        if id == ZMQ_ROUTER_RAW && int_of(v).is_ok_and(|x| x != 0) {
            // A raw REP has no envelope to keep: not supported here (libzmq takes it).
            return Some(Err(Error::NotSup));
        }
        self.router.setsockopt(pipes, id, v)
    }

    fn getsockopt(&self, id: i32) -> Option<Result<OptVal>> {
        self.router.getsockopt(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    /// A REP with `n` requesters, each announced by its routing id `r<i>`.
    fn rep_with(n: usize) -> (Harness, Rep, Vec<usize>) {
        let mut h = Harness::new();
        let mut s = Rep::default();
        let peers = (0..n)
            .map(|i| {
                let p = h.add_pipe([0, 0]);
                h.peer_announce(p, format!("r{i}").as_bytes());
                let slot = h.slot(p);
                s.attach(&mut h.pipes, slot, false);
                p
            })
            .collect();
        (h, s, peers)
    }

    #[test]
    fn the_request_is_received_without_its_envelope() {
        let (mut h, mut s, p) = rep_with(1);
        assert!(h.peer_send(p[0], &[b"hop", b"", b"q1", b"q2"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"q1", b"q2"]));
    }

    #[test]
    fn the_reply_goes_to_the_requester_with_the_envelope_in_front() {
        let (mut h, mut s, p) = rep_with(2);
        assert!(h.peer_send(p[1], &[b"hop", b"", b"question"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"question"]));
        h.send(&mut s, &[b"answer"]).unwrap();
        assert_eq!(h.peer_recv(p[1]), vec![parts(&[b"hop", b"", b"answer"])]);
        assert!(h.peer_recv(p[0]).is_empty());
    }

    #[test]
    fn sending_before_a_request_is_efsm() {
        let (mut h, mut s, _) = rep_with(1);
        assert_eq!(h.send(&mut s, &[b"x"]), Err(Error::Fsm));
    }

    #[test]
    fn receiving_while_a_reply_is_due_is_efsm() {
        let (mut h, mut s, p) = rep_with(1);
        assert!(h.peer_send(p[0], &[b"", b"q"]));
        assert!(h.peer_send(p[0], &[b"", b"q again"]));
        h.recv(&mut s).unwrap();
        assert_eq!(h.recv(&mut s), Err(Error::Fsm));
        assert!(!s.has_in(&mut h.pipes));
        h.send(&mut s, &[b"r"]).unwrap();
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"q again"]));
    }

    #[test]
    fn requests_from_several_peers_are_served_one_at_a_time_each_answered_to_its_sender() {
        let (mut h, mut s, p) = rep_with(2);
        assert!(h.peer_send(p[0], &[b"", b"from 0"]));
        assert!(h.peer_send(p[1], &[b"", b"from 1"]));
        for _ in 0..2 {
            let q = h.recv(&mut s).unwrap();
            let mut r = q[0].clone();
            r.extend_from_slice(b" answered");
            h.send(&mut s, &[&r]).unwrap();
        }
        assert_eq!(h.peer_recv(p[0]), vec![parts(&[b"", b"from 0 answered"])]);
        assert_eq!(h.peer_recv(p[1]), vec![parts(&[b"", b"from 1 answered"])]);
    }

    #[test]
    fn a_request_without_a_delimiter_is_dropped() {
        let (mut h, mut s, p) = rep_with(1);
        assert!(h.peer_send(p[0], &[b"no", b"delimiter"]));
        assert!(h.peer_send(p[0], &[b"", b"good"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"good"]));
        h.send(&mut s, &[b"r"]).unwrap();
        assert_eq!(h.peer_recv(p[0]), vec![parts(&[b"", b"r"])]);
    }

    #[test]
    fn a_reply_to_a_requester_that_left_is_dropped_and_the_next_request_served() {
        let (mut h, mut s, p) = rep_with(2);
        assert!(h.peer_send(p[0], &[b"", b"q"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"q"]));
        h.peer_close(&mut s, p[0]);
        h.send(&mut s, &[b"lost"]).unwrap();
        assert!(h.peer_send(p[1], &[b"", b"next"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"next"]));
    }
}
