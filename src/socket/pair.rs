//! PAIR: exactly one peer; a second connection is refused (its pipe terminated).

use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;

#[derive(Default)]
pub struct Pair {
    pipe: Option<usize>,
}

impl Pair {
    /// The one peer's pipe, if any (for the types built on PAIR: CHANNEL, DGRAM).
    pub(super) fn pipe(&self) -> Option<usize> {
        self.pipe
    }
}

impl SocketType for Pair {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _locally_initiated: bool) {
        if self.pipe.is_some() {
            pipes.get(idx).terminate(false);
        } else {
            self.pipe = Some(idx);
        }
    }

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let Some(idx) = self.pipe else {
            return Err(Error::Again);
        };
        let p = pipes.get(idx);
        let more = msg.more();
        match p.write(msg.take()) {
            Ok(()) => {
                if !more {
                    p.flush();
                }
                Ok(())
            }
            Err(m) => {
                *msg = m;
                Err(Error::Again)
            }
        }
    }

    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let Some(idx) = self.pipe else {
            return Err(Error::Again);
        };
        match pipes.get(idx).read() {
            Some(m) => {
                *msg = m;
                Ok(())
            }
            None => Err(Error::Again),
        }
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.pipe.is_some_and(|i| pipes.get(i).check_read())
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.pipe.is_some_and(|i| pipes.get(i).check_write())
    }

    fn read_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}

    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}

    fn terminated(&mut self, _pipes: &mut Pipes, idx: usize) {
        if self.pipe == Some(idx) {
            self.pipe = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    #[test]
    fn without_a_peer_send_and_recv_are_eagain() {
        let mut h = Harness::new();
        let mut s = Pair::default();
        assert_eq!(h.send(&mut s, &[b"x"]), Err(Error::Again));
        assert_eq!(h.recv(&mut s), Err(Error::Again));
        assert!(!s.has_in(&mut h.pipes));
        assert!(!s.has_out(&mut h.pipes));
    }

    #[test]
    fn messages_go_both_ways_with_the_one_peer() {
        let mut h = Harness::new();
        let mut s = Pair::default();
        let p = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"ping", b"more"]).unwrap();
        assert_eq!(h.peer_recv(p), vec![parts(&[b"ping", b"more"])]);
        assert!(h.peer_send(p, &[b"pong"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"pong"]));
        assert_eq!(h.recv(&mut s), Err(Error::Again));
    }

    #[test]
    fn a_second_peer_is_refused_and_the_first_keeps_the_socket() {
        let mut h = Harness::new();
        let mut s = Pair::default();
        let first = h.connect(&mut s, [0, 0]);
        let second = h.connect(&mut s, [0, 0]);
        // The second pipe is ended: its peer sees the end and both sides finish.
        assert!(h.peer_recv(second).is_empty());
        h.settle(&mut s);
        assert!(h.is_gone(second) && h.peer_is_closed(second));
        h.send(&mut s, &[b"to the first"]).unwrap();
        assert_eq!(h.peer_recv(first), vec![parts(&[b"to the first"])]);
    }

    #[test]
    fn a_full_pipe_makes_send_eagain_until_the_peer_reads() {
        let mut h = Harness::new();
        let mut s = Pair::default();
        let p = h.connect(&mut s, [1, 0]);
        h.send(&mut s, &[b"1"]).unwrap();
        assert!(!s.has_out(&mut h.pipes));
        assert_eq!(h.send(&mut s, &[b"2"]), Err(Error::Again));
        assert_eq!(h.peer_recv(p), vec![parts(&[b"1"])]);
        h.settle(&mut s);
        assert!(s.has_out(&mut h.pipes));
        h.send(&mut s, &[b"2"]).unwrap();
        assert_eq!(h.peer_recv(p), vec![parts(&[b"2"])]);
    }

    #[test]
    fn after_the_peer_left_a_new_peer_is_accepted() {
        let mut h = Harness::new();
        let mut s = Pair::default();
        let old = h.connect(&mut s, [0, 0]);
        h.peer_close(&mut s, old);
        // The socket reads up to the end of the old pipe, which then finishes.
        assert_eq!(h.recv(&mut s), Err(Error::Again));
        h.settle(&mut s);
        assert!(h.is_gone(old));
        let new = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"hello"]).unwrap();
        assert_eq!(h.peer_recv(new), vec![parts(&[b"hello"])]);
    }
}
