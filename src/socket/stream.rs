//! STREAM: raw TCP peers addressed by routing id. It only speaks tcp, so over inproc it
//! never has a peer (bind/connect give ENOCOMPATPROTO): receiving waits, and sending to
//! any routing id gives EHOSTUNREACH, as for an unknown peer in libzmq.
//!
//! Invariant: `more_out` is set after the routing id part of an outgoing message until its
//! last part; those parts are dropped (there is no peer to take them).

use super::pipes::Pipes;
use super::router::flag_of;
use super::SocketType;
use crate::constants::ZMQ_STREAM_NOTIFY;
use crate::error::{Error, Result};
use crate::msg::Msg;

#[derive(Default)]
pub struct Stream {
    more_out: bool,
}

impl SocketType for Stream {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _li: bool) {
        // Only tcp creates STREAM pipes; refuse anything else.
        pipes.get(idx).terminate(false);
    }

    fn send(&mut self, _pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if !self.more_out {
            if msg.more() {
                return Err(Error::HostUnreach);
            }
            self.more_out = true;
            msg.clear();
            return Ok(());
        }
        self.more_out = msg.more();
        msg.clear();
        Ok(())
    }

    fn recv(&mut self, _pipes: &mut Pipes, _msg: &mut Msg) -> Result<()> {
        Err(Error::Again)
    }

    fn has_in(&mut self, _pipes: &mut Pipes) -> bool {
        false
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        true
    }

    fn read_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}

    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}

    fn terminated(&mut self, _pipes: &mut Pipes, _idx: usize) {}

    fn setsockopt(&mut self, _pipes: &mut Pipes, id: i32, v: &[u8]) -> Option<Result<()>> {
        match id {
            ZMQ_STREAM_NOTIFY => Some(flag_of(v).map(|_| ())), // only tcp notifies,
            _ => None,
        }
    }
}
