//! SERVER (draft, thread-safe): talks to CLIENTs. Each connected peer gets a routing id of
//! 32 bits, never 0, which every message received from it carries (`zmq_msg_routing_id`);
//! a message sent goes to the peer its routing id names (EHOSTUNREACH when none, EAGAIN
//! while that peer's pipe is full). Single-part messages only, as CLIENT.
//!
//! PEER (draft, thread-safe) is the same strategy: PEERs talk to PEERs, and
//! `zmq_connect_peer` tells the routing id of the connection it makes.

use std::collections::HashMap;

use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::routing::fq::Fq;

pub struct Server {
    fq: Fq,
    /// Routing id -> pipe slot.
    out: HashMap<u32, usize>,
    /// Pipe slot -> routing id.
    ids: HashMap<usize, u32>,
    next_id: u32,
    /// The routing id of the pipe attached last.
    last_id: u32,
}

impl Default for Server {
    fn default() -> Self {
        // libzmq starts from a random number, so that ids are not reused across restarts.
        let mut b = [0u8; 4];
        let _ = getrandom::getrandom(&mut b);
        Server {
            fq: Fq::default(),
            out: HashMap::new(),
            ids: HashMap::new(),
            next_id: u32::from_ne_bytes(b),
            last_id: 0,
        }
    }
}

impl Server {
    /// The strategy of PEER.
    pub fn peer() -> Server {
        Server::default()
    }

    fn new_id(&mut self) -> u32 {
        loop {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            if id != 0 && !self.out.contains_key(&id) {
                return id;
            }
        }
    }
}

impl SocketType for Server {
    fn attach(&mut self, _pipes: &mut Pipes, idx: usize, _li: bool) {
        let id = self.new_id();
        self.out.insert(id, idx);
        self.ids.insert(idx, id);
        self.last_id = id;
        self.fq.attach(idx);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if msg.more() {
            return Err(Error::Inval);
        }
        let Some(&idx) = self.out.get(&msg.routing_id()) else {
            return Err(Error::HostUnreach);
        };
        let p = pipes.get(idx);
        if !p.check_write() {
            return Err(Error::Again);
        }
        let mut m = msg.take();
        m.reset_routing_id();
        if p.write(m).is_ok() {
            p.flush();
        }
        Ok(())
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let idx = self.fq.recv_single(pipes, msg)?;
        if let Some(&id) = self.ids.get(&idx) {
            // Never 0 (see new_id).
            let _ = msg.set_routing_id(id);
        }
        Ok(())
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.fq.has_in(pipes)
    }
    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        // Whether a send succeeds depends on the peer it names; libzmq says always.
        true
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.fq.activated(idx);
    }
    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}
    fn last_routing_id(&self) -> u32 {
        self.last_id
    }
    fn terminated(&mut self, _pipes: &mut Pipes, idx: usize) {
        if let Some(id) = self.ids.remove(&idx) {
            self.out.remove(&id);
        }
        self.fq.terminated(idx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{part, parts, Harness};

    #[test]
    fn replies_go_to_the_peer_the_routing_id_names() {
        let mut h = Harness::new();
        let mut s = Server::default();
        let a = h.connect(&mut s, [0, 0]);
        let b = h.connect(&mut s, [0, 0]);
        assert!(h.peer_send(b, &[b"from b"]));
        assert!(h.peer_send(a, &[b"from a"]));
        let mut ids = HashMap::new();
        for _ in 0..2 {
            h.settle(&mut s);
            let mut m = Msg::new();
            s.recv(&mut h.pipes, &mut m).unwrap();
            assert_ne!(m.routing_id(), 0);
            ids.insert(m.data().to_vec(), m.routing_id());
        }
        assert_ne!(ids[&b"from a"[..]], ids[&b"from b"[..]]);
        let mut reply = part(b"to a", false);
        reply.set_routing_id(ids[&b"from a"[..]]).unwrap();
        s.send(&mut h.pipes, &mut reply).unwrap();
        assert_eq!(h.peer_recv(a), vec![parts(&[b"to a"])]);
        assert!(h.peer_recv(b).is_empty());
    }

    #[test]
    fn an_unknown_routing_id_is_unreachable_and_more_is_refused() {
        let mut h = Harness::new();
        let mut s = Server::default();
        let a = h.connect(&mut s, [0, 0]);
        assert!(h.peer_send(a, &[b"hi"]));
        h.settle(&mut s);
        let mut m = Msg::new();
        s.recv(&mut h.pipes, &mut m).unwrap();
        let other = m.routing_id().wrapping_add(1).max(1);
        let mut m = part(b"x", false);
        assert_eq!(s.send(&mut h.pipes, &mut m), Err(Error::HostUnreach));
        m.set_routing_id(other).unwrap();
        assert_eq!(s.send(&mut h.pipes, &mut m), Err(Error::HostUnreach));
        assert!(h.peer_recv(a).is_empty());
        let mut m = part(b"x", true);
        assert_eq!(s.send(&mut h.pipes, &mut m), Err(Error::Inval));
    }

    #[test]
    fn a_full_peer_is_eagain_and_its_message_kept() {
        let mut h = Harness::new();
        let mut s = Server::default();
        let a = h.connect(&mut s, [1, 0]);
        assert!(h.peer_send(a, &[b"hi"]));
        h.settle(&mut s);
        let mut m = Msg::new();
        s.recv(&mut h.pipes, &mut m).unwrap();
        let id = m.routing_id();
        let mut first = part(b"1", false);
        first.set_routing_id(id).unwrap();
        s.send(&mut h.pipes, &mut first).unwrap();
        let mut second = part(b"2", false);
        second.set_routing_id(id).unwrap();
        assert_eq!(s.send(&mut h.pipes, &mut second), Err(Error::Again));
        assert_eq!(second.data(), b"2");
    }
}
