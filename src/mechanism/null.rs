//! The NULL mechanism (RFC 23/ZMTP): each side sends READY with its properties
//! (Socket-Type, and Identity for REQ, DEALER and ROUTER) and checks the peer's socket type.
//!
//! With `ZMQ_ZAP_DOMAIN` set, the ZAP handler is asked about every connection before our
//! READY goes out (mechanism "NULL", no credentials). With no handler bound the connection
//! goes on unasked, as in libzmq, unless `ZMQ_ZAP_ENFORCE_DOMAIN` is set: then it fails
//! (`HANDSHAKE_FAILED_NO_DETAIL` with EFAULT). A refusal sends ERROR with the status code
//! (none after 300) instead of READY.

use super::{peer_type_compatible, zap, HandshakeFailure, Mechanism, Setup, Status, Step};
use crate::constants::*;
use crate::engine::codec::command::{self, Properties, RawCommand, ZmtpCommand};
use crate::engine::codec::error::{CodecError, CommandKind};
use crate::engine::codec::greeting::MechanismName;
use crate::msg::Msg;

/// The reason sent in ERROR to a peer of an incompatible socket type.
const INVALID_SOCKET_TYPE: &[u8] = b"Invalid socket type";

/// One side of a NULL handshake. See the module documentation.
pub struct Null {
    socket_type: i32,
    /// Our READY, made up front (its properties are valid by construction).
    ready: Option<Msg>,
    /// ZAP is to be asked (a domain is set) and not yet: the request, if a handler is bound.
    zap_pending: Option<Vec<Msg>>,
    /// ZMQ_ZAP_ENFORCE_DOMAIN: with a domain set, no handler means refuse.
    zap_enforce: bool,
    /// A domain is set, no handler is bound, and ZMQ_ZAP_ENFORCE_DOMAIN says refuse.
    zap_enforced_without_handler: bool,
    zap: zap::Exchange,
    ready_sent: bool,
    ready_received: bool,
    /// The ERROR to send before closing, if any.
    error_to_send: Option<Msg>,
    failed: Option<HandshakeFailure>,
    peer: Properties,
}

impl Null {
    pub fn new(setup: &Setup<'_>) -> Null {
        let o = setup.options;
        let zap_required = !o.zap_domain.is_empty();
        Null {
            socket_type: o.socket_type,
            ready: command::ready(&super::basic_properties(o)).ok(),
            zap_pending: (zap_required && setup.zap_handler)
                .then(|| zap::request(&setup.zap_info(), b"NULL", &[])),
            zap_enforce: o.zap_enforce_domain,
            zap_enforced_without_handler: zap_required
                && !setup.zap_handler
                && o.zap_enforce_domain,
            zap: zap::Exchange::default(),
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
}

impl Mechanism for Null {
    fn name(&self) -> MechanismName {
        MechanismName::Null
    }

    fn next_handshake_command(&mut self) -> Step<Option<Msg>> {
        if let Some(m) = self.error_to_send.take() {
            return Ok(Some(m));
        }
        if self.failed.is_some() || self.ready_sent {
            return Ok(None);
        }
        if self.zap_enforced_without_handler {
            return self.fail(HandshakeFailure::NoDetail(libc::EFAULT));
        }
        if let Some(request) = self.zap_pending.take() {
            self.zap.ask(request);
        }
        if self.zap.is_waiting() {
            return Ok(None);
        }
        if let Some(f) = self.zap.refusal() {
            // Refused: ERROR with the status code (nothing after 300), never READY.
            self.failed = Some(f);
            return Ok(self.zap.error_command());
        }
        self.ready_sent = true;
        match self.ready.take() {
            Some(m) => Ok(Some(m)),
            None => self.fail(HandshakeFailure::NoDetail(libc::ENOMEM)),
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
                if !peer_type_compatible(self.socket_type, &props) {
                    self.error_to_send = command::error(INVALID_SOCKET_TYPE).ok();
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
            Some(f) if self.zap.refusal() == Some(f) => Status::Refused(f),
            Some(f) => Status::Failed(f),
            None if self.ready_sent && self.ready_received => Status::Ready,
            None => Status::Handshaking,
        }
    }

    fn peer_properties(&self) -> &Properties {
        &self.peer
    }

    fn user_id(&self) -> &[u8] {
        self.zap.user_id()
    }

    fn zap_properties(&self) -> Option<&Properties> {
        self.zap.properties()
    }

    fn zap_request(&mut self) -> Option<Vec<Msg>> {
        self.zap.take_request()
    }

    fn zap_reply(&mut self, reply: Option<&[Msg]>) -> Step<()> {
        let Some(frames) = reply else {
            // The handler went away after we looked: as if none had been bound.
            if self.zap_enforce {
                return self.fail(HandshakeFailure::NoDetail(libc::EFAULT));
            }
            self.zap = zap::Exchange::default();
            return Ok(());
        };
        match self.zap.answer(frames) {
            Ok(_) => Ok(()),
            Err(f) => self.fail(f),
        }
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
            peer_address: "127.0.0.1",
        })
    }

    fn zap_reply(status: &[u8], user_id: &[u8]) -> Vec<Msg> {
        let parts: [&[u8]; 7] = [b"", b"1.0", b"1", status, b"", user_id, b""];
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| Msg::part(p, i < 6))
            .collect()
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
    fn with_a_zap_domain_and_a_handler_ready_waits_for_the_handlers_yes() {
        let mut a = null(ZMQ_DEALER, b"global", true);
        assert!(matches!(a.next_handshake_command(), Ok(None)));
        let req = a.zap_request().expect("a request for the handler");
        let bodies: Vec<&[u8]> = req.iter().map(Msg::data).collect();
        assert_eq!(
            bodies,
            [
                &b""[..],
                b"1.0",
                b"1",
                b"global",
                b"127.0.0.1",
                b"",
                b"NULL"
            ]
        );
        assert!(a.zap_request().is_none(), "asked once");
        // The peer's READY may come while the handler thinks.
        a.process_handshake_command(&ready_of("DEALER", Some(b"")))
            .unwrap();
        assert_eq!(a.status(), Status::Handshaking);
        a.zap_reply(Some(&zap_reply(b"200", b"anonymous"))).unwrap();
        assert!(a.next_handshake_command().unwrap().is_some(), "READY");
        assert_eq!(a.status(), Status::Ready);
        assert_eq!(a.user_id(), b"anonymous");
    }

    #[test]
    fn a_zap_refusal_sends_error_with_the_status_except_after_300() {
        for (status, error) in [(&b"400"[..], true), (b"500", true), (b"300", false)] {
            let mut a = null(ZMQ_DEALER, b"global", true);
            assert!(matches!(a.next_handshake_command(), Ok(None)));
            a.zap_request().unwrap();
            a.zap_reply(Some(&zap_reply(status, b""))).unwrap();
            let sent = a.next_handshake_command().unwrap();
            match sent {
                Some(m) => {
                    assert!(error, "{status:?}");
                    assert_eq!(
                        ZmtpCommand::parse(m.data(), MechanismName::Null).unwrap(),
                        ZmtpCommand::Error(status)
                    );
                }
                None => assert!(!error, "{status:?}"),
            }
            assert!(
                matches!(a.next_handshake_command(), Ok(None)),
                "never READY"
            );
            let code = u32::from(status[0] - b'0') * 100;
            assert_eq!(a.status(), Status::Refused(HandshakeFailure::Auth(code)));
        }
    }

    #[test]
    fn a_malformed_zap_reply_fails_with_its_protocol_error() {
        let mut a = null(ZMQ_DEALER, b"global", true);
        let _ = a.next_handshake_command();
        a.zap_request().unwrap();
        let f = HandshakeFailure::Protocol(ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE);
        assert_eq!(a.zap_reply(Some(&zap_reply(b"201", b""))), Err(f));
        assert_eq!(a.status(), Status::Failed(f));
    }

    #[test]
    fn enforce_domain_without_a_handler_refuses_and_a_vanished_handler_is_no_handler() {
        let mut o = Options::new(ZMQ_DEALER);
        o.zap_domain = b"global".to_vec();
        o.zap_enforce_domain = true;
        let setup = |zap_handler| Setup {
            options: &o,
            zap_handler,
            peer_address: "",
        };
        let mut a = Null::new(&setup(false));
        assert!(matches!(
            a.next_handshake_command(),
            Err(HandshakeFailure::NoDetail(libc::EFAULT))
        ));
        let mut a = Null::new(&setup(true));
        let _ = a.next_handshake_command();
        a.zap_request().unwrap();
        assert_eq!(
            a.zap_reply(None),
            Err(HandshakeFailure::NoDetail(libc::EFAULT))
        );
        // Without enforcement a handler that vanished is skipped, as an absent one is.
        let mut a = null(ZMQ_DEALER, b"global", true);
        let _ = a.next_handshake_command();
        a.zap_request().unwrap();
        a.zap_reply(None).unwrap();
        assert!(a.next_handshake_command().unwrap().is_some(), "READY");
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
