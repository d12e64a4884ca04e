//! The PLAIN mechanism (RFC 24/ZMTP-PLAIN): a username and password in clear text,
//! checked by the server's ZAP handler.
//!
//! Client: HELLO (username, password) -> WELCOME -> INITIATE (our properties) -> READY (the
//! server's). Server: HELLO -> ask ZAP -> WELCOME -> INITIATE -> READY; a refusal sends ERROR
//! with the status code (nothing after 300). A PLAIN server without a ZAP handler lets no
//! one in (`HANDSHAKE_FAILED_NO_DETAIL` with EFAULT), as libzmq.
//!
//! Each failure names the event libzmq raises for it at the same point (see
//! [`HandshakeFailure`]).

use super::{basic_properties, peer_type_compatible, zap, HandshakeFailure, Mechanism, Setup};
use super::{Status, Step};
use crate::constants::*;
use crate::engine::codec::command::{self, Properties, RawCommand};
use crate::engine::codec::greeting::MechanismName;
use crate::msg::Msg;

fn protocol(code: i32) -> HandshakeFailure {
    HandshakeFailure::Protocol(code)
}

/// ERROR's reason, or the failure a malformed ERROR is.
fn error_reason(data: &[u8]) -> Result<&[u8], HandshakeFailure> {
    // libzmq reads the reason's length and ignores what follows it.
    let malformed = protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR);
    let (&n, rest) = data.split_first().ok_or(malformed)?;
    rest.get(..n as usize).ok_or(malformed)
}

/// The peer's metadata (READY, INITIATE), checked: it parses and names a socket type ours
/// talks to.
fn peer_metadata(socket_type: i32, data: &[u8]) -> Option<Properties> {
    Properties::parse(data)
        .ok()
        .filter(|p| peer_type_compatible(socket_type, p))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    SendingHello,
    WaitingForWelcome,
    SendingInitiate,
    WaitingForReady,
    Ready,
}

/// The client side of PLAIN. See the module documentation.
pub struct PlainClient {
    state: ClientState,
    hello: Option<Msg>,
    initiate: Option<Msg>,
    socket_type: i32,
    failed: Option<HandshakeFailure>,
    peer: Properties,
}

impl PlainClient {
    pub fn new(setup: &Setup<'_>) -> PlainClient {
        let o = setup.options;
        let (u, p) = (&o.plain_username, &o.plain_password);
        // The options keep both at most 255 bytes.
        let hello =
            command::command_msg(command::HELLO, &[&[u.len() as u8], u, &[p.len() as u8], p]);
        let mut props = Vec::new();
        basic_properties(o).encode(&mut props);
        PlainClient {
            state: ClientState::SendingHello,
            hello: hello.ok(),
            initiate: command::command_msg(command::INITIATE, &[&props]).ok(),
            socket_type: o.socket_type,
            failed: None,
            peer: Properties::default(),
        }
    }

    fn fail<T>(&mut self, f: HandshakeFailure) -> Step<T> {
        self.failed.get_or_insert(f);
        Err(f)
    }
}

impl Mechanism for PlainClient {
    fn name(&self) -> MechanismName {
        MechanismName::Plain
    }

    fn next_handshake_command(&mut self) -> Step<Option<Msg>> {
        if self.failed.is_some() {
            return Ok(None);
        }
        let (made, next) = match self.state {
            ClientState::SendingHello => (self.hello.take(), ClientState::WaitingForWelcome),
            ClientState::SendingInitiate => (self.initiate.take(), ClientState::WaitingForReady),
            _ => return Ok(None),
        };
        self.state = next;
        match made {
            Some(m) => Ok(Some(m)),
            None => self.fail(HandshakeFailure::NoDetail(libc::ENOMEM)),
        }
    }

    fn process_handshake_command(&mut self, body: &[u8]) -> Step<()> {
        let unexpected = protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND);
        if self.failed.is_some() {
            return self.fail(unexpected);
        }
        let Ok(raw) = RawCommand::parse(body) else {
            return self.fail(unexpected);
        };
        match raw.name {
            command::WELCOME => {
                if self.state != ClientState::WaitingForWelcome {
                    return self.fail(unexpected);
                }
                if !raw.data.is_empty() {
                    return self.fail(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME));
                }
                self.state = ClientState::SendingInitiate;
                Ok(())
            }
            command::READY => {
                if self.state != ClientState::WaitingForReady {
                    return self.fail(unexpected);
                }
                let Some(props) = peer_metadata(self.socket_type, raw.data) else {
                    return self.fail(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA));
                };
                self.peer = props;
                self.state = ClientState::Ready;
                Ok(())
            }
            command::ERROR => {
                if !matches!(
                    self.state,
                    ClientState::WaitingForWelcome | ClientState::WaitingForReady
                ) {
                    return self.fail(unexpected);
                }
                match error_reason(raw.data) {
                    Ok(reason) => self.fail(HandshakeFailure::from_error_reason(reason)),
                    Err(f) => self.fail(f),
                }
            }
            _ => self.fail(unexpected),
        }
    }

    fn status(&self) -> Status {
        match (self.failed, self.state) {
            (Some(f), _) => Status::Failed(f),
            (None, ClientState::Ready) => Status::Ready,
            _ => Status::Handshaking,
        }
    }

    fn peer_properties(&self) -> &Properties {
        &self.peer
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    WaitingForHello,
    WaitingForZapReply,
    SendingWelcome,
    WaitingForInitiate,
    SendingReady,
    Ready,
    /// Refused by ZAP: the ERROR (if any) is sent, nothing more.
    Refused,
}

/// The server side of PLAIN. See the module documentation.
pub struct PlainServer {
    state: ServerState,
    options_socket_type: i32,
    ready: Option<Msg>,
    zap_handler: bool,
    zap_info: zap::RequestInfo,
    zap: zap::Exchange,
    /// The ERROR telling the peer of a refusal, until sent.
    error_to_send: Option<Msg>,
    failed: Option<HandshakeFailure>,
    peer: Properties,
}

impl PlainServer {
    pub fn new(setup: &Setup<'_>) -> PlainServer {
        PlainServer {
            state: ServerState::WaitingForHello,
            options_socket_type: setup.options.socket_type,
            ready: command::ready(&basic_properties(setup.options)).ok(),
            zap_handler: setup.zap_handler,
            zap_info: setup.zap_info(),
            zap: zap::Exchange::default(),
            error_to_send: None,
            failed: None,
            peer: Properties::default(),
        }
    }

    fn fail<T>(&mut self, f: HandshakeFailure) -> Step<T> {
        self.failed.get_or_insert(f);
        Err(f)
    }

    fn process_hello(&mut self, body: &[u8]) -> Step<()> {
        // libzmq's basic check first: a body that cannot hold its own name.
        if body.len() <= 1 || body.len() <= body[0] as usize {
            return self.fail(protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
            ));
        }
        let Ok(raw) = RawCommand::parse(body) else {
            return self.fail(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND));
        };
        if raw.name != command::HELLO {
            return self.fail(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND));
        }
        let Ok((username, password)) = command::parse_plain_hello(raw.data) else {
            return self.fail(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO));
        };
        if !self.zap_handler {
            // No one to check the password: no one gets in.
            return self.fail(HandshakeFailure::NoDetail(libc::EFAULT));
        }
        self.zap.ask(zap::request(
            &self.zap_info,
            b"PLAIN",
            &[username, password],
        ));
        self.state = ServerState::WaitingForZapReply;
        Ok(())
    }

    fn process_initiate(&mut self, body: &[u8]) -> Step<()> {
        let raw = RawCommand::parse(body)
            .ok()
            .filter(|r| r.name == command::INITIATE);
        let Some(raw) = raw else {
            return self.fail(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND));
        };
        // Metadata that does not parse or names an incompatible type: no event, as libzmq.
        let Some(props) = peer_metadata(self.options_socket_type, raw.data) else {
            return self.fail(HandshakeFailure::Silent);
        };
        self.peer = props;
        self.state = ServerState::SendingReady;
        Ok(())
    }
}

impl Mechanism for PlainServer {
    fn name(&self) -> MechanismName {
        MechanismName::Plain
    }

    fn as_server(&self) -> bool {
        true
    }

    fn next_handshake_command(&mut self) -> Step<Option<Msg>> {
        if self.failed.is_some() {
            return Ok(None);
        }
        match self.state {
            ServerState::SendingWelcome => {
                self.state = ServerState::WaitingForInitiate;
                match command::command_msg(command::WELCOME, &[]) {
                    Ok(m) => Ok(Some(m)),
                    Err(_) => self.fail(HandshakeFailure::NoDetail(libc::ENOMEM)),
                }
            }
            ServerState::SendingReady => {
                self.state = ServerState::Ready;
                match self.ready.take() {
                    Some(m) => Ok(Some(m)),
                    None => self.fail(HandshakeFailure::NoDetail(libc::ENOMEM)),
                }
            }
            ServerState::Refused => Ok(self.error_to_send.take()),
            _ => Ok(None),
        }
    }

    fn process_handshake_command(&mut self, body: &[u8]) -> Step<()> {
        match self.state {
            ServerState::WaitingForHello if self.failed.is_none() => self.process_hello(body),
            ServerState::WaitingForInitiate if self.failed.is_none() => self.process_initiate(body),
            _ => self.fail(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED)),
        }
    }

    fn status(&self) -> Status {
        match (self.failed, self.state) {
            (Some(f), _) => Status::Failed(f),
            (None, ServerState::Ready) => Status::Ready,
            (None, ServerState::Refused) => match self.zap.refusal() {
                Some(f) => Status::Refused(f),
                None => Status::Handshaking,
            },
            _ => Status::Handshaking,
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
            return self.fail(HandshakeFailure::NoDetail(libc::EFAULT));
        };
        if let Err(f) = self.zap.answer(frames) {
            return self.fail(f);
        }
        self.state = if self.zap.refusal().is_some() {
            self.error_to_send = self.zap.error_command();
            ServerState::Refused
        } else {
            ServerState::SendingWelcome
        };
        Ok(())
    }
}

#[cfg(test)]
#[path = "plain_tests.rs"]
mod tests;
