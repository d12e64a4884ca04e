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
