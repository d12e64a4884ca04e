//! PUSH: load-balances messages over all peers; never receives.

use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::routing::lb::Lb;

#[derive(Default)]
pub struct Push {
    lb: Lb,
}

impl SocketType for Push {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _li: bool) {
        // Nothing is ever read here, so the delimiter would never be seen.
        pipes.get(idx).set_nodelay();
        self.lb.attach(idx);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.lb.send(pipes, msg)
    }
    fn recv(&mut self, _pipes: &mut Pipes, _msg: &mut Msg) -> Result<()> {
        Err(Error::NotSup)
    }
    fn has_in(&mut self, _pipes: &mut Pipes) -> bool {
        false
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.lb.has_out(pipes)
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}
    fn write_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.lb.activated(idx);
    }
    fn terminated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.lb.terminated(idx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    #[test]
    fn messages_are_shared_out_among_peers_in_turn() {
        let mut h = Harness::new();
        let mut s = Push::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        for m in [&b"1"[..], b"2", b"3", b"4"] {
            h.send(&mut s, &[m, b"tail"]).unwrap();
        }
        assert_eq!(
            h.peer_recv(a),
            vec![parts(&[b"1", b"tail"]), parts(&[b"3", b"tail"])]
        );
        assert_eq!(
            h.peer_recv(b),
            vec![parts(&[b"2", b"tail"]), parts(&[b"4", b"tail"])]
        );
    }

    #[test]
    fn recv_is_not_supported() {
        let mut h = Harness::new();
        let mut s = Push::default();
        let p = h.connect(&mut s, [0, 0]);
        assert!(h.peer_send(p, &[b"ignored"]));
        assert_eq!(h.recv(&mut s), Err(Error::NotSup));
        assert!(!s.has_in(&mut h.pipes));
    }

    #[test]
    fn with_every_peer_full_send_is_eagain() {
        let mut h = Harness::new();
        let mut s = Push::default();
        let p = h.connect(&mut s, [1, 0]);
        h.send(&mut s, &[b"1"]).unwrap();
        assert!(!s.has_out(&mut h.pipes));
        assert_eq!(h.send(&mut s, &[b"2"]), Err(Error::Again));
        h.peer_recv(p);
        h.settle(&mut s);
        assert!(s.has_out(&mut h.pipes));
    }

    #[test]
    fn a_peer_that_closes_is_let_go_although_the_socket_never_reads() {
        let mut h = Harness::new();
        let mut s = Push::default();
        let gone = h.connect(&mut s, [0, 0]);
        let stays = h.connect(&mut s, [0, 0]);
        assert!(h.peer_send(gone, &[b"unread"]));
        h.peer_close(&mut s, gone);
        assert!(h.is_gone(gone) && h.peer_is_closed(gone));
        h.send(&mut s, &[b"a"]).unwrap();
        h.send(&mut s, &[b"b"]).unwrap();
        assert_eq!(h.peer_recv(stays), vec![parts(&[b"a"]), parts(&[b"b"])]);
    }
}
