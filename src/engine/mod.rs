//! Engines: what runs one connected byte stream for a session (libzmq's `i_engine`).
//!
//! - [`zmtp`]: the ZMTP protocol (greeting, handshake, framed messages); [`codec`] is its
//!   pure part (no I/O).
//! - [`base`]: what engines share (readiness, the write loop, closing).

pub mod base;
pub mod codec;
pub mod zmtp;

/// What the session must do after `drive`.
#[derive(Debug, PartialEq, Eq)]
pub enum EngineStatus {
    /// Nothing: waiting for readiness or pipe activity.
    Running,
    /// The handshake completed; the peer's routing id (may be empty).
    Ready(Vec<u8>),
    /// The connection is over (peer closed, protocol error, timeout).
    Closed,
}
