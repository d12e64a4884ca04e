//! The pure ZMTP codec: greeting, frames, commands and socket-type names, over byte buffers,
//! with no I/O, so that all of it can be unit-tested and fuzzed alone.
//!
//! - [`greeting`]: our greeting and the incremental parser of the peer's, with version
//!   negotiation (ZMTP 1.0, 2.0, 3.0, 3.1 peers);
//! - [`frame`]: the frame [`Decoder`] (incremental, zero-copy for large bodies) and
//!   [`Encoder`] (batching, zero-copy for large bodies), for the three framings;
//! - [`command`]: READY, ERROR, PING, PONG, SUBSCRIBE, CANCEL, PLAIN's HELLO / WELCOME /
//!   INITIATE, metadata [`Properties`], and the ZMTP 3.0 subscription messages;
//! - [`socket_type`]: the names sent in READY and which types may talk to each other;
//! - [`error`]: [`CodecError`], with the monitor event codes of protocol errors.

pub mod command;
pub mod error;
pub mod frame;
pub mod greeting;
pub mod socket_type;

#[cfg(test)]
pub(crate) mod testutil;

pub use command::{Command, Properties, RawCommand};
pub use error::CodecError;
pub use frame::{Decoder, Encoder, Framing};
pub use greeting::{GreetingParser, Mechanism, OurGreeting, PeerGreeting, Progress, Revision};
