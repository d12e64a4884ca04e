//! The ZMTP engine: one connected stream, from greeting to messages.
//!
//! Runs on the I/O thread of its session, which owns it and passes the pipe in on each call.
//! `drive` does all the work that is possible now and returns: the greeting and the NULL
//! handshake (READY with Socket-Type and Identity both ways, socket types checked), then
//! messages both ways, commands (PING/PONG, SUBSCRIBE/CANCEL, ERROR) handled here.
//!
//! Readiness is edge-triggered (mio): the engine remembers `readable` / `writable` until a
//! read or write returns WouldBlock, and stops reading (keeping the decoded message) while
//! the pipe to the socket is full; the session calls `drive` again when the pipe has room.

use std::io::IoSliceMut;
use std::time::{Duration, Instant};

use super::base::{self, Closed, Step};
use super::codec::command::{self, Command, Properties};
use super::codec::frame::{Decoder, Encoder, Framing, MAX_READ_BUFFER, MAX_WRITE_BATCH};
use super::codec::greeting::{GreetingParser, Mechanism, OurGreeting, PeerGreeting, Progress};
use super::codec::socket_type;
use super::EngineStatus;
use crate::constants::*;
use crate::io::io_thread::IoCtx;
use crate::msg::{self, MetadataRef, Msg};
use crate::options::Options;
use crate::pipe::Pipe;
use crate::stream::Stream;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Greeting,
    Handshake,
    Active,
}

/// A ZMTP connection. See the module documentation.
pub struct Engine {
    stream: Stream,
    socket_type: i32,
    routing_id: Vec<u8>,
    max_msg_size: i64,
    peer_address: String,
    greeting: GreetingParser,
    framing: Framing,
    dec: Option<Decoder>,
    enc: Option<Encoder>,
    state: State,
    readable: bool,
    writable: bool,
    /// The peer's FIN (or an error) was reported: read to the end, short reads or not.
    read_closed: bool,
    /// Messages delivered in this `drive` woke the socket's thread (it was waiting for them).
    woke_reader: bool,
    pending_in: Option<Msg>,
    /// What received messages carry (the decoder stamps them; kept here for the messages
    /// the engine makes itself, from subscription commands).
    metadata: Option<MetadataRef>,
    zmtp31: bool,
    /// Inside a multipart message coming from the pipe (only its first part is a candidate
    /// subscription).
    out_more: bool,
    handshake_deadline: Option<Instant>,
    heartbeat_ivl: i32,
    heartbeat_timeout: i32,
    heartbeat_ttl: i32,
    last_recv: Instant,
    next_ping: Option<Instant>,
    /// Peer's TTL from its PINGs: no traffic for that long means it is gone.
    peer_ttl: Option<Duration>,
    timer_id: u32,
    /// A timer found the connection dead (handshake too slow, heartbeat missing).
    timed_out: bool,
    /// A heartbeat timer must be set at the end of this `drive`.
    arm_timer: bool,
    /// A PUB / XPUB facing a ZMTP 1.0 peer without greeting (libzmq 2.x), whose SUB filters
    /// by itself and never sends subscriptions: it is subscribed to everything.
    subscribe_all: bool,
}

impl Engine {
    /// An engine over a connected stream. `as_server` is the listening side.
    pub fn new(stream: Stream, options: &Options, as_server: bool, peer_address: String) -> Engine {
        let mut ours = OurGreeting::new(Mechanism::Null, false, options.socket_type as u8);
        ours.routing_id_len = options.routing_id.len().min(255) as u8;
        let _ = as_server;
        Engine {
            stream,
            socket_type: options.socket_type,
            routing_id: options.routing_id.clone(),
            max_msg_size: options.maxmsgsize,
            peer_address,
            greeting: GreetingParser::new(&ours),
            framing: Framing::V3,
            dec: None,
            enc: None,
            state: State::Greeting,
            readable: true,
            writable: true,
            read_closed: false,
            woke_reader: false,
            pending_in: None,
            metadata: None,
            zmtp31: false,
            out_more: false,
            handshake_deadline: (options.handshake_ivl > 0)
                .then(|| Instant::now() + Duration::from_millis(options.handshake_ivl as u64)),
            heartbeat_ivl: options.heartbeat_ivl,
            heartbeat_timeout: if options.heartbeat_timeout < 0 {
                options.heartbeat_ivl
            } else {
                options.heartbeat_timeout
            },
            heartbeat_ttl: options.heartbeat_ttl,
            last_recv: Instant::now(),
            next_ping: None,
            peer_ttl: None,
            timer_id: 0,
            timed_out: false,
            arm_timer: false,
            subscribe_all: false,
        }
    }

    /// Registers the stream with the I/O thread; timers come back as `timer_id`.
    pub fn plug(&mut self, io: &mut IoCtx, timer_id: u32) {
        self.timer_id = timer_id;
        if self.stream.register(io.registry, io.token()).is_err() {
            self.readable = false;
            self.writable = false;
        }
        if let Some(d) = self.handshake_deadline {
            io.add_timer(d.saturating_duration_since(Instant::now()), timer_id);
        }
    }

    /// Whether encoded bytes still wait to be written.
    pub fn has_pending_output(&self) -> bool {
        self.enc.as_ref().is_some_and(|e| !e.is_empty())
    }

    /// The connection's fd (for monitor events).
    pub fn fd(&self) -> std::os::fd::RawFd {
        self.stream.raw_fd()
    }

    /// Records readiness reported by the poll.
    pub fn ready(&mut self, ev: &mio::event::Event) {
        base::note_readiness(ev, &mut self.readable, &mut self.writable);
        if ev.is_read_closed() || ev.is_error() {
            self.read_closed = true;
        }
    }

    /// Deregisters and drops the stream (after a last attempt to write what is encoded).
    pub fn close(&mut self, io: &mut IoCtx) {
        base::close(&mut self.stream, self.enc.as_mut(), io.registry);
    }

    /// A timer of this engine fired: handshake timeout, heartbeats.
    pub fn timer(&mut self, io: &mut IoCtx) {
        let now = Instant::now();
        if self.state != State::Active {
            if self.handshake_deadline.is_some_and(|d| now >= d) {
                self.readable = false;
                self.writable = false;
                self.handshake_deadline = None;
                self.timed_out = true;
            }
            return;
        }
        if self.heartbeat_ivl > 0 {
            if let Some(p) = self.next_ping {
                if now >= p {
                    let ttl = (self.heartbeat_ttl / 100).clamp(0, u16::MAX as i32) as u16;
                    if let Some(enc) = self.enc.as_mut() {
                        if let Ok(m) = command::ping(ttl, b"") {
                            enc.push(m);
                        }
                    }
                    self.next_ping = Some(now + Duration::from_millis(self.heartbeat_ivl as u64));
                }
            }
            if now.duration_since(self.last_recv)
                >= Duration::from_millis(self.heartbeat_timeout.max(1) as u64)
                    + Duration::from_millis(self.heartbeat_ivl as u64)
            {
                self.timed_out = true;
            }
            io.add_timer(
                Duration::from_millis(self.heartbeat_ivl.max(1) as u64),
                self.timer_id,
            );
        }
        if let Some(ttl) = self.peer_ttl {
            if now.duration_since(self.last_recv) >= ttl {
                self.timed_out = true;
            }
            if self.heartbeat_ivl <= 0 {
                io.add_timer(ttl / 2, self.timer_id);
            }
        }
    }
}

impl Engine {
    /// Does all the work possible now. `pipe` is the session's pipe end, if it has one.
    pub fn drive(&mut self, io: &mut IoCtx, pipe: Option<&mut Pipe>) -> EngineStatus {
        if self.timed_out {
            return EngineStatus::Closed;
        }
        let r = self.step(pipe);
        if std::mem::take(&mut self.woke_reader) {
            io.note_woke_reader();
        }
        if std::mem::take(&mut self.arm_timer) {
            let ivl = match (self.heartbeat_ivl, self.peer_ttl) {
                (i, _) if i > 0 => Duration::from_millis(i as u64),
                (_, Some(ttl)) => ttl,
                _ => Duration::from_millis(100),
            };
            io.add_timer(ivl, self.timer_id);
        }
        match r {
            Ok(Some(id)) => EngineStatus::Ready(id),
            Ok(None) => EngineStatus::Running,
            Err(Closed) => EngineStatus::Closed,
        }
    }

    fn step(&mut self, mut pipe: Option<&mut Pipe>) -> Step<Option<Vec<u8>>> {
        loop {
            match self.state {
                State::Greeting => {
                    if !self.greet()? {
                        return Ok(None);
                    }
                }
                State::Handshake => {
                    let progress = self.flush_out()?;
                    if let Some(id) = self.handshake()? {
                        self.state = State::Active;
                        self.handshake_deadline = None;
                        if self.heartbeat_ivl > 0 {
                            self.next_ping = Some(
                                Instant::now() + Duration::from_millis(self.heartbeat_ivl as u64),
                            );
                            self.arm_timer = true;
                        }
                        return Ok(Some(id));
                    }
                    if !progress {
                        return Ok(None);
                    }
                }
                State::Active => {
                    let Some(p) = pipe.as_deref_mut() else {
                        self.flush_out()?;
                        return Ok(None);
                    };
                    if !self.pump(p)? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    fn io_err<T>(e: std::io::Error, wb: &mut bool) -> Step<Option<T>> {
        base::io_err(e, wb).map(|()| None)
    }

    /// The greeting exchange; true when something happened.
    fn greet(&mut self) -> Step<bool> {
        let mut progress = false;
        loop {
            let mut moved = false;
            while !self.greeting.output().is_empty() && self.writable {
                match self.stream.write(self.greeting.output()) {
                    Ok(n) => {
                        self.greeting.advance_output(n);
                        moved = true;
                    }
                    Err(e) => {
                        Self::io_err::<()>(e, &mut self.writable)?;
                    }
                }
            }
            let want = self.greeting.wanted();
            if want > 0 && self.readable {
                let mut buf = [0u8; 64];
                match self.stream.read(&mut buf[..want]) {
                    Ok(0) => return Err(Closed),
                    Ok(n) => {
                        moved = true;
                        self.last_recv = Instant::now();
                        let (_, prog) = self.greeting.feed(&buf[..n]).map_err(|_| Closed)?;
                        if let Progress::Done(peer) = prog {
                            self.greeting_done(peer)?;
                            return Ok(true);
                        }
                    }
                    Err(e) => {
                        Self::io_err::<()>(e, &mut self.readable)?;
                    }
                }
            }
            if !moved {
                return Ok(progress);
            }
            progress = true;
        }
    }

    fn greeting_done(&mut self, peer: PeerGreeting) -> Step<()> {
        self.framing = peer.framing();
        self.zmtp31 = peer.is_zmtp31();
        if self.framing != Framing::V3 {
            // PING / PONG are ZMTP 3.1 commands: no heartbeats with older peers.
            self.heartbeat_ivl = 0;
        }
        let Ok(mut dec) = Decoder::new(self.framing, self.max_msg_size) else {
            return Err(Closed);
        };
        let mut enc = Encoder::new(self.framing);
        // What the greeting still had to send goes first.
        enc.push_raw(self.greeting.output());
        let n = self.greeting.output().len();
        self.greeting.advance_output(n);
        match peer {
            PeerGreeting::V3 { mechanism, .. } => {
                if mechanism != Mechanism::Null {
                    return Err(Closed);
                }
                let mut props = Properties::default();
                let name = socket_type::name(self.socket_type).unwrap_or("");
                props
                    .insert(command::SOCKET_TYPE, name.as_bytes())
                    .map_err(|_| Closed)?;
                if matches!(self.socket_type, ZMQ_REQ | ZMQ_DEALER | ZMQ_ROUTER) {
                    props
                        .insert(command::IDENTITY, &self.routing_id)
                        .map_err(|_| Closed)?;
                }
                enc.push(command::ready(&props).map_err(|_| Closed)?);
            }
            PeerGreeting::V2 { socket_type, .. } => {
                // The greeting's socket type must be one ours talks to (15/ZMTP).
                if !socket_type::compatible(self.socket_type, i32::from(socket_type)) {
                    return Err(Closed);
                }
                // An identity frame, no handshake commands.
                enc.push(Msg::from_slice(&self.routing_id).map_err(|_| Closed)?);
            }
            PeerGreeting::V1 { replay } => {
                self.subscribe_all = matches!(self.socket_type, ZMQ_PUB | ZMQ_XPUB);
                // Our signature was the header of our identity frame; its body follows.
                enc.push_raw(&self.routing_id);
                dec.feed(&self.greeting.received()[..replay]);
            }
        }
        self.dec = Some(dec);
        self.enc = Some(enc);
        self.state = State::Handshake;
        Ok(())
    }

    /// Reads the peer's READY (3.x) or identity frame (older); its routing id when done.
    fn handshake(&mut self) -> Step<Option<Vec<u8>>> {
        let Some(m) = self.next_frame()? else {
            return Ok(None);
        };
        if self.framing != Framing::V3 {
            // The identity frame of a 1.0 / 2.0 peer.
            self.set_metadata(None);
            if self.subscribe_all {
                // Goes to the socket before anything the peer sends.
                self.pending_in = Some(command::sub_message(true, b"").map_err(|_| Closed)?);
            }
            return Ok(Some(m.data().to_vec()));
        }
        if m.flags() & msg::COMMAND == 0 {
            return Err(Closed);
        }
        match Command::parse(m.data(), Mechanism::Null).map_err(|_| Closed)? {
            Command::Ready(props) => {
                let ok = props
                    .get(command::SOCKET_TYPE)
                    .is_some_and(|t| socket_type::compatible_name(self.socket_type, t));
                if !ok {
                    if let (Some(enc), Ok(e)) =
                        (self.enc.as_mut(), command::error(b"Invalid socket type"))
                    {
                        enc.push(e);
                    }
                    let _ = self.flush_out();
                    return Err(Closed);
                }
                let id = props.get(command::IDENTITY).unwrap_or_default().to_vec();
                self.set_metadata(Some(props));
                Ok(Some(id))
            }
            _ => Err(Closed),
        }
    }

    /// The metadata received messages carry: the peer's READY properties (Socket-Type,
    /// Identity, as Routing-Id too) and Peer-Address.
    fn set_metadata(&mut self, props: Option<Properties>) {
        let mut props = props.unwrap_or_default();
        if let Some(id) = props.get(command::IDENTITY).map(<[u8]>::to_vec) {
            let _ = props.insert("Routing-Id", &id);
        }
        if !self.peer_address.is_empty() {
            let _ = props.insert(command::PEER_ADDRESS, self.peer_address.as_bytes());
        }
        let md = MetadataRef::new(props.to_msg_metadata().with_fd(self.stream.raw_fd()));
        if let Some(dec) = self.dec.as_mut() {
            dec.set_metadata(md.clone());
        }
        self.metadata = Some(md);
    }

    /// Decodes the next frame, reading from the stream as needed.
    #[inline(always)]
    fn next_frame(&mut self) -> Step<Option<Msg>> {
        let Some(dec) = self.dec.as_mut() else {
            return Ok(None);
        };
        loop {
            match dec.decode() {
                Ok(Some(m)) => return Ok(Some(m)),
                Ok(None) => {}
                Err(_) => return Err(Closed),
            }
            if !self.readable {
                return Ok(None);
            }
            let [body, rest] = dec.read_bufs();
            let asked = body.len() + rest.len();
            if asked == 0 {
                return if dec.is_out_of_memory() {
                    Err(Closed)
                } else {
                    Ok(None)
                };
            }
            match self
                .stream
                .read_vectored(&mut [IoSliceMut::new(body), IoSliceMut::new(rest)])
            {
                Ok(0) => return Err(Closed),
                Ok(n) => {
                    // A short read from a stream socket took all it had: new bytes (or the
                    // FIN) will come with a new edge (epoll(7)), so don't spend a read on
                    // WouldBlock. A FIN already reported must still be read.
                    if n < asked && !self.read_closed {
                        self.readable = false;
                    }
                    dec.advance(n);
                    if n == asked {
                        dec.grow_buffer(MAX_READ_BUFFER);
                    }
                    if self.heartbeat_ivl > 0 || self.peer_ttl.is_some() {
                        self.last_recv = Instant::now();
                    }
                }
                Err(e) => {
                    Self::io_err::<()>(e, &mut self.readable)?;
                    return Ok(None);
                }
            }
        }
    }

    /// Writes what is encoded; true when something was written.
    fn flush_out(&mut self) -> Step<bool> {
        let Some(enc) = self.enc.as_mut() else {
            return Ok(false);
        };
        base::write_out(&mut self.stream, enc, &mut self.writable)
    }

    /// Moves messages both ways; true when something moved.
    fn pump(&mut self, pipe: &mut Pipe) -> Step<bool> {
        let mut progress = false;
        // Peer -> socket.
        if let Some(m) = self.pending_in.take() {
            match pipe.write(m) {
                Ok(()) => progress = true,
                Err(m) => self.pending_in = Some(m),
            }
        }
        if self.pending_in.is_none() {
            while let Some(mut m) = self.next_frame()? {
                progress = true;
                if m.flags() & msg::COMMAND != 0 {
                    match self.on_command(&m)? {
                        Some(sub) => {
                            m = sub;
                            m.set_metadata(self.metadata.clone());
                        }
                        None => continue,
                    }
                }
                if let Err(m) = pipe.write(m) {
                    // The socket's queue is full: resume when it gives room back.
                    self.pending_in = Some(m);
                    break;
                }
            }
            if pipe.flush() {
                self.woke_reader = true;
            }
        }
        // Socket -> peer. Batches are pulled without letting the pipe sleep; only when there
        // is nothing left to write does a last look let it sleep (so the writer wakes us when
        // it writes again). A writer that keeps up then never pays a wake-up, and the count
        // it publishes is looked at once per batch, not written by us at every message.
        while self.enc.is_some() {
            self.pull(pipe, false);
            if self.enc.as_ref().is_some_and(Encoder::is_empty) {
                self.pull(pipe, true);
            }
            let Some(enc) = self.enc.as_mut() else { break };
            if enc.is_empty() {
                break;
            }
            enc.grow_batch(MAX_WRITE_BATCH);
            if !self.flush_out()? {
                // The socket is full: its next writable edge drives us again.
                break;
            }
            progress = true;
        }
        Ok(progress)
    }

    /// Moves messages from the pipe into the encoder while it has room; with `sleep`, a
    /// pipe found empty goes to sleep (see `Pipe::read_awake`).
    fn pull(&mut self, pipe: &mut Pipe, sleep: bool) {
        let Some(enc) = self.enc.as_mut() else {
            return;
        };
        while enc.has_room() {
            let m = if sleep {
                pipe.read()
            } else {
                pipe.read_awake()
            };
            let Some(m) = m else { break };
            let first = !self.out_more;
            self.out_more = m.more();
            let m = if first
                && self.zmtp31
                && matches!(self.socket_type, ZMQ_SUB | ZMQ_XSUB)
                && !m.more()
            {
                subscription_to_command(m)
            } else {
                m
            };
            enc.push(m);
        }
    }

    /// A command from the peer in the message phase; a subscription becomes a message for
    /// the socket.
    fn on_command(&mut self, m: &Msg) -> Step<Option<Msg>> {
        match Command::parse(m.data(), Mechanism::Null).map_err(|_| Closed)? {
            Command::Ping { ttl, context } => {
                // (Reads refresh `last_recv` only while heartbeats are on; this one counts.)
                self.last_recv = Instant::now();
                if ttl > 0 {
                    if self.peer_ttl.is_none() && self.heartbeat_ivl <= 0 {
                        self.arm_timer = true;
                    }
                    self.peer_ttl = Some(Duration::from_millis(ttl as u64 * 100));
                }
                if let (Some(enc), Ok(p)) = (self.enc.as_mut(), command::pong(context)) {
                    enc.push(p);
                }
                Ok(None)
            }
            Command::Pong(_) => Ok(None),
            Command::Subscribe(topic) if matches!(self.socket_type, ZMQ_PUB | ZMQ_XPUB) => {
                Ok(Some(command::sub_message(true, topic).map_err(|_| Closed)?))
            }
            Command::Cancel(topic) if matches!(self.socket_type, ZMQ_PUB | ZMQ_XPUB) => Ok(Some(
                command::sub_message(false, topic).map_err(|_| Closed)?,
            )),
            _ => Err(Closed),
        }
    }
}

/// A subscription message (first byte 1 or 0, then the topic) as a 3.1 command.
fn subscription_to_command(m: Msg) -> Msg {
    match command::parse_sub_message(m.data()) {
        Some((true, topic)) => command::subscribe(topic).unwrap_or(m),
        Some((false, topic)) => command::cancel(topic).unwrap_or(m),
        None => m,
    }
}

#[cfg(test)]
#[path = "zmtp_tests.rs"]
mod tests;
