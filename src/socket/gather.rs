//! GATHER (draft, thread-safe): fair-queues single-part messages from SCATTERs (a message of
//! several parts is dropped whole); never sends (ENOTSUP), as PULL.

use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::routing::fq::Fq;

#[derive(Default)]
pub struct Gather {
    fq: Fq,
}

impl SocketType for Gather {
    fn attach(&mut self, _pipes: &mut Pipes, idx: usize, _li: bool) {
        self.fq.attach(idx);
    }
    fn send(&mut self, _pipes: &mut Pipes, _msg: &mut Msg) -> Result<()> {
        Err(Error::NotSup)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.fq.recv_single(pipes, msg).map(|_| ())
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
    fn receives_single_parts_from_all_and_never_sends() {
        let mut h = Harness::new();
        let mut s = Gather::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        assert!(h.peer_send(a, &[b"a"]));
        assert!(h.peer_send(b, &[b"b1", b"b2"]));
        assert!(h.peer_send(b, &[b"b"]));
        let mut got = vec![h.recv(&mut s).unwrap(), h.recv(&mut s).unwrap()];
        got.sort();
        assert_eq!(got, vec![parts(&[b"a"]), parts(&[b"b"])]);
        assert_eq!(h.recv(&mut s), Err(Error::Again));
        assert_eq!(h.send(&mut s, &[b"x"]), Err(Error::NotSup));
    }
}
