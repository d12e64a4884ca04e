//! SCATTER (draft, thread-safe): load-balances single-part messages over GATHERs (ZMQ_SNDMORE
//! is EINVAL); never receives (ENOTSUP), as PUSH.

use super::pipes::Pipes;
use super::push::Push;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;

/// PUSH, for single-part messages.
#[derive(Default)]
pub struct Scatter {
    push: Push,
}

impl SocketType for Scatter {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, li: bool) {
        self.push.attach(pipes, idx, li);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if msg.more() {
            return Err(Error::Inval);
        }
        self.push.send(pipes, msg)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.push.recv(pipes, msg)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.push.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.push.has_out(pipes)
    }
    fn read_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.push.read_activated(pipes, idx);
    }
    fn write_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.push.write_activated(pipes, idx);
    }
    fn terminated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.push.terminated(pipes, idx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    #[test]
    fn shares_single_parts_out_in_turn_and_never_receives() {
        let mut h = Harness::new();
        let mut s = Scatter::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"1"]).unwrap();
        h.send(&mut s, &[b"2"]).unwrap();
        assert_eq!(h.send(&mut s, &[b"x", b"y"]), Err(Error::Inval));
        assert_eq!(h.peer_recv(a), vec![parts(&[b"1"])]);
        assert_eq!(h.peer_recv(b), vec![parts(&[b"2"])]);
        assert_eq!(h.recv(&mut s), Err(Error::NotSup));
    }
}
