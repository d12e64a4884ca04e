//! XSUB: fair-queues messages from publishers; what the application sends goes upstream to
//! every publisher. A sent message whose first byte is 1 (subscribe) or 0 (unsubscribe)
//! also updates the socket's refcounted subscription trie; an unsubscription goes upstream
//! only when it removed the topic's last reference. A pipe that attaches gets every current
//! subscription at once.
//!
//! Filtering incoming messages by the trie is on for SUB (`filter`) and off for plain XSUB,
//! as in libzmq (an XSUB application sees everything its publishers send it). Invariants:
//! only the first part of a message is matched; a message that does not match is dropped
//! whole; `prefetched` holds a matching first part that `has_in` had to read.

use super::pipes::Pipes;
use super::SocketType;
use crate::constants::*;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::{int_of, OptVal};
use crate::routing::dist::Dist;
use crate::routing::fq::Fq;
use crate::routing::trie::Trie;

/// See the module documentation.
#[derive(Default)]
pub struct XSub {
    /// Drop incoming messages that match no subscription (SUB).
    pub(super) filter: bool,
    fq: Fq,
    dist: Dist,
    subs: Trie,
    prefetched: Option<Msg>,
    more_send: bool,
    more_recv: bool,
    process_subscribe: bool,
    only_first_subscribe: bool,
    pub(super) invert: bool,
    /// ZMQ_XSUB_VERBOSE_UNSUBSCRIBE: every unsubscription goes upstream, not only the last
    /// of a topic.
    verbose_unsubs: bool,
}

impl XSub {
    fn matches(&self, m: &Msg) -> bool {
        self.subs.check(m.data()) ^ self.invert
    }

    /// Receives the next part, dropping unwanted messages whole.
    fn next(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        loop {
            self.fq.recv(pipes, msg)?;
            if self.more_recv || !self.filter || self.matches(msg) {
                return Ok(());
            }
            while msg.more() {
                self.fq.recv(pipes, msg)?;
            }
        }
    }
}

impl SocketType for XSub {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _li: bool) {
        self.fq.attach(idx);
        self.dist.attach(idx);
        self.hiccuped(pipes, idx);
    }

    /// Sends every subscription to the pipe at `idx` (a new pipe, or one whose connection
    /// came back).
    fn hiccuped(&mut self, pipes: &mut Pipes, idx: usize) {
        let p = pipes.get(idx);
        self.subs.apply(|topic| {
            let mut data = Vec::with_capacity(topic.len() + 1);
            data.push(1);
            data.extend_from_slice(topic);
            if let Ok(m) = Msg::from_slice(&data) {
                // Subscriptions are control traffic: never dropped at HWM (libzmq drops
                // them).
                p.write_control(m);
            }
        });
        p.flush();
    }

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let first_part = !self.more_send;
        self.more_send = msg.more();
        if first_part {
            self.process_subscribe = !self.only_first_subscribe;
        } else if !self.process_subscribe {
            return self.dist.send_to_all(pipes, msg);
        }
        match msg.data().first() {
            Some(1) => {
                self.subs.add(&msg.data()[1..]);
                self.process_subscribe = true;
            }
            Some(0) => {
                self.process_subscribe = true;
                if !self.subs.rm(&msg.data()[1..]) && !self.verbose_unsubs {
                    // Other references remain: nothing goes upstream.
                    msg.clear();
                    return Ok(());
                }
            }
            _ => {}
        }
        if first_part && !msg.more() && matches!(msg.data().first(), Some(0 | 1)) {
            // A whole (un)subscription: control traffic, never dropped at HWM.
            self.dist.send_control_to_all(pipes, msg);
            return Ok(());
        }
        self.dist.send_to_all(pipes, msg)
    }

    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if let Some(m) = self.prefetched.take() {
            *msg = m;
        } else {
            self.next(pipes, msg)?;
        }
        self.more_recv = msg.more();
        Ok(())
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.more_recv || self.prefetched.is_some() {
            return true;
        }
        let mut m = Msg::new();
        if self.next(pipes, &mut m).is_err() {
            return false;
        }
        self.prefetched = Some(m);
        true
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        self.dist.has_out()
    }

    fn read_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.fq.activated(idx);
    }

    fn write_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.dist.activated(idx);
    }

    fn terminated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.fq.terminated(idx);
        self.dist.terminated(idx);
    }

    fn setsockopt(&mut self, _pipes: &mut Pipes, id: i32, v: &[u8]) -> Option<Result<()>> {
        Some(match id {
            ZMQ_ONLY_FIRST_SUBSCRIBE => int_of(v).and_then(|x| {
                if x < 0 {
                    return Err(Error::Inval);
                }
                self.only_first_subscribe = x != 0;
                Ok(())
            }),
            ZMQ_INVERT_MATCHING => int_of(v).map(|x| self.invert = x != 0),
            // A draft option in libzmq's build with drafts only.
            #[cfg(feature = "draft")]
            ZMQ_XSUB_VERBOSE_UNSUBSCRIBE => int_of(v).map(|x| self.verbose_unsubs = x != 0),
            _ => return None,
        })
    }

    fn getsockopt(&self, id: i32) -> Option<Result<OptVal>> {
        match id {
            ZMQ_INVERT_MATCHING => Some(Ok(OptVal::Int(self.invert as i32))),
            ZMQ_TOPICS_COUNT => Some(Ok(OptVal::Int(self.subs.num_prefixes() as i32))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    #[test]
    fn every_message_from_every_publisher_is_received_unfiltered() {
        let mut h = Harness::new();
        let mut s = XSub::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        assert!(h.peer_send(a, &[b"from a", b"+"]));
        assert!(h.peer_send(b, &[b"from b"]));
        let mut got = vec![h.recv(&mut s).unwrap(), h.recv(&mut s).unwrap()];
        got.sort();
        assert_eq!(got, vec![parts(&[b"from a", b"+"]), parts(&[b"from b"])]);
    }

    #[test]
    fn what_the_application_sends_goes_to_every_publisher() {
        let mut h = Harness::new();
        let mut s = XSub::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"\x01topic"]).unwrap();
        h.send(&mut s, &[b"not a subscription", b"+"]).unwrap();
        for p in [a, b] {
            assert_eq!(
                h.peer_recv(p),
                vec![
                    parts(&[b"\x01topic"]),
                    parts(&[b"not a subscription", b"+"])
                ]
            );
        }
    }

    #[test]
    fn a_publisher_connecting_later_gets_the_subscriptions_sent_before() {
        let mut h = Harness::new();
        let mut s = XSub::default();
        h.send(&mut s, &[b"\x01a"]).unwrap();
        h.send(&mut s, &[b"\x01b"]).unwrap();
        let p = h.connect(&mut s, [0, 0]);
        let mut got = h.peer_recv(p);
        got.sort();
        assert_eq!(got, vec![parts(&[b"\x01a"]), parts(&[b"\x01b"])]);
    }

    #[test]
    fn a_duplicate_unsubscription_is_not_sent_upstream_until_the_last() {
        let mut h = Harness::new();
        let mut s = XSub::default();
        let p = h.connect(&mut s, [0, 0]);
        h.send(&mut s, &[b"\x01t"]).unwrap();
        h.send(&mut s, &[b"\x01t"]).unwrap();
        h.send(&mut s, &[b"\x00t"]).unwrap();
        assert_eq!(h.peer_recv(p).len(), 2, "the first cancel stays local");
        h.send(&mut s, &[b"\x00t"]).unwrap();
        assert_eq!(h.peer_recv(p), vec![parts(&[b"\x00t"])]);
    }
}
