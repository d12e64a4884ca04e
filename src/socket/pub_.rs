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
