//! DEALER: load-balances outgoing messages and fair-queues incoming ones.

use super::pipes::Pipes;
use super::SocketType;
use crate::error::Result;
use crate::msg::Msg;
use crate::routing::fq::Fq;
use crate::routing::lb::Lb;

#[derive(Default)]
pub struct Dealer {
    pub(super) lb: Lb,
    pub(super) fq: Fq,
}

impl SocketType for Dealer {
    fn attach(&mut self, _pipes: &mut Pipes, idx: usize, _li: bool) {
        self.fq.attach(idx);
        self.lb.attach(idx);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.lb.send(pipes, msg)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.fq.recv(pipes, msg)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.fq.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.lb.has_out(pipes)
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.fq.activated(idx);
    }
    fn write_activated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.lb.activated(idx);
    }
    fn terminated(&mut self, _pipes: &mut Pipes, idx: usize) {
        self.fq.terminated(idx);
        self.lb.terminated(idx);
    }
}
