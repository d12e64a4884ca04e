//! CLIENT (draft, thread-safe): talks to SERVERs. Single-part messages only: a send with
//! ZMQ_SNDMORE is EINVAL, a received message of several parts is dropped. Sends are
//! load-balanced over the connected SERVERs and receives fair-queued, as DEALER's.

use super::dealer::Dealer;
use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;

/// DEALER, for single-part messages.
#[derive(Default)]
pub struct Client {
    dealer: Dealer,
}

impl SocketType for Client {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, li: bool) {
        self.dealer.attach(pipes, idx, li);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if msg.more() {
            return Err(Error::Inval);
        }
        self.dealer.send(pipes, msg)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.dealer.fq.recv_single(pipes, msg).map(|_| ())
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.dealer.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.dealer.has_out(pipes)
    }
    fn read_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.dealer.read_activated(pipes, idx);
    }
    fn write_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.dealer.write_activated(pipes, idx);
    }
    fn terminated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.dealer.terminated(pipes, idx);
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
