//! The udp engine (libzmq's `udp_engine`): datagrams both ways for RADIO, DISH and DGRAM.
//!
//! Datagrams, byte-identical with libzmq's:
//! - RADIO / DISH: one message per datagram: the group's length (one byte), the group, the
//!   body. A RADIO's engine only sends (every message of every group goes out: a datagram
//!   has no JOIN); a DISH's only receives, drops what its socket writes (its JOINs and
//!   LEAVEs) and delivers each datagram as a message in its group (the socket filters).
//! - DGRAM: the body alone; the socket's messages are two parts, the peer's address
//!   (`ip:port`) then the body, both ways.
//!
//! Invariants: the first `drive` reports `Ready` (the session then has a pipe) and moves no
//! data. Udp is lossy as libzmq's: a datagram that does not parse, or that finds the pipe
//! to the socket full, is dropped; a message that cannot go out (a bad DGRAM address, too
//! big for a datagram) is dropped. A datagram the socket buffer cannot take now waits in
//! `out` until the socket is writable again. Nothing a peer sends can fail the engine.

use std::ffi::CString;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use super::base;
use super::EngineStatus;
use crate::engine::codec::socket_type::{DGRAM, RADIO};
use crate::io::io_thread::IoCtx;
use crate::msg::{self, Metadata, MetadataRef, Msg};
use crate::options::Options;
use crate::pipe::Pipe;
use crate::transport::udp::UdpSocket;

/// The largest payload of a udp datagram (IPv4: 65535 - 8 - 20).
pub const MAX_DATAGRAM: usize = 65507;

/// What the engine does for its socket type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Sends every message to `dest`, group first.
    Radio(SocketAddr),
    /// Receives messages in groups.
    Dish,
    /// Both ways, the peer's address as a first part.
    Dgram,
}

/// A udp socket's engine. See the module documentation.
pub struct Engine {
    sock: mio::net::UdpSocket,
    kind: Kind,
    readable: bool,
    writable: bool,
    started: bool,
    /// A datagram the socket could not take yet, and where it goes.
    out: Option<(Vec<u8>, SocketAddr)>,
    buf: Vec<u8>,
    /// DISH: the metadata of the last group received, shared while the group repeats.
    group_md: Option<MetadataRef>,
    woke_reader: bool,
    /// Datagrams left to read in this `drive` (see `base`, fairness).
    reads_left: u32,
    /// The budget ran out with datagrams still there: the next round was asked for.
    resumes: bool,
}

impl Engine {
    /// The engine of a udp endpoint's socket, for the socket type in `options`.
    pub fn new(sock: UdpSocket, options: &Options) -> Engine {
        let kind = match (options.socket_type, sock.dest) {
            (RADIO, Some(dest)) => Kind::Radio(dest),
            (DGRAM, _) => Kind::Dgram,
            _ => Kind::Dish,
        };
        let _ = sock.sock.set_nonblocking(true);
        Engine {
            sock: mio::net::UdpSocket::from_std(sock.sock),
            kind,
            readable: true,
            writable: true,
            started: false,
            out: None,
            buf: vec![0; MAX_DATAGRAM + 1],
            group_md: None,
            woke_reader: false,
            reads_left: u32::MAX,
            resumes: false,
        }
    }

    /// The I/O thread's next round came, as `drive` asked: the next `drive` reads on.
    pub fn next_round(&mut self) {
        self.resumes = false;
    }

    /// Registers the socket with the I/O thread.
    pub fn plug(&mut self, io: &mut IoCtx) {
        use mio::{event::Source, Interest};
        let interest = Interest::READABLE | Interest::WRITABLE;
        if self
            .sock
            .register(io.registry, io.token(), interest)
            .is_err()
        {
            self.readable = false;
            self.writable = false;
        }
    }

    /// Whether a datagram still waits to be sent.
    pub fn has_pending_output(&self) -> bool {
        self.out.is_some()
    }

    /// The socket's fd.
    pub fn fd(&self) -> std::os::fd::RawFd {
        self.sock.as_raw_fd()
    }

    /// Records readiness reported by the poll.
    pub fn ready(&mut self, ev: &mio::event::Event) {
        base::note_readiness(ev, &mut self.readable, &mut self.writable);
    }

    /// Deregisters the socket (a datagram still waiting is tried once more).
    pub fn close(&mut self, io: &mut IoCtx) {
        use mio::event::Source;
        self.send_pending();
        let _ = self.sock.deregister(io.registry);
    }

    /// Does all the work possible now. `pipe` is the session's pipe end, if it has one.
    pub fn drive(&mut self, io: &mut IoCtx, pipe: Option<&mut Pipe>) -> EngineStatus {
        if !self.started {
            self.started = true;
            return EngineStatus::Ready(Vec::new());
        }
        self.reads_left = base::reads_this_round(io);
        let resumed = self.resumes;
        match pipe {
            Some(p) => {
                self.receive(p);
                self.send(p);
            }
            None => {
                self.send_pending();
            }
        }
        if self.resumes && !resumed {
            io.call_next_round();
        }
        if std::mem::take(&mut self.woke_reader) {
            io.note_woke_reader();
        }
        EngineStatus::Running
    }

    /// Datagrams -> socket, until the socket has none (or a round's worth was read).
    fn receive(&mut self, pipe: &mut Pipe) {
        if matches!(self.kind, Kind::Radio(_)) {
            return;
        }
        let mut wrote = false;
        while self.readable {
            if self.reads_left == 0 {
                self.resumes = true;
                break;
            }
            self.reads_left -= 1;
            let (n, from) = match self.sock.recv_from(&mut self.buf) {
                Ok(x) => x,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // WouldBlock, or an error the next datagram may not have (an ICMP report):
                // wait for the next edge.
                Err(_) => {
                    self.readable = false;
                    break;
                }
            };
            if n > MAX_DATAGRAM {
                continue;
            }
            wrote |= match self.kind {
                Kind::Dish => self.deliver_in_group(pipe, n),
                Kind::Dgram => self.deliver_from(pipe, n, from),
                Kind::Radio(_) => false,
            };
        }
        if wrote && pipe.flush() {
            self.woke_reader = true;
        }
    }

    /// A DISH's datagram: length, group, body; dropped when it does not parse or the pipe
    /// is full.
    fn deliver_in_group(&mut self, pipe: &mut Pipe, n: usize) -> bool {
        let Some((&len, rest)) = self.buf[..n].split_first() else {
            return false;
        };
        let len = len as usize;
        if rest.len() < len {
            return false;
        }
        let (group, body) = rest.split_at(len);
        let md = match &self.group_md {
            Some(md) if md.group().is_some_and(|g| g.to_bytes() == group) => md.clone(),
            _ => {
                let Ok(name) = CString::new(group) else {
                    return false;
                };
                let md = MetadataRef::new(Metadata::new(Vec::new()).with_group(Some(name)));
                self.group_md = Some(md.clone());
                md
            }
        };
        let Ok(mut m) = Msg::from_slice(body) else {
            return false;
        };
        m.set_metadata(Some(md));
        pipe.write(m).is_ok()
    }

    /// A DGRAM's datagram: the sender's address as a first part, then the body; dropped
    /// when the pipe is full.
    fn deliver_from(&mut self, pipe: &mut Pipe, n: usize, from: SocketAddr) -> bool {
        // With its C string's NUL, as libzmq's.
        let mut text = address_text(&from).into_bytes();
        text.push(0);
        let (Ok(mut addr), Ok(body)) = (Msg::from_slice(&text), Msg::from_slice(&self.buf[..n]))
        else {
            return false;
        };
        addr.set_flags(msg::MORE);
        if pipe.write(addr).is_err() {
            return false;
        }
        pipe.write_unchecked(body);
        true
    }

    /// Tries the datagram that waits; true when none waits any more.
    fn send_pending(&mut self) -> bool {
        while let Some((d, to)) = self.out.as_ref() {
            if !self.writable {
                return false;
            }
            match self.sock.send_to(d, *to) {
                Ok(_) => self.out = None,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.writable = false;
                    return false;
                }
                // Unreachable, too big, ...: udp drops it.
                Err(_) => self.out = None,
            }
        }
        true
    }

    /// Socket -> datagrams, while the socket takes them.
    fn send(&mut self, pipe: &mut Pipe) {
        if self.kind == Kind::Dish {
            // A DISH's JOINs and LEAVEs have nowhere to go over udp.
            while pipe.read().is_some() {}
            return;
        }
        loop {
            if !self.send_pending() {
                return;
            }
            let Some(m) = pipe.read() else { return };
            let datagram = match self.kind {
                Kind::Radio(dest) => {
                    let group = m.group().to_bytes();
                    let mut d = Vec::with_capacity(1 + group.len() + m.size());
                    d.push(group.len() as u8);
                    d.extend_from_slice(group);
                    d.extend_from_slice(m.data());
                    Some((d, dest))
                }
                Kind::Dgram => {
                    // The address part, then the body (written together by the socket).
                    let body = if m.more() { pipe.read() } else { None };
                    match (parse_address(m.data()), body) {
                        (Some(to), Some(b)) => Some((b.data().to_vec(), to)),
                        _ => None,
                    }
                }
                Kind::Dish => None,
            };
            if let Some((d, to)) = datagram {
                if d.len() <= MAX_DATAGRAM {
                    self.out = Some((d, to));
                }
            }
        }
    }
}

/// `ip:port`, as a DGRAM socket receives a peer's address.
fn address_text(a: &SocketAddr) -> String {
    match a {
        SocketAddr::V4(v4) => format!("{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => format!("{}:{}", v4, v6.port()),
            None => format!("{}:{}", v6.ip(), v6.port()),
        },
    }
}

/// A DGRAM message's destination: `ip:port` (an IPv4 literal, a port other than 0), as
/// libzmq reads it; `None` drops the message.
fn parse_address(b: &[u8]) -> Option<SocketAddr> {
    let s = std::str::from_utf8(b).ok()?;
    let s = s.trim_end_matches('\0');
    let (ip, port) = s.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    if port == 0 {
        return None;
    }
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    Some(SocketAddr::from((ip, port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dgram_addresses_read_and_write_as_libzmq() {
        assert_eq!(
            parse_address(b"127.0.0.1:5556"),
            Some("127.0.0.1:5556".parse().unwrap())
        );
        assert_eq!(parse_address(b"127.0.0.1:0"), None);
        assert_eq!(parse_address(b"localhost:5556"), None);
        assert_eq!(parse_address(b"127.0.0.1"), None);
        assert_eq!(address_text(&"10.1.2.3:77".parse().unwrap()), "10.1.2.3:77");
    }
}
