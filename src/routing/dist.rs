//! Distribution: one message to many pipes (PUB fan-out, XSUB upstream).
//!
//! Invariants on the pipe list `pipes` (slot indices into the socket's pipe table):
//! `[0, matching)` ⊆ `[0, active)` ⊆ `[0, eligible)` ⊆ all.
//! - matching: the pipes that get the message being sent (chosen at its first part);
//! - active: pipes that take part in the current message;
//! - eligible: pipes with room (not at HWM); a pipe attached or reactivated in the middle
//!   of a multipart message is eligible but not active, so it never gets a message's tail;
//! - the rest are at HWM and wait for `activated`.
//!
//! Outside a multipart message `active == eligible`. A pipe whose write fails (HWM) drops
//! out of all three ranges; the message is simply not delivered to it (lossy), the caller
//! uses `check_hwm` first when it must not lose messages (XPUB_NODROP). Control messages
//! (subscriptions) go to every pipe regardless of HWM (`send_control_to_all`).
//! `pos[slot]` is the position of `slot` in `pipes` (`usize::MAX` when absent).

use crate::error::Result;
use crate::msg::Msg;
use crate::socket::pipes::Pipes;

const ABSENT: usize = usize::MAX;

/// Fan-out sender over a set of pipes. See the module documentation.
#[derive(Default)]
pub struct Dist {
    pipes: Vec<usize>,
    pos: Vec<usize>,
    matching: usize,
    active: usize,
    eligible: usize,
    /// In the middle of a multipart message.
    more: bool,
}

impl Dist {
    fn position(&self, idx: usize) -> Option<usize> {
        self.pos.get(idx).copied().filter(|&p| p != ABSENT)
    }

    fn swap(&mut self, a: usize, b: usize) {
        if a != b {
            self.pipes.swap(a, b);
            self.pos[self.pipes[a]] = a;
            self.pos[self.pipes[b]] = b;
        }
    }

    /// Adds a pipe: active at once, or only eligible while a multipart message is under way.
    pub fn attach(&mut self, idx: usize) {
        if self.pos.len() <= idx {
            self.pos.resize(idx + 1, ABSENT);
        }
        debug_assert!(self.position(idx).is_none());
        self.pipes.push(idx);
        let last = self.pipes.len() - 1;
        self.pos[idx] = last;
        self.swap(self.eligible, last);
        self.eligible += 1;
        if !self.more {
            self.swap(self.active, self.eligible - 1);
            self.active += 1;
        }
    }

    /// Removes a pipe.
    pub fn terminated(&mut self, idx: usize) {
        let Some(mut p) = self.position(idx) else {
            return;
        };
        if p < self.matching {
            self.matching -= 1;
            self.swap(p, self.matching);
            p = self.matching;
        }
        if p < self.active {
            self.active -= 1;
            self.swap(p, self.active);
            p = self.active;
        }
        if p < self.eligible {
            self.eligible -= 1;
            self.swap(p, self.eligible);
            p = self.eligible;
        }
        let last = self.pipes.len() - 1;
        self.swap(p, last);
        self.pipes.pop();
        self.pos[idx] = ABSENT;
    }

    /// A pipe has room again.
    pub fn activated(&mut self, idx: usize) {
        let Some(p) = self.position(idx) else {
            return;
        };
        if p < self.eligible {
            return;
        }
        self.swap(p, self.eligible);
        self.eligible += 1;
        if !self.more {
            self.swap(self.eligible - 1, self.active);
            self.active += 1;
        }
    }

    /// Marks a pipe as matching the current message (no effect when it is inactive).
    pub fn match_pipe(&mut self, idx: usize) {
        let Some(p) = self.position(idx) else {
            return;
        };
        if p < self.matching || p >= self.active {
            return;
        }
        self.swap(p, self.matching);
        self.matching += 1;
    }

    /// Makes the active pipes that did not match the matching ones, and vice versa.
    pub fn reverse_match(&mut self) {
        let matched = self.matching;
        // Move the non-matching active pipes to the front.
        // Invariant of the loop: `[front, p)` holds the matched pipes.
        for (front, p) in (matched..self.active).enumerate() {
            self.swap(p, front);
        }
        self.matching = self.active - matched;
    }

    /// No pipe matches.
    pub fn unmatch(&mut self) {
        self.matching = 0;
    }

    /// Number of pipes.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.pipes.len()
    }

    /// Whether every matching pipe has room for a message now.
    pub fn check_hwm(&self, pipes: &mut Pipes) -> bool {
        self.pipes[..self.matching]
            .iter()
            .all(|&i| pipes.get(i).check_write())
    }

    /// Sends the part to every active pipe.
    pub fn send_to_all(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.matching = self.active;
        self.send_to_matching(pipes, msg)
    }

    /// Sends a single-part control message (a subscription) to every pipe, those at HWM
    /// included: control traffic is never dropped for want of room. Only between messages.
    pub fn send_control_to_all(&mut self, pipes: &mut Pipes, msg: &mut Msg) {
        debug_assert!(!self.more && !msg.more());
        let mut m = msg.take();
        for &idx in &self.pipes {
            let p = pipes.get(idx);
            if p.write_control(m.share()) {
                p.flush();
            }
        }
    }

    /// Sends the part to the matching pipes; pipes at HWM are skipped (and deactivated).
    /// The message is always taken.
    pub fn send_to_matching(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let more = msg.more();
        // Pipes without room leave first: every pipe left takes a copy, so the copies are
        // counted at once (see `Msg::into_copies`) rather than one atomic step per pipe.
        let mut i = 0;
        while i < self.matching {
            if pipes.get(self.pipes[i]).check_write() {
                i += 1;
            } else {
                // Full (or closing): out of the matching, active and eligible ranges.
                self.matching -= 1;
                self.swap(i, self.matching);
                self.active -= 1;
                self.swap(self.matching, self.active);
                self.eligible -= 1;
                self.swap(self.active, self.eligible);
            }
        }
        if self.matching == 0 {
            // Released where it lies: a message moved out only to be dropped costs a copy
            // (one that waits for the stores that just built it).
            msg.clear();
        } else if self.matching == 1 {
            // One pipe (one subscriber, or a proxy's one peer): the message itself, moved
            // once, with no count to take and no copies to hand out.
            let p = pipes.get(self.pipes[0]);
            p.write_unchecked(msg.take());
            if !more {
                p.flush();
            }
        } else {
            let copies = msg.take().into_copies(self.matching);
            for (&idx, m) in self.pipes[..self.matching].iter().zip(copies) {
                let p = pipes.get(idx);
                p.write_unchecked(m);
                if !more {
                    p.flush();
                }
            }
        }
        if !more {
            self.active = self.eligible;
        }
        self.more = more;
        Ok(())
    }

    /// Always true: distribution never blocks (full pipes are skipped).
    pub fn has_out(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::Mailbox;
    use crate::pipe::{pipepair, Pipe};
    use std::sync::Arc;

    fn setup(n: usize, hwm: u64) -> (Pipes, Vec<Pipe>, Dist) {
        let mb = Arc::new(Mailbox::new());
        let mut pipes = Pipes::default();
        let mut peers = Vec::new();
        let mut d = Dist::default();
        for _ in 0..n {
            let (mut a, mut b) = pipepair([hwm, hwm]);
            let i = pipes.next_index();
            a.attach(mb.clone(), i);
            b.attach(mb.clone(), 1000 + i);
            pipes.insert(a);
            d.attach(i);
            peers.push(b);
        }
        (pipes, peers, d)
    }

    fn part(b: &[u8], more: bool) -> Msg {
        let mut m = Msg::from_slice(b).unwrap();
        if more {
            m.set_flags(crate::msg::MORE);
        }
        m
    }

    fn drain(p: &mut Pipe) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        // Tests process no commands: consider the reader woken.
        p.set_in_active();
        while let Some(m) = p.read() {
            v.push(m.data().to_vec());
        }
        v
    }

    #[test]
    fn shared_bytes_reach_the_pipes_with_room_only() {
        // (The counting itself is `Msg::into_copies`'s test, with a free function.)
        let (mut pipes, mut peers, mut d) = setup(3, 1);
        // Pipe 1 takes a message and is full.
        d.match_pipe(1);
        d.send_to_matching(&mut pipes, &mut part(b"first", false))
            .unwrap();
        let mut m = Msg::from_slice(&[7; 100]).unwrap();
        d.send_to_all(&mut pipes, &mut m).unwrap();
        assert_eq!(m.size(), 0, "the caller's message is taken");
        let mut got: Vec<Vec<Msg>> = peers
            .iter_mut()
            .map(|p| {
                p.set_in_active();
                std::iter::from_fn(|| p.read()).collect()
            })
            .collect();
        assert_eq!(got[1].len(), 1, "the full pipe was skipped");
        assert_eq!(got[1][0].data(), b"first");
        let (a, c) = (got[0].pop().unwrap(), got[2].pop().unwrap());
        assert!(a.data() == [7; 100] && a.is_shared());
        assert_eq!(a.data().as_ptr(), c.data().as_ptr());
        drop(a);
        assert!(!c.is_shared(), "two copies, counted exactly");
        // With every pipe full, the message is released and the caller's is empty.
        let mut m = Msg::from_slice(&[8; 100]).unwrap();
        d.send_to_all(&mut pipes, &mut m).unwrap();
        assert_eq!(m.size(), 0);
        assert!(peers.iter_mut().all(|p| p.read().is_none()));
    }

    #[test]
    fn matching_pipes_get_the_message_whole() {
        let (mut pipes, mut peers, mut d) = setup(3, 0);
        d.match_pipe(0);
        d.match_pipe(2);
        d.match_pipe(2);
        d.send_to_matching(&mut pipes, &mut part(b"a", true))
            .unwrap();
        d.send_to_matching(&mut pipes, &mut part(b"b", false))
            .unwrap();
        d.unmatch();
        assert_eq!(drain(&mut peers[0]), vec![b"a".to_vec(), b"b".to_vec()]);
        assert!(drain(&mut peers[1]).is_empty());
        assert_eq!(drain(&mut peers[2]).len(), 2);
    }

    #[test]
    fn full_pipes_are_skipped_until_activated() {
        let (mut pipes, mut peers, mut d) = setup(2, 1);
        d.send_to_all(&mut pipes, &mut part(b"1", false)).unwrap();
        assert_eq!(drain(&mut peers[1]), vec![b"1".to_vec()]);
        // Pipe 0 is full (its reader read nothing); pipe 1 got credit only after a read is
        // processed, so both are full now.
        d.send_to_all(&mut pipes, &mut part(b"2", false)).unwrap();
        assert_eq!(d.active, 0);
        assert!(drain(&mut peers[0]) == vec![b"1".to_vec()]);
        d.activated(1);
        d.activated(1);
        assert_eq!((d.active, d.eligible), (1, 1));
    }

    #[test]
    fn pipe_attached_mid_message_waits_for_the_next() {
        let (mut pipes, mut peers, mut d) = setup(1, 0);
        d.send_to_all(&mut pipes, &mut part(b"h", true)).unwrap();
        let mb = Arc::new(Mailbox::new());
        let (mut a, b) = pipepair([0, 0]);
        a.attach(mb, 1);
        pipes.insert(a);
        d.attach(1);
        peers.push(b);
        d.send_to_all(&mut pipes, &mut part(b"t", false)).unwrap();
        assert!(drain(&mut peers[1]).is_empty());
        d.send_to_all(&mut pipes, &mut part(b"n", false)).unwrap();
        assert_eq!(drain(&mut peers[1]), vec![b"n".to_vec()]);
        assert_eq!(drain(&mut peers[0]).len(), 3);
    }

    #[test]
    fn reverse_and_terminate_keep_ranges_consistent() {
        let (mut pipes, mut peers, mut d) = setup(4, 0);
        d.match_pipe(1);
        d.reverse_match();
        assert_eq!(d.matching, 3);
        d.terminated(2);
        assert_eq!((d.matching, d.active, d.eligible, d.len()), (2, 3, 3, 3));
        d.send_to_matching(&mut pipes, &mut part(b"x", false))
            .unwrap();
        assert_eq!(drain(&mut peers[0]).len(), 1);
        assert!(drain(&mut peers[1]).is_empty());
        assert_eq!(drain(&mut peers[3]).len(), 1);
        for (p, &slot) in d.pipes.iter().enumerate() {
            assert_eq!(d.pos[slot], p);
        }
    }
}
