//! What the ZMTP and raw engines share (libzmq's `stream_engine_base`): readiness kept
//! across edge-triggered events, the write loop over an [`Encoder`], the last write at close.
//!
//! Invariant: `readable` / `writable` flags are only cleared by a read or write that returned
//! WouldBlock, by a short read (the ZMTP engine: the socket was drained, and new bytes come
//! with a new edge, unless the peer's FIN was already reported), or by the engine giving up;
//! they are set again by the next readiness event.
//!
//! Fairness: a loop that reads (or accepts) until WouldBlock makes at most
//! [`READS_PER_ROUND`] calls each time its object is driven, when the I/O thread can call it
//! back (`IoCtx::has_rounds`); then it asks for the next round and stops (an object driven
//! again in the same round, by a command, reads as much again: still bounded). A peer that keeps its
//! socket full (a flood of bytes, datagrams or connections) cannot hold the thread: its other
//! connections and its timers (the handshake timeout among them) take their turn. libzmq
//! makes one read or accept per poll event.

use std::io::ErrorKind;

use super::codec::frame::Encoder;
use crate::mechanism::HandshakeFailure;
use crate::transport::connection::Connection;

/// Why an engine stopped (libzmq's `error_reason_t`). The session reports it: a connection
/// or timeout error while the handshake runs raises `HANDSHAKE_FAILED_NO_DETAIL`; a protocol
/// error raises the event its [`HandshakeFailure`] names (none outside the handshake); each
/// is followed by `DISCONNECTED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// The peer closed the connection, or it broke (I/O error).
    Connection,
    /// A deadline passed: the handshake took too long, or heartbeats stopped.
    Timeout,
    /// The peer broke the protocol (a bad frame, greeting or command).
    Protocol(HandshakeFailure),
    /// The mechanism refused a message after the handshake (CURVE: a box that does not
    /// open, a replayed nonce); libzmq raises its handshake event even then.
    Message(HandshakeFailure),
}

impl Closed {
    /// A protocol error that raises no handshake event (framing errors, and anything
    /// after the handshake).
    pub const PROTOCOL: Closed = Closed::Protocol(HandshakeFailure::Silent);
}

/// The result of one step of an engine.
pub type Step<T> = std::result::Result<T, Closed>;

/// Reads or accepts in one round of the I/O thread at most (see the module docs).
pub const READS_PER_ROUND: u32 = 64;

/// The reads a loop may make in this round: [`READS_PER_ROUND`], or no limit when the
/// thread cannot call the object back in its next round.
pub fn reads_this_round(io: &crate::io::io_thread::IoCtx) -> u32 {
    if io.has_rounds() {
        READS_PER_ROUND
    } else {
        u32::MAX
    }
}

/// Sorts an I/O error: WouldBlock clears the readiness `flag`, EINTR is retried by the
/// caller, anything else ends the connection.
#[inline]
pub fn io_err(e: std::io::Error, flag: &mut bool) -> Step<()> {
    match e.kind() {
        ErrorKind::WouldBlock => {
            *flag = false;
            Ok(())
        }
        ErrorKind::Interrupted => Ok(()),
        _ => Err(Closed::Connection),
    }
}

/// Records readiness reported by the poll (errors and hang-ups count for both directions,
/// so the next read or write sees them).
#[inline]
pub fn note_readiness(ev: &mio::event::Event, readable: &mut bool, writable: &mut bool) {
    if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
        *readable = true;
    }
    if ev.is_writable() || ev.is_write_closed() || ev.is_error() {
        *writable = true;
    }
}

/// Writes what `enc` holds until it is empty or the stream would block; true when
/// something was written.
#[inline]
pub fn write_out(stream: &mut Connection, enc: &mut Encoder, writable: &mut bool) -> Step<bool> {
    let mut progress = false;
    while !enc.is_empty() && *writable {
        match stream.write_vectored(&enc.io_slices()) {
            Ok(n) => {
                enc.consume(n);
                progress = true;
            }
            Err(e) => io_err(e, writable)?,
        }
    }
    Ok(progress)
}

/// One last attempt to write what `enc` holds (the connection is being dropped), then
/// removes the stream from the poll.
pub fn close(stream: &mut Connection, enc: Option<&mut Encoder>, registry: &mio::Registry) {
    if let Some(enc) = enc {
        if !enc.is_empty() {
            if let Ok(n) = stream.write_vectored(&enc.io_slices()) {
                enc.consume(n);
            }
        }
    }
    stream.deregister(registry);
}
