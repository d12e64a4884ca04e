//! CHANNEL (draft, thread-safe): PAIR for single-part messages. Exactly one peer (a second
//! connection is refused, its pipe terminated); ZMQ_SNDMORE is EINVAL; a received message of
//! several parts is dropped whole.

use super::pair::Pair;
use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;

/// PAIR's pipe handling, with single-part messages.
#[derive(Default)]
pub struct Channel {
    pair: Pair,
}

impl SocketType for Channel {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, li: bool) {
        self.pair.attach(pipes, idx, li);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if msg.more() {
            return Err(Error::Inval);
        }
        self.pair.send(pipes, msg)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let Some(idx) = self.pair.pipe() else {
            return Err(Error::Again);
        };
        let p = pipes.get(idx);
        loop {
            let m = p.read().ok_or(Error::Again)?;
            if !m.more() {
                *msg = m;
                return Ok(());
            }
            // The rest of a message of several parts: dropped with it.
            let mut more = true;
            while more {
                more = p.read().ok_or(Error::Again)?.more();
            }
        }
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.pair.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.pair.has_out(pipes)
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}
    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}
    fn terminated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.pair.terminated(pipes, idx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    #[test]
    fn one_peer_single_parts_both_ways() {
        let mut h = Harness::new();
        let mut s = Channel::default();
        assert_eq!(h.send(&mut s, &[b"early"]), Err(Error::Again));
        let a = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"1"]).unwrap();
        assert_eq!(h.send(&mut s, &[b"x", b"y"]), Err(Error::Inval));
        assert_eq!(h.peer_recv(a), vec![parts(&[b"1"])]);
        assert!(h.peer_send(a, &[b"m1", b"m2"]));
        assert!(h.peer_send(a, &[b"single"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"single"]));
        assert_eq!(h.recv(&mut s), Err(Error::Again));
    }

    #[test]
    fn a_second_peer_is_refused() {
        let mut h = Harness::new();
        let mut s = Channel::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        assert!(h.peer_recv(b).is_empty());
        h.settle(&mut s);
        assert!(h.is_gone(b) && h.peer_is_closed(b));
        h.send(&mut s, &[b"to the first"]).unwrap();
        assert_eq!(h.peer_recv(a), vec![parts(&[b"to the first"])]);
    }
}
