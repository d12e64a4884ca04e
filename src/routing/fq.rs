//! Fair queueing: receive from pipes in turn, all parts of one message from the same pipe.
//! Pipes `[0, active)` may have messages; a pipe found empty is deactivated until its peer
//! wakes it (`activated`).

use super::active_set::ActiveSet;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::pipes::Pipes;

/// Round-robin receiver over a set of pipes.
#[derive(Default)]
pub struct Fq {
    set: ActiveSet,
    /// In the middle of a multipart message.
    more: bool,
    /// The pipe the last part came from.
    last_in: Option<usize>,
}

impl Fq {
    /// Adds a pipe.
    pub fn attach(&mut self, idx: usize) {
        self.set.attach(idx);
    }

    /// Removes a pipe.
    pub fn terminated(&mut self, idx: usize) {
        self.set.remove(idx);
        if self.last_in == Some(idx) {
            self.last_in = None;
            self.more = false;
        }
    }

    /// A pipe has messages again.
    pub fn activated(&mut self, idx: usize) {
        self.set.activate(idx);
    }

    /// Receives one part; EAGAIN when no pipe has one.
    pub fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.recv_pipe(pipes, msg).map(|_| ())
    }

    /// As `recv`, also telling which pipe the part came from.
    pub fn recv_pipe(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<usize> {
        // As libzmq's: the old content goes first, and a receive that finds nothing
        // leaves an empty message.
        msg.clear();
        while let Some(idx) = self.set.current() {
            if pipes.read_into(idx, msg, self.set.active() == 1) {
                self.more = msg.more();
                self.last_in = Some(idx);
                if !self.more {
                    self.set.advance();
                }
                return Ok(idx);
            }
            // A message is atomic: an empty pipe mid-message means the pipe died; move on.
            self.more = false;
            self.set.deactivate_current();
        }
        Err(Error::Again)
    }

    /// Receives a single-part message, as the thread-safe socket types do: a message of
    /// several parts is dropped whole. Tells which pipe it came from.
    pub fn recv_single(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<usize> {
        loop {
            let idx = self.recv_pipe(pipes, msg)?;
            if !msg.more() {
                return Ok(idx);
            }
            while msg.more() {
                self.recv_pipe(pipes, msg)?;
            }
            msg.clear();
        }
    }

    /// Whether a message part can be received now.
    pub fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.more {
            return true;
        }
        while let Some(idx) = self.set.current() {
            if pipes.get(idx).check_read() {
                return true;
            }
            self.set.deactivate_current();
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::PipeEvent;
    use crate::socket::pipes::harness::Harness;

    fn bench(n: usize) -> (Harness, Fq) {
        let mut h = Harness::new();
        let mut fq = Fq::default();
        for _ in 0..n {
            let p = h.add_pipe([0, 0]);
            fq.attach(h.slot(p));
        }
        (h, fq)
    }

    fn settle(h: &mut Harness, fq: &mut Fq) {
        h.settle_with(|_, idx, ev| match ev {
            PipeEvent::ReadActivated => fq.activated(idx),
            PipeEvent::Terminated => fq.terminated(idx),
            _ => {}
        });
    }

    /// The next part: its bytes and the slot it came from.
    fn recv(h: &mut Harness, fq: &mut Fq) -> Result<(Vec<u8>, usize)> {
        settle(h, fq);
        let mut m = Msg::new();
        let idx = fq.recv_pipe(&mut h.pipes, &mut m)?;
        Ok((m.data().to_vec(), idx))
    }

    #[test]
    fn messages_are_taken_from_each_pipe_in_turn() {
        let (mut h, mut fq) = bench(3);
        for n in 0..3 {
            for i in 0..2 {
                let b = format!("{n}.{i}");
                assert!(h.peer_send(n, &[b.as_bytes()]));
            }
        }
        let got: Vec<String> = (0..6)
            .map(|_| String::from_utf8(recv(&mut h, &mut fq).unwrap().0).unwrap())
            .collect();
        assert_eq!(got, ["0.0", "1.0", "2.0", "0.1", "1.1", "2.1"]);
        assert_eq!(recv(&mut h, &mut fq), Err(Error::Again));
    }

    #[test]
    fn all_parts_of_a_message_come_from_the_same_pipe() {
        let (mut h, mut fq) = bench(2);
        assert!(h.peer_send(0, &[b"a1", b"a2", b"a3"]));
        assert!(h.peer_send(1, &[b"b1", b"b2"]));
        assert!(h.peer_send(0, &[b"c"]));
        let (s0, s1) = (h.slot(0), h.slot(1));
        let got: Vec<(Vec<u8>, usize)> = (0..6).map(|_| recv(&mut h, &mut fq).unwrap()).collect();
        let want = [
            (&b"a1"[..], s0),
            (b"a2", s0),
            (b"a3", s0),
            (b"b1", s1),
            (b"b2", s1),
            (b"c", s0),
        ];
        let want: Vec<(Vec<u8>, usize)> = want.iter().map(|(b, s)| (b.to_vec(), *s)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn an_empty_pipe_is_skipped_until_its_peer_writes() {
        let (mut h, mut fq) = bench(2);
        assert!(h.peer_send(1, &[b"b"]));
        assert_eq!(recv(&mut h, &mut fq).unwrap().0, b"b");
        assert_eq!(recv(&mut h, &mut fq), Err(Error::Again));
        assert!(!fq.has_in(&mut h.pipes));
        // The sleeping pipe is woken by its peer's write (ActivateRead).
        assert!(h.peer_send(0, &[b"a"]));
        settle(&mut h, &mut fq);
        assert!(fq.has_in(&mut h.pipes));
        assert_eq!(recv(&mut h, &mut fq).unwrap().0, b"a");
    }

    #[test]
    fn has_in_stays_true_until_the_last_part_is_taken() {
        let (mut h, mut fq) = bench(1);
        assert!(!fq.has_in(&mut h.pipes));
        assert!(h.peer_send(0, &[b"1", b"2"]));
        settle(&mut h, &mut fq);
        assert!(fq.has_in(&mut h.pipes));
        recv(&mut h, &mut fq).unwrap();
        assert!(fq.has_in(&mut h.pipes), "the second part is due");
        recv(&mut h, &mut fq).unwrap();
        assert!(!fq.has_in(&mut h.pipes));
    }

    #[test]
    fn messages_sent_before_a_peer_closed_are_still_received() {
        let (mut h, mut fq) = bench(2);
        assert!(h.peer_send(0, &[b"x"]));
        assert!(h.peer_send(0, &[b"y1", b"y2"]));
        h.peer(0).terminate(true);
        settle(&mut h, &mut fq);
        assert!(!h.is_gone(0), "the pipe waits until its messages are read");
        let got: Vec<Vec<u8>> = (0..3).map(|_| recv(&mut h, &mut fq).unwrap().0).collect();
        assert_eq!(got, [b"x".to_vec(), b"y1".to_vec(), b"y2".to_vec()]);
        // Reading on finds the end of the pipe, which then terminates.
        assert_eq!(recv(&mut h, &mut fq), Err(Error::Again));
        settle(&mut h, &mut fq);
        assert!(h.is_gone(0));
        assert!(h.peer_is_closed(0));
        // The other pipe still works.
        assert!(h.peer_send(1, &[b"z"]));
        assert_eq!(recv(&mut h, &mut fq).unwrap().0, b"z");
    }
}
