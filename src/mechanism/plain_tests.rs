//! PLAIN, both sides, alone: commands in, commands out, the ZAP handler played by the test.

use super::*;
use crate::engine::codec::command::ZmtpCommand;
use crate::options::Options;

fn options(ty: i32, server: bool) -> Options {
    let mut o = Options::new(ty);
    o.mechanism = ZMQ_PLAIN;
    o.as_server = server;
    o.plain_username = b"admin".to_vec();
    o.plain_password = b"password".to_vec();
    o.zap_domain = b"test".to_vec();
    o
}

fn client(ty: i32) -> PlainClient {
    PlainClient::new(&Setup {
        options: &options(ty, false),
        zap_handler: false,
        peer_address: "",
    })
}

fn server(ty: i32, zap_handler: bool) -> PlainServer {
    PlainServer::new(&Setup {
        options: &options(ty, true),
        zap_handler,
        peer_address: "10.0.0.1",
    })
}

fn zap_reply(status: &[u8], user_id: &[u8], metadata: &[u8]) -> Vec<Msg> {
    let parts: [&[u8]; 7] = [b"", b"1.0", b"1", status, b"OK", user_id, metadata];
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
        assert_ne!(m.flags() & crate::msg::COMMAND, 0, "a command frame");
        to.process_handshake_command(m.data())?;
        n += 1;
    }
    Ok(n)
}

fn command_name(m: &Msg) -> Vec<u8> {
    RawCommand::parse(m.data()).unwrap().name.to_vec()
}

#[test]
fn a_client_and_a_server_that_zap_lets_in_complete_the_handshake() {
    let mut c = client(ZMQ_DEALER);
    let mut s = server(ZMQ_ROUTER, true);
    assert!(s.as_server() && !c.as_server());
    assert_eq!(deliver(&mut c, &mut s), Ok(1), "HELLO");
    let req = s.zap_request().expect("the server asks ZAP");
    let bodies: Vec<&[u8]> = req.iter().map(Msg::data).collect();
    assert_eq!(
        bodies,
        [
            &b""[..],
            b"1.0",
            b"1",
            b"test",
            b"10.0.0.1",
            b"",
            b"PLAIN",
            b"admin",
            b"password"
        ]
    );
    assert_eq!(deliver(&mut s, &mut c), Ok(0), "nothing before ZAP answers");
    let mut md = Vec::new();
    let mut p = Properties::new();
    p.insert("Hello", b"World").unwrap();
    p.encode(&mut md);
    s.zap_reply(Some(&zap_reply(b"200", b"admin-id", &md)))
        .unwrap();
    assert_eq!(deliver(&mut s, &mut c), Ok(1), "WELCOME");
    assert_eq!(deliver(&mut c, &mut s), Ok(1), "INITIATE");
    assert_eq!(deliver(&mut s, &mut c), Ok(1), "READY");
    assert_eq!(c.status(), Status::Ready);
    assert_eq!(s.status(), Status::Ready);
    assert_eq!(s.peer_properties().get("Socket-Type"), Some(&b"DEALER"[..]));
    assert_eq!(c.peer_properties().get("Socket-Type"), Some(&b"ROUTER"[..]));
    assert_eq!(s.user_id(), b"admin-id");
    assert_eq!(
        s.zap_properties().unwrap().get("Hello"),
        Some(&b"World"[..])
    );
}

#[test]
fn the_client_sends_hello_with_its_credentials_then_initiate_with_its_properties() {
    let mut c = client(ZMQ_REQ);
    let hello = c.next_handshake_command().unwrap().unwrap();
    assert_eq!(
        ZmtpCommand::parse(hello.data(), MechanismName::Plain).unwrap(),
        ZmtpCommand::Hello {
            username: b"admin",
            password: b"password"
        }
    );
    assert!(c.next_handshake_command().unwrap().is_none(), "then waits");
    c.process_handshake_command(b"\x07WELCOME").unwrap();
    let initiate = c.next_handshake_command().unwrap().unwrap();
    let ZmtpCommand::Initiate(p) =
        ZmtpCommand::parse(initiate.data(), MechanismName::Plain).unwrap()
    else {
        panic!("not INITIATE: {:?}", command_name(&initiate));
    };
    assert_eq!(p.get("Socket-Type"), Some(&b"REQ"[..]));
    assert_eq!(p.get("Identity"), Some(&b""[..]));
}

#[test]
fn a_zap_refusal_sends_error_with_the_status_and_300_sends_nothing() {
    for (status, code) in [(&b"400"[..], 400), (b"500", 500), (b"300", 300)] {
        let mut c = client(ZMQ_DEALER);
        let mut s = server(ZMQ_DEALER, true);
        deliver(&mut c, &mut s).unwrap();
        s.zap_request().unwrap();
        s.zap_reply(Some(&zap_reply(status, b"", b""))).unwrap();
        let refused = HandshakeFailure::Auth(code);
        let sent = s.next_handshake_command().unwrap();
        assert_eq!(s.status(), Status::Refused(refused));
        match sent {
            None => assert_eq!(code, 300),
            Some(e) => {
                assert_eq!(
                    ZmtpCommand::parse(e.data(), MechanismName::Plain).unwrap(),
                    ZmtpCommand::Error(status)
                );
                // The client reports the same status.
                assert_eq!(c.process_handshake_command(e.data()), Err(refused));
                assert_eq!(c.status(), Status::Failed(refused));
            }
        }
        assert!(
            s.next_handshake_command().unwrap().is_none(),
            "nothing more"
        );
    }
}

#[test]
fn a_plain_server_without_a_zap_handler_lets_no_one_in() {
    let mut c = client(ZMQ_DEALER);
    let mut s = server(ZMQ_DEALER, false);
    let f = HandshakeFailure::NoDetail(libc::EFAULT);
    assert_eq!(deliver(&mut c, &mut s), Err(f));
    assert_eq!(s.status(), Status::Failed(f));
    // A handler that went away between the check and the request is the same.
    let mut c = client(ZMQ_DEALER);
    let mut s = server(ZMQ_DEALER, true);
    deliver(&mut c, &mut s).unwrap();
    s.zap_request().unwrap();
    assert_eq!(s.zap_reply(None), Err(f));
}

#[test]
fn a_malformed_hello_names_libzmqs_protocol_error() {
    let p = HandshakeFailure::Protocol;
    for (body, code) in [
        (
            &b"\x05"[..],
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
        ),
        (
            b"\x05HELL",
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
        ),
        (
            b"\x05HALLO\x00\x00",
            ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND,
        ),
        (
            b"\x05HELLO",
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO,
        ),
        (
            b"\x05HELLO\x05adm",
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO,
        ),
        (
            b"\x05HELLO\x01a",
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO,
        ),
        (
            b"\x05HELLO\x01a\x02b",
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO,
        ),
        (
            b"\x05HELLO\x01a\x01bc",
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO,
        ),
    ] {
        let mut s = server(ZMQ_DEALER, true);
        assert_eq!(s.process_handshake_command(body), Err(p(code)), "{body:?}");
    }
    let mut s = server(ZMQ_DEALER, true);
    s.process_handshake_command(b"\x05HELLO\x00\x00").unwrap();
    assert_eq!(
        s.process_handshake_command(b"\x05HELLO\x00\x00"),
        Err(p(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED)),
        "a command while ZAP thinks"
    );
}

#[test]
fn the_client_refuses_commands_out_of_order_or_malformed() {
    let p = HandshakeFailure::Protocol;
    let mut c = client(ZMQ_DEALER);
    c.next_handshake_command().unwrap();
    assert_eq!(
        c.process_handshake_command(b"\x05READY"),
        Err(p(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND))
    );
    let mut c = client(ZMQ_DEALER);
    c.next_handshake_command().unwrap();
    assert_eq!(
        c.process_handshake_command(b"\x07WELCOMEx"),
        Err(p(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME))
    );
    let mut c = client(ZMQ_DEALER);
    c.next_handshake_command().unwrap();
    assert_eq!(
        c.process_handshake_command(b"\x05ERROR\x05ab"),
        Err(p(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR))
    );
    let mut c = client(ZMQ_DEALER);
    c.next_handshake_command().unwrap();
    c.process_handshake_command(b"\x07WELCOME").unwrap();
    c.next_handshake_command().unwrap();
    // READY naming a socket type a DEALER does not talk to.
    let mut bad = Properties::new();
    bad.insert("Socket-Type", b"PUB").unwrap();
    let ready = command::ready(&bad).unwrap();
    assert_eq!(
        c.process_handshake_command(ready.data()),
        Err(p(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA))
    );
}

#[test]
fn an_initiate_of_an_incompatible_type_fails_without_an_event() {
    let mut c = client(ZMQ_PUB);
    let mut s = server(ZMQ_DEALER, true);
    deliver(&mut c, &mut s).unwrap();
    s.zap_request().unwrap();
    s.zap_reply(Some(&zap_reply(b"200", b"", b""))).unwrap();
    deliver(&mut s, &mut c).unwrap();
    assert_eq!(deliver(&mut c, &mut s), Err(HandshakeFailure::Silent));
}
