//! PUSH: load-balances messages over all peers; never receives.

use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::routing::lb::Lb;

#[derive(Default)]
pub struct Push {
    lb: Lb,
}

impl SocketType for Push {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _li: bool) {
        // Nothing is ever read here, so the delimiter would never be seen.
        pipes.get(idx).set_nodelay();
        self.lb.attach(idx);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.lb.send(pipes, msg)
    }
    fn recv(&mut self, _pipes: &mut Pipes, _msg: &mut Msg) -> Result<()> {
        Err(Error::NotSup)
    }
    fn has_in(&mut self, _pipes: &mut Pipes) -> bool {
        false
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.lb.has_out(pipes)
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}
    fn write_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.lb.activated(idx);
    }
    fn terminated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.lb.terminated(idx);
    }
}
