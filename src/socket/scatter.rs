//! SCATTER (draft, thread-safe): load-balances single-part messages over GATHERs (ZMQ_SNDMORE
//! is EINVAL); never receives (ENOTSUP), as PUSH.

use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::routing::lb::Lb;

#[derive(Default)]
pub struct Scatter {
    lb: Lb,
}

impl SocketType for Scatter {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _li: bool) {
        // Nothing is ever read here, so the delimiter would never be seen.
        pipes.get(idx).set_nodelay();
        self.lb.attach(idx);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if msg.more() {
            return Err(Error::Inval);
        }
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
