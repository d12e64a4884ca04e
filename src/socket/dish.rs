//! DISH (draft, thread-safe): receives the messages of the groups it joined (`zmq_join`,
//! `zmq_leave`) from RADIOs. A join or leave goes to every RADIO as a JOIN / LEAVE message
//! (a command on the wire); a new pipe, or one whose connection came back (a hiccup), is
//! sent every group joined. Messages of other groups are dropped on receipt. Never sends
//! (ENOTSUP).

use std::collections::HashSet;

use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::{Msg, GROUP_MAX_LENGTH};
use crate::routing::dist::Dist;
use crate::routing::fq::Fq;

#[derive(Default)]
pub struct Dish {
    fq: Fq,
    dist: Dist,
    groups: HashSet<Vec<u8>>,
    /// A message of a joined group, read ahead by `has_in`.
    next: Option<Msg>,
}

impl Dish {
    /// Sends every joined group to the pipe at `idx`.
    fn send_groups(&self, pipes: &mut Pipes, idx: usize) {
        let p = pipes.get(idx);
        for g in &self.groups {
            if let Ok(m) = Msg::join_leave(true, g) {
                // Control traffic: never dropped at the HWM.
                p.write_control(m);
            }
        }
        p.flush();
    }

    /// The next message of a joined group.
    fn next_joined(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        loop {
            self.fq.recv(pipes, msg)?;
            if self.groups.contains(msg.group().to_bytes()) {
                return Ok(());
            }
        }
    }

    #[cfg_attr(not(feature = "draft"), allow(dead_code))] // only the draft C API calls it
    fn join_leave(&mut self, pipes: &mut Pipes, group: &[u8], join: bool) -> Result<()> {
        if group.len() > GROUP_MAX_LENGTH {
            return Err(Error::Inval);
        }
        let changed = if join {
            self.groups.insert(group.to_vec())
        } else {
            self.groups.remove(group)
        };
        if !changed {
            return Err(Error::Inval);
        }
        let mut m = Msg::join_leave(join, group)?;
        self.dist.send_control_to_all(pipes, &mut m);
        Ok(())
    }
}

impl SocketType for Dish {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _li: bool) {
        self.fq.attach(idx);
        self.dist.attach(idx);
        self.send_groups(pipes, idx);
    }
    fn send(&mut self, _pipes: &mut Pipes, _msg: &mut Msg) -> Result<()> {
        Err(Error::NotSup)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if let Some(m) = self.next.take() {
            *msg = m;
            return Ok(());
        }
        self.next_joined(pipes, msg)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.next.is_some() {
            return true;
        }
        let mut m = Msg::new();
        if self.next_joined(pipes, &mut m).is_ok() {
            self.next = Some(m);
            return true;
        }
        false
    }
    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        // libzmq says so, though a send is always ENOTSUP.
        true
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
    fn hiccuped(&mut self, pipes: &mut Pipes, idx: usize) {
        self.send_groups(pipes, idx);
    }
    fn join(&mut self, pipes: &mut Pipes, group: &[u8]) -> Result<()> {
        self.join_leave(pipes, group, true)
    }
    fn leave(&mut self, pipes: &mut Pipes, group: &[u8]) -> Result<()> {
        self.join_leave(pipes, group, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg;
    use crate::socket::pipes::harness::Harness;

    fn in_group(data: &[u8], group: &[u8]) -> Msg {
        let mut m = Msg::from_slice(data).unwrap();
        m.set_group(group).unwrap();
        m
    }

    /// What the RADIO side of peer `n` got: (join?, group) per message.
    fn joins(h: &mut Harness, n: usize) -> Vec<(bool, Vec<u8>)> {
        h.peer_recv_msgs(n)
            .iter()
            .map(|m| (m.flags() & msg::JOIN != 0, m.group().to_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn joins_go_to_every_radio_and_to_new_ones() {
        let mut h = Harness::new();
        let mut s = Dish::default();
        let a = h.connect(&mut s, [0, 0]);
        s.join(&mut h.pipes, b"tv").unwrap();
        assert_eq!(s.join(&mut h.pipes, b"tv"), Err(Error::Inval));
        assert_eq!(s.leave(&mut h.pipes, b"radio"), Err(Error::Inval));
        assert_eq!(s.join(&mut h.pipes, &[b'g'; 256]), Err(Error::Inval));
        assert_eq!(joins(&mut h, a), vec![(true, b"tv".to_vec())]);
        let b = h.connect(&mut s, [0, 0]);
        assert_eq!(joins(&mut h, b), vec![(true, b"tv".to_vec())]);
        s.leave(&mut h.pipes, b"tv").unwrap();
        assert_eq!(joins(&mut h, a), vec![(false, b"tv".to_vec())]);
        s.join(&mut h.pipes, b"radio").unwrap();
        assert_eq!(joins(&mut h, a), vec![(true, b"radio".to_vec())]);
        // The connection came back: every group again.
        let slot = h.slot(a);
        s.hiccuped(&mut h.pipes, slot);
        assert_eq!(joins(&mut h, a), vec![(true, b"radio".to_vec())]);
    }

    #[test]
    fn only_messages_of_joined_groups_are_received() {
        let mut h = Harness::new();
        let mut s = Dish::default();
        let a = h.connect(&mut s, [0, 0]);
        s.join(&mut h.pipes, b"tv").unwrap();
        for m in [in_group(b"1", b"radio"), in_group(b"2", b"tv")] {
            assert!(h.peer(a).write(m).is_ok());
        }
        h.peer(a).flush();
        h.settle(&mut s);
        assert!(s.has_in(&mut h.pipes));
        let mut m = Msg::new();
        s.recv(&mut h.pipes, &mut m).unwrap();
        assert_eq!((m.data(), m.group().to_bytes()), (&b"2"[..], &b"tv"[..]));
        assert!(!s.has_in(&mut h.pipes));
        assert_eq!(h.send(&mut s, &[b"x"]), Err(Error::NotSup));
    }
}
