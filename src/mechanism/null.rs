//! The NULL mechanism (RFC 23/ZMTP): each side sends READY with its properties
//! (Socket-Type, and Identity for REQ, DEALER and ROUTER) and checks the peer's socket type.
//!
//! With `ZMQ_ZAP_DOMAIN` set, libzmq asks the ZAP handler about every NULL connection when
//! one is bound. This build has no ZAP client yet, so it fails closed: while a handler is
//! bound, a NULL connection to a socket with a ZAP domain is refused (as libzmq refuses one
//! it cannot ask about under `ZMQ_ZAP_ENFORCE_DOMAIN`: `HANDSHAKE_FAILED_NO_DETAIL` with
//! EFAULT), never let in unasked. With no handler bound it goes on, as libzmq does.

use super::{HandshakeFailure, Mechanism, Setup, Status, Step};
use crate::constants::*;
use crate::engine::codec::command::{self, Properties, RawCommand, ZmtpCommand};
use crate::engine::codec::error::{CodecError, CommandKind};
use crate::engine::codec::greeting::MechanismName;
use crate::engine::codec::socket_type;
use crate::msg::Msg;

/// The reason sent in ERROR to a peer of an incompatible socket type.
const INVALID_SOCKET_TYPE: &[u8] = b"Invalid socket type";

/// One side of a NULL handshake. See the module documentation.
pub struct Null {
    socket_type: i32,
    routing_id: Vec<u8>,
    /// ZAP would have to be asked and cannot be: refuse.
    zap_refuses: bool,
    ready_sent: bool,
    ready_received: bool,
    /// The ERROR to send before closing, if any.
    error_to_send: Option<&'static [u8]>,
    failed: Option<HandshakeFailure>,
    peer: Properties,
}

impl Null {
    pub fn new(setup: &Setup<'_>) -> Null {
        let o = setup.options;
        Null {
            socket_type: o.socket_type,
            routing_id: o.routing_id.clone(),
            zap_refuses: !o.zap_domain.is_empty() && setup.zap_handler,
            ready_sent: false,
            ready_received: false,
            error_to_send: None,
            failed: None,
            peer: Properties::default(),
        }
    }

    fn fail<T>(&mut self, f: HandshakeFailure) -> Step<T> {
        self.failed.get_or_insert(f);
        Err(f)
    }

    /// Our READY: Socket-Type, and Identity for the types that have one.
    fn ready(&self) -> Result<Msg, CodecError> {
        let mut props = Properties::default();
        let name = socket_type::name(self.socket_type).unwrap_or("");
        props.insert(command::SOCKET_TYPE, name.as_bytes())?;
        if matches!(self.socket_type, ZMQ_REQ | ZMQ_DEALER | ZMQ_ROUTER) {
            props.insert(command::IDENTITY, &self.routing_id)?;
        }
        command::ready(&props)
    }
}

impl Mechanism for Null {
    fn name(&self) -> MechanismName {
        MechanismName::Null
    }

    fn next_handshake_command(&mut self) -> Step<Option<Msg>> {
        if let Some(reason) = self.error_to_send.take() {
            return Ok(command::error(reason).ok());
        }
        if self.failed.is_some() || self.ready_sent {
            return Ok(None);
        }
        if self.zap_refuses {
            return self.fail(HandshakeFailure::NoDetail(libc::EFAULT));
        }
        self.ready_sent = true;
        match self.ready() {
            Ok(m) => Ok(Some(m)),
            // Our own properties are valid by construction; never send a broken READY.
            Err(_) => self.fail(HandshakeFailure::Silent),
        }
    }

    fn process_handshake_command(&mut self, body: &[u8]) -> Step<()> {
        let unexpected = HandshakeFailure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND);
        if self.ready_received || self.failed.is_some() {
            return self.fail(unexpected);
        }
        let Ok(raw) = RawCommand::parse(body) else {
            return self.fail(unexpected);
        };
        if !raw.is(command::READY) && !raw.is(command::ERROR) {
            return self.fail(unexpected);
        }
        match ZmtpCommand::parse(body, MechanismName::Null) {
            Ok(ZmtpCommand::Ready(props)) => {
                self.ready_received = true;
                let ok = props
                    .get(command::SOCKET_TYPE)
                    .is_some_and(|t| socket_type::compatible_name(self.socket_type, t));
                if !ok {
                    self.error_to_send = Some(INVALID_SOCKET_TYPE);
                    return self.fail(HandshakeFailure::Silent);
                }
                self.peer = props;
                Ok(())
            }
            Ok(ZmtpCommand::Error(reason)) => {
                self.fail(HandshakeFailure::from_error_reason(reason))
            }
            Err(CodecError::MalformedCommand(CommandKind::Error)) => self.fail(
                HandshakeFailure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR),
            ),
            // READY whose metadata does not parse: libzmq raises no event for it.
            _ => self.fail(HandshakeFailure::Silent),
        }
    }

    fn status(&self) -> Status {
        match self.failed {
            Some(f) => Status::Failed(f),
            None if self.ready_sent && self.ready_received => Status::Ready,
            None => Status::Handshaking,
        }
    }

    fn peer_properties(&self) -> &Properties {
        &self.peer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Options;

    fn null(ty: i32, zap_domain: &[u8], zap_handler: bool) -> Null {
        let mut o = Options::new(ty);
        o.zap_domain = zap_domain.to_vec();
        Null::new(&Setup {
            options: &o,
            zap_handler,
        })
    }

    fn body(m: &Msg) -> Vec<u8> {
        m.data().to_vec()
    }

    fn ready_of(ty: &str, identity: Option<&[u8]>) -> Vec<u8> {
        let mut p = Properties::default();
        p.insert(command::SOCKET_TYPE, ty.as_bytes()).unwrap();
        if let Some(id) = identity {
            p.insert(command::IDENTITY, id).unwrap();
        }
        body(&command::ready(&p).unwrap())
    }

    #[test]
    fn two_compatible_sides_exchange_ready_and_are_ready() {
        let mut a = null(ZMQ_DEALER, b"", false);
        let mut b = null(ZMQ_ROUTER, b"", false);
        let ra = a.next_handshake_command().unwrap().unwrap();
        let rb = b.next_handshake_command().unwrap().unwrap();
        assert!(
            matches!(a.next_handshake_command(), Ok(None)),
            "READY is sent once"
        );
        assert_eq!(a.status(), Status::Handshaking);
        a.process_handshake_command(&body(&rb)).unwrap();
        b.process_handshake_command(&body(&ra)).unwrap();
        assert_eq!(a.status(), Status::Ready);
        assert_eq!(b.status(), Status::Ready);
        assert_eq!(
            b.peer_properties().get(command::SOCKET_TYPE),
            Some(&b"DEALER"[..])
        );
        assert_eq!(b.peer_properties().get(command::IDENTITY), Some(&b""[..]));
        assert!(a.user_id().is_empty());
        assert!(!a.transforms_messages());
    }

    #[test]
    fn identity_is_sent_only_by_the_types_that_have_one() {
        for (ty, has) in [
            (ZMQ_REQ, true),
            (ZMQ_DEALER, true),
            (ZMQ_ROUTER, true),
            (ZMQ_PUSH, false),
            (ZMQ_SUB, false),
        ] {
            let m = null(ty, b"", false)
                .next_handshake_command()
                .unwrap()
                .unwrap();
            let ZmtpCommand::Ready(p) = ZmtpCommand::parse(m.data(), MechanismName::Null).unwrap()
            else {
                panic!("not READY");
            };
            assert_eq!(p.get(command::IDENTITY).is_some(), has, "type {ty}");
        }
    }

    #[test]
    fn an_incompatible_socket_type_fails_silently_after_telling_the_peer() {
        let mut a = null(ZMQ_PUSH, b"", false);
        a.next_handshake_command().unwrap();
        let r = a.process_handshake_command(&ready_of("PUSH", None));
        assert_eq!(r, Err(HandshakeFailure::Silent));
        assert_eq!(a.status(), Status::Failed(HandshakeFailure::Silent));
        let err = a.next_handshake_command().unwrap().unwrap();
        assert_eq!(
            ZmtpCommand::parse(err.data(), MechanismName::Null).unwrap(),
            ZmtpCommand::Error(INVALID_SOCKET_TYPE)
        );
        assert!(matches!(a.next_handshake_command(), Ok(None)));
    }

    #[test]
    fn commands_other_than_ready_and_error_are_unexpected() {
        let unexpected = Err(HandshakeFailure::Protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND,
        ));
        for cmd in [
            body(&command::ping(0, b"").unwrap()),
            b"\x05HELLO".to_vec(),
            b"\x09READY".to_vec(),
            vec![],
        ] {
            let mut a = null(ZMQ_PAIR, b"", false);
            assert_eq!(a.process_handshake_command(&cmd), unexpected, "{cmd:?}");
        }
        let mut a = null(ZMQ_PAIR, b"", false);
        a.process_handshake_command(&ready_of("PAIR", None))
            .unwrap();
        assert_eq!(
            a.process_handshake_command(&ready_of("PAIR", None)),
            unexpected,
            "a second READY"
        );
    }

    #[test]
    fn an_error_command_ends_the_handshake_with_its_reason() {
        let mut a = null(ZMQ_PAIR, b"", false);
        let e = body(&command::error(b"400").unwrap());
        assert_eq!(
            a.process_handshake_command(&e),
            Err(HandshakeFailure::Auth(400))
        );
        let mut a = null(ZMQ_PAIR, b"", false);
        let e = body(&command::error(b"go away").unwrap());
        assert_eq!(
            a.process_handshake_command(&e),
            Err(HandshakeFailure::Silent)
        );
        let mut a = null(ZMQ_PAIR, b"", false);
        assert_eq!(
            a.process_handshake_command(b"\x05ERROR\x05ab"),
            Err(HandshakeFailure::Protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR
            ))
        );
    }

    #[test]
    fn ready_with_broken_metadata_fails_without_an_event() {
        let mut a = null(ZMQ_PAIR, b"", false);
        assert_eq!(
            a.process_handshake_command(b"\x05READY\x0bSocket-Type\x00\x00\x00\x09PAIR"),
            Err(HandshakeFailure::Silent)
        );
    }

    #[test]
    fn a_zap_domain_with_a_bound_handler_is_refused_until_zap_exists() {
        let mut a = null(ZMQ_DEALER, b"global", true);
        assert!(matches!(
            a.next_handshake_command(),
            Err(HandshakeFailure::NoDetail(libc::EFAULT))
        ));
        assert_eq!(
            a.status(),
            Status::Failed(HandshakeFailure::NoDetail(libc::EFAULT))
        );
    }

    #[test]
    fn a_zap_domain_without_a_handler_or_a_handler_without_a_domain_goes_on() {
        for (domain, handler) in [(&b"global"[..], false), (b"", true)] {
            let mut a = null(ZMQ_DEALER, domain, handler);
            assert!(a.next_handshake_command().unwrap().is_some());
            a.process_handshake_command(&ready_of("DEALER", Some(b"")))
                .unwrap();
            assert_eq!(a.status(), Status::Ready);
        }
    }
}
