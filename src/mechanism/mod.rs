//! Security mechanisms: what a ZMTP 3.x connection runs between the greeting and the first
//! message (RFC 23/ZMTP § security, 37/ZMTP 3.1), behind one small interface.
//!
//! The ZMTP engine (`crate::engine::zmtp`) owns one [`Mechanism`] per connection, made when
//! the greeting named the mechanism the socket is set up for. It asks the mechanism for the
//! handshake commands to send, hands it every command received while the handshake runs,
//! and reads its [`Status`]. Once `Ready`, the engine takes the peer's properties and user id
//! for the metadata of received messages, and (only when [`Mechanism::transforms_messages`]
//! says so) passes each message through [`Mechanism::encode`] / [`Mechanism::decode`].
//!
//! A mechanism is pure: bytes in, commands out; no I/O, no threads. It runs on the I/O
//! thread of its engine. A failure carries the monitor event libzmq raises for it
//! ([`HandshakeFailure`]); the session emits that event, then `DISCONNECTED`.
//!
//! The server side of PLAIN and CURVE (and NULL with a ZAP domain) asks the ZAP handler
//! about each peer ([`zap`]): the mechanism gives the request ([`Mechanism::zap_request`]),
//! the engine hands it to its session, which carries it over the ZAP pipe and brings the
//! reply back ([`Mechanism::zap_reply`]). A refusal ([`Status::Refused`]) is reported at
//! once, and the connection then stays open and silent until the peer leaves or
//! HANDSHAKE_IVL ends it, as in libzmq: closing at once could overtake the ERROR sent.
//!
//! Implementations: [`null::Null`] (RFC 23's NULL), [`plain::PlainClient`] and
//! [`plain::PlainServer`] (RFC 24's PLAIN), [`curve::CurveClient`] and [`curve::CurveServer`]
//! (RFC 25/26's CURVE).

pub mod curve;
pub mod null;
pub mod plain;
pub mod zap;

use crate::constants::*;
use crate::engine::codec::command::Properties;
use crate::engine::codec::greeting::MechanismName;
use crate::msg::Msg;
use crate::options::Options;

/// Why a handshake failed, as the monitor reports it. libzmq raises its handshake events
/// where the failure is found; the session raises the one named here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeFailure {
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL` with a `ZMQ_PROTOCOL_ERROR_*` value.
    Protocol(i32),
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH` with a ZAP status code (300, 400, 500).
    Auth(u32),
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL` with an errno value.
    NoDetail(i32),
    /// No handshake event: libzmq closes such a connection with `DISCONNECTED` alone (bad
    /// metadata in READY, an incompatible socket type, an ERROR command received).
    Silent,
}

impl HandshakeFailure {
    /// The monitor event and its value, if any.
    pub fn event(self) -> Option<(i32, u32)> {
        match self {
            HandshakeFailure::Protocol(code) => {
                Some((ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, code as u32))
            }
            HandshakeFailure::Auth(status) => Some((ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, status)),
            HandshakeFailure::NoDetail(errno) => {
                Some((ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, errno as u32))
            }
            HandshakeFailure::Silent => None,
        }
    }

    /// What an ERROR command's reason means to the side that receives it: a ZAP status code
    /// (three digits, 300 to 599 in hundreds) is an authentication failure; any other reason
    /// raises no event.
    pub fn from_error_reason(reason: &[u8]) -> HandshakeFailure {
        match reason {
            [d @ b'3'..=b'5', b'0', b'0'] => HandshakeFailure::Auth(u32::from(d - b'0') * 100),
            _ => HandshakeFailure::Silent,
        }
    }
}

/// Where a mechanism is in its handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Commands are still to be exchanged.
    Handshaking,
    /// Both sides are done: messages may flow.
    Ready,
    /// The handshake failed; the connection is to be closed.
    Failed(HandshakeFailure),
    /// The ZAP handler refused the peer (the failure names its status): the event is
    /// raised now; what the mechanism had to say (ERROR, except after 300) is sent, then
    /// the connection stays open and silent until the peer closes it or HANDSHAKE_IVL
    /// passes, as libzmq's does.
    Refused(HandshakeFailure),
}

/// The result of a mechanism step.
pub type Step<T> = std::result::Result<T, HandshakeFailure>;

/// One side of a security handshake. See the module documentation.
pub trait Mechanism: Send {
    /// The mechanism's name in the greeting; a peer whose greeting names another is refused.
    fn name(&self) -> MechanismName;

    /// The greeting's as-server flag (PLAIN and CURVE servers).
    fn as_server(&self) -> bool {
        false
    }

    /// The next command to send, if there is one now (a command message: its body is the
    /// command, its COMMAND flag set). After a failure this may still give the ERROR
    /// command that tells the peer why, before the connection closes.
    fn next_handshake_command(&mut self) -> Step<Option<Msg>>;

    /// Takes a command the peer sent during the handshake (the frame's body).
    fn process_handshake_command(&mut self, body: &[u8]) -> Step<()>;

    /// Where the handshake is.
    fn status(&self) -> Status;

    /// The properties the peer sent (READY, INITIATE) and, with ZAP, those of the
    /// handler's reply; valid once `Ready`.
    fn peer_properties(&self) -> &Properties;

    /// The user id the ZAP handler gave the peer (empty: none).
    fn user_id(&self) -> &[u8] {
        &[]
    }

    /// The metadata the ZAP handler's reply gave the peer, if one was asked.
    fn zap_properties(&self) -> Option<&Properties> {
        None
    }

    /// Whether messages change on the wire after the handshake (CURVE boxes them); when
    /// false, [`Mechanism::encode`] and [`Mechanism::decode`] are never called.
    fn transforms_messages(&self) -> bool {
        false
    }

    /// A message (or command) to send, as it goes on the wire.
    fn encode(&mut self, msg: Msg) -> Step<Msg> {
        Ok(msg)
    }

    /// A frame received after the handshake, as the socket sees it.
    fn decode(&mut self, msg: Msg) -> Step<Msg> {
        Ok(msg)
    }

    /// A request for the ZAP handler, to send now (taken once; see [`zap::request`]).
    fn zap_request(&mut self) -> Option<Vec<Msg>> {
        None
    }

    /// The ZAP handler's reply to the request (its frames), or `None` when no handler
    /// could be reached to ask.
    fn zap_reply(&mut self, reply: Option<&[Msg]>) -> Step<()> {
        let _ = reply;
        Err(HandshakeFailure::Protocol(
            ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED,
        ))
    }
}

/// What a mechanism is told about its connection when it is made.
pub struct Setup<'a> {
    pub options: &'a Options,
    /// A ZAP handler is bound at `inproc://zeromq.zap.01` in the socket's context.
    pub zap_handler: bool,
    /// The peer's address, as the ZAP request names it (the IP address for tcp).
    pub peer_address: &'a str,
}

impl Setup<'_> {
    /// What a ZAP request says about this connection.
    pub fn zap_info(&self) -> zap::RequestInfo {
        zap::RequestInfo {
            domain: self.options.zap_domain.clone(),
            address: self.peer_address.as_bytes().to_vec(),
            routing_id: self.options.routing_id.clone(),
        }
    }
}

/// Makes the mechanism the socket's options call for, after a greeting that named the same
/// mechanism; `None` when this build cannot run it.
pub fn create(setup: &Setup<'_>) -> Option<Box<dyn Mechanism>> {
    match setup.options.mechanism {
        ZMQ_NULL => Some(Box::new(null::Null::new(setup))),
        ZMQ_PLAIN if setup.options.as_server => Some(Box::new(plain::PlainServer::new(setup))),
        ZMQ_PLAIN => Some(Box::new(plain::PlainClient::new(setup))),
        ZMQ_CURVE if setup.options.as_server => Some(Box::new(curve::CurveServer::new(setup))),
        ZMQ_CURVE => Some(Box::new(curve::CurveClient::new(setup))),
        _ => None,
    }
}

/// The properties every READY and INITIATE of NULL, PLAIN and CURVE carries: Socket-Type,
/// Identity for the types that have one (REQ, DEALER, ROUTER), then the application's
/// (ZMQ_METADATA).
pub fn basic_properties(options: &Options) -> Properties {
    use crate::engine::codec::{command, socket_type};
    let mut props = Properties::default();
    let name = socket_type::name(options.socket_type).unwrap_or("");
    // Both names are valid and the routing id is at most 255 bytes: these cannot fail.
    let _ = props.insert(command::SOCKET_TYPE, name.as_bytes());
    if matches!(options.socket_type, ZMQ_REQ | ZMQ_DEALER | ZMQ_ROUTER) {
        let _ = props.insert(command::IDENTITY, &options.routing_id);
    }
    for (name, value) in &options.app_metadata {
        // Names were checked when set (`X-`, at most 255 bytes).
        let _ = props.insert(name, value);
    }
    props
}

/// Whether the peer's properties name a socket type ours talks to.
pub fn peer_type_compatible(socket_type: i32, peer: &Properties) -> bool {
    use crate::engine::codec::{command, socket_type as st};
    peer.get(command::SOCKET_TYPE)
        .is_some_and(|t| st::compatible_name(socket_type, t))
}

/// Whether a connection of a socket with these options must go through ZAP (libzmq's
/// `zap_enabled`): such a socket refuses ZMTP 1.0 and 2.0 peers, which have no handshake.
pub fn zap_enabled(options: &Options) -> bool {
    options.mechanism != ZMQ_NULL || !options.zap_domain.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_reason_that_is_a_zap_status_code_is_an_authentication_failure() {
        let f = HandshakeFailure::from_error_reason;
        assert_eq!(f(b"300"), HandshakeFailure::Auth(300));
        assert_eq!(f(b"400"), HandshakeFailure::Auth(400));
        assert_eq!(f(b"500"), HandshakeFailure::Auth(500));
        for other in [
            &b"200"[..],
            b"600",
            b"401",
            b"40",
            b"4000",
            b"",
            b"Invalid socket type",
        ] {
            assert_eq!(f(other), HandshakeFailure::Silent, "{other:?}");
        }
    }

    #[test]
    fn each_failure_names_its_monitor_event() {
        assert_eq!(
            HandshakeFailure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND).event(),
            Some((
                ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND as u32
            ))
        );
        assert_eq!(
            HandshakeFailure::Auth(400).event(),
            Some((ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400))
        );
        assert_eq!(
            HandshakeFailure::NoDetail(libc::EFAULT).event(),
            Some((ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, libc::EFAULT as u32))
        );
        assert_eq!(HandshakeFailure::Silent.event(), None);
    }
}
