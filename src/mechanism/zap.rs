//! The ZAP client (RFC 27/ZAP): the request a mechanism sends to the ZAP handler bound at
//! `inproc://zeromq.zap.01`, and the reading of its reply. Pure: frames in, frames out.
//!
//! The session carries the frames over its ZAP pipe (see `crate::session`); the mechanism
//! that asks (NULL with a ZAP domain, the PLAIN and CURVE servers) builds the request with
//! [`request`] and hands the reply to [`parse_reply`].
//!
//! A request is one multipart message, as a REQ socket would send it: an empty delimiter,
//! then version "1.0", request id "1", domain, peer address, our routing id, mechanism
//! name, and the mechanism's credentials. A reply is exactly seven frames: delimiter,
//! version, request id, status code (200, 300, 400 or 500), status text, user id, metadata.
//! Any other shape fails the handshake with libzmq's `ZMQ_PROTOCOL_ERROR_ZAP_*` value.

use super::HandshakeFailure;
use crate::constants::*;
use crate::engine::codec::command::Properties;
use crate::msg::{self, Msg};

/// Where a ZAP handler binds (the name of an inproc endpoint).
pub const ENDPOINT: &str = "zeromq.zap.01";

const VERSION: &[u8] = b"1.0";
const REQUEST_ID: &[u8] = b"1";
/// Frames in a reply.
pub const REPLY_FRAMES: usize = 7;

/// What a request says about the connection, besides the mechanism's credentials.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    /// ZMQ_ZAP_DOMAIN of our socket.
    pub domain: Vec<u8>,
    /// The peer's address (the IP address for tcp).
    pub address: Vec<u8>,
    /// Our socket's routing id (as libzmq sends it).
    pub routing_id: Vec<u8>,
}

/// The frames of a request (MORE on all but the last), delimiter first.
pub fn request(info: &RequestInfo, mechanism: &[u8], credentials: &[&[u8]]) -> Vec<Msg> {
    let mut parts: Vec<&[u8]> = vec![
        b"",
        VERSION,
        REQUEST_ID,
        &info.domain,
        &info.address,
        &info.routing_id,
        mechanism,
    ];
    parts.extend_from_slice(credentials);
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            // A request is small; a failed allocation leaves the part empty, and the
            // handler's answer to a wrong request is what it is.
            let mut m = Msg::from_slice(p).unwrap_or_default();
            if i < last {
                m.set_flags(msg::MORE);
            }
            m
        })
        .collect()
}

/// A ZAP status code the handler may answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCode {
    /// 200: let the peer in.
    Success,
    /// 300: a temporary failure: close without telling the peer.
    TemporaryFailure,
    /// 400: authentication failed: ERROR "400", then close.
    Failure,
    /// 500: the handler failed: ERROR "500", then close.
    InternalError,
}

impl StatusCode {
    fn parse(b: &[u8]) -> Option<StatusCode> {
        Some(match b {
            b"200" => StatusCode::Success,
            b"300" => StatusCode::TemporaryFailure,
            b"400" => StatusCode::Failure,
            b"500" => StatusCode::InternalError,
            _ => return None,
        })
    }

    /// The three digits, as the ERROR command carries them.
    pub fn digits(self) -> &'static [u8] {
        match self {
            StatusCode::Success => b"200",
            StatusCode::TemporaryFailure => b"300",
            StatusCode::Failure => b"400",
            StatusCode::InternalError => b"500",
        }
    }

    /// The failure the monitor reports for it (`HANDSHAKE_FAILED_AUTH`); none for 200.
    pub fn failure(self) -> Option<HandshakeFailure> {
        match self {
            StatusCode::Success => None,
            StatusCode::TemporaryFailure => Some(HandshakeFailure::Auth(300)),
            StatusCode::Failure => Some(HandshakeFailure::Auth(400)),
            StatusCode::InternalError => Some(HandshakeFailure::Auth(500)),
        }
    }
}

/// A well-formed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusCode,
    pub user_id: Vec<u8>,
    /// The handler's metadata, for received messages.
    pub metadata: Properties,
}

/// Reads a reply, checked in libzmq's order: frame count and MORE flags, delimiter,
/// version, request id, status code, metadata.
pub fn parse_reply(frames: &[Msg]) -> Result<Reply, HandshakeFailure> {
    let fail = |code| Err(HandshakeFailure::Protocol(code));
    let well_framed = frames.len() == REPLY_FRAMES
        && frames
            .iter()
            .enumerate()
            .all(|(i, f)| f.more() == (i < REPLY_FRAMES - 1));
    if !well_framed {
        return fail(ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY);
    }
    if !frames[0].data().is_empty() {
        return fail(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED);
    }
    if frames[1].data() != VERSION {
        return fail(ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION);
    }
    if frames[2].data() != REQUEST_ID {
        return fail(ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID);
    }
    let Some(status) = StatusCode::parse(frames[3].data()) else {
        return fail(ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE);
    };
    let Ok(metadata) = Properties::parse(frames[6].data()) else {
        return fail(ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA);
    };
    Ok(Reply {
        status,
        user_id: frames[5].data().to_vec(),
        metadata,
    })
}

/// A mechanism's exchange with the ZAP handler: the request waiting to be sent, then the
/// reply.
#[derive(Default)]
pub struct Exchange {
    request: Option<Vec<Msg>>,
    asked: bool,
    reply: Option<Reply>,
}

impl Exchange {
    /// Queues the request for the session to send.
    pub fn ask(&mut self, request: Vec<Msg>) {
        self.request = Some(request);
        self.asked = true;
    }

    /// The request, once.
    pub fn take_request(&mut self) -> Option<Vec<Msg>> {
        self.request.take()
    }

    /// Asked and not yet answered.
    pub fn is_waiting(&self) -> bool {
        self.asked && self.reply.is_none()
    }

    /// Takes the handler's reply; a malformed one is the failure libzmq reports for it.
    pub fn answer(&mut self, frames: &[Msg]) -> Result<&Reply, HandshakeFailure> {
        if !self.is_waiting() {
            return Err(HandshakeFailure::Protocol(
                ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED,
            ));
        }
        Ok(self.reply.insert(parse_reply(frames)?))
    }

    /// The refusal the reply made (300, 400, 500), if it made one.
    pub fn refusal(&self) -> Option<HandshakeFailure> {
        self.reply.as_ref().and_then(|r| r.status.failure())
    }

    /// The ERROR command that tells the peer of a refusal (none after 300, as RFC 27 says).
    pub fn error_command(&self) -> Option<Msg> {
        let status = self.reply.as_ref()?.status;
        match status {
            StatusCode::Success | StatusCode::TemporaryFailure => None,
            _ => crate::engine::codec::command::error(status.digits()).ok(),
        }
    }

    /// The user id the handler gave (empty: none).
    pub fn user_id(&self) -> &[u8] {
        self.reply.as_ref().map_or(&[], |r| &r.user_id)
    }

    /// The handler's metadata.
    pub fn properties(&self) -> Option<&Properties> {
        self.reply.as_ref().map(|r| &r.metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_of(parts: &[&[u8]]) -> Vec<Msg> {
        let last = parts.len().saturating_sub(1);
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| Msg::part(p, i < last))
            .collect()
    }

    fn metadata(name: &str, value: &[u8]) -> Vec<u8> {
        let mut p = Properties::new();
        p.insert(name, value).unwrap();
        let mut out = Vec::new();
        p.encode(&mut out);
        out
    }

    #[test]
    fn a_request_is_a_req_envelope_then_the_rfc_27_frames_then_the_credentials() {
        let info = RequestInfo {
            domain: b"global".to_vec(),
            address: b"127.0.0.1".to_vec(),
            routing_id: b"IDENT".to_vec(),
        };
        let r = request(&info, b"PLAIN", &[b"admin", b"secret"]);
        let bodies: Vec<&[u8]> = r.iter().map(Msg::data).collect();
        assert_eq!(
            bodies,
            [
                &b""[..],
                b"1.0",
                b"1",
                b"global",
                b"127.0.0.1",
                b"IDENT",
                b"PLAIN",
                b"admin",
                b"secret"
            ]
        );
        let mores: Vec<bool> = r.iter().map(Msg::more).collect();
        assert_eq!(
            mores,
            [true, true, true, true, true, true, true, true, false]
        );
        let null = request(&info, b"NULL", &[]);
        assert_eq!(null.len(), 7);
        assert!(
            !null[6].more(),
            "the mechanism frame ends a request without credentials"
        );
    }

    #[test]
    fn a_well_formed_reply_gives_status_user_id_and_metadata() {
        let md = metadata("Hello", b"World");
        let r = parse_reply(&reply_of(&[
            b"",
            b"1.0",
            b"1",
            b"200",
            b"OK",
            b"anonymous",
            &md,
        ]))
        .unwrap();
        assert_eq!(r.status, StatusCode::Success);
        assert_eq!(r.user_id, b"anonymous");
        assert_eq!(r.metadata.get("Hello"), Some(&b"World"[..]));
        for (code, status, failure) in [
            (
                &b"300"[..],
                StatusCode::TemporaryFailure,
                Some(HandshakeFailure::Auth(300)),
            ),
            (
                b"400",
                StatusCode::Failure,
                Some(HandshakeFailure::Auth(400)),
            ),
            (
                b"500",
                StatusCode::InternalError,
                Some(HandshakeFailure::Auth(500)),
            ),
        ] {
            let r = parse_reply(&reply_of(&[b"", b"1.0", b"1", code, b"", b"", b""])).unwrap();
            assert_eq!(r.status, status);
            assert_eq!(r.status.failure(), failure);
            assert_eq!(r.status.digits(), code);
        }
    }

    #[test]
    fn each_malformed_reply_names_libzmqs_protocol_error() {
        let p = HandshakeFailure::Protocol;
        let cases: Vec<(Vec<&[u8]>, i32)> = vec![
            (
                vec![b"", b"1.0", b"1", b"200", b"", b""],
                ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY,
            ),
            (
                vec![b"", b"1.0", b"1", b"200", b"", b"", b"", b""],
                ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY,
            ),
            (
                vec![b"x", b"1.0", b"1", b"200", b"", b"", b""],
                ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED,
            ),
            (
                vec![b"", b"2.0", b"1", b"200", b"", b"", b""],
                ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION,
            ),
            (
                vec![b"", b"1.0", b"2", b"200", b"", b"", b""],
                ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID,
            ),
            (
                vec![b"", b"1.0", b"1", b"201", b"", b"", b""],
                ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE,
            ),
            (
                vec![b"", b"1.0", b"1", b"600", b"", b"", b""],
                ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE,
            ),
            (
                vec![b"", b"1.0", b"1", b"200", b"", b"", b"\x05Hello\x00\x00"],
                ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA,
            ),
        ];
        for (parts, code) in cases {
            assert_eq!(parse_reply(&reply_of(&parts)), Err(p(code)), "{parts:?}");
        }
        // Seven frames, but the last says more follow.
        let mut r = reply_of(&[b"", b"1.0", b"1", b"200", b"", b"", b""]);
        r[6].set_flags(msg::MORE);
        assert_eq!(
            parse_reply(&r),
            Err(p(ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY))
        );
    }
}
