//! DEALER: load-balances outgoing messages and fair-queues incoming ones. With
//! ZMQ_PROBE_ROUTER, every new pipe first carries an empty message (a ROUTER peer then
//! learns about us before we send anything).

use super::pipes::Pipes;
use super::router::flag_of;
use super::SocketType;
use crate::constants::ZMQ_PROBE_ROUTER;
use crate::error::Result;
use crate::msg::Msg;
use crate::routing::fq::Fq;
use crate::routing::lb::Lb;

#[derive(Default)]
pub struct Dealer {
    pub(super) lb: Lb,
    pub(super) fq: Fq,
    pub(super) probe_router: bool,
}

impl SocketType for Dealer {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _li: bool) {
        if self.probe_router {
            let p = pipes.get(idx);
            p.write_unchecked(Msg::new());
            p.flush();
        }
        self.fq.attach(idx);
        self.lb.attach(idx);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.lb.send(pipes, msg)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.fq.recv(pipes, msg)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.fq.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.lb.has_out(pipes)
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.fq.activated(idx);
    }
    fn write_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.lb.activated(idx);
    }
    fn terminated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.fq.terminated(idx);
        self.lb.terminated(idx);
    }
    fn setsockopt(&mut self, _pipes: &mut Pipes, id: i32, v: &[u8]) -> Option<Result<()>> {
        match id {
            ZMQ_PROBE_ROUTER => Some(flag_of(v).map(|b| self.probe_router = b)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::socket::pipes::harness::{parts, Harness};

    #[test]
    fn sends_in_turn_and_receives_from_all_peers() {
        let mut h = Harness::new();
        let mut s = Dealer::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"1"]).unwrap();
        h.send(&mut s, &[b"2", b"2+"]).unwrap();
        assert_eq!(h.peer_recv(a), vec![parts(&[b"1"])]);
        assert_eq!(h.peer_recv(b), vec![parts(&[b"2", b"2+"])]);
        assert!(h.peer_send(b, &[b"from b"]));
        assert!(h.peer_send(a, &[b"from a"]));
        let mut got = vec![h.recv(&mut s).unwrap(), h.recv(&mut s).unwrap()];
        got.sort();
        assert_eq!(got, vec![parts(&[b"from a"]), parts(&[b"from b"])]);
        assert_eq!(h.recv(&mut s), Err(Error::Again));
    }

    #[test]
    fn with_probe_router_each_new_peer_first_gets_an_empty_message() {
        let mut h = Harness::new();
        let mut s = Dealer::default();
        let on = 1i32.to_ne_bytes();
        assert_eq!(
            s.setsockopt(&mut h.pipes, ZMQ_PROBE_ROUTER, &on),
            Some(Ok(()))
        );
        let p = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"after"]).unwrap();
        assert_eq!(h.peer_recv(p), vec![parts(&[b""]), parts(&[b"after"])]);
    }

    #[test]
    fn without_probe_router_nothing_is_sent_on_connect() {
        let mut h = Harness::new();
        let mut s = Dealer::default();
        let p = h.connect(&mut s, [0, 0]);
        assert!(h.peer_recv(p).is_empty());
    }

    #[test]
    fn a_peer_that_leaves_is_dropped_from_both_directions() {
        let mut h = Harness::new();
        let mut s = Dealer::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        h.peer_close(&mut s, a);
        // The socket finds the end of a's pipe when it reads.
        assert_eq!(h.recv(&mut s), Err(Error::Again));
        h.settle(&mut s);
        assert!(h.is_gone(a));
        h.send(&mut s, &[b"x"]).unwrap();
        h.send(&mut s, &[b"y"]).unwrap();
        assert_eq!(h.peer_recv(b), vec![parts(&[b"x"]), parts(&[b"y"])]);
    }
}
