//! ZMTP commands and metadata.
//!
//! A command frame's body is the name (1-byte length, 1..255 letters) followed by the
//! command's data. This module parses and builds those of NULL and PLAIN and of the traffic
//! phase: READY (metadata), ERROR (1-byte reason length, reason), PING (2-byte TTL in
//! deciseconds, up to 16 bytes of context), PONG (context), SUBSCRIBE / CANCEL (ZMTP 3.1,
//! the topic), and PLAIN's HELLO (username and password, each with a 1-byte length),
//! WELCOME (empty) and INITIATE (metadata). CURVE's commands carry encrypted data: its
//! mechanism parses them from a [`RawCommand`].
//!
//! Metadata is a sequence of properties: name (1-byte length, 1..255 of `A-Za-z0-9-_.+`),
//! value (4-byte big-endian length, bytes). [`Properties`] keeps them in order and refuses bad
//! and duplicate (case-insensitive) names.
//!
//! ZMTP 3.0 peers subscribe with data messages instead: first byte 1 (subscribe) or 0
//! (cancel), then the topic ([`sub_message`], [`parse_sub_message`]).

use std::ffi::CString;

use super::error::{CodecError, CommandKind};
use super::greeting::MechanismName;
use crate::msg::{self, Msg};

pub const READY: &[u8] = b"READY";
pub const ERROR: &[u8] = b"ERROR";
pub const PING: &[u8] = b"PING";
pub const PONG: &[u8] = b"PONG";
pub const SUBSCRIBE: &[u8] = b"SUBSCRIBE";
pub const CANCEL: &[u8] = b"CANCEL";
pub const HELLO: &[u8] = b"HELLO";
pub const WELCOME: &[u8] = b"WELCOME";
pub const INITIATE: &[u8] = b"INITIATE";
pub const JOIN: &[u8] = b"JOIN";
pub const LEAVE: &[u8] = b"LEAVE";

/// Well-known property names.
pub const SOCKET_TYPE: &str = "Socket-Type";
pub const IDENTITY: &str = "Identity";
pub const USER_ID: &str = "User-Id";
pub const PEER_ADDRESS: &str = "Peer-Address";

/// Most context bytes a PING carries (and a PONG echoes).
pub const MAX_PING_CONTEXT: usize = 16;

/// Whether `name` is a valid property name: 1..255 bytes of `A-Za-z0-9-_.+`.
pub fn valid_property_name(name: &[u8]) -> bool {
    (1..=255).contains(&name.len())
        && name
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'+'))
}

/// Metadata properties, in the order they were added or received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    props: Vec<(String, Vec<u8>)>,
}

impl Properties {
    pub fn new() -> Properties {
        Properties::default()
    }

    /// Appends a property; `InvalidMetadata` for a bad name, a name already present (names
    /// compare case-insensitively), or a value longer than 4 GiB.
    pub fn insert(&mut self, name: &str, value: &[u8]) -> Result<(), CodecError> {
        if !valid_property_name(name.as_bytes())
            || u32::try_from(value.len()).is_err()
            || self.get(name).is_some()
        {
            return Err(CodecError::InvalidMetadata);
        }
        self.props.push((name.to_owned(), value.to_vec()));
        Ok(())
    }

    /// A property's value, by case-insensitive name.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.props
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The properties in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.props.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.props.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.props.is_empty()
    }

    /// Size of the wire form.
    pub fn encoded_len(&self) -> usize {
        self.props
            .iter()
            .map(|(k, v)| 1 + k.len() + 4 + v.len())
            .sum()
    }

    /// Appends the wire form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len());
        for (k, v) in &self.props {
            out.push(k.len() as u8);
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(&(v.len() as u32).to_be_bytes());
            out.extend_from_slice(v);
        }
    }

    /// Parses the wire form; `InvalidMetadata` when a name is bad, zero-length or repeated,
    /// or a length runs past the end.
    pub fn parse(mut data: &[u8]) -> Result<Properties, CodecError> {
        let mut p = Properties::new();
        while !data.is_empty() {
            let n = data[0] as usize;
            let name = data.get(1..1 + n).ok_or(CodecError::InvalidMetadata)?;
            let rest = &data[1 + n..];
            let len = rest.get(..4).ok_or(CodecError::InvalidMetadata)?;
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let rest = &rest[4..];
            let value = rest.get(..len).ok_or(CodecError::InvalidMetadata)?;
            if !valid_property_name(name) {
                return Err(CodecError::InvalidMetadata);
            }
            // Valid names are ASCII.
            let name = std::str::from_utf8(name).map_err(|_| CodecError::InvalidMetadata)?;
            p.insert(name, value)?;
            data = &rest[len..];
        }
        Ok(p)
    }

    /// The form attached to received messages (`zmq_msg_gets`); values end at their first
    /// NUL byte, as C strings do.
    pub fn to_msg_metadata(&self) -> msg::Metadata {
        msg::Metadata::new(
            self.props
                .iter()
                .map(|(k, v)| {
                    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
                    let c = CString::new(&v[..end]).unwrap_or_default();
                    (k.clone(), c)
                })
                .collect(),
        )
    }
}

/// A command frame split into name and data, without interpreting the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawCommand<'a> {
    pub name: &'a [u8],
    pub data: &'a [u8],
}

impl<'a> RawCommand<'a> {
    /// Splits a command frame's body; the name must be 1..255 letters within the body.
    pub fn parse(body: &'a [u8]) -> Result<RawCommand<'a>, CodecError> {
        let bad = CodecError::MalformedCommand(CommandKind::Other);
        let (&n, rest) = body.split_first().ok_or(bad)?;
        let name = rest.get(..n as usize).ok_or(bad)?;
        if name.is_empty() || !name.iter().all(u8::is_ascii_alphabetic) {
            return Err(bad);
        }
        Ok(RawCommand {
            name,
            data: &rest[n as usize..],
        })
    }

    /// Whether this is the command `name`.
    pub fn is(&self, name: &[u8]) -> bool {
        self.name == name
    }
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZmtpCommand<'a> {
    /// READY of NULL and PLAIN: the peer's metadata.
    Ready(Properties),
    /// ERROR: the reason (0..255 bytes).
    Error(&'a [u8]),
    /// PING: time-to-live in deciseconds (0: none) and context (at most 16 bytes).
    Ping { ttl: u16, context: &'a [u8] },
    /// PONG: the context of the PING it answers.
    Pong(&'a [u8]),
    /// SUBSCRIBE (ZMTP 3.1): the topic.
    Subscribe(&'a [u8]),
    /// CANCEL (ZMTP 3.1): the topic.
    Cancel(&'a [u8]),
    /// JOIN (a DISH to its RADIO): the group.
    Join(&'a [u8]),
    /// LEAVE (a DISH to its RADIO): the group.
    Leave(&'a [u8]),
    /// PLAIN's HELLO.
    Hello {
        username: &'a [u8],
        password: &'a [u8],
    },
    /// PLAIN's WELCOME.
    Welcome,
    /// PLAIN's INITIATE: the client's metadata.
    Initiate(Properties),
    /// Anything else, including every command of CURVE's handshake and MESSAGE.
    Other(RawCommand<'a>),
}

impl<'a> ZmtpCommand<'a> {
    /// Parses a command frame's body. `mechanism` says how READY, HELLO, WELCOME and
    /// INITIATE read: NULL knows READY, PLAIN all four, CURVE none of them (they come back
    /// as [`ZmtpCommand::Other`] for the CURVE mechanism to decrypt).
    pub fn parse(body: &'a [u8], mechanism: MechanismName) -> Result<ZmtpCommand<'a>, CodecError> {
        let raw = RawCommand::parse(body)?;
        let d = raw.data;
        let plainish = mechanism != MechanismName::Curve;
        let plain = mechanism == MechanismName::Plain;
        Ok(match raw.name {
            READY if plainish => ZmtpCommand::Ready(Properties::parse(d)?),
            ERROR => ZmtpCommand::Error(parse_error(d)?),
            PING => {
                let (ttl, context) = parse_ping(d)?;
                ZmtpCommand::Ping { ttl, context }
            }
            PONG => ZmtpCommand::Pong(&d[..d.len().min(MAX_PING_CONTEXT)]),
            SUBSCRIBE => ZmtpCommand::Subscribe(d),
            CANCEL => ZmtpCommand::Cancel(d),
            JOIN => ZmtpCommand::Join(d),
            LEAVE => ZmtpCommand::Leave(d),
            HELLO if plain => {
                let (username, password) = parse_plain_hello(d)?;
                ZmtpCommand::Hello { username, password }
            }
            WELCOME if plain => {
                if !d.is_empty() {
                    return Err(CodecError::MalformedCommand(CommandKind::Welcome));
                }
                ZmtpCommand::Welcome
            }
            INITIATE if plain => ZmtpCommand::Initiate(Properties::parse(d)?),
            _ => ZmtpCommand::Other(raw),
        })
    }
}

/// ERROR's data: the reason, exactly as long as its length byte says.
pub fn parse_error(d: &[u8]) -> Result<&[u8], CodecError> {
    let bad = CodecError::MalformedCommand(CommandKind::Error);
    let (&n, rest) = d.split_first().ok_or(bad)?;
    if rest.len() != n as usize {
        return Err(bad);
    }
    Ok(rest)
}

/// PING's data: TTL and context. A context longer than 16 bytes is cut to 16 (the answer
/// echoes at most that much).
pub fn parse_ping(d: &[u8]) -> Result<(u16, &[u8]), CodecError> {
    if d.len() < 2 {
        return Err(CodecError::MalformedCommand(CommandKind::Ping));
    }
    let ttl = u16::from_be_bytes([d[0], d[1]]);
    let ctx = &d[2..];
    Ok((ttl, &ctx[..ctx.len().min(MAX_PING_CONTEXT)]))
}

/// PLAIN HELLO's data: username and password, nothing after.
pub fn parse_plain_hello(d: &[u8]) -> Result<(&[u8], &[u8]), CodecError> {
    let bad = CodecError::MalformedCommand(CommandKind::Hello);
    let (&un, rest) = d.split_first().ok_or(bad)?;
    let username = rest.get(..un as usize).ok_or(bad)?;
    let rest = &rest[un as usize..];
    let (&pn, rest) = rest.split_first().ok_or(bad)?;
    if rest.len() != pn as usize {
        return Err(bad);
    }
    Ok((username, rest))
}

/// The body of a command: name length, name, then the parts of its data.
#[cfg(any(test, feature = "fuzzing"))]
pub fn command_body(name: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    debug_assert!(!name.is_empty() && name.len() <= 255);
    let mut b = Vec::with_capacity(1 + name.len() + parts.iter().map(|p| p.len()).sum::<usize>());
    b.push(name.len() as u8);
    b.extend_from_slice(name);
    for p in parts {
        b.extend_from_slice(p);
    }
    b
}

/// A command message (COMMAND flag set) from its name and data parts.
pub fn command_msg(name: &[u8], parts: &[&[u8]]) -> Result<Msg, CodecError> {
    let len = 1 + name.len() + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut m = Msg::with_size(len).map_err(|_| CodecError::OutOfMemory)?;
    let d = m.data_mut();
    d[0] = name.len() as u8;
    d[1..1 + name.len()].copy_from_slice(name);
    let mut at = 1 + name.len();
    for p in parts {
        d[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    m.set_flags(msg::COMMAND);
    Ok(m)
}

/// READY with our metadata (NULL and PLAIN).
pub fn ready(props: &Properties) -> Result<Msg, CodecError> {
    let mut d = Vec::new();
    props.encode(&mut d);
    command_msg(READY, &[&d])
}

/// ERROR with a reason (cut to 255 bytes).
pub fn error(reason: &[u8]) -> Result<Msg, CodecError> {
    let r = &reason[..reason.len().min(255)];
    command_msg(ERROR, &[&[r.len() as u8], r])
}

/// PING with a TTL in deciseconds and a context (cut to 16 bytes).
pub fn ping(ttl_deciseconds: u16, context: &[u8]) -> Result<Msg, CodecError> {
    let c = &context[..context.len().min(MAX_PING_CONTEXT)];
    command_msg(PING, &[&ttl_deciseconds.to_be_bytes(), c])
}

/// PONG echoing a PING's context (cut to 16 bytes).
pub fn pong(context: &[u8]) -> Result<Msg, CodecError> {
    command_msg(PONG, &[&context[..context.len().min(MAX_PING_CONTEXT)]])
}

/// SUBSCRIBE (ZMTP 3.1).
pub fn subscribe(topic: &[u8]) -> Result<Msg, CodecError> {
    command_msg(SUBSCRIBE, &[topic])
}

/// CANCEL (ZMTP 3.1).
pub fn cancel(topic: &[u8]) -> Result<Msg, CodecError> {
    command_msg(CANCEL, &[topic])
}

/// JOIN (`join`) or LEAVE of a group, as a DISH tells its RADIO.
pub fn join_leave(join: bool, group: &[u8]) -> Result<Msg, CodecError> {
    command_msg(if join { JOIN } else { LEAVE }, &[group])
}

/// PLAIN's HELLO; each credential at most 255 bytes.
#[cfg(any(test, feature = "fuzzing"))]
pub fn plain_hello(username: &[u8], password: &[u8]) -> Result<Msg, CodecError> {
    if username.len() > 255 || password.len() > 255 {
        return Err(CodecError::MalformedCommand(CommandKind::Hello));
    }
    command_msg(
        HELLO,
        &[
            &[username.len() as u8],
            username,
            &[password.len() as u8],
            password,
        ],
    )
}

/// PLAIN's WELCOME.
#[cfg(any(test, feature = "fuzzing"))]
pub fn plain_welcome() -> Result<Msg, CodecError> {
    command_msg(WELCOME, &[])
}

/// PLAIN's INITIATE with the client's metadata.
#[cfg(any(test, feature = "fuzzing"))]
pub fn plain_initiate(props: &Properties) -> Result<Msg, CodecError> {
    let mut d = Vec::new();
    props.encode(&mut d);
    command_msg(INITIATE, &[&d])
}

/// A ZMTP 3.0 subscription message: 1 (subscribe) or 0 (cancel), then the topic.
pub fn sub_message(subscribe: bool, topic: &[u8]) -> Result<Msg, CodecError> {
    let mut m = Msg::with_size(1 + topic.len()).map_err(|_| CodecError::OutOfMemory)?;
    let d = m.data_mut();
    d[0] = u8::from(subscribe);
    d[1..].copy_from_slice(topic);
    Ok(m)
}

/// Reads a ZMTP 3.0 subscription message: `Some((true, topic))` for subscribe,
/// `Some((false, topic))` for cancel, `None` for any other message.
pub fn parse_sub_message(data: &[u8]) -> Option<(bool, &[u8])> {
    match data.split_first() {
        Some((1, topic)) => Some((true, topic)),
        Some((0, topic)) => Some((false, topic)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::codec::testutil::Rng;

    fn props(p: &[(&str, &[u8])]) -> Properties {
        let mut x = Properties::new();
        for (k, v) in p {
            x.insert(k, v).unwrap();
        }
        x
    }

    #[test]
    fn property_names() {
        assert!(valid_property_name(b"Socket-Type"));
        assert!(valid_property_name(b"X-a.b_c+9"));
        assert!(valid_property_name(&[b'a'; 255]));
        assert!(!valid_property_name(b""));
        assert!(!valid_property_name(&[b'a'; 256]));
        for bad in [&b"a b"[..], b"a:b", b"a\0", b"\xC3\xA9", b"a/b", b"a=b"] {
            assert!(!valid_property_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn properties_round_trip_in_order() {
        let p = props(&[
            (SOCKET_TYPE, b"DEALER"),
            (IDENTITY, b""),
            ("X-Big", &[7u8; 1000]),
        ]);
        let mut w = Vec::new();
        p.encode(&mut w);
        assert_eq!(w.len(), p.encoded_len());
        assert_eq!(&w[..22], b"\x0bSocket-Type\x00\x00\x00\x06DEALER");
        let q = Properties::parse(&w).unwrap();
        assert_eq!(p, q);
        let names: Vec<&str> = q.iter().map(|(k, _)| k).collect();
        assert_eq!(names, [SOCKET_TYPE, IDENTITY, "X-Big"]);
        assert_eq!(q.get("socket-type"), Some(&b"DEALER"[..]));
        assert_eq!(q.get("Nope"), None);
        assert_eq!(q.len(), 3);
        assert!(Properties::parse(&[]).unwrap().is_empty());
    }

    #[test]
    fn properties_malformed() {
        let cases: &[&[u8]] = &[
            b"\x00\x00\x00\x00\x00",                       // zero-length name
            b"\x04Name",                                   // value length missing
            b"\x04Name\x00\x00\x00",                       // value length truncated
            b"\x04Name\x00\x00\x00\x05abcd",               // value past the end
            b"\x05Name",                                   // name past the end
            b"\x04Na e\x00\x00\x00\x00",                   // bad name character
            b"\x04Name\xff\xff\xff\xff",                   // huge value length
            b"\x01a\x00\x00\x00\x00\x01A\x00\x00\x00\x00", // duplicate (case-insensitive)
            b"\x01a\x00\x00\x00\x00\x01",                  // trailing junk
        ];
        for c in cases {
            assert_eq!(
                Properties::parse(c),
                Err(CodecError::InvalidMetadata),
                "{c:?}"
            );
        }
        let mut p = Properties::new();
        p.insert("A", b"1").unwrap();
        assert_eq!(p.insert("a", b"2"), Err(CodecError::InvalidMetadata));
        assert_eq!(p.insert("", b"2"), Err(CodecError::InvalidMetadata));
        assert_eq!(p.insert("b c", b"2"), Err(CodecError::InvalidMetadata));
    }

    #[test]
    fn msg_metadata_conversion() {
        let p = props(&[("User-Id", b"alice"), ("X-Nul", b"ab\0cd")]);
        let m = p.to_msg_metadata();
        assert_eq!(m.get("user-id").unwrap().to_bytes(), b"alice");
        assert_eq!(m.get("X-Nul").unwrap().to_bytes(), b"ab");
    }

    #[test]
    fn raw_command() {
        let r = RawCommand::parse(b"\x05READYrest").unwrap();
        assert!(r.is(READY));
        assert_eq!(r.data, b"rest");
        let r = RawCommand::parse(b"\x04PING").unwrap();
        assert_eq!((r.name, r.data), (&b"PING"[..], &b""[..]));
        let bad = Err(CodecError::MalformedCommand(CommandKind::Other));
        for c in [
            &b""[..],
            b"\x00",
            b"\x00data",
            b"\x06READY",
            b"\x05REA Y",
            b"\x02a1",
        ] {
            assert_eq!(RawCommand::parse(c), bad, "{c:?}");
        }
    }

    fn body(m: &Msg) -> Vec<u8> {
        assert_eq!(m.flags() & msg::COMMAND, msg::COMMAND);
        m.data().to_vec()
    }

    #[test]
    fn ready_round_trip() {
        let p = props(&[(SOCKET_TYPE, b"ROUTER"), (IDENTITY, b"id1")]);
        let b = body(&ready(&p).unwrap());
        assert_eq!(&b[..6], b"\x05READY");
        for mech in [MechanismName::Null, MechanismName::Plain] {
            assert_eq!(
                ZmtpCommand::parse(&b, mech).unwrap(),
                ZmtpCommand::Ready(p.clone())
            );
        }
        // CURVE's READY is encrypted: left to the mechanism.
        assert!(matches!(
            ZmtpCommand::parse(&b, MechanismName::Curve).unwrap(),
            ZmtpCommand::Other(r) if r.is(READY)
        ));
        let mut bad = b.clone();
        bad.push(9);
        assert_eq!(
            ZmtpCommand::parse(&bad, MechanismName::Null),
            Err(CodecError::InvalidMetadata)
        );
        assert_eq!(
            ZmtpCommand::parse(b"\x05READY", MechanismName::Null).unwrap(),
            ZmtpCommand::Ready(Properties::new())
        );
    }

    #[test]
    fn error_command() {
        let b = body(&error(b"Access denied").unwrap());
        assert_eq!(
            ZmtpCommand::parse(&b, MechanismName::Curve).unwrap(),
            ZmtpCommand::Error(b"Access denied")
        );
        let long = body(&error(&[b'x'; 300]).unwrap());
        assert!(matches!(
            ZmtpCommand::parse(&long, MechanismName::Null).unwrap(),
            ZmtpCommand::Error(r) if r.len() == 255
        ));
        let bad = Err(CodecError::MalformedCommand(CommandKind::Error));
        for d in [&b"\x05ERROR"[..], b"\x05ERROR\x03ab", b"\x05ERROR\x01ab"] {
            assert_eq!(ZmtpCommand::parse(d, MechanismName::Null), bad, "{d:?}");
        }
        assert_eq!(
            ZmtpCommand::parse(b"\x05ERROR\x00", MechanismName::Null).unwrap(),
            ZmtpCommand::Error(b"")
        );
    }

    #[test]
    fn ping_pong() {
        let b = body(&ping(300, b"ctx").unwrap());
        assert_eq!(b, b"\x04PING\x01\x2cctx");
        assert_eq!(
            ZmtpCommand::parse(&b, MechanismName::Null).unwrap(),
            ZmtpCommand::Ping {
                ttl: 300,
                context: b"ctx"
            }
        );
        let b = body(&ping(0, &[1u8; 40]).unwrap());
        assert_eq!(b.len(), 5 + 2 + 16);
        let mut long = b"\x04PING\x00\x01".to_vec();
        long.extend_from_slice(&[2u8; 30]);
        assert!(matches!(
            ZmtpCommand::parse(&long, MechanismName::Null).unwrap(),
            ZmtpCommand::Ping { ttl: 1, context } if context.len() == 16
        ));
        for d in [&b"\x04PING"[..], b"\x04PING\x00"] {
            assert_eq!(
                ZmtpCommand::parse(d, MechanismName::Null),
                Err(CodecError::MalformedCommand(CommandKind::Ping))
            );
        }
        let b = body(&pong(b"ctx").unwrap());
        assert_eq!(
            ZmtpCommand::parse(&b, MechanismName::Plain).unwrap(),
            ZmtpCommand::Pong(b"ctx")
        );
        assert_eq!(
            ZmtpCommand::parse(b"\x04PONG", MechanismName::Plain).unwrap(),
            ZmtpCommand::Pong(b"")
        );
    }

    #[test]
    fn subscribe_cancel() {
        let b = body(&subscribe(b"topic").unwrap());
        assert_eq!(
            ZmtpCommand::parse(&b, MechanismName::Null).unwrap(),
            ZmtpCommand::Subscribe(b"topic")
        );
        let b = body(&cancel(b"").unwrap());
        assert_eq!(
            ZmtpCommand::parse(&b, MechanismName::Curve).unwrap(),
            ZmtpCommand::Cancel(b"")
        );
        let m = sub_message(true, b"abc").unwrap();
        assert_eq!(m.data(), b"\x01abc");
        assert_eq!(m.flags() & msg::COMMAND, 0);
        assert_eq!(parse_sub_message(m.data()), Some((true, &b"abc"[..])));
        assert_eq!(
            parse_sub_message(sub_message(false, b"").unwrap().data()),
            Some((false, &b""[..]))
        );
        assert_eq!(parse_sub_message(b""), None);
        assert_eq!(parse_sub_message(b"\x02abc"), None);
    }

    #[test]
    fn plain_commands() {
        let b = body(&plain_hello(b"admin", b"secret").unwrap());
        assert_eq!(b, b"\x05HELLO\x05admin\x06secret");
        assert_eq!(
            ZmtpCommand::parse(&b, MechanismName::Plain).unwrap(),
            ZmtpCommand::Hello {
                username: b"admin",
                password: b"secret"
            }
        );
        // Under NULL or CURVE, HELLO is not PLAIN's.
        assert!(matches!(
            ZmtpCommand::parse(&b, MechanismName::Curve).unwrap(),
            ZmtpCommand::Other(_)
        ));
        assert_eq!(
            ZmtpCommand::parse(b"\x05HELLO\x00\x00", MechanismName::Plain).unwrap(),
            ZmtpCommand::Hello {
                username: b"",
                password: b""
            }
        );
        let bad = Err(CodecError::MalformedCommand(CommandKind::Hello));
        for d in [
            &b"\x05HELLO"[..],
            b"\x05HELLO\x05adm",
            b"\x05HELLO\x05admin",
            b"\x05HELLO\x05admin\x06secre",
            b"\x05HELLO\x05admin\x06secretX",
        ] {
            assert_eq!(ZmtpCommand::parse(d, MechanismName::Plain), bad, "{d:?}");
        }
        assert!(plain_hello(&[0; 256], b"").is_err());

        let b = body(&plain_welcome().unwrap());
        assert_eq!(
            ZmtpCommand::parse(&b, MechanismName::Plain).unwrap(),
            ZmtpCommand::Welcome
        );
        assert_eq!(
            ZmtpCommand::parse(b"\x07WELCOMEx", MechanismName::Plain),
            Err(CodecError::MalformedCommand(CommandKind::Welcome))
        );
        let p = props(&[(SOCKET_TYPE, b"REQ")]);
        let b = body(&plain_initiate(&p).unwrap());
        assert_eq!(
            ZmtpCommand::parse(&b, MechanismName::Plain).unwrap(),
            ZmtpCommand::Initiate(p)
        );
    }

    #[test]
    fn join_and_leave_carry_their_group() {
        let join = join_leave(true, b"tv").unwrap();
        assert_eq!(join.data(), b"\x04JOINtv");
        assert_eq!(
            ZmtpCommand::parse(join.data(), MechanismName::Null).unwrap(),
            ZmtpCommand::Join(b"tv")
        );
        let leave = join_leave(false, b"").unwrap();
        assert_eq!(leave.data(), b"\x05LEAVE");
        assert_eq!(
            ZmtpCommand::parse(leave.data(), MechanismName::Null).unwrap(),
            ZmtpCommand::Leave(b"")
        );
    }

    #[test]
    fn unknown_commands_pass_through() {
        let b = command_body(b"WHATEVER", &[b"data"]);
        assert_eq!(
            ZmtpCommand::parse(&b, MechanismName::Null).unwrap(),
            ZmtpCommand::Other(RawCommand {
                name: b"WHATEVER",
                data: b"data"
            })
        );
        // Names are case-sensitive.
        assert!(matches!(
            ZmtpCommand::parse(b"\x05ready", MechanismName::Null).unwrap(),
            ZmtpCommand::Other(_)
        ));
        let m = command_msg(b"MESSAGE", &[b"a", b"bc"]).unwrap();
        assert_eq!(m.data(), b"\x07MESSAGEabc");
    }

    #[test]
    fn random_bodies_never_panic() {
        let mut rng = Rng::new(3);
        let names: [&[u8]; 9] = [
            READY, ERROR, PING, PONG, SUBSCRIBE, HELLO, WELCOME, INITIATE, b"X",
        ];
        for i in 0..20_000 {
            let n = rng.below(80);
            let tail = rng.bytes(n);
            let b = if i % 2 == 0 {
                command_body(names[rng.below(names.len())], &[&tail])
            } else {
                tail
            };
            for mech in [
                MechanismName::Null,
                MechanismName::Plain,
                MechanismName::Curve,
            ] {
                let _ = ZmtpCommand::parse(&b, mech);
            }
            let _ = Properties::parse(&b);
        }
    }
}
