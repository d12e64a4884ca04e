//! CLIENT (draft, thread-safe): talks to SERVERs. Single-part messages only: a send with
//! ZMQ_SNDMORE is EINVAL, a received message of several parts is dropped. Sends are
//! load-balanced over the connected SERVERs and receives fair-queued, as DEALER's.

use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::routing::fq::Fq;
use crate::routing::lb::Lb;

#[derive(Default)]
pub struct Client {
    lb: Lb,
    fq: Fq,
}

impl SocketType for Client {
    fn attach(&mut self, _pipes: &mut Pipes, idx: usize, _li: bool) {
        self.fq.attach(idx);
        self.lb.attach(idx);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if msg.more() {
            return Err(Error::Inval);
        }
        self.lb.send(pipes, msg)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.fq.recv_single(pipes, msg).map(|_| ())
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    #[test]
    fn sends_single_parts_in_turn_and_refuses_more() {
        let mut h = Harness::new();
        let mut s = Client::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"1"]).unwrap();
        h.send(&mut s, &[b"2"]).unwrap();
        assert_eq!(h.send(&mut s, &[b"x", b"y"]), Err(Error::Inval));
        assert_eq!(h.peer_recv(a), vec![parts(&[b"1"])]);
        assert_eq!(h.peer_recv(b), vec![parts(&[b"2"])]);
    }

    #[test]
    fn drops_messages_of_several_parts() {
        let mut h = Harness::new();
        let mut s = Client::default();
        let a = h.connect(&mut s, [0, 0]);
        assert!(h.peer_send(a, &[b"two", b"parts"]));
        assert!(h.peer_send(a, &[b"one"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"one"]));
        assert_eq!(h.recv(&mut s), Err(Error::Again));
    }
}
