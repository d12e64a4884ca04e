//! Load balancing: each message goes to the next pipe with room (round robin), all parts of
//! one message to the same pipe. A full pipe leaves the active set until its peer gives credit.

use super::active_set::ActiveSet;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::pipes::Pipes;

/// Round-robin sender over a set of pipes.
#[derive(Default)]
pub struct Lb {
    set: ActiveSet,
    /// In the middle of a multipart message.
    more: bool,
    /// The pipe died in the middle of a message: drop the remaining parts.
    dropping: bool,
}

impl Lb {
    /// Adds a pipe, ready to take messages.
    pub fn attach(&mut self, idx: usize) {
        self.set.attach(idx);
    }

    /// Removes a pipe.
    pub fn terminated(&mut self, idx: usize) {
        if self.set.remove(idx) == Some(true) && self.more {
            self.dropping = true;
        }
    }

    /// A pipe has room again.
    pub fn activated(&mut self, idx: usize) {
        self.set.activate(idx);
    }

    /// Sends one part; EAGAIN (message kept) when no pipe has room.
    pub fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.send_pipe(pipes, msg).map(|_| ())
    }

    /// As `send`, also telling which pipe took the part (None when it was dropped).
    pub fn send_pipe(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<Option<usize>> {
        if self.dropping {
            self.more = msg.more();
            self.dropping = self.more;
            msg.clear();
            return Ok(None);
        }
        let more = msg.more();
        loop {
            let Some(idx) = self.set.current() else {
                return Err(Error::Again);
            };
            let p = pipes.get(idx);
            let written = if self.more {
                // Later parts of a message never hit the HWM (it counts whole messages).
                p.write_unchecked(msg.take());
                true
            } else {
                match p.write(msg.take()) {
                    Ok(()) => true,
                    Err(m) => {
                        *msg = m;
                        false
                    }
                }
            };
            if written {
                self.more = more;
                if !more {
                    p.flush();
                    self.set.advance();
                }
                return Ok(Some(idx));
            }
            self.set.deactivate_current();
        }
    }

    /// Whether a message could be sent now.
    pub fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        if self.more {
            return true;
        }
        while let Some(idx) = self.set.current() {
            if pipes.get(idx).check_write() {
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
    use crate::socket::pipes::harness::{part, parts, Harness};

    /// A bench with `n` pipes, each limited to `hwm` messages towards its peer. The socket
    /// ends never read, as a PUSH's: a peer that closes is acknowledged at once.
    fn bench(n: usize, hwm: u64) -> (Harness, Lb) {
        let mut h = Harness::new();
        let mut lb = Lb::default();
        for _ in 0..n {
            let p = h.add_pipe([hwm, 0]);
            let slot = h.slot(p);
            h.pipes.get(slot).set_nodelay();
            lb.attach(slot);
        }
        (h, lb)
    }

    fn settle(h: &mut Harness, lb: &mut Lb) {
        h.settle_with(|_, idx, ev| match ev {
            PipeEvent::WriteActivated => lb.activated(idx),
            PipeEvent::Terminated => lb.terminated(idx),
            _ => {}
        });
    }

    fn send(h: &mut Harness, lb: &mut Lb, msg: &[&[u8]]) -> Result<()> {
        settle(h, lb);
        for (i, p) in msg.iter().enumerate() {
            lb.send(&mut h.pipes, &mut part(p, i + 1 < msg.len()))?;
        }
        Ok(())
    }

    #[test]
    fn each_message_goes_to_the_next_pipe_in_turn() {
        let (mut h, mut lb) = bench(3, 0);
        for m in [b"0", b"1", b"2", b"3", b"4", b"5"] {
            send(&mut h, &mut lb, &[m]).unwrap();
        }
        assert_eq!(h.peer_recv(0), vec![parts(&[b"0"]), parts(&[b"3"])]);
        assert_eq!(h.peer_recv(1), vec![parts(&[b"1"]), parts(&[b"4"])]);
        assert_eq!(h.peer_recv(2), vec![parts(&[b"2"]), parts(&[b"5"])]);
    }

    #[test]
    fn all_parts_of_a_message_go_to_the_same_pipe() {
        let (mut h, mut lb) = bench(2, 0);
        send(&mut h, &mut lb, &[b"a1", b"a2", b"a3"]).unwrap();
        send(&mut h, &mut lb, &[b"b"]).unwrap();
        assert_eq!(h.peer_recv(0), vec![parts(&[b"a1", b"a2", b"a3"])]);
        assert_eq!(h.peer_recv(1), vec![parts(&[b"b"])]);
    }

    #[test]
    fn the_pipe_that_took_a_part_is_reported() {
        let (mut h, mut lb) = bench(2, 0);
        let (s0, s1) = (h.slot(0), h.slot(1));
        let mut first = part(b"a1", true);
        assert_eq!(lb.send_pipe(&mut h.pipes, &mut first), Ok(Some(s0)));
        assert_eq!(
            lb.send_pipe(&mut h.pipes, &mut part(b"a2", false)),
            Ok(Some(s0))
        );
        assert_eq!(
            lb.send_pipe(&mut h.pipes, &mut part(b"b", false)),
            Ok(Some(s1))
        );
    }

    #[test]
    fn without_pipes_a_send_is_eagain_and_the_message_stays_with_the_caller() {
        let mut h = Harness::new();
        let mut lb = Lb::default();
        let mut m = part(b"kept", false);
        assert_eq!(lb.send(&mut h.pipes, &mut m), Err(Error::Again));
        assert_eq!(m.data(), b"kept");
        assert!(!lb.has_out(&mut h.pipes));
    }

    #[test]
    fn a_full_pipe_is_skipped_until_its_peer_reads() {
        let (mut h, mut lb) = bench(2, 1);
        send(&mut h, &mut lb, &[b"0"]).unwrap();
        send(&mut h, &mut lb, &[b"1"]).unwrap();
        // Both pipes hold one message, their HWM.
        assert!(!lb.has_out(&mut h.pipes));
        let mut m = part(b"2", false);
        assert_eq!(lb.send(&mut h.pipes, &mut m), Err(Error::Again));
        assert_eq!(m.data(), b"2", "a refused message is left with the caller");
        // Peer 1 reads: its pipe has room again, and only it.
        assert_eq!(h.peer_recv(1), vec![parts(&[b"1"])]);
        send(&mut h, &mut lb, &[b"2"]).unwrap();
        send(&mut h, &mut lb, &[b"3"]).unwrap_err();
        assert_eq!(h.peer_recv(0), vec![parts(&[b"0"])]);
        assert_eq!(h.peer_recv(1), vec![parts(&[b"2"])]);
    }

    #[test]
    fn later_parts_of_a_message_are_never_refused() {
        // The HWM counts whole messages: a message begun below it is finished.
        let (mut h, mut lb) = bench(1, 1);
        send(&mut h, &mut lb, &[b"a", b"b", b"c", b"d"]).unwrap();
        assert!(!lb.has_out(&mut h.pipes));
        assert_eq!(h.peer_recv(0), vec![parts(&[b"a", b"b", b"c", b"d"])]);
    }

    #[test]
    fn a_send_is_possible_in_the_middle_of_a_message_even_at_the_hwm() {
        let (mut h, mut lb) = bench(1, 1);
        lb.send(&mut h.pipes, &mut part(b"a", true)).unwrap();
        assert!(lb.has_out(&mut h.pipes));
    }

    #[test]
    fn a_terminated_pipe_gets_no_more_messages() {
        let (mut h, mut lb) = bench(2, 0);
        h.peer(0).terminate(false);
        settle(&mut h, &mut lb);
        assert!(h.is_gone(0));
        for m in [b"x", b"y", b"z"] {
            send(&mut h, &mut lb, &[m]).unwrap();
        }
        assert_eq!(
            h.peer_recv(1),
            vec![parts(&[b"x"]), parts(&[b"y"]), parts(&[b"z"])]
        );
    }

    #[test]
    fn the_rest_of_a_message_whose_pipe_died_is_dropped() {
        let (mut h, mut lb) = bench(2, 0);
        lb.send(&mut h.pipes, &mut part(b"a1", true)).unwrap();
        h.peer(0).terminate(false);
        settle(&mut h, &mut lb);
        assert!(h.is_gone(0));
        // The remaining parts are accepted and dropped; the next message goes elsewhere.
        send(&mut h, &mut lb, &[b"a2", b"a3"]).unwrap();
        send(&mut h, &mut lb, &[b"b"]).unwrap();
        assert_eq!(h.peer_recv(1), vec![parts(&[b"b"])]);
    }

    #[test]
    fn a_pipe_attached_later_joins_the_rotation() {
        let (mut h, mut lb) = bench(1, 0);
        send(&mut h, &mut lb, &[b"0"]).unwrap();
        let p = h.add_pipe([0, 0]);
        lb.attach(h.slot(p));
        send(&mut h, &mut lb, &[b"1"]).unwrap();
        send(&mut h, &mut lb, &[b"2"]).unwrap();
        let (a, b) = (h.peer_recv(0).len(), h.peer_recv(1).len());
        assert_eq!((a, b), (2, 1), "three messages shared by two pipes");
    }
}
