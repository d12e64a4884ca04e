//! DGRAM (draft, not thread-safe): raw udp datagrams. Each message is two parts, the peer's
//! address (`ip:port`) then the body, both ways; a send of a first part without ZMQ_SNDMORE,
//! or of a second part with it, is EINVAL. One endpoint (its udp socket) at a time: a second
//! pipe is refused, as PAIR's.

use super::pipes::Pipes;
use super::SocketType;
use crate::error::{Error, Result};
use crate::msg::Msg;

#[derive(Default)]
pub struct Dgram {
    pipe: Option<usize>,
    /// The address part was sent: the body comes next.
    more_out: bool,
}

impl SocketType for Dgram {
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, _li: bool) {
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
        // The address part must say more follows; the body must not.
        if msg.more() == self.more_out {
            return Err(Error::Inval);
        }
        let more = msg.more();
        let p = pipes.get(idx);
        let written = if self.more_out {
            p.write_unchecked(msg.take());
            true
        } else {
            match p.write(msg.take()) {
                Ok(()) => true,
                Err(m) => {
                    *msg = m;
                    false
                }
            }
        };
        if !written {
            return Err(Error::Again);
        }
        if !more {
            p.flush();
        }
        self.more_out = !self.more_out;
        Ok(())
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let Some(idx) = self.pipe else {
            return Err(Error::Again);
        };
        *msg = pipes.get(idx).read().ok_or(Error::Again)?;
        Ok(())
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
            self.more_out = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::pipes::harness::{parts, Harness};

    #[test]
    fn messages_are_an_address_then_a_body() {
        let mut h = Harness::new();
        let mut s = Dgram::default();
        let p = h.connect(&mut s, [0, 0]);
        assert_eq!(h.send(&mut s, &[b"body only"]), Err(Error::Inval));
        h.send(&mut s, &[b"127.0.0.1:5556", b"body"]).unwrap();
        assert_eq!(h.peer_recv(p), vec![parts(&[b"127.0.0.1:5556", b"body"])]);
        assert!(h.peer_send(p, &[b"127.0.0.1:5557", b"reply"]));
        assert_eq!(
            h.recv(&mut s).unwrap(),
            parts(&[b"127.0.0.1:5557", b"reply"])
        );
    }
}
