//! PULL: fair-queues messages from all peers; never sends.

use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::routing::fq::Fq;

#[derive(Default)]
pub struct Pull {
    fq: Fq,
}

impl SocketType for Pull {
    fn attach(&mut self, _pipes: &mut Pipes, idx: usize, _li: bool) {
        self.fq.attach(idx);
    }
    fn send(&mut self, _pipes: &mut Pipes, _msg: &mut Msg) -> Result<()> {
        Err(Error::NotSup)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.fq.recv(pipes, msg)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.fq.has_in(pipes)
    }
    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        false
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.fq.activated(idx);
    }
    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}
    fn terminated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.fq.terminated(idx);
    }
}
