//! RADIO (draft, thread-safe): publishes single-part messages to the DISHes that joined the
//! message's group (`zmq_msg_set_group`). DISHes tell their groups with JOIN and LEAVE
//! (messages with those flags on the pipe; commands on the wire, turned into such messages
//! by the engine). Never receives (ENOTSUP). Lossy by default: a DISH at its HWM misses the
//! message; with ZMQ_XPUB_NODROP a send waits (EAGAIN) until every DISH of the group has
//! room.

use std::collections::HashMap;

use super::pipes::Pipes;
use super::SocketType;
use crate::constants::ZMQ_XPUB_NODROP;
use crate::error::{Error, Result};
use crate::msg::{self, Msg};
use crate::routing::dist::Dist;

pub struct Radio {
    dist: Dist,
    /// Group -> the pipes that joined it.
    groups: HashMap<Vec<u8>, Vec<usize>>,
    /// Pipes that take every group (udp: a datagram socket has no JOIN).
    all_groups: Vec<usize>,
    lossy: bool,
}

impl Default for Radio {
    fn default() -> Self {
        Radio {
            dist: Dist::default(),
            groups: HashMap::new(),
            all_groups: Vec::new(),
            lossy: true,
        }
    }
}

impl Radio {
    fn forget(&mut self, idx: usize) {
        self.groups.retain(|_, pipes| {
            pipes.retain(|&p| p != idx);
            !pipes.is_empty()
        });
        self.all_groups.retain(|&p| p != idx);
    }
}

impl SocketType for Radio {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _li: bool) {
        // Nothing but JOIN and LEAVE is read here.
        let p = pipes.get(idx);
        p.set_nodelay();
        self.dist.attach(idx);
        if p.subscribe_all {
            self.all_groups.push(idx);
        } else {
            self.read_activated(pipes, idx);
        }
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if msg.more() {
            return Err(Error::Inval);
        }
        self.dist.unmatch();
        if let Some(joined) = self.groups.get(msg.group().to_bytes()) {
            for &p in joined {
                self.dist.match_pipe(p);
            }
        }
        for &p in &self.all_groups {
            self.dist.match_pipe(p);
        }
        if !self.lossy && !self.dist.check_hwm(pipes) {
            return Err(Error::Again);
        }
        self.dist.send_to_matching(pipes, msg)
    }
    fn recv(&mut self, _pipes: &mut Pipes, _msg: &mut Msg) -> Result<()> {
        Err(Error::NotSup)
    }
    fn has_in(&mut self, _pipes: &mut Pipes) -> bool {
        false
    }
    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        self.dist.has_out()
    }
    fn read_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        while let Some(m) = pipes.get(idx).read() {
            let group = m.group().to_bytes();
            if m.flags() & msg::JOIN != 0 {
                self.groups.entry(group.to_vec()).or_default().push(idx);
            } else if m.flags() & msg::LEAVE != 0 {
                if let Some(joined) = self.groups.get_mut(group) {
                    if let Some(i) = joined.iter().position(|&p| p == idx) {
                        joined.remove(i);
                    }
                    if joined.is_empty() {
                        self.groups.remove(group);
                    }
                }
            }
        }
    }
    fn write_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.dist.activated(idx);
    }
    fn terminated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.forget(idx);
        self.dist.terminated(idx);
    }
    fn setsockopt(&mut self, _pipes: &mut Pipes, id: i32, v: &[u8]) -> Option<Result<()>> {
        if id != ZMQ_XPUB_NODROP {
            return None;
        }
        // libzmq: an int >= 0; any other option of RADIO's own is EINVAL.
        Some(match <[u8; 4]>::try_from(v).map(i32::from_ne_bytes) {
            Ok(x) if x >= 0 => {
                self.lossy = x == 0;
                Ok(())
            }
            _ => Err(Error::Inval),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::Harness;

    fn in_group(data: &[u8], group: &[u8]) -> Msg {
        let mut m = Msg::from_slice(data).unwrap();
        m.set_group(group).unwrap();
        m
    }

    fn join(h: &mut Harness, s: &mut Radio, peer: usize, group: &[u8], join: bool) {
        let p = h.peer(peer);
        assert!(p.write_control(Msg::join_leave(join, group).unwrap()));
        p.flush();
        h.settle(s);
    }

    fn received(h: &mut Harness, peer: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        h.peer_recv_msgs(peer)
            .iter()
            .map(|m| (m.group().to_bytes().to_vec(), m.data().to_vec()))
            .collect()
    }

    #[test]
    fn a_message_goes_to_the_dishes_of_its_group_only() {
        let mut h = Harness::new();
        let mut s = Radio::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        join(&mut h, &mut s, a, b"tv", true);
        join(&mut h, &mut s, b, b"radio", true);
        s.send(&mut h.pipes, &mut in_group(b"news", b"tv")).unwrap();
        s.send(&mut h.pipes, &mut in_group(b"song", b"radio"))
            .unwrap();
        s.send(&mut h.pipes, &mut in_group(b"nobody", b"x"))
            .unwrap();
        assert_eq!(
            received(&mut h, a),
            vec![(b"tv".to_vec(), b"news".to_vec())]
        );
        assert_eq!(
            received(&mut h, b),
            vec![(b"radio".to_vec(), b"song".to_vec())]
        );
        join(&mut h, &mut s, a, b"tv", false);
        s.send(&mut h.pipes, &mut in_group(b"late", b"tv")).unwrap();
        assert!(received(&mut h, a).is_empty());
    }

    #[test]
    fn more_is_refused_and_nothing_is_received() {
        let mut h = Harness::new();
        let mut s = Radio::default();
        h.connect(&mut s, [0, 0]);
        let mut m = in_group(b"x", b"g");
        m.set_flags(msg::MORE);
        assert_eq!(s.send(&mut h.pipes, &mut m), Err(Error::Inval));
        assert_eq!(h.recv(&mut s), Err(Error::NotSup));
    }
}
