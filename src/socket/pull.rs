//! PULL: fair-queues messages from all peers; never sends.

use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::routing::fq::Fq;

#[derive(Default)]
pub struct Pull {
    fq: Fq,
}

impl Pull {
    /// A single-part message, one of several parts dropped whole (GATHER).
    pub(super) fn recv_single(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.fq.recv_single(pipes, msg).map(|_| ())
    }
}

impl SocketType for Pull {
    fn attach(&mut self, _pipes: &mut Pipes, idx: usize, _li: bool) {
        self.fq.attach(idx);
    }
    fn send(&mut self, _pipes: &mut Pipes, _msg: &mut Msg) -> Result<()> {
        Err(Error::NotSup)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.fq.recv(pipes, msg)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.fq.has_in(pipes)
    }
    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        false
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.fq.activated(idx);
    }
    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}
    fn terminated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.fq.terminated(idx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    #[test]
    fn messages_from_all_peers_are_received_in_turn_and_whole() {
        let mut h = Harness::new();
        let mut s = Pull::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        assert!(h.peer_send(a, &[b"a1", b"a1+"]));
        assert!(h.peer_send(a, &[b"a2"]));
        assert!(h.peer_send(b, &[b"b1"]));
        assert!(h.peer_send(b, &[b"b2", b"b2+"]));
        let got: Vec<Vec<Vec<u8>>> = (0..4).map(|_| h.recv(&mut s).unwrap()).collect();
        assert_eq!(
            got,
            vec![
                parts(&[b"a1", b"a1+"]),
                parts(&[b"b1"]),
                parts(&[b"a2"]),
                parts(&[b"b2", b"b2+"])
            ]
        );
        assert_eq!(h.recv(&mut s), Err(Error::Again));
    }

    #[test]
    fn send_is_not_supported() {
        let mut h = Harness::new();
        let mut s = Pull::default();
        let p = h.connect(&mut s, [0, 0]);
        assert_eq!(h.send(&mut s, &[b"x"]), Err(Error::NotSup));
        assert!(!s.has_out(&mut h.pipes));
        assert!(h.peer_recv(p).is_empty());
    }

    #[test]
    fn has_in_reports_a_waiting_message() {
        let mut h = Harness::new();
        let mut s = Pull::default();
        let p = h.connect(&mut s, [0, 0]);
        assert!(!s.has_in(&mut h.pipes));
        assert!(h.peer_send(p, &[b"x"]));
        h.settle(&mut s);
        assert!(s.has_in(&mut h.pipes));
    }
}
