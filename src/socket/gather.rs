//! GATHER (draft, thread-safe): fair-queues single-part messages from SCATTERs (a message of
//! several parts is dropped whole); never sends (ENOTSUP), as PULL.

use super::pipes::Pipes;
use super::pull::Pull;
use super::SocketType;
use crate::error::Result;
use crate::msg::Msg;

/// PULL, for single-part messages.
#[derive(Default)]
pub struct Gather {
    pull: Pull,
}

impl SocketType for Gather {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, li: bool) {
        self.pull.attach(pipes, idx, li);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.pull.send(pipes, msg)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.pull.recv_single(pipes, msg)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.pull.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.pull.has_out(pipes)
    }
    fn read_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.pull.read_activated(pipes, idx);
    }
    fn write_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.pull.write_activated(pipes, idx);
    }
    fn terminated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.pull.terminated(pipes, idx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
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
