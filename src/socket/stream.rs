//! STREAM: raw peers (tcp, ipc; no ZMTP) addressed by routing id, as `man zmq_socket`
//! describes ZMQ_STREAM.
//!
//! - Receiving gives two parts per chunk of bytes a peer sent: its routing id (MORE, with
//!   the chunk's metadata, e.g. Peer-Address), then the bytes. An empty second part
//!   announces a connection or a disconnection (ZMQ_STREAM_NOTIFY, on by default).
//! - Sending takes two parts: a routing id, then the bytes to write to that peer. The MORE
//!   flag of the data part is ignored (the next part is a routing id again). An empty data
//!   part closes that connection. An unknown routing id (with MORE) is EHOSTUNREACH; a
//!   routing id part without MORE makes the next part go nowhere.
//! - Each connection has a 5-byte generated routing id (a zero byte, then a counter), or the
//!   one set with ZMQ_CONNECT_ROUTING_ID before the zmq_connect that made it (the connect
//!   hands it over on the pipe, also with ZMQ_IMMEDIATE, where the pipe comes with the
//!   connection). ZMQ_ROUTING_ID reads the last generated one (as libzmq).
//!
//! A ROUTER with ZMQ_ROUTER_RAW (libzmq's deprecated raw mode) is this same strategy
//! ([`Stream::router_raw`]), with ROUTER's rule for a peer that is unknown or full: the
//! message is dropped, unless ZMQ_ROUTER_MANDATORY makes it EHOSTUNREACH / EAGAIN (a STREAM
//! socket always reports them).
//!
//! Only network transports create STREAM pipes (inproc is ENOCOMPATPROTO at bind/connect);
//! their sessions run the raw engine, which sends single-part messages.
//!
//! Invariants:
//! - every attached pipe is in `fq` and in `out` under its `Pipe::routing_id`, and `out`
//!   maps each id to one pipe, until the pipe terminates;
//! - `prefetched` holds one data part (and its routing id part, delivered first unless
//!   `routing_id_sent`) read ahead by `recv` or `has_in`;
//! - `more_out` is set between the routing id part of an outgoing message and its data
//!   part; `current_out` is the destination (None: the data part is dropped).

use std::collections::HashMap;

use super::pipes::Pipes;
use super::router::{flag_of, generate_id, random_u32};
use super::SocketType;
use crate::constants::*;
use crate::error::{Error, Result};
use crate::msg::{self, Msg};
use crate::options::OptVal;
use crate::routing::fq::Fq;

pub struct Stream {
    fq: Fq,
    out: HashMap<Vec<u8>, usize>,
    next_id: u32,
    prefetched: bool,
    routing_id_sent: bool,
    prefetched_id: Msg,
    prefetched_msg: Msg,
    more_out: bool,
    current_out: Option<usize>,
    /// The routing id generated last (what ZMQ_ROUTING_ID reads once there is one).
    last_generated: Option<Vec<u8>>,
    /// A ROUTER in raw mode (ZMQ_ROUTER_RAW), not a STREAM socket.
    router_raw: bool,
    /// An unknown or full peer is an error (EHOSTUNREACH, EAGAIN), not a silent drop.
    mandatory: bool,
}

impl Default for Stream {
    fn default() -> Self {
        Stream {
            fq: Fq::default(),
            out: HashMap::new(),
            next_id: random_u32(),
            prefetched: false,
            routing_id_sent: false,
            prefetched_id: Msg::new(),
            prefetched_msg: Msg::new(),
            more_out: false,
            current_out: None,
            last_generated: None,
            router_raw: false,
            mandatory: true,
        }
    }
}

impl Stream {
    /// The strategy of a ROUTER in raw mode; `mandatory`: its ZMQ_ROUTER_MANDATORY so far.
    pub fn router_raw(mandatory: bool) -> Stream {
        Stream {
            router_raw: true,
            mandatory,
            ..Stream::default()
        }
    }

    /// Reads the next data part ahead into `prefetched_msg` and builds its routing id part
    /// (with the data's metadata) into `prefetched_id`.
    fn prefetch(&mut self, pipes: &mut Pipes) -> Result<()> {
        let mut data = Msg::new();
        let idx = self.fq.recv_pipe(pipes, &mut data)?;
        data.reset_flags(msg::MORE);
        let mut id = Msg::from_slice(&pipes.get(idx).routing_id)?;
        id.set_flags(msg::MORE);
        id.set_metadata(data.metadata_ref().cloned());
        self.prefetched_id = id;
        self.prefetched_msg = data;
        self.prefetched = true;
        self.routing_id_sent = false;
        Ok(())
    }
}

impl SocketType for Stream {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _locally_initiated: bool) {
        // The id the pipe's connect chose, unless another connection has it.
        let preset = Some(std::mem::take(&mut pipes.get(idx).routing_id))
            .filter(|id| !id.is_empty() && !self.out.contains_key(id));
        let id = match preset {
            Some(id) => id,
            None => {
                let id = generate_id(&mut self.next_id, |id| self.out.contains_key(id));
                self.last_generated = Some(id.clone());
                id
            }
        };
        pipes.get(idx).routing_id = id.clone();
        self.out.insert(id, idx);
        self.fq.attach(idx);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if !self.more_out {
            // The routing id part.
            if msg.more() {
                self.current_out = match self.out.get(msg.data()) {
                    Some(&idx) if pipes.get(idx).check_write() => Some(idx),
                    Some(_) if self.mandatory => return Err(Error::Again),
                    None if self.mandatory => return Err(Error::HostUnreach),
                    // A raw ROUTER drops it (the data part goes nowhere).
                    _ => None,
                };
            }
            self.more_out = true;
            msg.clear();
            return Ok(());
        }
        // The data part: always the last one.
        self.more_out = false;
        msg.reset_flags(msg::MORE);
        let Some(idx) = self.current_out.take() else {
            msg.clear();
            return Ok(());
        };
        let p = pipes.get(idx);
        if msg.size() == 0 {
            // Close the connection (after what was sent before).
            p.terminate(false);
        } else if p.write(msg.take()).is_ok() {
            p.flush();
        }
        msg.clear();
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if !self.prefetched {
            self.prefetch(pipes)?;
        }
        if !self.routing_id_sent {
            *msg = self.prefetched_id.take();
            self.routing_id_sent = true;
        } else {
            *msg = self.prefetched_msg.take();
            self.prefetched = false;
        }
        Ok(())
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.prefetched || self.prefetch(pipes).is_ok()
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        true
    }

    fn read_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.fq.activated(idx);
    }

    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {
        // Each send checks the destination pipe's room itself.
    }

    fn terminated(&mut self, pipes: &mut Pipes, idx: usize) {
        let id = std::mem::take(&mut pipes.get(idx).routing_id);
        if self.out.get(&id) == Some(&idx) {
            self.out.remove(&id);
        }
        self.fq.terminated(idx);
        if self.current_out == Some(idx) {
            self.current_out = None;
        }
    }

    fn setsockopt(&mut self, _pipes: &mut Pipes, id: i32, v: &[u8]) -> Option<Result<()>> {
        match id {
            // A raw ROUTER keeps ROUTER's options (only MANDATORY acts on raw peers).
            ZMQ_ROUTER_MANDATORY if self.router_raw => {
                Some(flag_of(v).map(|on| self.mandatory = on))
            }
            ZMQ_ROUTER_RAW | ZMQ_ROUTER_HANDOVER | ZMQ_PROBE_ROUTER if self.router_raw => {
                Some(flag_of(v).map(|_| ()))
            }
            ZMQ_ROUTING_ID => {
                // Set by the application: that is what reads back (the common option).
                self.last_generated = None;
                None
            }
            _ => None,
        }
    }

    fn getsockopt(&self, id: i32) -> Option<Result<OptVal>> {
        match (id, &self.last_generated) {
            (ZMQ_ROUTING_ID, Some(last)) => Some(Ok(OptVal::Bin(last.clone()))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::Mailbox;
    use crate::pipe::pipepair;
    use std::sync::Arc;

    fn part(b: &[u8], more: bool) -> Msg {
        Msg::part(b, more)
    }

    /// A STREAM with attached pipes, one per entry of `presets` (the routing id its connect
    /// chose, or empty); returns the peers' ends (the sessions' side).
    fn peers_named(s: &mut Stream, pipes: &mut Pipes, presets: &[&[u8]]) -> Vec<crate::pipe::Pipe> {
        let mb = Arc::new(Mailbox::new());
        let mut peers = Vec::new();
        for preset in presets {
            let (mut mine, mut theirs) = pipepair([0, 0]);
            mine.attach(mb.clone(), pipes.next_index());
            mine.routing_id = preset.to_vec();
            theirs.attach(mb.clone(), 100);
            let idx = pipes.insert(mine);
            s.attach(pipes, idx, !preset.is_empty());
            peers.push(theirs);
        }
        peers
    }

    /// A STREAM with two attached pipes with generated ids.
    fn two_peers(s: &mut Stream, pipes: &mut Pipes) -> Vec<crate::pipe::Pipe> {
        peers_named(s, pipes, &[b"", b""])
    }

    #[test]
    fn ids_are_generated_or_preset_by_the_connect() {
        let mut s = Stream {
            next_id: 7,
            ..Stream::default()
        };
        let mut pipes = Pipes::default();
        // The third pipe's preset is taken by the second: it gets a generated id.
        peers_named(&mut s, &mut pipes, &[b"", b"conn1", b"conn1"]);
        assert_eq!(pipes.get(0).routing_id, vec![0, 0, 0, 0, 7]);
        assert_eq!(pipes.get(1).routing_id, b"conn1".to_vec());
        assert_eq!(pipes.get(2).routing_id, vec![0, 0, 0, 0, 8]);
        assert_eq!(
            s.getsockopt(ZMQ_ROUTING_ID).map(|r| r.ok()),
            Some(Some(OptVal::Bin(vec![0, 0, 0, 0, 8])))
        );
    }

    #[test]
    fn received_chunks_come_with_their_routing_id() {
        let mut s = Stream::default();
        let mut pipes = Pipes::default();
        let mut peers = two_peers(&mut s, &mut pipes);
        peers[1].write(part(b"hello", false)).unwrap();
        peers[1].flush();
        let mut m = Msg::new();
        assert!(s.has_in(&mut pipes));
        s.recv(&mut pipes, &mut m).unwrap();
        assert!(m.more());
        assert_eq!(m.data(), &pipes.get(1).routing_id[..]);
        s.recv(&mut pipes, &mut m).unwrap();
        assert!(!m.more());
        assert_eq!(m.data(), b"hello");
        assert_eq!(s.recv(&mut pipes, &mut m), Err(Error::Again));
    }

    #[test]
    fn send_routes_data_ignores_more_and_empty_closes() {
        let mut s = Stream::default();
        let mut pipes = Pipes::default();
        let mut peers = two_peers(&mut s, &mut pipes);
        let id = pipes.get(0).routing_id.clone();
        s.send(&mut pipes, &mut part(&id, true)).unwrap();
        s.send(&mut pipes, &mut part(b"data", true)).unwrap();
        let got = peers[0].read().unwrap();
        assert_eq!(got.data(), b"data");
        assert!(!got.more(), "MORE of the data part is dropped");
        // Unknown peer.
        assert_eq!(
            s.send(&mut pipes, &mut part(b"nobody", true)),
            Err(Error::HostUnreach)
        );
        // A routing id part without MORE: the next part goes nowhere.
        s.send(&mut pipes, &mut part(&id, false)).unwrap();
        s.send(&mut pipes, &mut part(b"lost", false)).unwrap();
        assert!(peers[0].read().is_none());
        // Empty data part: the pipe is terminated.
        s.send(&mut pipes, &mut part(&id, true)).unwrap();
        s.send(&mut pipes, &mut part(b"", false)).unwrap();
        assert!(pipes.get(0).is_terminating());
    }

    #[test]
    fn stream_notify_is_a_stream_option_only() {
        let mut o = crate::options::Options::new(ZMQ_STREAM);
        assert!(o.raw_notify);
        o.set(ZMQ_STREAM_NOTIFY, &0i32.to_ne_bytes()).unwrap();
        assert!(!o.raw_notify);
        assert_eq!(
            o.set(ZMQ_STREAM_NOTIFY, &2i32.to_ne_bytes()),
            Err(Error::Inval)
        );
        let mut d = crate::options::Options::new(ZMQ_DEALER);
        assert_eq!(
            d.set(ZMQ_STREAM_NOTIFY, &1i32.to_ne_bytes()),
            Err(Error::Inval)
        );
    }
}
