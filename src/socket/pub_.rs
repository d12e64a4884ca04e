//! PUB: an XPUB that applies its subscribers' subscriptions but never hands them to the
//! application; it cannot receive (ENOTSUP). Messages for a subscriber at HWM are dropped
//! (unless ZMQ_XPUB_NODROP, which PUB accepts like libzmq).

use super::pipes::Pipes;
use super::xpub::XPub;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::OptVal;

pub struct Pub {
    inner: XPub,
}

impl Default for Pub {
    fn default() -> Pub {
        Pub {
            inner: XPub::new(true),
        }
    }
}

impl SocketType for Pub {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, li: bool) {
        self.inner.attach(pipes, idx, li);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.inner.send(pipes, msg)
    }
    fn recv(&mut self, _pipes: &mut Pipes, _msg: &mut Msg) -> Result<()> {
        Err(Error::NotSup)
    }
    fn has_in(&mut self, _pipes: &mut Pipes) -> bool {
        false
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.inner.has_out(pipes)
    }
    fn read_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.inner.read_activated(pipes, idx);
    }
    fn write_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.inner.write_activated(pipes, idx);
    }
    fn terminated(&mut self, pipes: &mut Pipes, idx: usize) {
        self.inner.terminated(pipes, idx);
    }
    fn setsockopt(&mut self, pipes: &mut Pipes, id: i32, v: &[u8]) -> Option<Result<()>> {
        self.inner.setsockopt(pipes, id, v)
    }
    fn getsockopt(&self, id: i32) -> Option<Result<OptVal>> {
        self.inner.getsockopt(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::ZMQ_XPUB_NODROP;
    use crate::socket::pipes::harness::{parts, Harness};

    /// A subscriber with the given subscriptions (sent as SUB's session does: 1 + topic).
    fn subscriber(h: &mut Harness, s: &mut Pub, topics: &[&[u8]], hwm: u64) -> usize {
        let p = h.connect(s, [hwm, 0]);
        for t in topics {
            let mut m = vec![1u8];
            m.extend_from_slice(t);
            assert!(h.peer_send(p, &[&m]));
        }
        h.settle(s);
        p
    }

    #[test]
    fn a_message_reaches_the_subscribers_whose_topic_prefixes_it() {
        let mut h = Harness::new();
        let mut s = Pub::default();
        let weather = subscriber(&mut h, &mut s, &[b"weather"], 0);
        let all = subscriber(&mut h, &mut s, &[b""], 0);
        let none = subscriber(&mut h, &mut s, &[], 0);
        h.send(&mut s, &[b"weather.paris", b"sunny"]).unwrap();
        h.send(&mut s, &[b"news"]).unwrap();
        assert_eq!(
            h.peer_recv(weather),
            vec![parts(&[b"weather.paris", b"sunny"])]
        );
        assert_eq!(h.peer_recv(all).len(), 2);
        assert!(h.peer_recv(none).is_empty());
    }

    #[test]
    fn a_message_matching_several_subscriptions_is_delivered_once() {
        let mut h = Harness::new();
        let mut s = Pub::default();
        let p = subscriber(&mut h, &mut s, &[b"a", b"ab", b""], 0);
        h.send(&mut s, &[b"abc"]).unwrap();
        assert_eq!(h.peer_recv(p), vec![parts(&[b"abc"])]);
    }

    #[test]
    fn an_unsubscribed_topic_is_no_longer_delivered() {
        let mut h = Harness::new();
        let mut s = Pub::default();
        let p = subscriber(&mut h, &mut s, &[b"t"], 0);
        assert!(h.peer_send(p, &[b"\x00t"]));
        h.settle(&mut s);
        h.send(&mut s, &[b"topic"]).unwrap();
        assert!(h.peer_recv(p).is_empty());
    }

    #[test]
    fn a_subscriber_at_its_hwm_misses_messages_and_the_publisher_goes_on() {
        let mut h = Harness::new();
        let mut s = Pub::default();
        let slow = subscriber(&mut h, &mut s, &[b""], 1);
        let fast = subscriber(&mut h, &mut s, &[b""], 0);
        for m in [&b"1"[..], b"2", b"3"] {
            h.send(&mut s, &[m]).unwrap();
        }
        assert_eq!(h.peer_recv(slow), vec![parts(&[b"1"])]);
        assert_eq!(h.peer_recv(fast).len(), 3);
        // Having read, the slow one gets messages again.
        h.send(&mut s, &[b"4"]).unwrap();
        assert_eq!(h.peer_recv(slow), vec![parts(&[b"4"])]);
    }

    #[test]
    fn with_xpub_nodrop_a_subscriber_at_its_hwm_makes_send_eagain() {
        let mut h = Harness::new();
        let mut s = Pub::default();
        let on = 1i32.to_ne_bytes();
        assert_eq!(
            s.setsockopt(&mut h.pipes, ZMQ_XPUB_NODROP, &on),
            Some(Ok(()))
        );
        let p = subscriber(&mut h, &mut s, &[b""], 1);
        h.send(&mut s, &[b"1"]).unwrap();
        assert_eq!(h.send(&mut s, &[b"2"]), Err(Error::Again));
        h.peer_recv(p);
        h.send(&mut s, &[b"2"]).unwrap();
        assert_eq!(h.peer_recv(p), vec![parts(&[b"2"])]);
    }

    #[test]
    fn recv_is_not_supported_and_subscriptions_are_not_passed_up() {
        let mut h = Harness::new();
        let mut s = Pub::default();
        subscriber(&mut h, &mut s, &[b"a"], 0);
        assert!(!s.has_in(&mut h.pipes));
        assert_eq!(h.recv(&mut s), Err(Error::NotSup));
    }

    #[test]
    fn a_subscriber_that_leaves_gets_nothing_more_and_the_others_still_do() {
        let mut h = Harness::new();
        let mut s = Pub::default();
        let gone = subscriber(&mut h, &mut s, &[b""], 0);
        let stays = subscriber(&mut h, &mut s, &[b""], 0);
        h.peer_close(&mut s, gone);
        assert!(h.is_gone(gone));
        h.send(&mut s, &[b"x"]).unwrap();
        assert_eq!(h.peer_recv(stays), vec![parts(&[b"x"])]);
    }
}
