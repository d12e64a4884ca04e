//! XPUB: distributes messages to the subscribers whose subscriptions match the first part,
//! and passes subscription changes (and other upstream messages) up to the application.
//!
//! Subscriptions arrive from each pipe as messages whose first byte is 1 (subscribe) or 0
//! (unsubscribe), followed by the topic. Invariants:
//! - `subs` holds, per pipe slot, the topics that pipe gets (in manual mode the topics the
//!   application chose with ZMQ_SUBSCRIBE; `manual_subs` then keeps what the peers asked,
//!   to report unsubscriptions when a pipe goes away);
//! - `pending` holds what `recv` returns, in arrival order; an entry's `pipe` tells manual
//!   mode which pipe a later ZMQ_SUBSCRIBE applies to (`Some(None)`: none, the pipe left);
//!   no entry or `last_pipe` refers to a terminated slot;
//! - the pipes matching a message are chosen at its first part (`more_send` false) and
//!   kept for its remaining parts.
//!
//! PUB is this type with `is_pub`: subscriptions are applied but never queued for `recv`.

use std::collections::VecDeque;

use super::pipes::Pipes;
use super::SocketType;
use crate::constants::*;
use crate::error::{Error, Result};
use crate::msg::{self, Msg};
use crate::options::{int_of, OptVal};
use crate::routing::dist::Dist;
use crate::routing::mtrie::{Mtrie, RmResult};

struct Pending {
    data: Vec<u8>,
    more: bool,
    /// For manual mode: `Some(p)` sets the last pipe to `p` when received.
    pipe: Option<Option<usize>>,
}

/// See the module documentation.
pub struct XPub {
    is_pub: bool,
    dist: Dist,
    subs: Mtrie,
    manual_subs: Mtrie,
    verbose_subs: bool,
    verbose_unsubs: bool,
    lossy: bool,
    manual: bool,
    send_last_pipe: bool,
    only_first_subscribe: bool,
    invert: bool,
    welcome: Vec<u8>,
    more_send: bool,
    more_recv: bool,
    process_subscribe: bool,
    last_pipe: Option<usize>,
    pending: VecDeque<Pending>,
}

impl XPub {
    /// An XPUB (`is_pub` false) or the core of a PUB.
    pub fn new(is_pub: bool) -> XPub {
        XPub {
            is_pub,
            dist: Dist::default(),
            subs: Mtrie::default(),
            manual_subs: Mtrie::default(),
            verbose_subs: false,
            verbose_unsubs: false,
            lossy: true,
            manual: false,
            send_last_pipe: false,
            only_first_subscribe: false,
            invert: false,
            welcome: Vec::new(),
            more_send: false,
            more_recv: false,
            process_subscribe: false,
            last_pipe: None,
            pending: VecDeque::new(),
        }
    }

    /// Reads everything the pipe has: subscriptions and upstream messages.
    fn read_pipe(&mut self, pipes: &mut Pipes, idx: usize) {
        while let Some(m) = pipes.get(idx).read() {
            self.process_upstream(idx, &m);
        }
    }

    fn process_upstream(&mut self, idx: usize, m: &Msg) {
        let data = m.data();
        let first_part = !self.more_recv;
        self.more_recv = m.more();
        let sub = if first_part || self.process_subscribe {
            match data.first() {
                Some(&b) if b <= 1 => Some((b == 1, &data[1..])),
                _ => None,
            }
        } else {
            None
        };
        if first_part {
            self.process_subscribe = !self.only_first_subscribe || sub.is_some();
        }
        let Some((subscribe, topic)) = sub else {
            if !self.is_pub {
                self.pending.push_back(Pending {
                    data: data.to_vec(),
                    more: m.more(),
                    pipe: None,
                });
            }
            return;
        };
        let mut notify = false;
        if self.manual {
            if subscribe {
                self.manual_subs.add(topic, idx);
            } else {
                self.manual_subs.rm(topic, idx);
            }
        } else if subscribe {
            notify = self.subs.add(topic, idx) || self.verbose_subs;
        } else {
            notify = self.subs.rm(topic, idx) != RmResult::ValuesRemain || self.verbose_unsubs;
        }
        if self.manual || (!self.is_pub && notify) {
            let mut n = Vec::with_capacity(topic.len() + 1);
            n.push(subscribe as u8);
            n.extend_from_slice(topic);
            self.pending.push_back(Pending {
                data: n,
                more: false,
                pipe: self.manual.then_some(Some(idx)),
            });
        }
    }

    fn queue_unsubscription(
        pending: &mut VecDeque<Pending>,
        is_pub: bool,
        manual: bool,
        topic: &[u8],
    ) {
        if is_pub {
            return;
        }
        let mut n = Vec::with_capacity(topic.len() + 1);
        n.push(0);
        n.extend_from_slice(topic);
        pending.push_back(Pending {
            data: n,
            more: false,
            pipe: manual.then_some(None),
        });
    }
}

fn xpub_flag(v: &[u8]) -> Result<bool> {
    let x = int_of(v)?;
    if x < 0 {
        return Err(Error::Inval);
    }
    Ok(x != 0)
}

impl SocketType for XPub {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _li: bool) {
        self.dist.attach(idx);
        if !self.welcome.is_empty() {
            if let Ok(w) = Msg::from_slice(&self.welcome) {
                let p = pipes.get(idx);
                let _ = p.write(w);
                p.flush();
            }
        }
        self.read_pipe(pipes, idx);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let more = msg.more();
        if !self.more_send {
            self.dist.unmatch();
            let dist = &mut self.dist;
            match self.last_pipe {
                Some(last) if self.manual && self.send_last_pipe => {
                    self.subs.match_pipes(msg.data(), |p| {
                        if p == last {
                            dist.match_pipe(p)
                        }
                    });
                    self.last_pipe = None;
                }
                _ => self.subs.match_pipes(msg.data(), |p| dist.match_pipe(p)),
            }
            if self.invert {
                self.dist.reverse_match();
            }
        }
        if !self.lossy && !self.dist.check_hwm(pipes) {
            return Err(Error::Again);
        }
        self.dist.send_to_matching(pipes, msg)?;
        if !more {
            self.dist.unmatch();
        }
        self.more_send = more;
        Ok(())
    }

    fn recv(&mut self, _pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if self.is_pub {
            return Err(Error::NotSup);
        }
        let Some(p) = self.pending.pop_front() else {
            return Err(Error::Again);
        };
        if self.manual {
            if let Some(last) = p.pipe {
                self.last_pipe = last;
            }
        }
        let mut m = Msg::from_slice(&p.data)?;
        if p.more {
            m.set_flags(msg::MORE);
        }
        *msg = m;
        Ok(())
    }

    fn has_in(&mut self, _pipes: &mut Pipes) -> bool {
        !self.is_pub && !self.pending.is_empty()
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        self.dist.has_out()
    }

    fn read_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.read_pipe(pipes, idx);
    }

    fn write_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.dist.activated(idx);
    }

    fn terminated(&mut self, _pipes: &mut Pipes, idx: usize) {
        let (pending, is_pub, manual) = (&mut self.pending, self.is_pub, self.manual);
        if manual {
            self.manual_subs.rm_pipe(idx, false, |t| {
                XPub::queue_unsubscription(pending, is_pub, manual, t)
            });
            self.subs.rm_pipe(idx, false, |_| {});
            if self.last_pipe == Some(idx) {
                self.last_pipe = None;
            }
        } else {
            self.subs.rm_pipe(idx, !self.verbose_unsubs, |t| {
                XPub::queue_unsubscription(pending, is_pub, manual, t)
            });
        }
        for p in self.pending.iter_mut() {
            if p.pipe == Some(Some(idx)) {
                p.pipe = Some(None);
            }
        }
        self.dist.terminated(idx);
    }

    fn setsockopt(&mut self, _pipes: &mut Pipes, id: i32, v: &[u8]) -> Option<Result<()>> {
        let r = match id {
            ZMQ_XPUB_VERBOSE => xpub_flag(v).map(|on| {
                self.verbose_subs = on;
                self.verbose_unsubs = false;
            }),
            ZMQ_XPUB_VERBOSER => xpub_flag(v).map(|on| {
                self.verbose_subs = on;
                self.verbose_unsubs = on;
            }),
            ZMQ_XPUB_MANUAL_LAST_VALUE => xpub_flag(v).map(|on| {
                self.manual = on;
                self.send_last_pipe = on;
            }),
            ZMQ_XPUB_NODROP => xpub_flag(v).map(|on| self.lossy = !on),
            ZMQ_XPUB_MANUAL => xpub_flag(v).map(|on| self.manual = on),
            ZMQ_ONLY_FIRST_SUBSCRIBE => xpub_flag(v).map(|on| self.only_first_subscribe = on),
            ZMQ_SUBSCRIBE if self.manual => {
                if let Some(p) = self.last_pipe {
                    self.subs.add(v, p);
                }
                Ok(())
            }
            ZMQ_UNSUBSCRIBE if self.manual => {
                if let Some(p) = self.last_pipe {
                    self.subs.rm(v, p);
                }
                Ok(())
            }
            ZMQ_XPUB_WELCOME_MSG => {
                self.welcome = v.to_vec();
                Ok(())
            }
            ZMQ_INVERT_MATCHING => int_of(v).map(|x| self.invert = x != 0),
            _ => return None,
        };
        Some(r)
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

    fn on(s: &mut XPub, h: &mut Harness, id: i32) {
        assert_eq!(
            s.setsockopt(&mut h.pipes, id, &1i32.to_ne_bytes()),
            Some(Ok(()))
        );
    }

    /// Peer `p` sends a subscription (`sub`) or cancel for `topic`.
    fn subscribe(h: &mut Harness, s: &mut XPub, p: usize, sub: bool, topic: &[u8]) {
        let mut m = vec![sub as u8];
        m.extend_from_slice(topic);
        assert!(h.peer_send(p, &[&m]));
        h.settle(s);
    }

    /// Everything the application can receive now, one entry per message.
    fn upstream(h: &mut Harness, s: &mut XPub) -> Vec<Vec<Vec<u8>>> {
        std::iter::from_fn(|| h.recv(s).ok()).collect()
    }

    #[test]
    fn a_new_subscription_is_passed_up_once() {
        let mut h = Harness::new();
        let mut s = XPub::new(false);
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        subscribe(&mut h, &mut s, a, true, b"t");
        subscribe(&mut h, &mut s, b, true, b"t");
        assert_eq!(upstream(&mut h, &mut s), vec![parts(&[b"\x01t"])]);
    }

    #[test]
    fn with_xpub_verbose_every_subscription_is_passed_up() {
        let mut h = Harness::new();
        let mut s = XPub::new(false);
        on(&mut s, &mut h, ZMQ_XPUB_VERBOSE);
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        subscribe(&mut h, &mut s, a, true, b"t");
        subscribe(&mut h, &mut s, b, true, b"t");
        assert_eq!(
            upstream(&mut h, &mut s),
            vec![parts(&[b"\x01t"]), parts(&[b"\x01t"])]
        );
    }

    #[test]
    fn an_unsubscription_is_passed_up_when_the_last_subscriber_cancels() {
        let mut h = Harness::new();
        let mut s = XPub::new(false);
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        subscribe(&mut h, &mut s, a, true, b"t");
        subscribe(&mut h, &mut s, b, true, b"t");
        subscribe(&mut h, &mut s, a, false, b"t");
        assert_eq!(upstream(&mut h, &mut s), vec![parts(&[b"\x01t"])]);
        subscribe(&mut h, &mut s, b, false, b"t");
        assert_eq!(upstream(&mut h, &mut s), vec![parts(&[b"\x00t"])]);
    }

    #[test]
    fn a_subscriber_that_leaves_has_its_topics_unsubscribed() {
        let mut h = Harness::new();
        let mut s = XPub::new(false);
        let p = h.connect(&mut s, [0, 0]);
        subscribe(&mut h, &mut s, p, true, b"t");
        assert_eq!(upstream(&mut h, &mut s).len(), 1);
        h.peer_close(&mut s, p);
        assert!(h.is_gone(p));
        assert_eq!(upstream(&mut h, &mut s), vec![parts(&[b"\x00t"])]);
    }

    #[test]
    fn other_messages_from_subscribers_are_passed_up_as_they_are() {
        let mut h = Harness::new();
        let mut s = XPub::new(false);
        let p = h.connect(&mut s, [0, 0]);
        assert!(h.peer_send(p, &[b"hello", b"\x01not a subscription"]));
        h.settle(&mut s);
        assert_eq!(
            upstream(&mut h, &mut s),
            vec![parts(&[b"hello", b"\x01not a subscription"])]
        );
    }

    #[test]
    fn messages_go_to_matching_subscribers_only() {
        let mut h = Harness::new();
        let mut s = XPub::new(false);
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        subscribe(&mut h, &mut s, a, true, b"a");
        subscribe(&mut h, &mut s, b, true, b"b");
        h.send(&mut s, &[b"apple", b"+"]).unwrap();
        h.send(&mut s, &[b"banana"]).unwrap();
        assert_eq!(h.peer_recv(a), vec![parts(&[b"apple", b"+"])]);
        assert_eq!(h.peer_recv(b), vec![parts(&[b"banana"])]);
    }

    #[test]
    fn the_welcome_message_greets_each_new_subscriber() {
        let mut h = Harness::new();
        let mut s = XPub::new(false);
        assert_eq!(
            s.setsockopt(&mut h.pipes, ZMQ_XPUB_WELCOME_MSG, b"welcome"),
            Some(Ok(()))
        );
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        assert_eq!(h.peer_recv(a), vec![parts(&[b"welcome"])]);
        assert_eq!(h.peer_recv(b), vec![parts(&[b"welcome"])]);
    }

    #[test]
    fn in_manual_mode_the_application_decides_what_a_subscriber_gets() {
        let mut h = Harness::new();
        let mut s = XPub::new(false);
        on(&mut s, &mut h, ZMQ_XPUB_MANUAL);
        let p = h.connect(&mut s, [0, 0]);
        subscribe(&mut h, &mut s, p, true, b"asked");
        assert_eq!(upstream(&mut h, &mut s), vec![parts(&[b"\x01asked"])]);
        // The subscription applies to the pipe the last one came from.
        assert_eq!(
            s.setsockopt(&mut h.pipes, ZMQ_SUBSCRIBE, b"granted"),
            Some(Ok(()))
        );
        h.send(&mut s, &[b"asked for"]).unwrap();
        h.send(&mut s, &[b"granted topic"]).unwrap();
        assert_eq!(h.peer_recv(p), vec![parts(&[b"granted topic"])]);
    }

    #[test]
    fn with_xpub_nodrop_a_subscriber_at_its_hwm_makes_send_eagain() {
        let mut h = Harness::new();
        let mut s = XPub::new(false);
        on(&mut s, &mut h, ZMQ_XPUB_NODROP);
        let p = h.connect(&mut s, [1, 0]);
        subscribe(&mut h, &mut s, p, true, b"");
        h.send(&mut s, &[b"1"]).unwrap();
        assert_eq!(h.send(&mut s, &[b"2"]), Err(Error::Again));
        assert_eq!(h.peer_recv(p), vec![parts(&[b"1"])]);
        h.send(&mut s, &[b"2"]).unwrap();
    }

    #[test]
    fn a_topic_is_unsubscribed_only_when_its_last_subscriber_leaves() {
        let mut h = Harness::new();
        let mut s = XPub::new(false);
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        subscribe(&mut h, &mut s, a, true, b"t");
        subscribe(&mut h, &mut s, b, true, b"t");
        subscribe(&mut h, &mut s, a, true, b"only a");
        assert_eq!(upstream(&mut h, &mut s).len(), 2);
        h.peer_close(&mut s, a);
        assert!(h.is_gone(a));
        assert_eq!(upstream(&mut h, &mut s), vec![parts(&[b"\x00only a"])]);
        h.send(&mut s, &[b"t"]).unwrap();
        assert_eq!(h.peer_recv(b), vec![parts(&[b"t"])]);
    }

    #[test]
    fn with_xpub_verboser_every_unsubscription_is_passed_up_too() {
        let mut h = Harness::new();
        let mut s = XPub::new(false);
        on(&mut s, &mut h, ZMQ_XPUB_VERBOSER);
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        subscribe(&mut h, &mut s, a, true, b"t");
        subscribe(&mut h, &mut s, b, true, b"t");
        subscribe(&mut h, &mut s, a, false, b"t");
        subscribe(&mut h, &mut s, b, false, b"t");
        assert_eq!(
            upstream(&mut h, &mut s),
            vec![
                parts(&[b"\x01t"]),
                parts(&[b"\x01t"]),
                parts(&[b"\x00t"]),
                parts(&[b"\x00t"])
            ]
        );
    }

    #[test]
    fn a_multipart_message_goes_whole_to_the_subscribers_its_first_part_matches() {
        let mut h = Harness::new();
        let mut s = XPub::new(false);
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        subscribe(&mut h, &mut s, a, true, b"a");
        subscribe(&mut h, &mut s, b, true, b"b");
        // The second part would match b: only the first part counts.
        h.send(&mut s, &[b"a-topic", b"b-looking body"]).unwrap();
        assert_eq!(
            h.peer_recv(a),
            vec![parts(&[b"a-topic", b"b-looking body"])]
        );
        assert!(h.peer_recv(b).is_empty());
    }
}
