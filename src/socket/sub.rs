//! SUB: an XSUB that filters incoming messages by its subscriptions, set with the
//! ZMQ_SUBSCRIBE / ZMQ_UNSUBSCRIBE options (turned into 1/0-prefixed messages sent
//! upstream); it cannot send (ENOTSUP).

use super::pipes::Pipes;
use super::xsub::XSub;
use super::SocketType;
use crate::constants::*;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::{int_of, OptVal};

pub struct Sub {
    inner: XSub,
}

impl Default for Sub {
    fn default() -> Sub {
        let mut inner = XSub::default();
        inner.filter = true;
        Sub { inner }
    }
}

impl SocketType for Sub {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, li: bool) {
        self.inner.attach(pipes, idx, li);
    }
    fn send(&mut self, _pipes: &mut Pipes, _msg: &mut Msg) -> Result<()> {
        Err(Error::NotSup)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.inner.recv(pipes, msg)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.inner.has_in(pipes)
    }
    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        false
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
    fn hiccuped(&mut self, pipes: &mut Pipes, idx: usize) {
        self.inner.hiccuped(pipes, idx);
    }
    fn setsockopt(&mut self, pipes: &mut Pipes, id: i32, v: &[u8]) -> Option<Result<()>> {
        let prefix = match id {
            ZMQ_SUBSCRIBE => 1u8,
            ZMQ_UNSUBSCRIBE => 0u8,
            // The XSUB options are not SUB's; the common table answers the rest.
            ZMQ_INVERT_MATCHING => {
                return Some(int_of(v).map(|x| self.inner.invert = x != 0));
            }
            _ => return None,
        };
        let mut data = Vec::with_capacity(v.len() + 1);
        data.push(prefix);
        data.extend_from_slice(v);
        Some(Msg::from_slice(&data).and_then(|mut m| self.inner.send(pipes, &mut m)))
    }
    fn getsockopt(&self, id: i32) -> Option<Result<OptVal>> {
        self.inner.getsockopt(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    fn set(h: &mut Harness, s: &mut Sub, id: i32, topic: &[u8]) {
        assert_eq!(s.setsockopt(&mut h.pipes, id, topic), Some(Ok(())));
    }

    #[test]
    fn subscribing_sends_the_subscription_to_every_publisher() {
        let mut h = Harness::new();
        let mut s = Sub::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        set(&mut h, &mut s, ZMQ_SUBSCRIBE, b"news");
        assert_eq!(h.peer_recv(a), vec![parts(&[b"\x01news"])]);
        assert_eq!(h.peer_recv(b), vec![parts(&[b"\x01news"])]);
    }

    #[test]
    fn only_messages_whose_first_part_starts_with_a_subscribed_topic_are_received() {
        let mut h = Harness::new();
        let mut s = Sub::default();
        let p = h.connect(&mut s, [0, 0]);
        set(&mut h, &mut s, ZMQ_SUBSCRIBE, b"ab");
        assert!(h.peer_send(p, &[b"abc", b"body"]));
        assert!(h.peer_send(p, &[b"xyz", b"ab is not the first part"]));
        assert!(h.peer_send(p, &[b"a"]));
        assert!(h.peer_send(p, &[b"ab"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"abc", b"body"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"ab"]));
        assert_eq!(h.recv(&mut s), Err(Error::Again));
    }

    #[test]
    fn without_subscriptions_nothing_is_received() {
        let mut h = Harness::new();
        let mut s = Sub::default();
        let p = h.connect(&mut s, [0, 0]);
        assert!(h.peer_send(p, &[b"anything"]));
        h.settle(&mut s);
        assert!(!s.has_in(&mut h.pipes));
        assert_eq!(h.recv(&mut s), Err(Error::Again));
    }

    #[test]
    fn the_empty_topic_subscribes_to_everything() {
        let mut h = Harness::new();
        let mut s = Sub::default();
        let p = h.connect(&mut s, [0, 0]);
        set(&mut h, &mut s, ZMQ_SUBSCRIBE, b"");
        assert!(h.peer_send(p, &[b"x"]));
        assert!(h.peer_send(p, &[b""]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"x"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b""]));
    }

    #[test]
    fn a_publisher_connecting_later_gets_the_current_subscriptions() {
        let mut h = Harness::new();
        let mut s = Sub::default();
        set(&mut h, &mut s, ZMQ_SUBSCRIBE, b"a");
        set(&mut h, &mut s, ZMQ_SUBSCRIBE, b"b");
        set(&mut h, &mut s, ZMQ_UNSUBSCRIBE, b"a");
        let p = h.connect(&mut s, [0, 0]);
        assert_eq!(h.peer_recv(p), vec![parts(&[b"\x01b"])]);
    }

    #[test]
    fn an_unsubscription_goes_upstream_when_its_last_reference_is_removed() {
        let mut h = Harness::new();
        let mut s = Sub::default();
        let p = h.connect(&mut s, [0, 0]);
        set(&mut h, &mut s, ZMQ_SUBSCRIBE, b"t");
        set(&mut h, &mut s, ZMQ_SUBSCRIBE, b"t");
        set(&mut h, &mut s, ZMQ_UNSUBSCRIBE, b"t");
        assert!(h.peer_send(p, &[b"t1"]));
        assert_eq!(
            h.recv(&mut s).unwrap(),
            parts(&[b"t1"]),
            "still subscribed once"
        );
        set(&mut h, &mut s, ZMQ_UNSUBSCRIBE, b"t");
        assert!(h.peer_send(p, &[b"t2"]));
        assert_eq!(h.recv(&mut s), Err(Error::Again));
        let got = h.peer_recv(p);
        assert_eq!(
            got,
            vec![parts(&[b"\x01t"]), parts(&[b"\x01t"]), parts(&[b"\x00t"])]
        );
    }

    #[test]
    fn with_invert_matching_only_messages_matching_no_subscription_are_received() {
        let mut h = Harness::new();
        let mut s = Sub::default();
        let p = h.connect(&mut s, [0, 0]);
        set(&mut h, &mut s, ZMQ_INVERT_MATCHING, &1i32.to_ne_bytes());
        set(&mut h, &mut s, ZMQ_SUBSCRIBE, b"skip");
        assert!(h.peer_send(p, &[b"skip me"]));
        assert!(h.peer_send(p, &[b"keep me"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"keep me"]));
        assert_eq!(h.recv(&mut s), Err(Error::Again));
    }

    #[test]
    fn send_is_not_supported() {
        let mut h = Harness::new();
        let mut s = Sub::default();
        h.connect(&mut s, [0, 0]);
        assert_eq!(h.send(&mut s, &[b"\x01x"]), Err(Error::NotSup));
        assert!(!s.has_out(&mut h.pipes));
    }

    #[test]
    fn has_in_skips_unwanted_messages_and_keeps_the_wanted_one_whole() {
        let mut h = Harness::new();
        let mut s = Sub::default();
        let p = h.connect(&mut s, [0, 0]);
        set(&mut h, &mut s, ZMQ_SUBSCRIBE, b"yes");
        assert!(h.peer_send(p, &[b"no", b"no+"]));
        assert!(h.peer_send(p, &[b"yes", b"yes+"]));
        h.settle(&mut s);
        assert!(s.has_in(&mut h.pipes));
        assert!(s.has_in(&mut h.pipes));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"yes", b"yes+"]));
        assert!(!s.has_in(&mut h.pipes));
    }
}
