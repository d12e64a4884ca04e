//! The raw engine of ZMQ_STREAM sockets (libzmq's `raw_engine`): no greeting, no framing.
//!
//! - Peer -> socket: each chunk of bytes one read returns (at most [`IN_BATCH`]) becomes
//!   one single-part message; the socket prefixes it with the peer's routing id.
//! - Socket -> peer: each message's bytes are written as they are, batched.
//! - With ZMQ_STREAM_NOTIFY (the default) an empty message goes to the socket when the
//!   connection starts, and another when it ends (peer closed, I/O error).
//!
//! Invariants: the first `drive` reports `Ready` (the session then has a pipe) and moves no
//! data; the connect notification is the first message delivered, the disconnect
//! notification the last. Messages read while the pipe to the socket is full wait in
//! `pending_in` (one at most) and reading stops until the pipe has room again. Every message
//! delivered carries the connection's metadata (Peer-Address for tcp; the fd for
//! ZMQ_SRCFD). Nothing the peer sends can fail the engine: any bytes are data.

use std::ffi::CString;

use super::base::{self, Closed, Step};
use super::codec::frame::Encoder;
use super::EngineStatus;
use crate::io::io_thread::IoCtx;
use crate::msg::{Metadata, MetadataRef, Msg};
use crate::options::Options;
use crate::pipe::Pipe;
use crate::transport::connection::Connection;

/// Largest chunk read at once, so largest message delivered (libzmq's in_batch_size).
pub const IN_BATCH: usize = 8192;

/// A raw connection. See the module documentation.
pub struct Engine {
    stream: Connection,
    readable: bool,
    writable: bool,
    /// `Ready` was reported.
    started: bool,
    /// ZMQ_STREAM_NOTIFY.
    notify: bool,
    metadata: Option<MetadataRef>,
    buf: Vec<u8>,
    pending_in: Option<Msg>,
    enc: Encoder,
    /// Reads left in this `drive` (see `base`, fairness).
    reads_left: u32,
    /// The read budget ran out with bytes still there: the next round was asked for
    /// (`next_round` clears it).
    resumes: bool,
}

impl Engine {
    /// An engine over a connected stream.
    pub fn new(stream: Connection, options: &Options) -> Engine {
        let mut props = Vec::new();
        if let Connection::Tcp(t) = &stream {
            if let Some(ip) = t
                .peer_addr()
                .ok()
                .and_then(|a| CString::new(a.ip().to_string()).ok())
            {
                props.push(("Peer-Address".to_string(), ip));
            }
        }
        let metadata = Some(MetadataRef::new(
            Metadata::new(props).with_fd(stream.raw_fd()),
        ));
        let notify = options.raw_notify;
        let pending_in = notify.then(|| {
            let mut m = Msg::new();
            m.set_metadata(metadata.clone());
            m
        });
        Engine {
            stream,
            readable: true,
            writable: true,
            started: false,
            notify,
            metadata,
            buf: vec![0; IN_BATCH],
            pending_in,
            enc: Encoder::new(super::codec::frame::Framing::V3),
            reads_left: u32::MAX,
            resumes: false,
        }
    }

    /// The I/O thread's next round came, as `drive` asked: the next `drive` reads on.
    pub fn next_round(&mut self) {
        self.resumes = false;
    }

    /// Registers the stream with the I/O thread.
    pub fn plug(&mut self, io: &mut IoCtx) {
        if self.stream.register(io.registry, io.token()).is_err() {
            self.readable = false;
            self.writable = false;
        }
    }

    /// Whether bytes still wait to be written.
    pub fn has_pending_output(&self) -> bool {
        !self.enc.is_empty()
    }

    /// The connection's fd.
    pub fn fd(&self) -> std::os::fd::RawFd {
        self.stream.raw_fd()
    }

    /// Records readiness reported by the poll.
    pub fn ready(&mut self, ev: &mio::event::Event) {
        base::note_readiness(ev, &mut self.readable, &mut self.writable);
    }

    /// Deregisters and drops the stream (after a last attempt to write what is pending).
    pub fn close(&mut self, io: &mut IoCtx) {
        base::close(&mut self.stream, Some(&mut self.enc), io.registry);
    }

    /// Does all the work possible now. `pipe` is the session's pipe end, if it has one.
    pub fn drive(&mut self, io: &mut IoCtx, pipe: Option<&mut Pipe>) -> EngineStatus {
        if !self.started {
            self.started = true;
            return EngineStatus::Ready(Vec::new());
        }
        self.reads_left = base::reads_this_round(io);
        let resumed = self.resumes;
        let r = match pipe {
            Some(p) => match self.pump(p) {
                Ok(()) => Ok(()),
                Err(e) => {
                    self.disconnected(p);
                    Err(e)
                }
            },
            // No pipe (the socket is ending it): only write out what is left.
            None => {
                base::write_out(&mut self.stream, &mut self.enc, &mut self.writable).map(|_| ())
            }
        };
        if self.resumes && !resumed {
            io.call_next_round();
        }
        match r {
            Ok(()) => EngineStatus::Running,
            Err(e) => EngineStatus::Closed(e),
        }
    }

    /// Moves bytes both ways until nothing moves.
    fn pump(&mut self, pipe: &mut Pipe) -> Step<()> {
        loop {
            let mut progress = false;
            // Peer -> socket.
            if let Some(m) = self.pending_in.take() {
                match pipe.write(m) {
                    Ok(()) => progress = true,
                    Err(m) => self.pending_in = Some(m),
                }
            }
            let read = self.read_in(pipe);
            pipe.flush();
            progress |= read?;
            // Socket -> peer.
            while self.enc.has_room() {
                let Some(m) = pipe.read() else { break };
                self.enc.push_body(m);
            }
            progress |= base::write_out(&mut self.stream, &mut self.enc, &mut self.writable)?;
            if !progress {
                return Ok(());
            }
        }
    }

    /// Reads chunks into the pipe while it has room; true when something was read.
    fn read_in(&mut self, pipe: &mut Pipe) -> Step<bool> {
        let mut progress = false;
        while self.pending_in.is_none() && self.readable {
            if self.reads_left == 0 {
                self.resumes = true;
                break;
            }
            self.reads_left -= 1;
            match self.stream.read(&mut self.buf) {
                Ok(0) => return Err(Closed::Connection),
                Ok(n) => {
                    progress = true;
                    let mut m = Msg::from_slice(&self.buf[..n]).map_err(|_| Closed::Connection)?;
                    m.set_metadata(self.metadata.clone());
                    if let Err(m) = pipe.write(m) {
                        // The socket's queue is full: resume when it gives room back.
                        self.pending_in = Some(m);
                    }
                }
                Err(e) => base::io_err(e, &mut self.readable)?,
            }
        }
        Ok(progress)
    }

    /// The connection ended: what was read goes to the socket, then (ZMQ_STREAM_NOTIFY)
    /// the disconnect notification. Both ignore the HWM: they are the last messages.
    fn disconnected(&mut self, pipe: &mut Pipe) {
        if let Some(m) = self.pending_in.take() {
            pipe.write_unchecked(m);
        }
        if self.notify {
            let mut m = Msg::new();
            m.set_metadata(self.metadata.clone());
            pipe.write_unchecked(m);
        }
        pipe.flush();
    }
}

#[cfg(test)]
#[path = "raw_tests.rs"]
mod tests;
