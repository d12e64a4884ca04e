//! Sessions, through the sockets that own them: a connect-role session connects (and keeps
//! trying until the peer is there), reconnects after the peer goes away, and lingers to
//! deliver what was sent before its socket closed. Observed through messages and monitor
//! events, over tcp on 127.0.0.1 and ipc, so these tests do not depend on how the session
//! is built inside.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::constants::*;
use crate::ctx::CtxInner;
use crate::error::Error;
use bench::*;

/// Helpers for tests of sockets over the network (shared with the listener's tests).
pub(crate) mod bench {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use crate::constants::*;
    use crate::ctx::CtxInner;
    use crate::msg::Msg;
    use crate::socket::SocketBase;

    /// Upper bound of any wait in these tests: only a broken build ever reaches it.
    pub const GUARD_MS: i32 = 10_000;

    /// A name no other test in this process uses (inproc names, ipc paths).
    pub fn unique(what: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        format!(
            "{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// An ipc endpoint at a path nothing is bound to.
    pub fn ipc_endpoint() -> String {
        let path = std::env::temp_dir().join(unique("zmq-rs-test"));
        let _ = std::fs::remove_file(&path);
        format!("ipc://{}", path.display())
    }

    pub fn set_int(s: &mut SocketBase, id: i32, v: i32) {
        s.setsockopt(id, &v.to_ne_bytes()).expect("setsockopt");
    }

    /// A socket whose blocking calls give up after [`GUARD_MS`]; linger 0 unless set.
    pub fn socket(ctx: &Arc<CtxInner>, ty: i32) -> Box<SocketBase> {
        let mut s = SocketBase::new(ctx, ty).expect("socket");
        set_int(&mut s, ZMQ_RCVTIMEO, GUARD_MS);
        set_int(&mut s, ZMQ_SNDTIMEO, GUARD_MS);
        set_int(&mut s, ZMQ_LINGER, 0);
        s
    }

    /// ZMQ_LAST_ENDPOINT.
    pub fn last_endpoint(s: &mut SocketBase) -> String {
        let mut buf = [0u8; 256];
        let n = s
            .getsockopt(ZMQ_LAST_ENDPOINT, &mut buf)
            .expect("getsockopt");
        String::from_utf8(buf[..n].split(|&b| b == 0).next().unwrap().to_vec()).unwrap()
    }

    /// Binds to a free tcp port on 127.0.0.1; returns the endpoint.
    pub fn bind_tcp(s: &mut SocketBase) -> String {
        s.bind("tcp://127.0.0.1:*").expect("bind");
        last_endpoint(s)
    }

    pub fn send(s: &mut SocketBase, parts: &[&[u8]]) -> crate::error::Result<()> {
        for (i, p) in parts.iter().enumerate() {
            let mut m = Msg::from_slice(p).unwrap();
            let flags = if i + 1 < parts.len() { ZMQ_SNDMORE } else { 0 };
            s.send(&mut m, flags)?;
        }
        Ok(())
    }

    /// Receives a whole message.
    pub fn recv(s: &mut SocketBase) -> crate::error::Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        loop {
            let mut m = Msg::new();
            s.recv(&mut m, 0)?;
            out.push(m.data().to_vec());
            if !m.more() {
                return Ok(out);
            }
        }
    }

    /// The PAIR end of a socket's monitor, which gets all its events from now on.
    pub fn monitor(ctx: &Arc<CtxInner>, s: &mut SocketBase) -> Box<SocketBase> {
        let addr = format!("inproc://{}", unique("monitor"));
        s.monitor(Some(&addr), ZMQ_EVENT_ALL as u64, 1, ZMQ_PAIR)
            .expect("monitor");
        let mut m = socket(ctx, ZMQ_PAIR);
        m.connect(&addr).expect("connect to the monitor");
        m
    }

    /// The next event: (event, value, endpoint).
    pub fn next_event(mon: &mut SocketBase) -> (i32, u32, String) {
        let parts = recv(mon).expect("a monitor event");
        assert_eq!(parts.len(), 2, "an event is two parts");
        let ev = u16::from_ne_bytes([parts[0][0], parts[0][1]]) as i32;
        let value = u32::from_ne_bytes(parts[0][2..6].try_into().unwrap());
        (ev, value, String::from_utf8(parts[1].clone()).unwrap())
    }

    /// Skips events until `want`; returns it and those skipped before it.
    pub fn wait_event(mon: &mut SocketBase, want: i32) -> ((i32, u32, String), Vec<i32>) {
        let mut skipped = Vec::new();
        loop {
            let e = next_event(mon);
            if e.0 == want {
                return (e, skipped);
            }
            skipped.push(e.0);
        }
    }

    /// Closes the sockets, then terminates the context.
    pub fn finish(ctx: Arc<CtxInner>, sockets: impl IntoIterator<Item = Box<SocketBase>>) {
        for s in sockets {
            s.close();
        }
        ctx.terminate().expect("ctx term");
    }

    /// A ZMTP 3.0 peer written by hand, on a plain socket: greeting, NULL handshake as
    /// `socket_type`, then frames.
    pub struct RawPeer(pub TcpStream);

    impl RawPeer {
        pub fn handshake(stream: TcpStream, socket_type: &str) -> RawPeer {
            stream
                .set_read_timeout(Some(Duration::from_millis(GUARD_MS as u64)))
                .unwrap();
            let mut p = RawPeer(stream);
            let mut g = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0];
            g.extend_from_slice(b"NULL");
            g.resize(64, 0);
            p.0.write_all(&g).unwrap();
            let mut body = vec![5u8];
            body.extend_from_slice(b"READY");
            body.push(11);
            body.extend_from_slice(b"Socket-Type");
            body.extend_from_slice(&(socket_type.len() as u32).to_be_bytes());
            body.extend_from_slice(socket_type.as_bytes());
            let mut frame = vec![0x04, body.len() as u8];
            frame.extend_from_slice(&body);
            p.0.write_all(&frame).unwrap();
            let mut theirs = [0u8; 64];
            p.0.read_exact(&mut theirs).unwrap();
            assert_eq!((theirs[0], theirs[9], theirs[10]), (0xff, 0x7f, 3));
            let (flags, ready) = p.frame();
            assert!(flags & 0x04 != 0 && ready.starts_with(b"\x05READY"));
            p
        }

        /// The next frame: flags and body.
        pub fn frame(&mut self) -> (u8, Vec<u8>) {
            let mut head = [0u8; 1];
            self.0.read_exact(&mut head).unwrap();
            let len = if head[0] & 0x02 != 0 {
                let mut l = [0u8; 8];
                self.0.read_exact(&mut l).unwrap();
                u64::from_be_bytes(l) as usize
            } else {
                let mut l = [0u8; 1];
                self.0.read_exact(&mut l).unwrap();
                l[0] as usize
            };
            let mut body = vec![0u8; len];
            self.0.read_exact(&mut body).unwrap();
            (head[0], body)
        }
    }

    /// Accepts the next connection, waiting at most [`GUARD_MS`].
    pub fn accept(l: &TcpListener) -> TcpStream {
        l.set_nonblocking(true).unwrap();
        let until = Instant::now() + Duration::from_millis(GUARD_MS as u64);
        loop {
            match l.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    return s;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < until, "no connection came");
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    }
}

#[test]
fn a_connect_before_the_bind_keeps_trying_and_delivers_what_was_queued() {
    let ctx = CtxInner::new();
    let endpoint = ipc_endpoint();
    let mut push = socket(&ctx, ZMQ_PUSH);
    set_int(&mut push, ZMQ_RECONNECT_IVL, 5);
    let mut mon = monitor(&ctx, &mut push);
    push.connect(&endpoint).unwrap();
    // Without ZMQ_IMMEDIATE the pipe exists at once: the message waits in it.
    send(&mut push, &[b"queued", b"early"]).unwrap();
    let (retried, _) = wait_event(&mut mon, ZMQ_EVENT_CONNECT_RETRIED);
    assert_eq!(retried.2, endpoint);
    let mut pull = socket(&ctx, ZMQ_PULL);
    pull.bind(&endpoint).unwrap();
    assert_eq!(
        recv(&mut pull).unwrap(),
        vec![b"queued".to_vec(), b"early".to_vec()]
    );
    wait_event(&mut mon, ZMQ_EVENT_CONNECTED);
    wait_event(&mut mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    finish(ctx, vec![push, pull, mon]);
}

#[test]
fn connecting_reports_connected_then_handshake_succeeded_for_the_endpoint() {
    let ctx = CtxInner::new();
    let mut pull = socket(&ctx, ZMQ_PULL);
    let endpoint = bind_tcp(&mut pull);
    let mut push = socket(&ctx, ZMQ_PUSH);
    let mut mon = monitor(&ctx, &mut push);
    push.connect(&endpoint).unwrap();
    let (connected, _) = wait_event(&mut mon, ZMQ_EVENT_CONNECTED);
    assert_eq!(connected.2, endpoint);
    let (ok, skipped) = wait_event(&mut mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    assert_eq!(ok.2, endpoint);
    assert!(!skipped.contains(&ZMQ_EVENT_DISCONNECTED), "{skipped:?}");
    send(&mut push, &[b"x"]).unwrap();
    assert_eq!(recv(&mut pull).unwrap(), vec![b"x".to_vec()]);
    finish(ctx, vec![push, pull, mon]);
}

#[test]
fn after_the_peer_goes_away_the_session_reconnects_and_sends_what_waited() {
    let ctx = CtxInner::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let mut push = socket(&ctx, ZMQ_PUSH);
    set_int(&mut push, ZMQ_RECONNECT_IVL, 5);
    let mut mon = monitor(&ctx, &mut push);
    push.connect(&endpoint).unwrap();
    // The first peer takes the connection and goes away during the handshake.
    drop(accept(&listener));
    wait_event(&mut mon, ZMQ_EVENT_DISCONNECTED);
    // Sent while disconnected: the pipe keeps it for the next connection.
    send(&mut push, &[b"waited"]).unwrap();
    let mut peer = RawPeer::handshake(accept(&listener), "PULL");
    assert_eq!(peer.frame(), (0, b"waited".to_vec()));
    send(&mut push, &[b"next", b"parts"]).unwrap();
    assert_eq!(peer.frame(), (1, b"next".to_vec()));
    assert_eq!(peer.frame(), (0, b"parts".to_vec()));
    wait_event(&mut mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    finish(ctx, vec![push, mon]);
}

#[test]
fn a_session_reconnects_to_a_socket_bound_again_at_the_same_endpoint() {
    let ctx = CtxInner::new();
    let endpoint = ipc_endpoint();
    let mut pull = socket(&ctx, ZMQ_PULL);
    pull.bind(&endpoint).unwrap();
    let mut push = socket(&ctx, ZMQ_PUSH);
    set_int(&mut push, ZMQ_RECONNECT_IVL, 5);
    let mut mon = monitor(&ctx, &mut push);
    push.connect(&endpoint).unwrap();
    send(&mut push, &[b"1"]).unwrap();
    assert_eq!(recv(&mut pull).unwrap(), vec![b"1".to_vec()]);
    pull.unbind(&endpoint).unwrap();
    wait_event(&mut mon, ZMQ_EVENT_DISCONNECTED);
    let mut pull2 = socket(&ctx, ZMQ_PULL);
    // The old listener removes its file when it ends; bind once it is gone.
    let until = Instant::now() + Duration::from_millis(GUARD_MS as u64);
    while let Err(e) = pull2.bind(&endpoint) {
        assert!(Instant::now() < until, "cannot bind again: {e:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
    send(&mut push, &[b"2"]).unwrap();
    assert_eq!(recv(&mut pull2).unwrap(), vec![b"2".to_vec()]);
    finish(ctx, vec![push, pull, pull2, mon]);
}

#[test]
fn on_close_the_session_lingers_to_deliver_queued_messages_to_a_late_peer() {
    let ctx = CtxInner::new();
    let endpoint = ipc_endpoint();
    let mut push = socket(&ctx, ZMQ_PUSH);
    set_int(&mut push, ZMQ_RECONNECT_IVL, 5);
    set_int(&mut push, ZMQ_LINGER, GUARD_MS);
    push.connect(&endpoint).unwrap();
    for i in 0..10u8 {
        send(&mut push, &[&[i]]).unwrap();
    }
    push.close();
    // The context waits for the lingering session: terminate it on another thread.
    let term = {
        let ctx = ctx.clone();
        std::thread::spawn(move || ctx.terminate())
    };
    let ctx2 = CtxInner::new();
    let mut pull = socket(&ctx2, ZMQ_PULL);
    pull.bind(&endpoint).unwrap();
    for i in 0..10u8 {
        assert_eq!(recv(&mut pull).unwrap(), vec![vec![i]]);
    }
    term.join().unwrap().unwrap();
    finish(ctx2, vec![pull]);
}

#[test]
fn with_linger_zero_a_closed_socket_drops_what_it_could_not_deliver() {
    let endpoint = ipc_endpoint();
    let ctx = CtxInner::new();
    let mut push = socket(&ctx, ZMQ_PUSH);
    push.connect(&endpoint).unwrap();
    send(&mut push, &[b"never delivered"]).unwrap();
    // Terminating returns once every session has ended: nothing is left to deliver it.
    finish(ctx, vec![push]);
    let ctx2 = CtxInner::new();
    let mut pull = socket(&ctx2, ZMQ_PULL);
    set_int(&mut pull, ZMQ_RCVTIMEO, 50);
    pull.bind(&endpoint).unwrap();
    assert_eq!(recv(&mut pull), Err(Error::Again));
    finish(ctx2, vec![pull]);
}

#[test]
fn a_closed_peer_is_seen_as_disconnected_by_the_connecting_side() {
    let ctx = CtxInner::new();
    let mut pull = socket(&ctx, ZMQ_PULL);
    let endpoint = bind_tcp(&mut pull);
    let mut push = socket(&ctx, ZMQ_PUSH);
    let mut mon = monitor(&ctx, &mut push);
    push.connect(&endpoint).unwrap();
    wait_event(&mut mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    pull.close();
    let (disc, _) = wait_event(&mut mon, ZMQ_EVENT_DISCONNECTED);
    assert_eq!(disc.2, endpoint);
    // And it tries again.
    wait_event(&mut mon, ZMQ_EVENT_CONNECT_RETRIED);
    finish(ctx, vec![push, mon]);
}

#[test]
fn reconnect_intervals_double_up_to_reconnect_ivl_max() {
    let ctx = CtxInner::new();
    let mut push = socket(&ctx, ZMQ_PUSH);
    set_int(&mut push, ZMQ_RECONNECT_IVL, 1);
    set_int(&mut push, ZMQ_RECONNECT_IVL_MAX, 8);
    let mut mon = monitor(&ctx, &mut push);
    // Nothing is bound there: every attempt fails at once.
    push.connect(&ipc_endpoint()).unwrap();
    let waits: Vec<u32> = (0..6)
        .map(|_| wait_event(&mut mon, ZMQ_EVENT_CONNECT_RETRIED).0 .1)
        .collect();
    assert_eq!(waits, [1, 2, 4, 8, 8, 8]);
    finish(ctx, vec![push, mon]);
}

#[test]
fn without_reconnect_ivl_max_the_interval_stays_reconnect_ivl() {
    let ctx = CtxInner::new();
    let mut push = socket(&ctx, ZMQ_PUSH);
    set_int(&mut push, ZMQ_RECONNECT_IVL, 3);
    let mut mon = monitor(&ctx, &mut push);
    push.connect(&ipc_endpoint()).unwrap();
    for _ in 0..4 {
        let wait = wait_event(&mut mon, ZMQ_EVENT_CONNECT_RETRIED).0 .1;
        // libzmq may add a random jitter below the interval.
        assert!((3..6).contains(&wait), "{wait}");
    }
    finish(ctx, vec![push, mon]);
}

#[test]
fn with_immediate_nothing_is_queued_until_the_connection_is_up() {
    let ctx = CtxInner::new();
    let endpoint = ipc_endpoint();
    let mut push = socket(&ctx, ZMQ_PUSH);
    set_int(&mut push, ZMQ_IMMEDIATE, 1);
    set_int(&mut push, ZMQ_RECONNECT_IVL, 5);
    push.connect(&endpoint).unwrap();
    let mut m = crate::msg::Msg::from_slice(b"no pipe yet").unwrap();
    assert_eq!(push.send(&mut m, ZMQ_DONTWAIT), Err(Error::Again));
    let mut pull = socket(&ctx, ZMQ_PULL);
    pull.bind(&endpoint).unwrap();
    // A blocking send waits for the pipe the connection brings.
    send(&mut push, &[b"now"]).unwrap();
    assert_eq!(recv(&mut pull).unwrap(), vec![b"now".to_vec()]);
    finish(ctx, vec![push, pull]);
}

#[test]
fn a_lingering_session_with_no_peer_gives_up_after_linger() {
    let ctx = CtxInner::new();
    let mut push = socket(&ctx, ZMQ_PUSH);
    set_int(&mut push, ZMQ_LINGER, 20);
    set_int(&mut push, ZMQ_RECONNECT_IVL, 5);
    push.connect(&ipc_endpoint()).unwrap();
    send(&mut push, &[b"undeliverable"]).unwrap();
    push.close();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(ctx.terminate()).unwrap());
    let r = finished.recv_timeout(Duration::from_millis(GUARD_MS as u64));
    assert!(
        matches!(r, Ok(Ok(()))),
        "the context terminates once LINGER is over"
    );
}

#[test]
fn a_router_learns_that_a_peer_left_its_connection() {
    let ctx = CtxInner::new();
    let mut router = socket(&ctx, ZMQ_ROUTER);
    set_int(&mut router, ZMQ_ROUTER_MANDATORY, 1);
    let mut mon = monitor(&ctx, &mut router);
    let endpoint = bind_tcp(&mut router);
    let mut dealer = socket(&ctx, ZMQ_DEALER);
    dealer.setsockopt(ZMQ_ROUTING_ID, b"d").unwrap();
    dealer.connect(&endpoint).unwrap();
    send(&mut dealer, &[b"hi"]).unwrap();
    assert_eq!(
        recv(&mut router).unwrap(),
        vec![b"d".to_vec(), b"hi".to_vec()]
    );
    send(&mut router, &[b"d", b"reply"]).unwrap();
    assert_eq!(recv(&mut dealer).unwrap(), vec![b"reply".to_vec()]);
    dealer.close();
    wait_event(&mut mon, ZMQ_EVENT_DISCONNECTED);
    // The pipe's end reaches the socket right after the event: until then sends still go.
    let until = Instant::now() + Duration::from_millis(GUARD_MS as u64);
    loop {
        match send(&mut router, &[b"d", b"anyone?"]) {
            Err(e) => {
                assert_eq!(e, Error::HostUnreach);
                break;
            }
            Ok(()) => {
                assert!(Instant::now() < until, "the peer never went");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
    finish(ctx, vec![router, mon]);
}

#[test]
fn with_heartbeats_a_silent_peer_is_pinged_then_dropped() {
    let ctx = CtxInner::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let mut push = socket(&ctx, ZMQ_PUSH);
    set_int(&mut push, ZMQ_HEARTBEAT_IVL, 5);
    set_int(&mut push, ZMQ_HEARTBEAT_TIMEOUT, 30);
    let mut mon = monitor(&ctx, &mut push);
    push.connect(&endpoint).unwrap();
    let mut peer = RawPeer::handshake(accept(&listener), "PULL");
    let (flags, ping) = peer.frame();
    assert_eq!(flags, 0x04, "a command");
    assert!(ping.starts_with(b"\x04PING"), "{ping:?}");
    // The peer never answers: the connection is dropped.
    let (_, before) = wait_event(&mut mon, ZMQ_EVENT_DISCONNECTED);
    assert!(
        before.contains(&ZMQ_EVENT_HANDSHAKE_SUCCEEDED),
        "{before:?}"
    );
    finish(ctx, vec![push, mon]);
}

#[test]
fn a_peer_answering_pings_stays_connected() {
    let ctx = CtxInner::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let mut push = socket(&ctx, ZMQ_PUSH);
    set_int(&mut push, ZMQ_HEARTBEAT_IVL, 5);
    set_int(&mut push, ZMQ_HEARTBEAT_TIMEOUT, GUARD_MS);
    push.connect(&endpoint).unwrap();
    let mut peer = RawPeer::handshake(accept(&listener), "PULL");
    // Answer ten pings in a row; the connection carries a message after them.
    for _ in 0..10 {
        let (flags, ping) = peer.frame();
        assert!(flags == 0x04 && ping.starts_with(b"\x04PING"), "{ping:?}");
        let context = &ping[7..];
        let mut body = b"\x04PONG".to_vec();
        body.extend_from_slice(context);
        let mut frame = vec![0x04, body.len() as u8];
        frame.extend_from_slice(&body);
        std::io::Write::write_all(&mut peer.0, &frame).unwrap();
    }
    send(&mut push, &[b"after the pings"]).unwrap();
    loop {
        let (flags, body) = peer.frame();
        if flags & 0x04 == 0 {
            assert_eq!(body, b"after the pings");
            break;
        }
    }
    finish(ctx, vec![push]);
}

#[test]
fn a_connect_routing_id_names_the_peer_for_the_connecting_router() {
    let ctx = CtxInner::new();
    let mut server = socket(&ctx, ZMQ_ROUTER);
    server.setsockopt(ZMQ_ROUTING_ID, b"server").unwrap();
    let endpoint = bind_tcp(&mut server);
    let mut client = socket(&ctx, ZMQ_ROUTER);
    client.setsockopt(ZMQ_ROUTING_ID, b"client").unwrap();
    client.setsockopt(ZMQ_CONNECT_ROUTING_ID, b"S").unwrap();
    set_int(&mut client, ZMQ_ROUTER_MANDATORY, 1);
    client.connect(&endpoint).unwrap();
    // The pipe exists from the connect: the name works before the connection is up.
    send(&mut client, &[b"S", b"hello"]).unwrap();
    assert_eq!(
        recv(&mut server).unwrap(),
        vec![b"client".to_vec(), b"hello".to_vec()]
    );
    send(&mut server, &[b"client", b"hi"]).unwrap();
    assert_eq!(
        recv(&mut client).unwrap(),
        vec![b"S".to_vec(), b"hi".to_vec()]
    );
    finish(ctx, vec![server, client]);
}
