//! The byte sequences of `capi-tests/test_badpeer.c`, fed to the pure codec the way the
//! engine uses it (greeting, mechanism check, READY with a compatible Socket-Type, then
//! frames and commands): each is refused with an error, whole or byte by byte, never a panic.

use super::command::{self, Properties, ZmtpCommand, SOCKET_TYPE};
use super::error::CodecError;
use super::frame::{Decoder, Framing};
use super::greeting::{GreetingParser, MechanismName, OurGreeting, PeerGreeting, Progress};
use super::socket_type;
use super::testutil::Rng;
use crate::constants::*;
use crate::msg;

/// Why a connection ends, in the engine's terms.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// A codec error.
    Codec(CodecError),
    /// The 3.x mechanism is not ours (NULL).
    MechanismName,
    /// The first frame is not a command, or not READY.
    NotReady,
    /// READY without a Socket-Type a PULL may talk to.
    SocketType,
    /// A command other than PING / PONG in the message phase (for a PULL).
    UnexpectedCommand,
    /// All input taken; the connection would wait for more.
    Waiting,
}

/// Runs a PULL-side connection over `wire`, delivered in chunks of `chunk` bytes.
fn run(wire: &[u8], max_msg_size: i64, chunk: usize) -> Verdict {
    let mut g = GreetingParser::new(&OurGreeting::new(
        MechanismName::Null,
        false,
        ZMQ_PULL as u8,
    ));
    let mut pos = 0;
    let peer = loop {
        if pos == wire.len() {
            return Verdict::Waiting;
        }
        let end = (pos + chunk.min(g.wanted())).min(wire.len());
        match g.feed(&wire[pos..end]) {
            Err(e) => return Verdict::Codec(e),
            Ok((used, p)) => {
                pos += used;
                if let Progress::Done(peer) = p {
                    break peer;
                }
            }
        }
    };
    let mut dec = Decoder::with_buffer(peer.framing(), max_msg_size, 64).unwrap();
    match peer {
        PeerGreeting::V3 { mechanism, .. } if mechanism != MechanismName::Null => {
            return Verdict::MechanismName
        }
        PeerGreeting::V1 { replay } => {
            dec.feed(&g.received()[..replay]);
        }
        _ => {}
    }
    let mut ready = peer.framing() != Framing::V3;
    loop {
        loop {
            let m = match dec.decode() {
                Err(e) => return Verdict::Codec(e),
                Ok(None) => break,
                Ok(Some(m)) => m,
            };
            let is_cmd = m.flags() & msg::COMMAND != 0;
            if !ready {
                if !is_cmd {
                    return Verdict::NotReady;
                }
                match ZmtpCommand::parse(m.data(), MechanismName::Null) {
                    Err(e) => return Verdict::Codec(e),
                    Ok(ZmtpCommand::Ready(p)) => {
                        let ok = p
                            .get(SOCKET_TYPE)
                            .is_some_and(|t| socket_type::compatible_name(ZMQ_PULL, t));
                        if !ok {
                            return Verdict::SocketType;
                        }
                        ready = true;
                    }
                    Ok(_) => return Verdict::NotReady,
                }
            } else if is_cmd {
                match ZmtpCommand::parse(m.data(), MechanismName::Null) {
                    Err(e) => return Verdict::Codec(e),
                    Ok(ZmtpCommand::Ping { .. } | ZmtpCommand::Pong(_)) => {}
                    Ok(_) => return Verdict::UnexpectedCommand,
                }
            }
        }
        if pos == wire.len() {
            return Verdict::Waiting;
        }
        let b = dec.read_buf();
        let k = b.len().min(chunk).min(wire.len() - pos);
        b[..k].copy_from_slice(&wire[pos..pos + k]);
        dec.advance(k);
        pos += k;
    }
}

/// `run` whole, in 7-byte chunks and byte by byte: the same verdict each way.
fn verdict(wire: &[u8], max_msg_size: i64) -> Verdict {
    let v = run(wire, max_msg_size, usize::MAX);
    assert_eq!(run(wire, max_msg_size, 7), v);
    assert_eq!(run(wire, max_msg_size, 1), v);
    v
}

fn greeting(mechanism: &[u8]) -> Vec<u8> {
    let mut g = vec![0u8; 64];
    g[0] = 0xFF;
    g[8] = 1;
    g[9] = 0x7F;
    g[10] = 3;
    g[11] = 1;
    g[12..12 + mechanism.len()].copy_from_slice(mechanism);
    g
}

fn command_frame(name: &[u8], data: &[u8]) -> Vec<u8> {
    let body = 1 + name.len() + data.len();
    assert!(body < 256);
    let mut f = vec![4u8, body as u8, name.len() as u8];
    f.extend_from_slice(name);
    f.extend_from_slice(data);
    f
}

fn handshake(socket_type: &[u8]) -> Vec<u8> {
    let mut w = greeting(b"NULL");
    let mut p = Properties::new();
    p.insert(SOCKET_TYPE, socket_type).unwrap();
    let ready = command::ready(&p).unwrap();
    let mut f = vec![4u8, ready.size() as u8];
    f.extend_from_slice(ready.data());
    w.extend_from_slice(&f);
    w
}

fn long_header(size: u64) -> Vec<u8> {
    let mut h = vec![2u8];
    h.extend_from_slice(&size.to_be_bytes());
    h
}

#[test]
fn a_good_handshake_is_accepted() {
    let mut w = handshake(b"PUSH");
    w.extend_from_slice(&[0, 3, b'a', b'b', b'c']);
    assert_eq!(verdict(&w, -1), Verdict::Waiting);
}

#[test]
fn garbage() {
    let mut rng = Rng::new(7);
    for _ in 0..50 {
        let mut w = rng.bytes(600);
        w[0] = 0xFF;
        w[9] |= 1;
        w[10] = w[10].max(3);
        assert!(matches!(
            verdict(&w, -1),
            Verdict::Codec(CodecError::UnknownMechanism(_))
        ));
    }
    let mut w = rng.bytes(100);
    w[0] = 0;
    assert_eq!(verdict(&w, -1), Verdict::Codec(CodecError::ZeroLength));
    // Random bytes of any shape: whatever the verdict, no panic.
    for _ in 0..300 {
        let n = rng.below(300);
        let w = rng.bytes(n);
        let _ = verdict(&w, if n.is_multiple_of(2) { -1 } else { 100 });
    }
}

#[test]
fn bad_greetings() {
    let mut w = greeting(b"NULL");
    w[10] = 0xFE;
    w[11] = 0xFE;
    w[12..32].fill(0xEE);
    assert!(matches!(
        verdict(&w, -1),
        Verdict::Codec(CodecError::UnknownMechanism(_))
    ));
    assert!(matches!(
        verdict(&greeting(b"BOGUS"), -1),
        Verdict::Codec(CodecError::UnknownMechanism(_))
    ));
    assert_eq!(verdict(&greeting(b"PLAIN"), -1), Verdict::MechanismName);
    assert_eq!(verdict(&greeting(b"CURVE"), -1), Verdict::MechanismName);
}

#[test]
fn bad_ready() {
    // Property value length past the end.
    let mut w = greeting(b"NULL");
    let mut props = vec![11u8];
    props.extend_from_slice(b"Socket-Type");
    props.extend_from_slice(&[0, 0, 200, 0]);
    props.extend_from_slice(b"PUSH");
    w.extend_from_slice(&command_frame(b"READY", &props));
    assert_eq!(verdict(&w, -1), Verdict::Codec(CodecError::InvalidMetadata));
    // Property name length past the end.
    let mut w = greeting(b"NULL");
    w.extend_from_slice(&command_frame(b"READY", &[50, b'S', b'o', b'c']));
    assert_eq!(verdict(&w, -1), Verdict::Codec(CodecError::InvalidMetadata));
    // No Socket-Type; incompatible; unknown.
    let mut w = greeting(b"NULL");
    w.extend_from_slice(&command_frame(b"READY", b""));
    assert_eq!(verdict(&w, -1), Verdict::SocketType);
    assert_eq!(verdict(&handshake(b"PUB"), -1), Verdict::SocketType);
    assert_eq!(verdict(&handshake(b"TOASTER"), -1), Verdict::SocketType);
    // Another command, a message, a name past the end, where READY is due.
    let mut w = greeting(b"NULL");
    w.extend_from_slice(&command_frame(b"BOGUS", b"xyz"));
    assert_eq!(verdict(&w, -1), Verdict::NotReady);
    let mut w = greeting(b"NULL");
    w.extend_from_slice(&[0, 3, b'a', b'b', b'c']);
    assert_eq!(verdict(&w, -1), Verdict::NotReady);
    let mut w = greeting(b"NULL");
    w.extend_from_slice(&[4, 3, 20, b'R', b'E']);
    assert!(matches!(
        verdict(&w, -1),
        Verdict::Codec(CodecError::MalformedCommand(_))
    ));
}

#[test]
fn bad_frames_after_the_handshake() {
    for f in [0x08u8, 0x10, 0x80, 0xF9] {
        let mut w = handshake(b"PUSH");
        w.extend_from_slice(&[f, 3, b'a', b'b', b'c']);
        assert_eq!(
            verdict(&w, -1),
            Verdict::Codec(CodecError::ReservedFlags(f))
        );
    }
    let mut w = handshake(b"PUSH");
    w.extend_from_slice(&command_frame(b"BOGUS", b"xyz"));
    assert_eq!(verdict(&w, -1), Verdict::UnexpectedCommand);
    for size in [1u64 << 62, u64::MAX] {
        let mut w = handshake(b"PUSH");
        w.extend_from_slice(&long_header(size));
        w.extend_from_slice(&[b'x'; 16]);
        assert_eq!(
            verdict(&w, -1),
            Verdict::Codec(CodecError::TooLarge { size, max: -1 })
        );
    }
    // Over MAXMSGSIZE 1000, whole or header only; frames of 600 pass first.
    for (size, body) in [(1001u64, 1001usize), (1 << 20, 0)] {
        let mut w = handshake(b"PUSH");
        w.extend_from_slice(&long_header(size));
        w.extend_from_slice(&vec![b'x'; body]);
        assert_eq!(
            verdict(&w, 1000),
            Verdict::Codec(CodecError::TooLarge { size, max: 1000 })
        );
    }
    let mut w = handshake(b"PUSH");
    w.extend_from_slice(&long_header(600));
    w.extend_from_slice(&[b'y'; 600]);
    w.extend_from_slice(&long_header(1001));
    assert_eq!(
        verdict(&w, 1000),
        Verdict::Codec(CodecError::TooLarge {
            size: 1001,
            max: 1000
        })
    );
    // Truncated frame: waits (the engine ends it on EOF or the handshake timer).
    let mut w = handshake(b"PUSH");
    w.extend_from_slice(&[0, 100, b'a', b'b']);
    assert_eq!(verdict(&w, -1), Verdict::Waiting);
}
