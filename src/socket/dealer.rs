//! DEALER: load-balances outgoing messages and fair-queues incoming ones. With
//! ZMQ_PROBE_ROUTER, every new pipe first carries an empty message (a ROUTER peer then
//! learns about us before we send anything).

use super::pipes::Pipes;
use super::router::flag_of;
use super::SocketType;
use crate::constants::ZMQ_PROBE_ROUTER;
use crate::error::Result;
use crate::msg::Msg;
use crate::routing::fq::Fq;
use crate::routing::lb::Lb;

#[derive(Default)]
pub struct Dealer {
    pub(super) lb: Lb,
    pub(super) fq: Fq,
    pub(super) probe_router: bool,
}

impl SocketType for Dealer {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _li: bool) {
        if self.probe_router {
            let p = pipes.get(idx);
            p.write_unchecked(Msg::new());
            p.flush();
        }
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
    fn setsockopt(&mut self, _pipes: &mut Pipes, id: i32, v: &[u8]) -> Option<Result<()>> {
        match id {
            ZMQ_PROBE_ROUTER => Some(flag_of(v).map(|b| self.probe_router = b)),
            _ => None,
        }
    }
}
