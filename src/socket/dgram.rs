//! DGRAM (draft, not thread-safe): raw udp datagrams. Each message is two parts, the peer's
//! address (`ip:port`) then the body, both ways; a send of a first part without ZMQ_SNDMORE,
//! or of a second part with it, is EINVAL. One endpoint (its udp socket) at a time: a second
//! pipe is refused, as PAIR's.

use super::pair::Pair;
use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;

/// PAIR's pipe handling (its one pipe is the udp endpoint's), with two-part messages.
#[derive(Default)]
pub struct Dgram {
    pair: Pair,
    /// The address part was sent: the body comes next.
    more_out: bool,
}

impl SocketType for Dgram {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, li: bool) {
        self.pair.attach(pipes, idx, li);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        // The address part must say more follows; the body must not.
        if msg.more() == self.more_out {
            return Err(Error::Inval);
        }
        self.pair.send(pipes, msg)?;
        self.more_out = !self.more_out;
        Ok(())
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.pair.recv(pipes, msg)
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
        if self.pair.pipe() == Some(idx) {
            self.more_out = false;
        }
        self.pair.terminated(pipes, idx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    #[test]
    fn messages_are_an_address_then_a_body() {
        let mut h = Harness::new();
        let mut s = Dgram::default();
        let p = h.connect(&mut s, [0, 0]);
        assert_eq!(h.send(&mut s, &[b"body only"]), Err(Error::Inval));
        h.send(&mut s, &[b"127.0.0.1:5556", b"body"]).unwrap();
        assert_eq!(h.peer_recv(p), vec![parts(&[b"127.0.0.1:5556", b"body"])]);
        assert!(h.peer_send(p, &[b"127.0.0.1:5557", b"reply"]));
        assert_eq!(
            h.recv(&mut s).unwrap(),
            parts(&[b"127.0.0.1:5557", b"reply"])
        );
    }
}
