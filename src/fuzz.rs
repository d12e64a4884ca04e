//! Entry points for the fuzz harnesses in `fuzz/` (built only with the `fuzzing` feature).
//!
//! Each function takes arbitrary bytes, runs one parser or the whole ZMTP engine on them, and
//! checks what must hold whatever the input: no panic, no hang, and the same answer however
//! the bytes are split (the parsers are incremental, as the network delivers them). A broken
//! property panics, which libFuzzer reports as a crash with the input that caused it.
//!
//! Nothing here touches the network: addresses resolve without DNS, and the engine runs over
//! a Unix socket pair in the process.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::constants::*;
use crate::engine::codec::command::{self, Properties, RawCommand, ZmtpCommand};
use crate::engine::codec::error::CodecError;
use crate::engine::codec::frame::{Decoder, Framing};
use crate::engine::codec::greeting::{GreetingParser, MechanismName, OurGreeting, Progress};
use crate::engine::{Engine, EngineStatus};
use crate::io::io_thread::testing::TestIo;
use crate::mailbox::Mailbox;
use crate::mechanism::{self, curve, Mechanism, Status};
use crate::msg::{self, Msg};
use crate::options::Options;
use crate::pipe::{pipepair, Pipe};
use crate::transport::connection::Connection;
use crate::transport::ipc_address::IpcAddress;
use crate::transport::tcp_address::{self, ResolveOpts, TcpAddress, TcpAddressMask};
use crate::transport::Endpoint;
use crate::z85;

/// The socket types a connection may belong to, picked by the fuzzer's first byte.
const SOCKET_TYPES: [i32; 12] = [
    ZMQ_PAIR, ZMQ_PUB, ZMQ_SUB, ZMQ_REQ, ZMQ_REP, ZMQ_DEALER, ZMQ_ROUTER, ZMQ_PULL, ZMQ_PUSH,
    ZMQ_XPUB, ZMQ_XSUB, ZMQ_STREAM,
];

/// Fixed CURVE keys: the fuzzer cannot forge boxes anyway; what it reaches is the parsing
/// around them.
const SERVER_SECRET: [u8; 32] = [7; 32];
const CLIENT_SECRET: [u8; 32] = [9; 32];

/// Splits `data` into pieces whose sizes come from `sizes` (cycled; 0 counts as 1).
fn chunks<'a>(data: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes
            .get(i % sizes.len().max(1))
            .map_or(rest.len(), |&s| usize::from(s.max(1)));
        let (a, b) = rest.split_at(n.min(rest.len()));
        out.push(a);
        rest = b;
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------
// The greeting

/// What a greeting exchange came to (the verdict, and how many bytes it used, for comparing
/// ways of feeding it). `wanted_only`: hand the parser no more than it asks for, as the
/// engine does; otherwise whole pieces, whose bytes past the greeting it must leave.
fn greeting_outcome(
    ours: &OurGreeting,
    pieces: &[&[u8]],
    wanted_only: bool,
) -> (Result<Option<String>, CodecError>, usize) {
    let mut g = GreetingParser::new(ours);
    let mut used_total = 0;
    for piece in pieces {
        let mut piece = *piece;
        while !piece.is_empty() {
            let want = g.wanted();
            if want == 0 {
                break;
            }
            let take = if wanted_only {
                want.min(piece.len())
            } else {
                piece.len()
            };
            match g.feed(&piece[..take]) {
                // How far an error came is not reported: compare the error alone.
                Err(e) => return (Err(e), 0),
                Ok((used, progress)) => {
                    assert!(
                        used <= take,
                        "the greeting used more bytes than it was given"
                    );
                    used_total += used;
                    piece = &piece[used..];
                    g.advance_output(g.output().len());
                    if let Progress::Done(peer) = progress {
                        assert_eq!(g.wanted(), 0);
                        return (Ok(Some(format!("{peer:?}"))), used_total);
                    }
                    assert_eq!(used, take, "stopped early without deciding");
                }
            }
        }
    }
    (Ok(None), used_total)
}

/// The ZMTP greeting: fed whole, byte by byte, and in the fuzzer's pieces, with and without
/// the engine's limit to what it asks for, the peer's greeting is decided the same way, from
/// the same bytes, and never past the 64 bytes of a greeting.
pub fn greeting(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let mechanism = [
        MechanismName::Null,
        MechanismName::Plain,
        MechanismName::Curve,
    ][usize::from(control % 3)];
    let ty = SOCKET_TYPES[usize::from(control >> 4) % SOCKET_TYPES.len()];
    let ours = OurGreeting::new(mechanism, control & 8 != 0, ty as u8);
    let (sizes, wire) = rest.split_at(rest.len().min(4));
    let whole = greeting_outcome(&ours, &[wire], true);
    let bytewise: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(greeting_outcome(&ours, &bytewise, true), whole);
    assert_eq!(greeting_outcome(&ours, &chunks(wire, sizes), true), whole);
    assert_eq!(greeting_outcome(&ours, &[wire], false), whole);
    assert_eq!(greeting_outcome(&ours, &chunks(wire, sizes), false), whole);
    assert!(whole.1 <= 64, "a greeting is at most 64 bytes");
}

// ---------------------------------------------------------------------------------------
// Frames

/// A decoded frame, or how decoding ended.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    Msg { flags: u8, body: Vec<u8> },
    Error(CodecError),
}

fn decode_all(framing: Framing, max: i64, buf: usize, pieces: &[&[u8]]) -> Vec<Frame> {
    let mut dec = Decoder::with_buffer(framing, max, buf).expect("a small buffer");
    let mut out = Vec::new();
    for piece in pieces {
        let mut piece = *piece;
        loop {
            loop {
                match dec.decode() {
                    Ok(Some(m)) => {
                        let flags = m.flags() & (msg::MORE | msg::COMMAND);
                        if let Ok(limit) = u64::try_from(max) {
                            assert!(m.size() as u64 <= limit, "a frame over ZMQ_MAXMSGSIZE");
                        }
                        out.push(Frame::Msg {
                            flags,
                            body: m.data().to_vec(),
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        out.push(Frame::Error(e));
                        return out;
                    }
                }
            }
            if piece.is_empty() {
                break;
            }
            let n = dec.feed(piece);
            piece = &piece[n..];
        }
    }
    out
}

/// The frame decoder (ZMTP 1.0, 2.0 and 3.x framing): the same frames, or the same error
/// after the same frames, whole, byte by byte, in the fuzzer's pieces and with a read buffer
/// small enough that bodies are read in place.
pub fn frame_decoder(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let framing = [Framing::V1, Framing::V2, Framing::V3][usize::from(control % 3)];
    // Unlimited (frames may claim up to 2^56 bytes, allocated up to 64 MiB ahead) one time in
    // eight: those inputs are slow, and the limits are where most of the decoder's branches are.
    let max = match (control >> 2) & 7 {
        0 => -1,
        1 | 2 => 0,
        3 | 4 => 16,
        5 => 300,
        _ => 1 << 20,
    };
    let (sizes, wire) = rest.split_at(rest.len().min(4));
    let whole = decode_all(framing, max, 8192, &[wire]);
    let bytewise: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(decode_all(framing, max, 16, &bytewise), whole);
    assert_eq!(decode_all(framing, max, 16, &chunks(wire, sizes)), whole);
    assert_eq!(decode_all(framing, max, 64, &chunks(wire, sizes)), whole);
}

// ---------------------------------------------------------------------------------------
// Commands and metadata

/// Every ZMTP command parser (READY, ERROR, PING, PONG, SUBSCRIBE, CANCEL, JOIN, LEAVE, PLAIN's HELLO,
/// WELCOME and INITIATE, and the names CURVE decrypts), as each mechanism reads them; and
/// the 3.0 subscription message form. What parses re-encodes to the same bytes.
pub fn command(data: &[u8]) {
    for mechanism in [
        MechanismName::Null,
        MechanismName::Plain,
        MechanismName::Curve,
    ] {
        match ZmtpCommand::parse(data, mechanism) {
            Ok(ZmtpCommand::Ready(p)) => {
                assert_eq!(command::ready(&p).expect("ready").data(), data);
            }
            Ok(ZmtpCommand::Error(reason)) => {
                assert_eq!(command::error(reason).expect("error").data(), data);
            }
            Ok(ZmtpCommand::Ping { ttl, context }) => {
                assert!(context.len() <= command::MAX_PING_CONTEXT);
                let again = command::ping(ttl, context).expect("ping");
                assert!(data.starts_with(again.data()));
            }
            Ok(ZmtpCommand::Pong(context)) => {
                assert!(context.len() <= command::MAX_PING_CONTEXT);
            }
            Ok(ZmtpCommand::Subscribe(t)) => {
                assert_eq!(command::subscribe(t).expect("subscribe").data(), data);
            }
            Ok(ZmtpCommand::Cancel(t)) => {
                assert_eq!(command::cancel(t).expect("cancel").data(), data);
            }
            Ok(ZmtpCommand::Join(g)) => {
                assert_eq!(command::join_leave(true, g).expect("join").data(), data);
            }
            Ok(ZmtpCommand::Leave(g)) => {
                assert_eq!(command::join_leave(false, g).expect("leave").data(), data);
            }
            Ok(ZmtpCommand::Hello { username, password }) => {
                let again = command::plain_hello(username, password).expect("hello");
                assert_eq!(again.data(), data);
            }
            Ok(ZmtpCommand::Welcome) => {
                assert_eq!(command::plain_welcome().expect("welcome").data(), data);
            }
            Ok(ZmtpCommand::Initiate(p)) => {
                assert_eq!(command::plain_initiate(&p).expect("initiate").data(), data);
            }
            Ok(ZmtpCommand::Other(raw)) => {
                assert_eq!(RawCommand::parse(data), Ok(raw));
                assert_eq!(command::command_body(raw.name, &[raw.data]), data);
            }
            Err(_) => {}
        }
    }
    if let Some((subscribe, topic)) = command::parse_sub_message(data) {
        let again = command::sub_message(subscribe, topic).expect("sub message");
        assert_eq!(again.data(), data);
    }
}

/// The metadata (property list) parser: what parses re-encodes to the same bytes, and the
/// form given to `zmq_msg_gets` holds every property.
pub fn metadata(data: &[u8]) {
    if let Ok(p) = Properties::parse(data) {
        let mut again = Vec::new();
        p.encode(&mut again);
        assert_eq!(again, data);
        assert_eq!(p.encoded_len(), data.len());
        let md = p.to_msg_metadata();
        for (name, value) in p.iter() {
            // zmq_msg_gets gives C strings: the value up to its first NUL.
            let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
            let got = md
                .get(name)
                .unwrap_or_else(|| panic!("property {name} lost"));
            assert_eq!(got.to_bytes(), &value[..end], "property {name}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Mechanisms

fn mechanism_options(kind: u8, socket_type: i32) -> Options {
    let mut o = Options::new(socket_type);
    match kind % 5 {
        0 => {}
        1 => {
            o.mechanism = ZMQ_PLAIN;
            o.as_server = true;
        }
        2 => {
            o.mechanism = ZMQ_PLAIN;
            o.plain_username = b"admin".to_vec();
            o.plain_password = b"secret".to_vec();
        }
        3 => {
            o.mechanism = ZMQ_CURVE;
            o.as_server = true;
            o.curve_public_key = curve::public_of(&SERVER_SECRET);
            *o.curve_secret_key = SERVER_SECRET;
        }
        _ => {
            o.mechanism = ZMQ_CURVE;
            o.curve_public_key = curve::public_of(&CLIENT_SECRET);
            *o.curve_secret_key = CLIENT_SECRET;
            o.curve_server_key = curve::public_of(&SERVER_SECRET);
        }
    }
    o
}

/// A ZAP reply picked by `v`: its status (`v % 6`: 200, 300, 400, 500, 999, none), and five
/// frames instead of seven when bit 4 is set.
fn zap_reply(v: u8) -> Vec<Msg> {
    let status: &[u8] = [&b"200"[..], b"300", b"400", b"500", b"999", b""][usize::from(v % 6)];
    let parts: [&[u8]; 7] = [b"", b"1.0", b"1", status, b"", b"user", b""];
    let n = if v & 0x10 != 0 { 5 } else { 7 };
    parts[..n]
        .iter()
        .enumerate()
        .map(|(i, p)| Msg::part(p, i + 1 < n))
        .collect()
}

/// NULL's handshake, alone (see [`plain`]); with a ZAP domain when the input says so.
pub fn null(data: &[u8]) {
    run_mechanism(0, data);
}

/// PLAIN's handshake, either side, alone: driven by commands from the input (each prefixed
/// by its length byte), with ZAP replies the input picks. Whatever comes, the mechanism gives
/// commands, an error or `Ready`, never a panic; and once failed it stays failed.
pub fn plain(data: &[u8]) {
    run_mechanism(1 + data.first().map_or(0, |c| c & 1), data);
}

/// CURVE: with the first byte's high bit clear, its handshake, either side, alone (see
/// [`plain`]); with it set, MESSAGE boxes after a real handshake between a client and a
/// server ([`curve_messages`]).
pub fn curve(data: &[u8]) {
    match data.first() {
        Some(c) if c & 0x80 != 0 => curve_messages(data),
        _ => run_mechanism(3 + data.first().map_or(0, |c| c & 1), data),
    }
}

/// A CURVE client and server complete their handshake (they must, keys being right); then
/// each length-prefixed piece of the input is a message (its first byte: MORE and COMMAND
/// flags, and whether to flip one byte of the box, at a position the next byte gives). The
/// server decodes what the client encoded: the same bytes and flags come out, or, for a box
/// with a flipped byte, an error, and nothing after it is accepted.
fn curve_messages(data: &[u8]) {
    let server_o = mechanism_options(3, ZMQ_DEALER);
    let client_o = mechanism_options(4, ZMQ_DEALER);
    let setup = |o| mechanism::Setup {
        options: o,
        zap_handler: false,
        peer_address: "127.0.0.1",
    };
    let mut server = mechanism::create(&setup(&server_o)).expect("a CURVE server");
    let mut client = mechanism::create(&setup(&client_o)).expect("a CURVE client");
    fn pass(from: &mut dyn Mechanism, to: &mut dyn Mechanism) {
        while let Ok(Some(cmd)) = from.next_handshake_command() {
            to.process_handshake_command(cmd.data())
                .expect("a real peer's handshake command");
        }
    }
    for _ in 0..8 {
        pass(client.as_mut(), server.as_mut());
        pass(server.as_mut(), client.as_mut());
    }
    assert_eq!(client.status(), Status::Ready, "the client's handshake");
    assert_eq!(server.status(), Status::Ready, "the server's handshake");
    let mut rest = &data[1..];
    while let Some((&len, tail)) = rest.split_first() {
        let (piece, tail) = tail.split_at(usize::from(len).min(tail.len()));
        rest = tail;
        let Some((&how, body)) = piece.split_first() else {
            continue;
        };
        let mut m = Msg::from_slice(body).expect("msg");
        m.set_flags(how & (msg::MORE | msg::COMMAND));
        let mut boxed = client.encode(m).expect("encode");
        if how & 0x80 != 0 {
            let at = usize::from(how & 0x3f) % boxed.size().max(1);
            boxed.data_mut()[at] ^= 0x01;
            assert!(
                server.decode(boxed).is_err(),
                "a box with byte {at} flipped was taken"
            );
            return;
        }
        let plain = server.decode(boxed).expect("a box the client made");
        assert_eq!(plain.data(), body);
        assert_eq!(
            plain.flags() & (msg::MORE | msg::COMMAND),
            how & (msg::MORE | msg::COMMAND)
        );
    }
}

/// The mechanism `kind` picks ([`mechanism_options`]) run over `data`: a control byte (socket
/// type, ZAP), then length-prefixed commands.
fn run_mechanism(kind: u8, data: &[u8]) {
    let Some((&control, mut rest)) = data.split_first() else {
        return;
    };
    let ty = SOCKET_TYPES[usize::from(control >> 4) % (SOCKET_TYPES.len() - 1)];
    let mut o = mechanism_options(kind, ty);
    if control & 8 != 0 {
        o.zap_domain = b"fuzz".to_vec();
    }
    let setup = mechanism::Setup {
        options: &o,
        zap_handler: control & 8 != 0,
        peer_address: "127.0.0.1",
    };
    let Some(mut m) = mechanism::create(&setup) else {
        return;
    };
    let mut failed = false;
    for _ in 0..64 {
        while let Ok(Some(_cmd)) = m.next_handshake_command() {}
        if let Some(_request) = m.zap_request() {
            let reply = zap_reply(rest.first().copied().unwrap_or(0));
            let _ = m.zap_reply(Some(&reply));
        }
        match m.status() {
            Status::Failed(_) | Status::Refused(_) => failed = true,
            Status::Ready => {
                let _ = m.peer_properties();
                let _ = m.user_id();
            }
            Status::Handshaking => assert!(!failed, "a failed handshake started again"),
        }
        let Some((&len, tail)) = rest.split_first() else {
            break;
        };
        let (body, tail) = tail.split_at(usize::from(len).min(tail.len()));
        rest = tail;
        if m.status() == Status::Ready {
            if m.transforms_messages() {
                let mut f = Msg::from_slice(body).expect("msg");
                f.set_flags(msg::COMMAND);
                let _ = m.decode(f);
            }
        } else if m.process_handshake_command(body).is_err() {
            failed = true;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Z85 and addresses

/// Z85 decoding: what decodes encodes back to the same text (Z85 is canonical for the
/// strings it accepts, but for digit values past 2^32, which must be refused).
pub fn z85(data: &[u8]) {
    if let Ok(bytes) = z85::decode(data) {
        assert_eq!(bytes.len(), z85::decoded_len(data.len()));
        assert_eq!(z85::encode(&bytes).expect("encode").as_bytes(), data);
    }
    if data.len().is_multiple_of(4) {
        let text = z85::encode(data).expect("a multiple of 4 encodes");
        assert_eq!(z85::decode(text.as_bytes()).expect("decode"), data);
    }
}

/// Endpoint, tcp and ipc address parsing (no DNS: only literals, `*` and interface names
/// resolve): never a panic; what `zmq_connect` accepts as tcp syntax and resolves, prints
/// back as an address of the same kind.
pub fn address(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ep) = Endpoint::parse(text) {
        let _ = (ep.protocol(), ep.address());
    }
    for ipv6 in [false, true] {
        for bindable in [false, true] {
            let opts = ResolveOpts {
                bindable,
                allow_dns: false,
                allow_nic_name: bindable,
                ipv6,
                expect_port: true,
            };
            if let Ok(a) = tcp_address::resolve_ip(text, opts) {
                let printed = tcp_address::endpoint_string(&a);
                assert!(printed.starts_with("tcp://"), "{printed}");
                let _ = tcp_address::host_string(&a);
            }
        }
        // (Not term_endpoint_keys nor the connect form of TcpAddress::resolve: they look
        // host names up in DNS. The parsing they share is resolve_ip's, taken above.)
        let _ = TcpAddress::resolve(text, true, ipv6);
        if let Ok(mask) = TcpAddressMask::parse(text, ipv6) {
            for peer in [
                std::net::IpAddr::from([127, 0, 0, 1]),
                std::net::IpAddr::from([0u16, 0, 0, 0, 0, 0xffff, 0x7f00, 1]),
            ] {
                let _ = mask.matches(&peer);
            }
        }
    }
    let _ = tcp_address::check_connect_syntax(text);
    if let Ok(a) = IpcAddress::parse(text) {
        let _ = a.to_socket_addr();
        let _ = a.endpoint_string();
    }
}

// ---------------------------------------------------------------------------------------
// The whole engine

/// Turns without progress after which an engine that got its peer's end of stream and has
/// not closed is taken to hang.
const MAX_TURNS: usize = 10_000;

/// A ZMTP (or, for STREAM, raw) engine over a Unix socket pair, driven as its I/O thread
/// does, fed the input as its peer's bytes in the input's pieces, then the peer's end of
/// stream. The engine must close (it may never hang on a peer that left), whatever it was
/// sent; messages it delivers are taken off its pipe as a socket would.
///
/// The first input byte picks the socket type (low four bits) and the mechanism (high four,
/// modulo 5: NULL, PLAIN server, PLAIN client, CURVE server, CURVE client); the second sets
/// heartbeats (bit 0), ZAP (bit 1), timers fired before the end (bit 2) and the ZAP reply
/// (bits 3 to 7, [`zap_reply`]), and its bits also size the pieces the rest is written in.
pub fn engine(data: &[u8]) {
    let [control, split, wire @ ..] = data else {
        return;
    };
    let ty = SOCKET_TYPES[usize::from(control & 0x0f) % SOCKET_TYPES.len()];
    let mut o = mechanism_options(control >> 4, ty);
    if split & 1 != 0 {
        o.heartbeat_ivl = 100;
        o.heartbeat_timeout = 300;
        o.heartbeat_ttl = 500;
    }
    let zap = split & 2 != 0;
    if zap {
        o.zap_domain = b"fuzz".to_vec();
    }
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().expect("socketpair");
    ours.set_nonblocking(true).expect("nonblocking");
    theirs.set_nonblocking(true).expect("nonblocking");
    let stream = Connection::Unix(mio::net::UnixStream::from_std(ours));
    let mut run = EngineRun {
        io: TestIo::with_rounds(),
        events: mio::Events::with_capacity(8),
        engine: Some(Engine::new(stream, &o, true, "127.0.0.1".into(), zap)),
        session: None,
        socket: None,
        socket_mb: std::sync::Arc::new(Mailbox::new()),
        peer: theirs,
        zap_status: split >> 3,
    };
    run.engine
        .as_mut()
        .expect("engine")
        .plug(&mut run.io.ctx(0), 1);
    let sizes = [split >> 1, split.rotate_left(3) >> 1];
    for piece in chunks(wire, &sizes) {
        let mut piece = piece;
        while !piece.is_empty() {
            match run.peer.write(piece) {
                Ok(n) => piece = &piece[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break, // the engine closed: the rest has nowhere to go
            }
            if run.turn() {
                return;
            }
        }
        for _ in 0..4 {
            if run.turn() {
                return;
            }
        }
    }
    if split & 4 != 0 {
        run.fire_timers();
    }
    let _ = run.peer.shutdown(std::net::Shutdown::Write);
    for _ in 0..MAX_TURNS {
        if run.turn() {
            return;
        }
    }
    panic!("the engine did not close after its peer's end of stream");
}

/// The pieces around one engine under test.
struct EngineRun {
    io: TestIo,
    events: mio::Events,
    engine: Option<Engine>,
    session: Option<Pipe>,
    socket: Option<Pipe>,
    socket_mb: std::sync::Arc<Mailbox>,
    peer: std::os::unix::net::UnixStream,
    zap_status: u8,
}

impl EngineRun {
    /// Drives the engine once, as its I/O thread would (in the round it asked for, if it
    /// did); true once it closed.
    fn turn(&mut self) -> bool {
        let Some(e) = self.engine.as_mut() else {
            return true;
        };
        if self
            .io
            .next_round
            .as_mut()
            .is_some_and(|r| !std::mem::take(r).is_empty())
        {
            e.next_round();
        }
        match e.drive(&mut self.io.ctx(0), self.session.as_mut()) {
            EngineStatus::Running | EngineStatus::HandshakeFailed(_) => {}
            EngineStatus::Ready(_) => {
                // As the session: a pipe to the socket once the handshake is done.
                let (mut sess, mut sock) = pipepair([1000, 1000]);
                sess.attach(self.io.mailbox.clone(), 0);
                sock.attach(self.socket_mb.clone(), 0);
                self.session = Some(sess);
                self.socket = Some(sock);
            }
            EngineStatus::ZapRequest(_) => {
                let reply = zap_reply(self.zap_status);
                e.zap_reply(Some(&reply));
            }
            EngineStatus::Closed(_) => {
                e.close(&mut self.io.ctx(0));
                self.engine = None;
                return true;
            }
        }
        while let Ok(crate::command::Command::Pipe(_, pc)) = self.io.mailbox.recv(0) {
            if let Some(p) = self.session.as_mut() {
                p.process(pc);
            }
        }
        while let Ok(crate::command::Command::Pipe(_, pc)) = self.socket_mb.recv(0) {
            if let Some(p) = self.socket.as_mut() {
                p.process(pc);
            }
        }
        if let Some(p) = self.socket.as_mut() {
            while p.read().is_some() {}
        }
        let mut sink = [0u8; 4096];
        while matches!(self.peer.read(&mut sink), Ok(n) if n > 0) {}
        let _ = self.io.poll.poll(&mut self.events, Some(Duration::ZERO));
        for ev in self.events.iter() {
            if let Some(e) = self.engine.as_mut() {
                e.ready(ev);
            }
        }
        false
    }

    /// Fires every timer set so far once (handshake, heartbeat, TTL), as if their time
    /// had come.
    fn fire_timers(&mut self) {
        let due = self
            .io
            .due_timers(Instant::now() + Duration::from_secs(3600));
        for d in due {
            if let Some(e) = self.engine.as_mut() {
                e.timer(&mut self.io.ctx(0), d.timer);
            }
        }
    }
}
