//! CURVE, both sides, alone: the handshake, MESSAGE boxes, and each way a hostile or broken
//! peer is turned away.

use super::*;
use crate::engine::codec::command::ZmtpCommand;
use crate::options::Options;

struct Keys {
    server_public: [u8; 32],
    server_secret: [u8; 32],
    client_public: [u8; 32],
    client_secret: [u8; 32],
}

fn keys() -> Keys {
    let (sp, ss) = keypair().unwrap();
    let (cp, cs) = keypair().unwrap();
    Keys {
        server_public: sp.to_bytes(),
        server_secret: ss.to_bytes(),
        client_public: cp.to_bytes(),
        client_secret: cs.to_bytes(),
    }
}

fn server_options(k: &Keys, ty: i32) -> Options {
    let mut o = Options::new(ty);
    o.mechanism = ZMQ_CURVE;
    o.as_server = true;
    o.curve_public_key = k.server_public;
    *o.curve_secret_key = k.server_secret;
    o
}

fn client_options(k: &Keys, ty: i32) -> Options {
    let mut o = Options::new(ty);
    o.mechanism = ZMQ_CURVE;
    o.curve_public_key = k.client_public;
    *o.curve_secret_key = k.client_secret;
    o.curve_server_key = k.server_public;
    o
}

fn setup(o: &Options, zap_handler: bool) -> Setup<'_> {
    Setup {
        options: o,
        zap_handler,
        peer_address: "127.0.0.1",
    }
}

fn zap_reply(status: &[u8]) -> Vec<Msg> {
    let parts: [&[u8]; 7] = [b"", b"1.0", b"1", status, b"", b"curve-user", b""];
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| Msg::part(p, i < 6))
        .collect()
}

/// Moves every command `from` has to send into `to`; the first failure `to` reports.
fn deliver(from: &mut dyn Mechanism, to: &mut dyn Mechanism) -> Step<usize> {
    let mut n = 0;
    while let Some(m) = from.next_handshake_command()? {
        to.process_handshake_command(m.data())?;
        n += 1;
    }
    Ok(n)
}

/// A completed handshake without ZAP.
fn connected(k: &Keys) -> (CurveClient, CurveServer) {
    let (co, so) = (client_options(k, ZMQ_DEALER), server_options(k, ZMQ_DEALER));
    let mut c = CurveClient::new(&setup(&co, false));
    let mut s = CurveServer::new(&setup(&so, false));
    assert_eq!(deliver(&mut c, &mut s), Ok(1), "HELLO");
    assert_eq!(deliver(&mut s, &mut c), Ok(1), "WELCOME");
    assert_eq!(deliver(&mut c, &mut s), Ok(1), "INITIATE");
    assert_eq!(deliver(&mut s, &mut c), Ok(1), "READY");
    assert_eq!((c.status(), s.status()), (Status::Ready, Status::Ready));
    (c, s)
}

fn message(body: &[u8], flags: u8) -> Msg {
    let mut m = Msg::from_slice(body).unwrap();
    m.set_flags(flags);
    m
}

#[test]
fn the_handshake_has_libzmqs_sizes_and_ends_ready_on_both_sides() {
    let k = keys();
    let (co, so) = (client_options(&k, ZMQ_REQ), server_options(&k, ZMQ_REP));
    let mut c = CurveClient::new(&setup(&co, false));
    let mut s = CurveServer::new(&setup(&so, false));
    assert!(s.as_server() && !c.as_server());
    let hello = c.next_handshake_command().unwrap().unwrap();
    assert_eq!(hello.size(), 200);
    assert_eq!(&hello.data()[..8], b"\x05HELLO\x01\x00");
    assert_eq!(
        &hello.data()[112..120],
        &1u64.to_be_bytes(),
        "HELLO's nonce is 1"
    );
    s.process_handshake_command(hello.data()).unwrap();
    let welcome = s.next_handshake_command().unwrap().unwrap();
    assert_eq!(welcome.size(), 168);
    c.process_handshake_command(welcome.data()).unwrap();
    let initiate = c.next_handshake_command().unwrap().unwrap();
    assert_eq!(
        &initiate.data()[105..113],
        &2u64.to_be_bytes(),
        "INITIATE's nonce is 2"
    );
    assert_eq!(initiate.size(), 257 + c.metadata.len());
    s.process_handshake_command(initiate.data()).unwrap();
    let ready = s.next_handshake_command().unwrap().unwrap();
    c.process_handshake_command(ready.data()).unwrap();
    assert_eq!(c.peer_properties().get("Socket-Type"), Some(&b"REP"[..]));
    assert_eq!(s.peer_properties().get("Socket-Type"), Some(&b"REQ"[..]));
    assert!(c.transforms_messages() && s.transforms_messages());
}

#[test]
fn messages_travel_boxed_both_ways_with_their_flags() {
    let k = keys();
    let (mut c, mut s) = connected(&k);
    let boxed = c.encode(message(b"hello", msg::MORE)).unwrap();
    assert_eq!(boxed.size(), 33 + 5);
    assert_eq!(&boxed.data()[..8], b"\x07MESSAGE");
    assert_eq!(
        &boxed.data()[8..16],
        &3u64.to_be_bytes(),
        "after HELLO and INITIATE"
    );
    assert!(
        !boxed.data().windows(5).any(|w| w == b"hello"),
        "the body is encrypted"
    );
    let plain = s.decode(boxed).unwrap();
    assert_eq!(plain.data(), b"hello");
    assert!(plain.more());
    let boxed = s
        .encode(message(b"\x04PING\x00\x00", msg::COMMAND))
        .unwrap();
    assert_eq!(&boxed.data()[8..16], &2u64.to_be_bytes(), "after READY");
    let plain = c.decode(boxed).unwrap();
    assert_eq!(plain.flags() & msg::COMMAND, msg::COMMAND);
    assert_eq!(plain.data(), b"\x04PING\x00\x00");
    let empty = s.decode(c.encode(Msg::new()).unwrap()).unwrap();
    assert_eq!(empty.size(), 0);
}

#[test]
fn a_replayed_or_reordered_message_ends_the_connection() {
    let k = keys();
    let (mut c, mut s) = connected(&k);
    let first = c.encode(message(b"one", 0)).unwrap();
    let copy = Msg::from_slice(first.data()).unwrap();
    s.decode(first).unwrap();
    assert_eq!(
        s.decode(copy).unwrap_err(),
        protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE)
    );
    let (mut c, mut s) = connected(&k);
    let a = c.encode(message(b"a", 0)).unwrap();
    let b = c.encode(message(b"b", 0)).unwrap();
    s.decode(b).unwrap();
    assert_eq!(
        s.decode(a).unwrap_err(),
        protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE)
    );
}

#[test]
fn a_tampered_or_malformed_message_is_refused_with_its_reason() {
    let k = keys();
    let (mut c, mut s) = connected(&k);
    let boxed = c.encode(message(b"secret", 0)).unwrap();
    let mut bytes = boxed.data().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    assert_eq!(
        s.decode(Msg::from_slice(&bytes).unwrap()).unwrap_err(),
        cryptographic()
    );
    for (body, code) in [
        (
            &b"\x07MESSAGE"[..],
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE,
        ),
        (
            b"\x07MESSAGE\x00\x00\x00\x00\x00\x00\x00\x09",
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE,
        ),
        (
            b"\x07MASSAGE0123456789012345678901234567",
            ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND,
        ),
        (
            b"\x07",
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
        ),
        (b"", ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
    ] {
        let (_, mut s) = connected(&k);
        assert_eq!(
            s.decode(Msg::from_slice(body).unwrap()).unwrap_err(),
            protocol(code),
            "{body:?}"
        );
    }
}

#[test]
fn a_client_with_the_wrong_server_key_is_refused_at_hello() {
    let k = keys();
    let other = keys();
    let mut co = client_options(&k, ZMQ_DEALER);
    co.curve_server_key = other.server_public;
    let so = server_options(&k, ZMQ_DEALER);
    let mut c = CurveClient::new(&setup(&co, false));
    let mut s = CurveServer::new(&setup(&so, false));
    assert_eq!(deliver(&mut c, &mut s), Err(cryptographic()));
    assert_eq!(s.status(), Status::Failed(cryptographic()));
}

#[test]
fn a_client_without_a_server_key_cannot_make_its_hello() {
    let k = keys();
    let mut co = client_options(&k, ZMQ_DEALER);
    co.curve_server_key = [0; 32];
    let mut c = CurveClient::new(&setup(&co, false));
    assert_eq!(c.next_handshake_command().unwrap_err(), cryptographic());
}

#[test]
fn malformed_handshake_commands_name_libzmqs_protocol_errors() {
    let k = keys();
    let so = server_options(&k, ZMQ_DEALER);
    let co = client_options(&k, ZMQ_DEALER);
    let hello = CurveClient::new(&setup(&co, false))
        .next_handshake_command()
        .unwrap()
        .unwrap();
    let mut short = hello.data().to_vec();
    short.pop();
    let mut long = hello.data().to_vec();
    long.push(0);
    let mut version = hello.data().to_vec();
    version[6] = 2;
    let mut forged = hello.data().to_vec();
    forged[150] ^= 1;
    for (body, want) in [
        (
            short,
            protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO),
        ),
        (
            long,
            protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO),
        ),
        (
            version,
            protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO),
        ),
        (forged, cryptographic()),
        (
            b"\x05READY".to_vec(),
            protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
        ),
        (
            b"\x09".to_vec(),
            protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
        ),
    ] {
        let mut s = CurveServer::new(&setup(&so, false));
        assert_eq!(
            s.process_handshake_command(&body),
            Err(want),
            "{:?}",
            &body[..8.min(body.len())]
        );
    }
    // The client: a WELCOME of the wrong size, a READY before WELCOME, a forged WELCOME.
    let mut c = CurveClient::new(&setup(&co, false));
    c.next_handshake_command().unwrap();
    assert_eq!(
        c.process_handshake_command(&[b"\x07WELCOME"[..].to_vec(), vec![0; 100]].concat()),
        Err(cryptographic())
    );
    let mut c = CurveClient::new(&setup(&co, false));
    c.next_handshake_command().unwrap();
    assert_eq!(
        c.process_handshake_command(&[b"\x05READY"[..].to_vec(), vec![0; 40]].concat()),
        Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND))
    );
    let mut c = CurveClient::new(&setup(&co, false));
    c.next_handshake_command().unwrap();
    assert_eq!(
        c.process_handshake_command(&[b"\x07WELCOME"[..].to_vec(), vec![0; 160]].concat()),
        Err(cryptographic())
    );
}

#[test]
fn an_initiate_with_a_forged_cookie_or_vouch_is_refused() {
    let k = keys();
    let (co, so) = (
        client_options(&k, ZMQ_DEALER),
        server_options(&k, ZMQ_DEALER),
    );
    let mut c = CurveClient::new(&setup(&co, false));
    let mut s = CurveServer::new(&setup(&so, false));
    deliver(&mut c, &mut s).unwrap();
    deliver(&mut s, &mut c).unwrap();
    let initiate = c.next_handshake_command().unwrap().unwrap();
    for at in [20, 60, 110, 200] {
        let mut bytes = initiate.data().to_vec();
        bytes[at] ^= 1;
        let mut s2 = CurveServer::new(&setup(&so, false));
        // A second server never made this cookie: its key differs.
        s2.state = ServerState::WaitingForInitiate;
        assert_eq!(
            s2.process_handshake_command(&bytes),
            Err(cryptographic()),
            "byte {at}"
        );
    }
    let mut cut = initiate.data().to_vec();
    cut.truncate(256);
    assert_eq!(
        s.process_handshake_command(&cut),
        Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE))
    );
}

#[test]
fn the_server_asks_zap_with_the_clients_long_term_key() {
    let k = keys();
    let (co, so) = (
        client_options(&k, ZMQ_DEALER),
        server_options(&k, ZMQ_DEALER),
    );
    let mut c = CurveClient::new(&setup(&co, false));
    let mut s = CurveServer::new(&setup(&so, true));
    deliver(&mut c, &mut s).unwrap();
    deliver(&mut s, &mut c).unwrap();
    deliver(&mut c, &mut s).unwrap();
    let req = s.zap_request().expect("a ZAP request");
    assert_eq!(req[6].data(), b"CURVE");
    assert_eq!(req[7].data(), &k.client_public[..]);
    assert_eq!(deliver(&mut s, &mut c), Ok(0), "nothing until ZAP answers");
    s.zap_reply(Some(&zap_reply(b"200"))).unwrap();
    assert_eq!(deliver(&mut s, &mut c), Ok(1), "READY");
    assert_eq!(c.status(), Status::Ready);
    assert_eq!(s.user_id(), b"curve-user");
    // A refusal: ERROR 400 to the client.
    let mut c = CurveClient::new(&setup(&co, false));
    let mut s = CurveServer::new(&setup(&so, true));
    deliver(&mut c, &mut s).unwrap();
    deliver(&mut s, &mut c).unwrap();
    deliver(&mut c, &mut s).unwrap();
    s.zap_request().unwrap();
    s.zap_reply(Some(&zap_reply(b"400"))).unwrap();
    let e = s.next_handshake_command().unwrap().unwrap();
    assert_eq!(
        ZmtpCommand::parse(e.data(), MechanismName::Curve).unwrap(),
        ZmtpCommand::Error(b"400")
    );
    assert_eq!(s.status(), Status::Refused(HandshakeFailure::Auth(400)));
    assert_eq!(
        c.process_handshake_command(e.data()),
        Err(HandshakeFailure::Auth(400))
    );
}

#[test]
fn without_a_handler_the_server_lets_in_unasked_unless_enforced() {
    let k = keys();
    let co = client_options(&k, ZMQ_DEALER);
    let mut so = server_options(&k, ZMQ_DEALER);
    so.zap_domain = b"global".to_vec();
    so.zap_enforce_domain = true;
    let mut c = CurveClient::new(&setup(&co, false));
    let mut s = CurveServer::new(&setup(&so, false));
    deliver(&mut c, &mut s).unwrap();
    deliver(&mut s, &mut c).unwrap();
    assert_eq!(
        deliver(&mut c, &mut s),
        Err(HandshakeFailure::NoDetail(libc::EFAULT))
    );
}

#[test]
fn public_keys_derive_from_secret_keys() {
    let (public, secret) = keypair().unwrap();
    assert_eq!(public_of(&secret.to_bytes()), public.to_bytes());
    let (other, _) = keypair().unwrap();
    assert_ne!(public.to_bytes(), other.to_bytes(), "fresh keys each time");
}
