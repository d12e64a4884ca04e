//! PAIR: exactly one peer; a second connection is refused (its pipe terminated).

use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;

#[derive(Default)]
pub struct Pair {
    pipe: Option<usize>,
}

impl SocketType for Pair {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _locally_initiated: bool) {
        if self.pipe.is_some() {
            pipes.get(idx).terminate(false);
        } else {
            self.pipe = Some(idx);
        }
    }

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let Some(idx) = self.pipe else {
            return Err(Error::Again);
        };
        let p = pipes.get(idx);
        let more = msg.more();
        match p.write(msg.take()) {
            Ok(()) => {
                if !more {
                    p.flush();
                }
                Ok(())
            }
            Err(m) => {
                *msg = m;
                Err(Error::Again)
            }
        }
    }

    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let Some(idx) = self.pipe else {
            return Err(Error::Again);
        };
        match pipes.get(idx).read() {
            Some(m) => {
                *msg = m;
                Ok(())
            }
            None => Err(Error::Again),
        }
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.pipe.is_some_and(|i| pipes.get(i).check_read())
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.pipe.is_some_and(|i| pipes.get(i).check_write())
    }

    fn read_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}

    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: usize) {}

    fn terminated(&mut self, _pipes: &mut Pipes, idx: usize) {
        if self.pipe == Some(idx) {
            self.pipe = None;
        }
    }
}
