//! The raw engine, through the ZMQ_STREAM sockets that use it, over tcp on 127.0.0.1 with a
//! plain client or server on the other side: no greeting, bytes in and out as they are,
//! connections announced and ended by empty messages.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::constants::*;
use crate::ctx::CtxInner;
use crate::error::Error;
use crate::msg::Msg;
use crate::session::tests::bench::*;
use crate::socket::SocketBase;

fn client(endpoint: &str) -> TcpStream {
    let s = TcpStream::connect(endpoint.strip_prefix("tcp://").unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(GUARD_MS as u64)))
        .unwrap();
    s
}

/// A STREAM message: the routing id, then the data.
fn recv2(s: &mut SocketBase) -> (Vec<u8>, Vec<u8>) {
    let m = recv(s).unwrap();
    assert_eq!(m.len(), 2, "a STREAM message is two parts: {m:?}");
    (m[0].clone(), m[1].clone())
}

/// Receives data from `id` until `n` bytes came (a read may split them).
fn recv_bytes(s: &mut SocketBase, id: &[u8], n: usize) -> Vec<u8> {
    let mut all = Vec::new();
    while all.len() < n {
        let (from, data) = recv2(s);
        assert_eq!(from, id);
        assert!(!data.is_empty(), "the connection ended early");
        all.extend_from_slice(&data);
    }
    all
}

#[test]
fn a_client_is_announced_then_its_bytes_arrive_behind_its_routing_id() {
    let ctx = CtxInner::new();
    let mut s = socket(&ctx, ZMQ_STREAM);
    let endpoint = bind_tcp(&mut s);
    let mut c = client(&endpoint);
    let (id, hello) = recv2(&mut s);
    assert!(
        hello.is_empty(),
        "the connection is announced by an empty message"
    );
    assert_eq!((id.len(), id[0]), (5, 0), "a generated routing id");
    c.write_all(b"no greeting, just bytes").unwrap();
    assert_eq!(recv_bytes(&mut s, &id, 23), b"no greeting, just bytes");
    finish(ctx, vec![s]);
}

#[test]
fn received_bytes_carry_the_peer_address() {
    let ctx = CtxInner::new();
    let mut s = socket(&ctx, ZMQ_STREAM);
    let endpoint = bind_tcp(&mut s);
    let mut c = client(&endpoint);
    let (id, _) = recv2(&mut s);
    c.write_all(b"x").unwrap();
    let mut m = Msg::new();
    s.recv(&mut m, 0).unwrap();
    assert_eq!(m.data(), id.as_slice());
    s.recv(&mut m, 0).unwrap();
    assert_eq!(m.data(), b"x");
    let md = m.metadata().expect("metadata");
    assert_eq!(md.get("Peer-Address").unwrap().to_bytes(), b"127.0.0.1");
    finish(ctx, vec![s]);
}

#[test]
fn data_sent_to_a_routing_id_is_written_as_it_is() {
    let ctx = CtxInner::new();
    let mut s = socket(&ctx, ZMQ_STREAM);
    let endpoint = bind_tcp(&mut s);
    let mut c = client(&endpoint);
    let (id, _) = recv2(&mut s);
    send(&mut s, &[&id, b"HTTP/1.0 200 OK\r\n"]).unwrap();
    send(&mut s, &[&id, b"\r\n"]).unwrap();
    let mut got = [0u8; 19];
    c.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"HTTP/1.0 200 OK\r\n\r\n");
    finish(ctx, vec![s]);
}

#[test]
fn an_empty_data_part_closes_that_connection() {
    let ctx = CtxInner::new();
    let mut s = socket(&ctx, ZMQ_STREAM);
    let endpoint = bind_tcp(&mut s);
    let mut c = client(&endpoint);
    let (id, _) = recv2(&mut s);
    send(&mut s, &[&id, b"bye"]).unwrap();
    send(&mut s, &[&id, b""]).unwrap();
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).expect("closed by the socket");
    assert_eq!(rest, b"bye", "what was sent before goes out first");
    finish(ctx, vec![s]);
}

#[test]
fn bytes_beyond_a_rounds_worth_of_reads_all_arrive_in_order() {
    // 3 MiB written at once: more than the engine reads in one round of its thread (64 reads
    // of 8 KiB); the rest is read in the next rounds, which it asks for.
    let ctx = CtxInner::new();
    let mut s = socket(&ctx, ZMQ_STREAM);
    let endpoint = bind_tcp(&mut s);
    let mut c = client(&endpoint);
    let (id, _) = recv2(&mut s);
    let data: Vec<u8> = (0..3u32 << 20).map(|i| (i % 251) as u8).collect();
    let expect = data.clone();
    let writer = std::thread::spawn(move || {
        c.write_all(&data).unwrap();
        c
    });
    assert!(recv_bytes(&mut s, &id, expect.len()) == expect);
    drop(writer.join().unwrap());
    finish(ctx, vec![s]);
}

#[test]
fn a_client_that_hangs_up_is_announced_by_an_empty_message() {
    let ctx = CtxInner::new();
    let mut s = socket(&ctx, ZMQ_STREAM);
    let endpoint = bind_tcp(&mut s);
    let mut c = client(&endpoint);
    let (id, _) = recv2(&mut s);
    c.write_all(b"last words").unwrap();
    drop(c);
    assert_eq!(recv_bytes(&mut s, &id, 10), b"last words");
    assert_eq!(recv2(&mut s), (id, Vec::new()));
    finish(ctx, vec![s]);
}

#[test]
fn sending_to_an_unknown_routing_id_is_ehostunreach() {
    let ctx = CtxInner::new();
    let mut s = socket(&ctx, ZMQ_STREAM);
    bind_tcp(&mut s);
    let mut m = Msg::from_slice(b"\x00nope").unwrap();
    assert_eq!(s.send(&mut m, ZMQ_SNDMORE), Err(Error::HostUnreach));
    finish(ctx, vec![s]);
}

#[test]
fn a_stream_socket_connects_and_talks_raw_to_a_plain_server() {
    let ctx = CtxInner::new();
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut s = socket(&ctx, ZMQ_STREAM);
    s.connect(&format!("tcp://{}", server.local_addr().unwrap()))
        .unwrap();
    let (mut conn, _) = server.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(GUARD_MS as u64)))
        .unwrap();
    let (id, hello) = recv2(&mut s);
    assert!(hello.is_empty());
    conn.write_all(b"220 ready").unwrap();
    assert_eq!(recv_bytes(&mut s, &id, 9), b"220 ready");
    send(&mut s, &[&id, b"QUIT"]).unwrap();
    let mut got = [0u8; 4];
    conn.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"QUIT");
    finish(ctx, vec![s]);
}
