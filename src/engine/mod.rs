//! Engines: what runs one connected byte stream for a session (libzmq's `i_engine`).
//!
//! - [`zmtp`]: the ZMTP protocol (greeting, handshake, framed messages); [`codec`] is its
//!   pure part (no I/O).
//! - [`raw`]: ZMQ_STREAM sockets: no protocol, each chunk of bytes read is a message and
//!   each message sent is written as is.
//! - [`udp`]: udp datagrams for RADIO, DISH and DGRAM (no connection, no handshake).
//! - [`base`]: what they share (readiness, the write loop, closing).
//!
//! [`Engine`] is the one a session holds; which kind follows from the socket type
//! (`Options::raw_socket`). Every call dispatches on the kind once, then runs that engine's
//! own code: the ZMTP hot path is unchanged.

pub mod base;
pub mod codec;
pub mod raw;
pub mod udp;
pub mod zmtp;

use crate::io::io_thread::IoCtx;
use crate::options::Options;
use crate::pipe::Pipe;
use crate::transport::connection::Connection;

/// What the session must do after `drive`.
#[derive(Debug)]
pub enum EngineStatus {
    /// Nothing: waiting for readiness or pipe activity.
    Running,
    /// The handshake completed (a raw engine: it started); the peer's routing id (may be
    /// empty). The session must make sure it has a pipe to the socket.
    Ready(Vec<u8>),
    /// The connection is over (peer closed, protocol error, timeout), and why.
    Closed(base::Closed),
    /// The security mechanism asks the ZAP handler (RFC 27): the request's frames, for the
    /// session to send; the reply comes back through [`Engine::zap_reply`].
    ZapRequest(Vec<crate::msg::Msg>),
    /// The handshake failed (a ZAP refusal) and the connection stays open a while: raise
    /// the event now; its closing later raises none.
    HandshakeFailed(crate::mechanism::HandshakeFailure),
}

/// The engine of one connection. See the module documentation.
// Held inline in its session, as the ZMTP engine always was: no indirection on its hot path
// (a session holds one engine, so the raw variant's unused bytes cost nothing that counts).
#[allow(clippy::large_enum_variant)]
pub enum Engine {
    Zmtp(zmtp::Engine),
    Raw(raw::Engine),
    Udp(udp::Engine),
}

impl Engine {
    /// The engine the socket's type calls for, over a connected stream. `as_server` is the
    /// listening side; `peer_address` goes into received messages' metadata (ZMTP).
    /// `zap_handler`: a ZAP handler is bound in the socket's context.
    pub fn new(
        stream: Connection,
        options: &Options,
        as_server: bool,
        peer_address: String,
        zap_handler: bool,
    ) -> Engine {
        if options.raw_socket() {
            Engine::Raw(raw::Engine::new(stream, options))
        } else {
            Engine::Zmtp(zmtp::Engine::new(
                stream,
                options,
                as_server,
                peer_address,
                zap_handler,
            ))
        }
    }

    /// Whether the engine has a handshake (so a handshake can succeed or fail); a raw
    /// engine has none.
    pub fn has_handshake_stage(&self) -> bool {
        matches!(self, Engine::Zmtp(_))
    }

    /// Registers the stream with the I/O thread; the engine's timers come back numbered
    /// from `timer_base` up.
    pub fn plug(&mut self, io: &mut IoCtx, timer_base: u32) {
        match self {
            Engine::Zmtp(e) => e.plug(io, timer_base),
            Engine::Raw(e) => e.plug(io),
            Engine::Udp(e) => e.plug(io),
        }
    }

    /// Does all the work possible now. `pipe` is the session's pipe end, if it has one.
    #[inline]
    pub fn drive(&mut self, io: &mut IoCtx, pipe: Option<&mut Pipe>) -> EngineStatus {
        match self {
            Engine::Zmtp(e) => e.drive(io, pipe),
            Engine::Raw(e) => e.drive(io, pipe),
            Engine::Udp(e) => e.drive(io, pipe),
        }
    }

    /// Records readiness reported by the poll.
    #[inline]
    pub fn ready(&mut self, ev: &mio::event::Event) {
        match self {
            Engine::Zmtp(e) => e.ready(ev),
            Engine::Raw(e) => e.ready(ev),
            Engine::Udp(e) => e.ready(ev),
        }
    }

    /// Queues `m` for the peer ahead of what the pipe holds (ZMQ_HELLO_MSG, right when the
    /// engine is ready). ZMTP only: the other engines have no use for it.
    pub fn send_first(&mut self, m: crate::msg::Msg) {
        if let Engine::Zmtp(e) = self {
            e.send_first(m);
        }
    }

    /// The ZAP handler's reply to this engine's request (`None`: no handler could be
    /// reached); `drive` goes on with it.
    pub fn zap_reply(&mut self, reply: Option<&[crate::msg::Msg]>) {
        if let Engine::Zmtp(e) = self {
            e.zap_reply(reply);
        }
    }

    /// The I/O thread's next round came, as the engine asked: `drive` goes on writing (or
    /// reading, after a round's worth of reads).
    pub fn next_round(&mut self) {
        match self {
            Engine::Zmtp(e) => e.next_round(),
            Engine::Raw(e) => e.next_round(),
            Engine::Udp(e) => e.next_round(),
        }
    }

    /// A timer of this engine fired.
    pub fn timer(&mut self, io: &mut IoCtx, timer: u32) {
        match self {
            Engine::Zmtp(e) => e.timer(io, timer),
            Engine::Raw(_) | Engine::Udp(_) => {}
        }
    }

    /// Whether bytes still wait to be written.
    pub fn has_pending_output(&self) -> bool {
        match self {
            Engine::Zmtp(e) => e.has_pending_output(),
            Engine::Raw(e) => e.has_pending_output(),
            Engine::Udp(e) => e.has_pending_output(),
        }
    }

    /// The connection's fd (for monitor events).
    pub fn fd(&self) -> std::os::fd::RawFd {
        match self {
            Engine::Zmtp(e) => e.fd(),
            Engine::Raw(e) => e.fd(),
            Engine::Udp(e) => e.fd(),
        }
    }

    /// Deregisters and drops the stream (after a last attempt to write what is pending).
    pub fn close(&mut self, io: &mut IoCtx) {
        match self {
            Engine::Zmtp(e) => e.close(io),
            Engine::Raw(e) => e.close(io),
            Engine::Udp(e) => e.close(io),
        }
    }
}
