//! A test bench for the routing strategies and socket types: a socket's pipe table with the
//! far end of each pipe held by the test (the "peers"), and the command traffic between the
//! two sides delivered by hand (`settle`), as `SocketBase` and a session would.
//!
//! Peers are numbered in the order they were added; a peer's number is also the index its
//! pipe end is attached at on the peers' side. The socket-side slot of peer `n` is `slot(n)`.

use std::sync::Arc;

use super::Pipes;
use crate::command::Command;
use crate::mailbox::Mailbox;
use crate::msg::{self, Msg};
use crate::pipe::{pipepair, Pipe, PipeEvent};
use crate::socket::SocketType;

/// A message part: a copy of `data`, with MORE when `more`.
pub fn part(data: &[u8], more: bool) -> Msg {
    let mut m = Msg::from_slice(data).expect("a small message");
    if more {
        m.set_flags(msg::MORE);
    }
    m
}

/// Parts as byte vectors, for comparisons.
pub fn parts(p: &[&[u8]]) -> Vec<Vec<u8>> {
    p.iter().map(|b| b.to_vec()).collect()
}

/// See the module documentation.
pub struct Harness {
    pub pipes: Pipes,
    socket_mb: Arc<Mailbox>,
    peer_mb: Arc<Mailbox>,
    /// Peer ends by peer number; None once the pipe has terminated on the peer side.
    peers: Vec<Option<Pipe>>,
    slots: Vec<usize>,
    /// Peers whose socket-side end has been reported terminated.
    gone: Vec<bool>,
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

impl Harness {
    pub fn new() -> Harness {
        Harness {
            pipes: Pipes::default(),
            socket_mb: Arc::new(Mailbox::new()),
            peer_mb: Arc::new(Mailbox::new()),
            peers: Vec::new(),
            slots: Vec::new(),
            gone: Vec::new(),
        }
    }

    /// Adds a pipe without telling any strategy: `hwm[0]` limits socket -> peer, `hwm[1]`
    /// peer -> socket (0: no limit). Returns the peer number.
    pub fn add_pipe(&mut self, hwm: [u64; 2]) -> usize {
        let (mut mine, mut theirs) = pipepair(hwm);
        let n = self.peers.len();
        let slot = self.pipes.next_index();
        mine.attach(self.socket_mb.clone(), slot);
        theirs.attach(self.peer_mb.clone(), n);
        let slot2 = self.pipes.insert(mine);
        assert_eq!(slot, slot2);
        self.peers.push(Some(theirs));
        self.slots.push(slot);
        self.gone.push(false);
        n
    }

    /// Adds a pipe and attaches it to the socket type, as a connection would.
    pub fn connect(&mut self, kind: &mut dyn SocketType, hwm: [u64; 2]) -> usize {
        let n = self.add_pipe(hwm);
        kind.attach(&mut self.pipes, self.slots[n], true);
        n
    }

    /// The socket-side slot of peer `n`.
    pub fn slot(&self, n: usize) -> usize {
        self.slots[n]
    }

    /// The peer end of peer `n` (it must still live).
    pub fn peer(&mut self, n: usize) -> &mut Pipe {
        self.peers[n].as_mut().expect("the peer's pipe end is gone")
    }

    /// Delivers the pending commands for peer ends; true when there were some.
    fn settle_peers(&mut self) -> bool {
        let mut any = false;
        while let Ok(cmd) = self.peer_mb.recv(0) {
            any = true;
            let Command::Pipe(addr, pc) = cmd else {
                continue;
            };
            let Some(p) = self.peers[addr.index].as_mut() else {
                continue;
            };
            if p.id() == addr.id && p.process(pc) == PipeEvent::Terminated {
                self.peers[addr.index] = None;
            }
        }
        any
    }

    /// Delivers pending commands both ways until none is left; events of socket-side ends
    /// go to `on_event` (a terminated end is removed from the table after it).
    pub fn settle_with(&mut self, mut on_event: impl FnMut(&mut Pipes, usize, PipeEvent)) {
        loop {
            let mut any = self.settle_peers();
            while let Ok(cmd) = self.socket_mb.recv(0) {
                any = true;
                let Command::Pipe(addr, pc) = cmd else {
                    continue;
                };
                let Some(p) = self.pipes.get_checked(addr.index, addr.id) else {
                    continue;
                };
                let ev = p.process(pc);
                let terminated = ev == PipeEvent::Terminated;
                on_event(&mut self.pipes, addr.index, ev);
                if terminated {
                    self.pipes.remove(addr.index);
                    if let Some(n) = self.slots.iter().position(|&s| s == addr.index) {
                        self.gone[n] = true;
                    }
                }
            }
            if !any {
                return;
            }
        }
    }

    /// Delivers pending commands, telling the socket type about its pipes' events as
    /// `SocketBase` does.
    pub fn settle(&mut self, kind: &mut dyn SocketType) {
        self.settle_with(|pipes, idx, ev| match ev {
            PipeEvent::None => {}
            PipeEvent::ReadActivated => kind.read_activated(pipes, idx),
            PipeEvent::WriteActivated => kind.write_activated(pipes, idx),
            PipeEvent::Terminated => kind.terminated(pipes, idx),
            PipeEvent::Hiccuped => kind.hiccuped(pipes, idx),
            PipeEvent::StatsQuery(..) | PipeEvent::StatsReply(..) => {}
        });
    }

    /// Sends a message through the socket type: every part, MORE on all but the last.
    pub fn send(&mut self, kind: &mut dyn SocketType, msg: &[&[u8]]) -> crate::error::Result<()> {
        self.settle(kind);
        for (i, p) in msg.iter().enumerate() {
            kind.send(&mut self.pipes, &mut part(p, i + 1 < msg.len()))?;
        }
        Ok(())
    }

    /// Receives one part through the socket type: its bytes and whether more follow.
    pub fn recv_part(
        &mut self,
        kind: &mut dyn SocketType,
    ) -> crate::error::Result<(Vec<u8>, bool)> {
        self.settle(kind);
        let mut m = Msg::new();
        kind.recv(&mut self.pipes, &mut m)?;
        Ok((m.data().to_vec(), m.more()))
    }

    /// Receives a whole message through the socket type.
    pub fn recv(&mut self, kind: &mut dyn SocketType) -> crate::error::Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        loop {
            let (data, more) = self.recv_part(kind)?;
            out.push(data);
            if !more {
                return Ok(out);
            }
        }
    }

    /// Peer `n` sends a message (parts flushed together); false when its pipe was full.
    pub fn peer_send(&mut self, n: usize, msg: &[&[u8]]) -> bool {
        let p = self.peer(n);
        for (i, b) in msg.iter().enumerate() {
            if p.write(part(b, i + 1 < msg.len())).is_err() {
                p.rollback();
                return false;
            }
        }
        p.flush();
        true
    }

    /// Peer `n` sends its routing id announcement, as a session does before any message.
    pub fn peer_announce(&mut self, n: usize, id: &[u8]) {
        let mut m = Msg::from_slice(id).expect("a small message");
        m.set_flags(msg::ROUTING_ID);
        let p = self.peer(n);
        p.write_unchecked(m);
        p.flush();
    }

    /// Every whole message that reached peer `n` so far, in order (the peers' commands are
    /// taken first, so wake-ups are current; the socket side's wait for `settle`).
    pub fn peer_recv(&mut self, n: usize) -> Vec<Vec<Vec<u8>>> {
        self.settle_peers();
        let mut msgs = Vec::new();
        let mut cur = Vec::new();
        let Some(p) = self.peers[n].as_mut() else {
            return msgs;
        };
        while let Some(m) = p.read() {
            cur.push(m.data().to_vec());
            if !m.more() {
                msgs.push(std::mem::take(&mut cur));
            }
        }
        assert!(
            cur.is_empty(),
            "peer {n} got an unfinished message: {cur:?}"
        );
        msgs
    }

    /// Every message part that reached peer `n` so far, as it came (flags, group), the
    /// peers' commands taken first as for `peer_recv`.
    pub fn peer_recv_msgs(&mut self, n: usize) -> Vec<Msg> {
        self.settle_peers();
        let mut msgs = Vec::new();
        if let Some(p) = self.peers[n].as_mut() {
            while let Some(m) = p.read() {
                msgs.push(m);
            }
        }
        msgs
    }

    /// Peer `n` ends its pipe (the connection went away); pending commands are delivered.
    pub fn peer_close(&mut self, kind: &mut dyn SocketType, n: usize) {
        self.peer(n).terminate(false);
        self.settle(kind);
    }

    /// Whether the socket side has seen peer `n`'s pipe terminate.
    pub fn is_gone(&self, n: usize) -> bool {
        self.gone[n]
    }

    /// Whether peer `n`'s own end has finished terminating.
    pub fn peer_is_closed(&self, n: usize) -> bool {
        self.peers[n].is_none()
    }
}
