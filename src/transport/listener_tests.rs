//! Listeners, through the sockets that own them: a bound endpoint accepts connections and
//! gives each its own session (and so its own peer for the socket), reports what happens
//! to its monitor, refuses connections that fail the handshake, and when unbound or
//! closed stops accepting and ends its connections. Over tcp on 127.0.0.1 and ipc.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::constants::*;
use crate::ctx::CtxInner;
use crate::session::tests::bench::*;

fn tcp_addr(endpoint: &str) -> &str {
    endpoint.strip_prefix("tcp://").expect("a tcp endpoint")
}

#[test]
fn a_wildcard_bind_listens_on_a_real_port_and_reports_listening() {
    let ctx = CtxInner::new();
    let mut s = socket(&ctx, ZMQ_PULL);
    let mut mon = monitor(&ctx, &mut s);
    let endpoint = bind_tcp(&mut s);
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);
    let (listening, _) = wait_event(&mut mon, ZMQ_EVENT_LISTENING);
    assert_eq!(listening.2, endpoint);
    finish(ctx, vec![s, mon]);
}

#[test]
fn each_accepted_connection_becomes_its_own_peer() {
    let ctx = CtxInner::new();
    let mut router = socket(&ctx, ZMQ_ROUTER);
    let mut mon = monitor(&ctx, &mut router);
    let endpoint = bind_tcp(&mut router);
    let mut dealers = Vec::new();
    for id in [&b"a"[..], b"b"] {
        let mut d = socket(&ctx, ZMQ_DEALER);
        d.setsockopt(ZMQ_ROUTING_ID, id).unwrap();
        d.connect(&endpoint).unwrap();
        send(&mut d, &[b"hello from", id]).unwrap();
        dealers.push(d);
    }
    let mut got = vec![recv(&mut router).unwrap(), recv(&mut router).unwrap()];
    got.sort();
    assert_eq!(
        got,
        vec![
            vec![b"a".to_vec(), b"hello from".to_vec(), b"a".to_vec()],
            vec![b"b".to_vec(), b"hello from".to_vec(), b"b".to_vec()]
        ]
    );
    // Each reply goes back over its own connection.
    send(&mut router, &[b"b", b"for b"]).unwrap();
    send(&mut router, &[b"a", b"for a"]).unwrap();
    assert_eq!(recv(&mut dealers[0]).unwrap(), vec![b"for a".to_vec()]);
    assert_eq!(recv(&mut dealers[1]).unwrap(), vec![b"for b".to_vec()]);
    // Two connections accepted, two handshakes done (in some interleaving).
    let (mut accepted, mut handshaken) = (0, 0);
    while (accepted, handshaken) != (2, 2) {
        let (ev, _, ep) = next_event(&mut mon);
        assert_eq!(ep, endpoint);
        match ev {
            ZMQ_EVENT_ACCEPTED => accepted += 1,
            ZMQ_EVENT_HANDSHAKE_SUCCEEDED => handshaken += 1,
            _ => {}
        }
        assert!(accepted <= 2 && handshaken <= 2, "one per connection");
    }
    dealers.extend([router, mon]);
    finish(ctx, dealers);
}

#[test]
fn a_connection_that_fails_the_handshake_never_reaches_the_socket() {
    let ctx = CtxInner::new();
    let mut pull = socket(&ctx, ZMQ_PULL);
    let mut mon = monitor(&ctx, &mut pull);
    let endpoint = bind_tcp(&mut pull);
    // A peer speaking something else: a ZMTP 3 greeting with a mechanism nobody knows.
    let mut bad = TcpStream::connect(tcp_addr(&endpoint)).unwrap();
    let mut g = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0];
    g.extend_from_slice(b"BOGUS");
    g.resize(64, 0);
    bad.write_all(&g).unwrap();
    wait_event(&mut mon, ZMQ_EVENT_ACCEPTED);
    // Reported as libzmq does: a protocol failure naming the mechanism mismatch.
    let (failed, _) = wait_event(&mut mon, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    assert_eq!(
        (failed.1, failed.2.as_str()),
        (
            ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH as u32,
            endpoint.as_str()
        )
    );
    wait_event(&mut mon, ZMQ_EVENT_DISCONNECTED);
    // The bad peer's connection is closed...
    bad.set_read_timeout(Some(Duration::from_millis(GUARD_MS as u64)))
        .unwrap();
    let mut rest = Vec::new();
    bad.read_to_end(&mut rest)
        .expect("closed by the listener's side");
    // ...and a good peer is served as usual.
    let mut push = socket(&ctx, ZMQ_PUSH);
    push.connect(&endpoint).unwrap();
    send(&mut push, &[b"fine"]).unwrap();
    assert_eq!(recv(&mut pull).unwrap(), vec![b"fine".to_vec()]);
    finish(ctx, vec![pull, push, mon]);
}

#[test]
fn an_incompatible_peer_is_refused_at_the_handshake() {
    let ctx = CtxInner::new();
    let mut pull = socket(&ctx, ZMQ_PULL);
    let mut mon = monitor(&ctx, &mut pull);
    let endpoint = bind_tcp(&mut pull);
    let mut wrong = socket(&ctx, ZMQ_PULL);
    wrong.connect(&endpoint).unwrap();
    let (_, before) = wait_event(&mut mon, ZMQ_EVENT_DISCONNECTED);
    assert!(before.contains(&ZMQ_EVENT_ACCEPTED), "{before:?}");
    assert!(
        !before.contains(&ZMQ_EVENT_HANDSHAKE_SUCCEEDED),
        "PULL does not talk to PULL: {before:?}"
    );
    // As libzmq's NULL mechanism: a READY naming an incompatible type fails its metadata
    // check, which raises no handshake event; the connection just ends (DISCONNECTED).
    let failures = [
        ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
        ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL,
        ZMQ_EVENT_HANDSHAKE_FAILED_AUTH,
    ];
    assert!(
        !before.iter().any(|e| failures.contains(e)),
        "no handshake event: {before:?}"
    );
    finish(ctx, vec![pull, wrong, mon]);
}

#[test]
fn unbinding_stops_accepting_and_ends_the_connections_made_through_it() {
    let ctx = CtxInner::new();
    let mut pull = socket(&ctx, ZMQ_PULL);
    let mut mon = monitor(&ctx, &mut pull);
    let endpoint = bind_tcp(&mut pull);
    let mut peer = RawPeer::handshake(TcpStream::connect(tcp_addr(&endpoint)).unwrap(), "PUSH");
    wait_event(&mut mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    pull.unbind(&endpoint).unwrap();
    let (closed, _) = wait_event(&mut mon, ZMQ_EVENT_CLOSED);
    assert_eq!(closed.2, endpoint);
    // The accepted connection is closed too.
    let mut rest = Vec::new();
    peer.0
        .read_to_end(&mut rest)
        .expect("closed by the socket's side");
    // And nothing listens there any more.
    let refused = TcpStream::connect(tcp_addr(&endpoint)).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    finish(ctx, vec![pull, mon]);
}

#[test]
fn closing_the_socket_ends_its_accepted_connections() {
    let ctx = CtxInner::new();
    let mut pull = socket(&ctx, ZMQ_PULL);
    let mut mon = monitor(&ctx, &mut pull);
    let endpoint = bind_tcp(&mut pull);
    let mut peer = RawPeer::handshake(TcpStream::connect(tcp_addr(&endpoint)).unwrap(), "PUSH");
    wait_event(&mut mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    finish(ctx, vec![pull, mon]);
    let mut rest = Vec::new();
    peer.0
        .read_to_end(&mut rest)
        .expect("closed by the socket's side");
}

#[test]
fn an_ipc_listener_accepts_and_removes_its_file_when_the_socket_is_gone() {
    let ctx = CtxInner::new();
    let endpoint = ipc_endpoint();
    let path = endpoint.strip_prefix("ipc://").unwrap().to_string();
    let mut pull = socket(&ctx, ZMQ_PULL);
    pull.bind(&endpoint).unwrap();
    assert!(std::path::Path::new(&path).exists());
    let mut push = socket(&ctx, ZMQ_PUSH);
    push.connect(&endpoint).unwrap();
    send(&mut push, &[b"over ipc"]).unwrap();
    assert_eq!(recv(&mut pull).unwrap(), vec![b"over ipc".to_vec()]);
    finish(ctx, vec![pull, push]);
    assert!(
        !std::path::Path::new(&path).exists(),
        "{path} was left behind"
    );
}
