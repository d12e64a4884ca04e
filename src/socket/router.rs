//! ROUTER: every peer has a routing id; received messages are prefixed with the id of the
//! peer they came from, and the first part of a sent message names the peer to send to.
//!
//! Invariants:
//! - every attached pipe is in exactly one of: `anonymous` (its routing id message has not
//!   arrived yet), `ignored` (its id was taken and ROUTER_HANDOVER is off: what it delivers
//!   is discarded), or
//!   identified (in `fq` and in `out` under `Pipe::routing_id`);
//! - `out` maps each routing id to one identified pipe, and that pipe's `routing_id` is the
//!   key;
//! - `prefetched` holds one message part (and its id part, sent first unless
//!   `routing_id_sent`) read ahead by `has_in`, from `current_in`;
//! - `more_out` is set between the routing id part of an outgoing message and its last part;
//!   `current_out` is the destination (None: the parts are dropped).
//!
//! Messages flagged `msg::ROUTING_ID` (a peer's announcement read after the pipe was named
//! locally, e.g. with ZMQ_CONNECT_ROUTING_ID) are never delivered.
//!
//! ZMQ_ROUTER_RAW (before the first peer): from then on every call goes to `raw`, STREAM's
//! strategy with ROUTER's drop rule ([`Stream::router_raw`]); the socket marks its options
//! raw, so its connections run the raw engine.

use std::collections::HashMap;

use super::pipes::Pipes;
use super::stream::Stream;
use super::SocketType;
use crate::constants::*;
use crate::error::{Error, Result};
use crate::msg::{self, Msg};
use crate::options::{int_of, OptVal};
use crate::routing::fq::Fq;

/// Decodes a boolean socket-type option as libzmq does: an `int`, >= 0, non-zero is true.
pub(super) fn flag_of(v: &[u8]) -> Result<bool> {
    match int_of(v)? {
        n if n >= 0 => Ok(n != 0),
        _ => Err(Error::Inval),
    }
}

/// A random 32-bit value, without unsafe code or extra crates.
pub(super) fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish() as u32
}

/// A fresh 5-byte routing id, as libzmq makes them: a zero byte, then the 32-bit counter
/// `next` (big-endian), which advances; ids for which `taken` holds are skipped.
pub(super) fn generate_id(next: &mut u32, taken: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    loop {
        let n = *next;
        *next = next.wrapping_add(1);
        let mut id = vec![0u8];
        id.extend_from_slice(&n.to_be_bytes());
        if !taken(&id) {
            return id;
        }
    }
}

/// What identifying a new pipe gave.
enum Ident {
    /// The pipe has a routing id and takes part in routing.
    Done,
    /// Its routing id message has not arrived yet.
    Pending,
    /// Its id is in use and handover is off: the pipe is ignored.
    Rejected,
}

pub struct Router {
    fq: Fq,
    out: HashMap<Vec<u8>, usize>,
    anonymous: Vec<usize>,
    ignored: Vec<usize>,
    next_id: u32,
    prefetched: bool,
    routing_id_sent: bool,
    prefetched_id: Msg,
    prefetched_msg: Msg,
    more_in: bool,
    current_in: Option<usize>,
    terminate_current_in: bool,
    more_out: bool,
    current_out: Option<usize>,
    mandatory: bool,
    handover: bool,
    probe: bool,
    /// ZMQ_ROUTER_RAW: the raw strategy every call goes to (see `super::stream`).
    raw: Option<Box<Stream>>,
}

impl Default for Router {
    fn default() -> Self {
        Router {
            fq: Fq::default(),
            out: HashMap::new(),
            anonymous: Vec::new(),
            ignored: Vec::new(),
            next_id: random_u32(),
            prefetched: false,
            routing_id_sent: false,
            prefetched_id: Msg::new(),
            prefetched_msg: Msg::new(),
            more_in: false,
            current_in: None,
            terminate_current_in: false,
            more_out: false,
            current_out: None,
            mandatory: false,
            handover: false,
            probe: false,
            raw: None,
        }
    }
}

impl Router {
    /// A fresh routing id no peer has (see [`generate_id`]).
    fn generate_id(&mut self) -> Vec<u8> {
        generate_id(&mut self.next_id, |id| self.out.contains_key(id))
    }

    /// Names the pipe in `idx` (see `Ident`): with the id its connect chose, unless that is
    /// in use, else with the id the peer announces (or a generated one if that is empty).
    fn identify(&mut self, pipes: &mut Pipes, idx: usize) -> Ident {
        let preset = Some(std::mem::take(&mut pipes.get(idx).routing_id))
            .filter(|id| !id.is_empty() && !self.out.contains_key(id));
        let id = match preset {
            Some(id) => id,
            None => {
                let Some(m) = pipes.get(idx).read() else {
                    return Ident::Pending;
                };
                if m.size() == 0 {
                    self.generate_id()
                } else {
                    let id = m.data().to_vec();
                    if let Some(&old) = self.out.get(&id) {
                        if !self.handover {
                            return Ident::Rejected;
                        }
                        // The new peer takes the id; the old pipe gets a temporary one and ends.
                        let tmp = self.generate_id();
                        self.out.remove(&id);
                        pipes.get(old).routing_id = tmp.clone();
                        self.out.insert(tmp, old);
                        if self.current_in == Some(old) {
                            self.terminate_current_in = true;
                        } else {
                            pipes.get(old).terminate(true);
                        }
                    }
                    id
                }
            }
        };
        pipes.get(idx).routing_id = id.clone();
        self.out.insert(id, idx);
        Ident::Done
    }

    fn place(&mut self, pipes: &mut Pipes, idx: usize, ident: Ident) {
        match ident {
            Ident::Done => self.fq.attach(idx),
            Ident::Pending => self.anonymous.push(idx),
            Ident::Rejected => {
                self.ignored.push(idx);
                Self::drain(pipes, idx);
            }
        }
    }

    /// Discards what an ignored pipe delivers, so that its termination (the delimiter
    /// behind the messages) still completes.
    fn drain(pipes: &mut Pipes, idx: usize) {
        while pipes.get(idx).read().is_some() {}
    }

    /// Receives one part from the fair queue, skipping routing id announcements.
    fn fq_recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<usize> {
        loop {
            let idx = self.fq.recv_pipe(pipes, msg)?;
            if msg.flags() & msg::ROUTING_ID == 0 {
                return Ok(idx);
            }
        }
    }

    fn routing_id_msg(pipes: &mut Pipes, idx: usize) -> Result<Msg> {
        let mut id = Msg::from_slice(&pipes.get(idx).routing_id)?;
        id.set_flags(msg::MORE);
        Ok(id)
    }

    /// The last part of an incoming message was delivered.
    fn finish_in(&mut self, pipes: &mut Pipes) {
        if let Some(idx) = self.current_in.take() {
            if std::mem::take(&mut self.terminate_current_in) {
                pipes.get(idx).terminate(true);
            }
        }
    }
}

impl SocketType for Router {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _locally_initiated: bool) {
        if let Some(raw) = self.raw.as_mut() {
            return raw.attach(pipes, idx, _locally_initiated);
        }
        if self.probe {
            let p = pipes.get(idx);
            p.write_unchecked(Msg::new());
            p.flush();
        }
        let ident = self.identify(pipes, idx);
        self.place(pipes, idx, ident);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if let Some(raw) = self.raw.as_mut() {
            return raw.send(pipes, msg);
        }
        if !self.more_out {
            // The routing id part. Without MORE it is a message of its own: dropped.
            if msg.more() {
                self.current_out = None;
                match self.out.get(msg.data()).copied() {
                    Some(idx) => {
                        let p = pipes.get(idx);
                        if p.check_write() {
                            self.current_out = Some(idx);
                        } else if self.mandatory {
                            return Err(if p.is_terminating() {
                                Error::HostUnreach
                            } else {
                                Error::Again
                            });
                        }
                    }
                    None if self.mandatory => return Err(Error::HostUnreach),
                    None => {}
                }
                self.more_out = true;
            }
            msg.clear();
            return Ok(());
        }
        self.more_out = msg.more();
        match self.current_out {
            Some(idx) => {
                let p = pipes.get(idx);
                match p.write(msg.take()) {
                    Ok(()) => {
                        if !self.more_out {
                            p.flush();
                            self.current_out = None;
                        }
                    }
                    Err(_) => {
                        p.rollback();
                        self.current_out = None;
                    }
                }
            }
            None => msg.clear(),
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if let Some(raw) = self.raw.as_mut() {
            return raw.recv(pipes, msg);
        }
        if self.prefetched {
            if !self.routing_id_sent {
                *msg = self.prefetched_id.take();
                self.routing_id_sent = true;
            } else {
                *msg = self.prefetched_msg.take();
                self.prefetched = false;
            }
            self.more_in = msg.more();
            if !self.more_in {
                self.finish_in(pipes);
            }
            return Ok(());
        }
        let idx = self.fq_recv(pipes, msg)?;
        if self.more_in {
            self.more_in = msg.more();
            if !self.more_in {
                self.finish_in(pipes);
            }
            return Ok(());
        }
        // The first part: deliver the routing id first, this part next.
        let id = Self::routing_id_msg(pipes, idx)?;
        self.prefetched_msg = std::mem::replace(msg, id);
        self.prefetched = true;
        self.routing_id_sent = true;
        self.current_in = Some(idx);
        self.more_in = true;
        Ok(())
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if let Some(raw) = self.raw.as_mut() {
            return raw.has_in(pipes);
        }
        if self.more_in || self.prefetched {
            return true;
        }
        let mut m = Msg::new();
        let Ok(idx) = self.fq_recv(pipes, &mut m) else {
            return false;
        };
        let Ok(id) = Self::routing_id_msg(pipes, idx) else {
            // Out of memory: keep the part, its id will be built on recv.
            self.prefetched_msg = m;
            return false;
        };
        self.prefetched_id = id;
        self.prefetched_msg = m;
        self.prefetched = true;
        self.routing_id_sent = false;
        self.current_in = Some(idx);
        true
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        if let Some(raw) = self.raw.as_mut() {
            return raw.has_out(pipes);
        }
        if !self.mandatory {
            return true;
        }
        let idxs: Vec<usize> = self.out.values().copied().collect();
        idxs.into_iter().any(|i| pipes.get(i).check_write())
    }

    fn read_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        if let Some(raw) = self.raw.as_mut() {
            return raw.read_activated(pipes, idx);
        }
        if let Some(pos) = self.anonymous.iter().position(|&p| p == idx) {
            let ident = self.identify(pipes, idx);
            if !matches!(ident, Ident::Pending) {
                self.anonymous.swap_remove(pos);
                self.place(pipes, idx, ident);
            }
        } else if self.ignored.contains(&idx) {
            Self::drain(pipes, idx);
        } else {
            self.fq.activated(idx);
        }
    }

    fn write_activated(&mut self, pipes: &mut Pipes, idx: usize) {
        // Each send checks the destination pipe's room itself (the raw strategy's too).
        if let Some(raw) = self.raw.as_mut() {
            raw.write_activated(pipes, idx);
        }
    }

    fn terminated(&mut self, pipes: &mut Pipes, idx: usize) {
        if let Some(raw) = self.raw.as_mut() {
            return raw.terminated(pipes, idx);
        }
        if let Some(pos) = self.anonymous.iter().position(|&p| p == idx) {
            self.anonymous.swap_remove(pos);
            return;
        }
        if let Some(pos) = self.ignored.iter().position(|&p| p == idx) {
            self.ignored.swap_remove(pos);
            return;
        }
        let id = std::mem::take(&mut pipes.get(idx).routing_id);
        if self.out.get(&id) == Some(&idx) {
            self.out.remove(&id);
        }
        self.fq.terminated(idx);
        if self.current_out == Some(idx) {
            self.current_out = None;
        }
        if self.current_in == Some(idx) {
            self.current_in = None;
            self.terminate_current_in = false;
        }
    }

    fn setsockopt(&mut self, _pipes: &mut Pipes, id: i32, v: &[u8]) -> Option<Result<()>> {
        if let Some(raw) = self.raw.as_mut() {
            return raw.setsockopt(_pipes, id, v);
        }
        let slot = match id {
            ZMQ_ROUTER_MANDATORY => &mut self.mandatory,
            ZMQ_ROUTER_HANDOVER => &mut self.handover,
            ZMQ_PROBE_ROUTER => &mut self.probe,
            ZMQ_ROUTER_RAW => {
                // From now on the raw strategy serves every call; the socket switches its
                // connections to the raw engine. Only before the first peer: its pipes
                // would have nowhere to go.
                return Some(match flag_of(v) {
                    Ok(true) if !self.out.is_empty() || !self.anonymous.is_empty() => {
                        Err(Error::Inval)
                    }
                    Ok(true) => {
                        self.raw = Some(Box::new(Stream::router_raw(self.mandatory)));
                        Ok(())
                    }
                    r => r.map(|_| ()),
                });
            }
            _ => return None,
        };
        Some(flag_of(v).map(|b| *slot = b))
    }

    fn peer_state(&mut self, pipes: &mut Pipes, routing_id: &[u8]) -> Result<i32> {
        let idx = *self.out.get(routing_id).ok_or(Error::HostUnreach)?;
        Ok(if pipes.get(idx).below_hwm() {
            crate::constants::ZMQ_POLLOUT
        } else {
            0
        })
    }
    fn getsockopt(&self, _id: i32) -> Option<Result<OptVal>> {
        if let Some(raw) = self.raw.as_ref() {
            return raw.getsockopt(_id);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_five_bytes_counting_up() {
        let mut r = Router {
            next_id: u32::MAX,
            ..Router::default()
        };
        assert_eq!(r.generate_id(), vec![0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(r.generate_id(), vec![0, 0, 0, 0, 0]);
        r.out.insert(vec![0, 0, 0, 0, 1], 7);
        assert_eq!(
            r.generate_id(),
            vec![0, 0, 0, 0, 2],
            "ids in use are skipped"
        );
    }

    #[test]
    fn the_connect_names_the_pipe_unless_the_name_is_taken() {
        use crate::mailbox::Mailbox;
        use crate::pipe::pipepair;
        use std::sync::Arc;
        let mb = Arc::new(Mailbox::new());
        let mut r = Router::default();
        let mut pipes = Pipes::default();
        let mut peers = Vec::new();
        for announced in [&b"A"[..], b"B"] {
            let (mut mine, mut theirs) = pipepair([0, 0]);
            mine.attach(mb.clone(), pipes.next_index());
            mine.routing_id = b"peerA".to_vec();
            theirs.attach(mb.clone(), 100);
            // The peer's announcement, as the session writes it.
            let mut id = Msg::from_slice(announced).unwrap();
            id.set_flags(msg::ROUTING_ID);
            theirs.write(id).unwrap();
            theirs.write(Msg::part(b"hi", false)).unwrap();
            theirs.flush();
            let idx = pipes.insert(mine);
            r.attach(&mut pipes, idx, false);
            peers.push(theirs);
        }
        assert_eq!(pipes.get(0).routing_id, b"peerA".to_vec());
        // The second connect's name is in use: the peer's announced id names it.
        assert_eq!(pipes.get(1).routing_id, b"B".to_vec());
        let mut got = Vec::new();
        let mut m = Msg::new();
        while r.recv(&mut pipes, &mut m).is_ok() {
            got.push(m.data().to_vec());
        }
        got.sort();
        let want: Vec<Vec<u8>> = vec![
            b"B".to_vec(),
            b"hi".to_vec(),
            b"hi".to_vec(),
            b"peerA".to_vec(),
        ];
        assert_eq!(got, want, "the first pipe's announcement is not delivered");
    }

    #[test]
    fn flags_are_non_negative_ints() {
        assert_eq!(flag_of(&1i32.to_ne_bytes()).ok(), Some(true));
        assert_eq!(flag_of(&5i32.to_ne_bytes()).ok(), Some(true));
        assert_eq!(flag_of(&0i32.to_ne_bytes()).ok(), Some(false));
        assert!(flag_of(&(-1i32).to_ne_bytes()).is_err());
        assert!(flag_of(&[1u8]).is_err());
    }
}

#[cfg(test)]
mod behaviour_tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    fn on(s: &mut Router, h: &mut Harness, id: i32) {
        assert_eq!(
            s.setsockopt(&mut h.pipes, id, &1i32.to_ne_bytes()),
            Some(Ok(()))
        );
    }

    /// A peer that announces `id` (as a DEALER's session does), with `hwm` towards it.
    fn peer(h: &mut Harness, s: &mut Router, id: &[u8], hwm: u64) -> usize {
        let p = h.add_pipe([hwm, 0]);
        h.peer_announce(p, id);
        let slot = h.slot(p);
        s.attach(&mut h.pipes, slot, false);
        p
    }

    #[test]
    fn a_received_message_is_prefixed_with_its_senders_routing_id() {
        let mut h = Harness::new();
        let mut s = Router::default();
        let a = peer(&mut h, &mut s, b"alice", 0);
        let b = peer(&mut h, &mut s, b"bob", 0);
        assert!(h.peer_send(b, &[b"hi", b"there"]));
        assert!(h.peer_send(a, &[b"hello"]));
        let mut got = vec![h.recv(&mut s).unwrap(), h.recv(&mut s).unwrap()];
        got.sort();
        assert_eq!(
            got,
            vec![
                parts(&[b"alice", b"hello"]),
                parts(&[b"bob", b"hi", b"there"])
            ]
        );
    }

    #[test]
    fn a_message_goes_to_the_peer_its_first_part_names() {
        let mut h = Harness::new();
        let mut s = Router::default();
        let a = peer(&mut h, &mut s, b"alice", 0);
        let b = peer(&mut h, &mut s, b"bob", 0);
        h.send(&mut s, &[b"bob", b"for", b"bob"]).unwrap();
        h.send(&mut s, &[b"alice", b"for alice"]).unwrap();
        assert_eq!(h.peer_recv(a), vec![parts(&[b"for alice"])]);
        assert_eq!(h.peer_recv(b), vec![parts(&[b"for", b"bob"])]);
    }

    #[test]
    fn a_message_for_an_unknown_peer_is_dropped_silently() {
        let mut h = Harness::new();
        let mut s = Router::default();
        let a = peer(&mut h, &mut s, b"alice", 0);
        h.send(&mut s, &[b"nobody", b"lost"]).unwrap();
        h.send(&mut s, &[b"alice", b"kept"]).unwrap();
        assert_eq!(h.peer_recv(a), vec![parts(&[b"kept"])]);
    }

    #[test]
    fn with_router_mandatory_an_unknown_peer_is_ehostunreach() {
        let mut h = Harness::new();
        let mut s = Router::default();
        on(&mut s, &mut h, ZMQ_ROUTER_MANDATORY);
        peer(&mut h, &mut s, b"alice", 0);
        assert_eq!(h.send(&mut s, &[b"nobody", b"x"]), Err(Error::HostUnreach));
        h.send(&mut s, &[b"alice", b"x"]).unwrap();
    }

    #[test]
    fn a_peer_at_its_hwm_loses_the_message_or_with_router_mandatory_it_is_eagain() {
        let mut h = Harness::new();
        let mut s = Router::default();
        let a = peer(&mut h, &mut s, b"alice", 1);
        h.send(&mut s, &[b"alice", b"1"]).unwrap();
        h.send(&mut s, &[b"alice", b"2 (dropped)"]).unwrap();
        on(&mut s, &mut h, ZMQ_ROUTER_MANDATORY);
        assert!(!s.has_out(&mut h.pipes));
        assert_eq!(h.send(&mut s, &[b"alice", b"3"]), Err(Error::Again));
        assert_eq!(h.peer_recv(a), vec![parts(&[b"1"])]);
        h.settle(&mut s);
        assert!(s.has_out(&mut h.pipes));
        h.send(&mut s, &[b"alice", b"4"]).unwrap();
        assert_eq!(h.peer_recv(a), vec![parts(&[b"4"])]);
    }

    #[test]
    fn a_peer_announcing_no_id_gets_a_generated_one() {
        let mut h = Harness::new();
        let mut s = Router::default();
        let p = peer(&mut h, &mut s, b"", 0);
        assert!(h.peer_send(p, &[b"x"]));
        let m = h.recv(&mut s).unwrap();
        assert_eq!((m[0].len(), m[0][0]), (5, 0), "a zero byte and a counter");
        // The generated id routes replies back.
        h.send(&mut s, &[&m[0], b"reply"]).unwrap();
        assert_eq!(h.peer_recv(p), vec![parts(&[b"reply"])]);
    }

    #[test]
    fn a_peer_connecting_before_its_announcement_is_routable_once_it_arrives() {
        let mut h = Harness::new();
        let mut s = Router::default();
        let p = h.connect(&mut s, [0, 0]);
        h.peer_announce(p, b"late");
        assert!(h.peer_send(p, &[b"x"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"late", b"x"]));
    }

    #[test]
    fn a_second_peer_with_a_taken_id_is_ignored() {
        let mut h = Harness::new();
        let mut s = Router::default();
        let first = peer(&mut h, &mut s, b"same", 0);
        let second = peer(&mut h, &mut s, b"same", 0);
        assert!(h.peer_send(second, &[b"unheard"]));
        assert!(h.peer_send(first, &[b"heard"]));
        assert_eq!(h.recv(&mut s).unwrap(), parts(&[b"same", b"heard"]));
        assert_eq!(h.recv(&mut s), Err(Error::Again));
        h.send(&mut s, &[b"same", b"to first"]).unwrap();
        assert_eq!(h.peer_recv(first), vec![parts(&[b"to first"])]);
        assert!(h.peer_recv(second).is_empty());
    }

    #[test]
    fn with_router_handover_a_new_peer_takes_over_a_taken_id() {
        let mut h = Harness::new();
        let mut s = Router::default();
        on(&mut s, &mut h, ZMQ_ROUTER_HANDOVER);
        let old = peer(&mut h, &mut s, b"same", 0);
        let new = peer(&mut h, &mut s, b"same", 0);
        h.send(&mut s, &[b"same", b"to the new one"]).unwrap();
        assert_eq!(h.peer_recv(new), vec![parts(&[b"to the new one"])]);
        // The old connection is ended.
        assert!(h.peer_recv(old).is_empty());
        h.settle(&mut s);
        assert!(h.is_gone(old));
    }

    #[test]
    fn a_routing_id_sent_alone_is_dropped_and_the_next_message_routed_normally() {
        let mut h = Harness::new();
        let mut s = Router::default();
        let a = peer(&mut h, &mut s, b"alice", 0);
        h.send(&mut s, &[b"alice"]).unwrap();
        h.send(&mut s, &[b"alice", b"real"]).unwrap();
        assert_eq!(h.peer_recv(a), vec![parts(&[b"real"])]);
    }

    #[test]
    fn with_probe_router_each_new_peer_first_gets_an_empty_message() {
        let mut h = Harness::new();
        let mut s = Router::default();
        on(&mut s, &mut h, ZMQ_PROBE_ROUTER);
        let a = peer(&mut h, &mut s, b"alice", 0);
        assert_eq!(h.peer_recv(a), vec![parts(&[b""])]);
    }

    #[test]
    fn a_peer_that_leaves_is_no_longer_routable() {
        let mut h = Harness::new();
        let mut s = Router::default();
        on(&mut s, &mut h, ZMQ_ROUTER_MANDATORY);
        let a = peer(&mut h, &mut s, b"alice", 0);
        h.peer_close(&mut s, a);
        assert_eq!(h.recv(&mut s), Err(Error::Again));
        h.settle(&mut s);
        assert!(h.is_gone(a));
        assert_eq!(h.send(&mut s, &[b"alice", b"x"]), Err(Error::HostUnreach));
    }

    #[test]
    fn has_in_reads_ahead_without_losing_the_routing_id() {
        let mut h = Harness::new();
        let mut s = Router::default();
        let a = peer(&mut h, &mut s, b"alice", 0);
        assert!(!s.has_in(&mut h.pipes));
        assert!(h.peer_send(a, &[b"1", b"2"]));
        h.settle(&mut s);
        assert!(s.has_in(&mut h.pipes));
        assert!(s.has_in(&mut h.pipes), "asking twice reads nothing more");
        assert_eq!(
            h.recv(&mut s).unwrap(),
            vec![b"alice".to_vec(), b"1".to_vec(), b"2".to_vec()]
        );
        assert!(!s.has_in(&mut h.pipes));
    }

    #[test]
    fn a_handover_in_the_middle_of_an_incoming_message_lets_that_message_finish() {
        let mut h = Harness::new();
        let mut s = Router::default();
        on(&mut s, &mut h, ZMQ_ROUTER_HANDOVER);
        let old = peer(&mut h, &mut s, b"same", 0);
        assert!(h.peer_send(old, &[b"a1", b"a2"]));
        assert_eq!(h.recv_part(&mut s).unwrap(), (b"same".to_vec(), true));
        assert_eq!(h.recv_part(&mut s).unwrap(), (b"a1".to_vec(), true));
        let new = peer(&mut h, &mut s, b"same", 0);
        assert_eq!(h.recv_part(&mut s).unwrap(), (b"a2".to_vec(), false));
        h.send(&mut s, &[b"same", b"to the new one"]).unwrap();
        assert_eq!(h.peer_recv(new), vec![parts(&[b"to the new one"])]);
        assert!(h.peer_recv(old).is_empty());
        h.settle(&mut s);
        assert!(
            h.is_gone(old),
            "the old connection ends once its message is out"
        );
    }

    #[test]
    fn a_message_for_a_peer_at_its_hwm_is_dropped_whole() {
        // Without ROUTER_MANDATORY: no part of it reaches the peer, and no error.
        let mut h = Harness::new();
        let mut s = Router::default();
        let a = peer(&mut h, &mut s, b"alice", 1);
        h.send(&mut s, &[b"alice", b"m1", b"m1+"]).unwrap();
        h.send(&mut s, &[b"alice", b"m2", b"m2+"]).unwrap();
        assert_eq!(h.peer_recv(a), vec![parts(&[b"m1", b"m1+"])]);
    }
}
