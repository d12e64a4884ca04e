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
mod hostile_tests;
#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests {
    use super::command::{self, SOCKET_TYPE};
    use super::command::{Properties, ZmtpCommand};
    use super::frame::{Decoder, Encoder, Framing};
    use super::greeting::{GreetingParser, MechanismName, OurGreeting, PeerGreeting, Progress};
    use super::*;
    use crate::constants::*;

    /// Two of our greeting parsers exchange bytes until both are done, one byte at a time.
    #[test]
    fn two_peers_negotiate_zmtp31() {
        let mut a = GreetingParser::new(&OurGreeting::new(MechanismName::Plain, false, 5));
        let mut b = GreetingParser::new(&OurGreeting::new(MechanismName::Plain, true, 6));
        for _ in 0..200 {
            if let Some(&x) = a.output().first() {
                a.advance_output(1);
                b.feed(&[x]).unwrap();
            }
            if let Some(&x) = b.output().first() {
                b.advance_output(1);
                a.feed(&[x]).unwrap();
            }
        }
        assert!(a.output_flushed() && b.output_flushed());
        let (pa, pb) = (a.peer().unwrap(), b.peer().unwrap());
        assert!(pa.is_zmtp31() && pb.is_zmtp31());
        assert!(matches!(
            pa,
            PeerGreeting::V3 {
                as_server: true,
                ..
            }
        ));
        assert!(matches!(
            pb,
            PeerGreeting::V3 {
                as_server: false,
                ..
            }
        ));
    }

    /// A 3.x greeting followed at once by READY in the same read: the leftover bytes go to
    /// the decoder, and READY parses.
    #[test]
    fn greeting_leftover_goes_to_the_decoder() {
        let mut props = Properties::new();
        props.insert(SOCKET_TYPE, b"DEALER").unwrap();
        let mut enc = Encoder::new(Framing::V3);
        enc.push(command::ready(&props).unwrap());
        let mut wire = OurGreeting::new(MechanismName::Null, false, 5)
            .to_bytes()
            .to_vec();
        wire.extend_from_slice(enc.first_slice());

        let mut g = GreetingParser::new(&OurGreeting::new(MechanismName::Null, false, 6));
        let (used, p) = g.feed(&wire).unwrap();
        let Progress::Done(peer) = p else { panic!() };
        let mut dec = Decoder::new(peer.framing(), -1).unwrap();
        assert_eq!(dec.feed(&wire[used..]), wire.len() - used);
        let m = dec.decode().unwrap().unwrap();
        assert_eq!(m.flags() & crate::msg::COMMAND, crate::msg::COMMAND);
        let ZmtpCommand::Ready(p) = ZmtpCommand::parse(m.data(), MechanismName::Null).unwrap()
        else {
            panic!()
        };
        let ty = p.get(SOCKET_TYPE).unwrap();
        assert!(socket_type::compatible_name(ZMQ_ROUTER, ty));
    }

    /// A ZMTP 1.0 peer: the bytes the greeting parser read are replayed into a 1.0 decoder,
    /// which yields the peer's identity.
    #[test]
    fn v1_peer_identity_is_replayed() {
        let wire = [6u8, 0, b'h', b'e', b'l', b'l', b'o', 2, 1, b'x'];
        let mut g = GreetingParser::new(&OurGreeting::new(MechanismName::Null, false, 5));
        let (used, p) = g.feed(&wire).unwrap();
        let Progress::Done(peer @ PeerGreeting::V1 { replay }) = p else {
            panic!()
        };
        assert_eq!(peer.framing(), Framing::V1);
        let mut dec = Decoder::new(Framing::V1, -1).unwrap();
        dec.feed(&g.received()[..replay]);
        dec.feed(&wire[used..]);
        assert_eq!(dec.decode().unwrap().unwrap().data(), b"hello");
        let m = dec.decode().unwrap().unwrap();
        assert_eq!(m.data(), b"x");
        assert!(m.more());
        assert!(dec.decode().unwrap().is_none());
    }
}
