//! The ZMTP engine: one connected stream, from greeting to messages.
//!
//! Runs on the I/O thread of its session, which owns it and passes the pipe in on each call.
//! `drive` does all the work that is possible now and returns: the greeting, the security
//! handshake (run by the connection's [`Mechanism`]: the engine only carries its commands),
//! then messages both ways, commands (PING/PONG, SUBSCRIBE/CANCEL) handled here.
//!
//! A failure ends the connection with its reason ([`Closed`]): the session raises the
//! handshake event libzmq raises for it.
//!
//! Readiness is edge-triggered (mio): the engine remembers `readable` / `writable` until a
//! read or write returns WouldBlock, and stops reading (keeping the decoded message) while
//! the pipe to the socket is full; the session calls `drive` again when the pipe has room.

use std::io::IoSliceMut;
use std::time::Duration;

use super::base::{self, Closed, Step};
use super::codec::command::{self, Properties, ZmtpCommand};
use super::codec::error::CodecError;
use super::codec::frame::{
    Decoder, Encoder, Framing, DEFAULT_BATCH, MAX_READ_BUFFER, MAX_WRITE_BATCH,
};
use super::codec::greeting::{GreetingParser, MechanismName, OurGreeting, PeerGreeting, Progress};
use super::codec::socket_type;
use super::EngineStatus;
use crate::constants::*;
use crate::io::io_thread::IoCtx;
use crate::io::timer_heap::TimerId;
use crate::mechanism::{self, HandshakeFailure, Mechanism, Status};
use crate::msg::{self, MetadataRef, Msg};
use crate::options::Options;
use crate::pipe::Pipe;
use crate::transport::connection::Connection;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Greeting,
    Handshake,
    /// The ZAP handler refused the peer: what the mechanism said is written, what the peer
    /// sends is dropped, until it closes or HANDSHAKE_IVL passes (`Status::Refused`).
    Refused,
    Active,
}

/// A ZMTP connection. See the module documentation.
pub struct Engine {
    stream: Connection,
    socket_type: i32,
    routing_id: Vec<u8>,
    max_msg_size: i64,
    peer_address: String,
    greeting: GreetingParser,
    /// The security handshake; `None` when this build cannot run the mechanism the socket
    /// is set up for (every connection then fails as a mechanism mismatch).
    mechanism: Option<Box<dyn Mechanism>>,
    /// The mechanism named in our greeting.
    mechanism_name: MechanismName,
    /// The mechanism changes messages on the wire (`Mechanism::transforms_messages`, known
    /// once the handshake is done): each one goes through its encode / decode.
    transforms: bool,
    /// Refuse ZMTP 1.0 / 2.0 peers, which cannot go through ZAP (`mechanism::zap_enabled`).
    zap_enabled: bool,
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
    /// The I/O thread can call this engine back in its next round (see `pump`).
    rounds: bool,
    /// This `drive` wrote a batch that was not full.
    wrote_partial: bool,
    /// More is to be written in the I/O thread's next round, which was asked for
    /// (`next_round` clears it).
    resumes: bool,
    /// Tests: called after each write of messages (a writer streaming at the engine's pace).
    #[cfg(test)]
    after_write: Option<Box<dyn FnMut() + Send>>,
    pending_in: Option<Msg>,
    /// What received messages carry (the decoder stamps them; kept here for the messages
    /// the engine makes itself, from subscription commands).
    metadata: Option<MetadataRef>,
    zmtp31: bool,
    /// Inside a multipart message coming from the pipe (only its first part is a candidate
    /// subscription).
    out_more: bool,
    /// A DISH's connection: the group frame of the message being received.
    dish_group: Option<Msg>,
    /// A DISH's connection: the metadata of the last group received (the connection's,
    /// with the group), shared by the messages of that group while it repeats.
    dish_md: Option<MetadataRef>,
    handshake_ivl: i32,
    heartbeat_ivl: i32,
    heartbeat_timeout: i32,
    heartbeat_ttl: i32,
    /// The engine's timers on its I/O thread, as libzmq's engine sets them (see
    /// [`Timers`]); their numbers are `timer_base` + [`Timer`].
    timers: Timers,
    timer_base: u32,
    /// Bytes came from the peer since the last `drive`: a pending heartbeat timeout or
    /// TTL is cancelled.
    heard: bool,
    /// Bytes read and written since the trim timer was armed.
    moved: usize,
    /// The peer's PING asked for a TTL: set its timer at the end of this `drive`.
    arm_ttl: Option<Duration>,
    /// A timer found the connection dead (handshake too slow, heartbeat missing).
    timed_out: bool,
    /// A PUB / XPUB facing a ZMTP 1.0 peer without greeting (libzmq 2.x), whose SUB filters
    /// by itself and never sends subscriptions: it is subscribed to everything.
    subscribe_all: bool,
    /// A handshake failure to report now, while the connection stays (a ZAP refusal).
    to_report: Option<HandshakeFailure>,
    /// The ZAP reply ended the handshake: the connection closes at the next `drive`.
    zap_failed: Option<HandshakeFailure>,
}

impl Engine {
    /// An engine over a connected stream. `as_server` is the listening side;
    /// `zap_handler`: a ZAP handler is bound in the socket's context.
    pub fn new(
        stream: Connection,
        options: &Options,
        as_server: bool,
        peer_address: String,
        zap_handler: bool,
    ) -> Engine {
        let _ = as_server;
        let mechanism = mechanism::create(&mechanism::Setup {
            options,
            zap_handler,
            peer_address: &peer_address,
        });
        let (mechanism_name, mechanism_server) = mechanism
            .as_ref()
            .map_or((MechanismName::Null, false), |m| (m.name(), m.as_server()));
        let mut ours =
            OurGreeting::new(mechanism_name, mechanism_server, options.socket_type as u8);
        ours.routing_id_len = options.routing_id.len().min(255) as u8;
        Engine {
            stream,
            socket_type: options.socket_type,
            routing_id: options.routing_id.clone(),
            max_msg_size: options.maxmsgsize,
            peer_address,
            greeting: GreetingParser::new(&ours),
            mechanism,
            mechanism_name,
            transforms: false,
            zap_enabled: mechanism::zap_enabled(options),
            framing: Framing::V3,
            dec: None,
            enc: None,
            state: State::Greeting,
            readable: true,
            writable: true,
            read_closed: false,
            woke_reader: false,
            rounds: false,
            wrote_partial: false,
            resumes: false,
            #[cfg(test)]
            after_write: None,
            pending_in: None,
            metadata: None,
            dish_group: None,
            dish_md: None,
            zmtp31: false,
            out_more: false,
            handshake_ivl: options.handshake_ivl,
            heartbeat_ivl: options.heartbeat_ivl,
            heartbeat_timeout: if options.heartbeat_timeout < 0 {
                options.heartbeat_ivl
            } else {
                options.heartbeat_timeout
            },
            heartbeat_ttl: options.heartbeat_ttl,
            timers: Timers::default(),
            timer_base: 0,
            heard: false,
            moved: 0,
            arm_ttl: None,
            timed_out: false,
            subscribe_all: false,
            to_report: None,
            zap_failed: None,
        }
    }

    /// Registers the stream with the I/O thread; the engine's timers come back numbered
    /// from `timer_base` (see [`Engine::timer`]).
    pub fn plug(&mut self, io: &mut IoCtx, timer_base: u32) {
        self.timer_base = timer_base;
        if self.stream.register(io.registry, io.token()).is_err() {
            self.readable = false;
            self.writable = false;
        }
        if self.handshake_ivl > 0 {
            self.timers.handshake =
                Some(self.add_timer(io, Timer::Handshake, self.handshake_ivl as u64));
        }
    }

    fn add_timer(&self, io: &mut IoCtx, t: Timer, ms: u64) -> TimerId {
        io.add_timer(Duration::from_millis(ms), self.timer_base + t as u32)
    }

    /// Starts the trim timer when a buffer has grown (none runs otherwise): if less than
    /// a first batch moves before it fires, the buffers go back to their first size
    /// (`Timer::Trim`).
    fn arm_trim(&mut self, io: &mut IoCtx) {
        let grown = self.dec.as_ref().is_some_and(Decoder::is_grown)
            || self.enc.as_ref().is_some_and(Encoder::is_grown);
        if grown && self.timers.trim.is_none() {
            self.moved = 0;
            self.timers.trim = Some(self.add_timer(io, Timer::Trim, TRIM_AFTER_MS));
        }
    }

    /// Whether encoded bytes still wait to be written.
    pub fn has_pending_output(&self) -> bool {
        self.enc.as_ref().is_some_and(|e| !e.is_empty())
    }

    /// The I/O thread's next round came, as `drive` asked: the next `drive` goes on writing.
    pub fn next_round(&mut self) {
        self.resumes = false;
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

    /// Deregisters and drops the stream (after a last attempt to write what is encoded),
    /// and cancels the engine's timers.
    pub fn close(&mut self, io: &mut IoCtx) {
        base::close(&mut self.stream, self.enc.as_mut(), io.registry);
        for t in self.timers.take_all() {
            io.cancel_timer(t);
        }
    }

    /// A timer of this engine fired (`timer` counts from the base given to `plug`): the
    /// handshake took too long, a heartbeat is due, or the peer fell silent.
    pub fn timer(&mut self, io: &mut IoCtx, timer: u32) {
        match timer.checked_sub(self.timer_base) {
            Some(t) if t == Timer::Handshake as u32 => {
                self.timers.handshake = None;
                self.timed_out = true;
            }
            Some(t) if t == Timer::HeartbeatIvl as u32 => {
                self.timers.heartbeat = None;
                let ttl = (self.heartbeat_ttl / 100).clamp(0, u16::MAX as i32) as u16;
                if let Ok(m) = command::ping(ttl, b"") {
                    if self.send_command(m).is_err() {
                        self.timed_out = true;
                    }
                }
                self.timers.heartbeat =
                    Some(self.add_timer(io, Timer::HeartbeatIvl, self.heartbeat_ivl as u64));
                if self.timers.heartbeat_timeout.is_none() && self.heartbeat_timeout > 0 {
                    self.timers.heartbeat_timeout = Some(self.add_timer(
                        io,
                        Timer::HeartbeatTimeout,
                        self.heartbeat_timeout as u64,
                    ));
                }
            }
            Some(t) if t == Timer::HeartbeatTimeout as u32 => {
                self.timers.heartbeat_timeout = None;
                self.timed_out = true;
            }
            Some(t) if t == Timer::HeartbeatTtl as u32 => {
                self.timers.heartbeat_ttl = None;
                self.timed_out = true;
            }
            Some(t) if t == Timer::Trim as u32 => {
                // Quiet: less than a first batch moved in the second (heartbeats, a
                // trickle), so first-size buffers serve. Not re-armed here: the next
                // `drive` arms it again if a buffer is still grown (busy, or stalled with
                // bytes half-read or unwritten), so a stalled connection costs no timer.
                self.timers.trim = None;
                if std::mem::take(&mut self.moved) < DEFAULT_BATCH {
                    if let Some(dec) = self.dec.as_mut() {
                        dec.trim();
                    }
                    if let Some(enc) = self.enc.as_mut() {
                        enc.trim();
                    }
                }
            }
            _ => {}
        }
    }
}

impl Engine {
    /// Does all the work possible now. `pipe` is the session's pipe end, if it has one.
    pub fn drive(&mut self, io: &mut IoCtx, pipe: Option<&mut Pipe>) -> EngineStatus {
        if self.timed_out {
            // After a refusal its event was raised already.
            return EngineStatus::Closed(if self.state == State::Refused {
                Closed::PROTOCOL
            } else {
                Closed::Timeout
            });
        }
        if let Some(f) = self.zap_failed.take() {
            return EngineStatus::Closed(Closed::Protocol(f));
        }
        self.rounds = io.has_rounds();
        self.wrote_partial = false;
        let resumed = self.resumes;
        let r = self.step(pipe);
        if self.resumes && !resumed {
            io.call_next_round();
        }
        if std::mem::take(&mut self.woke_reader) {
            io.note_woke_reader();
        }
        if self.timers.trim.is_none() {
            self.arm_trim(io);
        }
        if std::mem::take(&mut self.heard) {
            // The peer is alive: what waited for it to speak is over.
            for t in [
                self.timers.heartbeat_timeout.take(),
                self.timers.heartbeat_ttl.take(),
            ]
            .into_iter()
            .flatten()
            {
                io.cancel_timer(t);
            }
        }
        if let Some(ttl) = self.arm_ttl.take() {
            if self.timers.heartbeat_ttl.is_none() {
                self.timers.heartbeat_ttl =
                    Some(self.add_timer(io, Timer::HeartbeatTtl, ttl.as_millis() as u64));
            }
        }
        if matches!(r, Ok(Some(_))) {
            // The handshake is done: its deadline goes, heartbeats start.
            if let Some(t) = self.timers.handshake.take() {
                io.cancel_timer(t);
            }
            if self.heartbeat_ivl > 0 {
                self.timers.heartbeat =
                    Some(self.add_timer(io, Timer::HeartbeatIvl, self.heartbeat_ivl as u64));
            }
        }
        match r {
            Ok(Some(id)) => EngineStatus::Ready(id),
            Ok(None) if self.state == State::Active => EngineStatus::Running,
            Ok(None) => self.handshake_status(),
            Err(e) => EngineStatus::Closed(e),
        }
    }

    /// While the handshake runs: what the session must do for it (ask ZAP, report a
    /// refusal), if anything.
    #[cold]
    fn handshake_status(&mut self) -> EngineStatus {
        if let Some(f) = self.to_report.take() {
            return EngineStatus::HandshakeFailed(f);
        }
        match self.mechanism.as_mut().and_then(|m| m.zap_request()) {
            Some(request) => EngineStatus::ZapRequest(request),
            None => EngineStatus::Running,
        }
    }

    /// The ZAP handler's reply to the request this engine gave (`None`: no handler could
    /// be reached). The session calls `drive` next.
    pub fn zap_reply(&mut self, reply: Option<&[Msg]>) {
        if self.state != State::Handshake {
            return;
        }
        if let Some(mech) = self.mechanism.as_mut() {
            if let Err(f) = mech.zap_reply(reply) {
                self.zap_failed = Some(f);
            }
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
                    let ready = self.handshake()?;
                    let progress = self.flush_out()?;
                    if let Some(id) = ready {
                        self.state = State::Active;
                        return Ok(Some(id));
                    }
                    if !progress || self.state != State::Handshake {
                        return Ok(None);
                    }
                }
                State::Refused => {
                    self.drain()?;
                    return Ok(None);
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
                    Ok(0) => return Err(Closed::Connection),
                    Ok(n) => {
                        moved = true;
                        let (_, prog) = self.greeting.feed(&buf[..n]).map_err(protocol_error)?;
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
            return Err(Closed::Connection);
        };
        let mut enc = Encoder::new(self.framing);
        // What the greeting still had to send goes first.
        enc.push_raw(self.greeting.output());
        let n = self.greeting.output().len();
        self.greeting.advance_output(n);
        if self.zap_enabled && !matches!(peer, PeerGreeting::V3 { .. }) {
            // A peer without a security handshake cannot be authenticated.
            return Err(Closed::PROTOCOL);
        }
        match peer {
            PeerGreeting::V3 { mechanism, .. } => {
                if self.mechanism.is_none() || mechanism != self.mechanism_name {
                    return Err(Closed::Protocol(HandshakeFailure::Protocol(
                        ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH,
                    )));
                }
                // Our first handshake commands (NULL: READY) go out with the handshake's
                // first step, right after this.
            }
            PeerGreeting::V2 { socket_type, .. } => {
                // The greeting's socket type must be one ours talks to (15/ZMTP).
                if !socket_type::compatible(self.socket_type, i32::from(socket_type)) {
                    return Err(Closed::PROTOCOL);
                }
                // An identity frame, no handshake commands.
                enc.push(Msg::from_slice(&self.routing_id).map_err(|_| Closed::Connection)?);
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

    /// Runs the handshake on what the peer sent: the mechanism's commands (3.x) or the
    /// identity frame (older); the peer's routing id when done.
    fn handshake(&mut self) -> Step<Option<Vec<u8>>> {
        if self.framing != Framing::V3 {
            let Some(m) = self.next_frame()? else {
                return Ok(None);
            };
            // The identity frame of a 1.0 / 2.0 peer.
            self.set_metadata(Properties::default(), &[]);
            if self.subscribe_all {
                // Goes to the socket before anything the peer sends.
                self.pending_in =
                    Some(command::sub_message(true, b"").map_err(|_| Closed::Connection)?);
            }
            return Ok(Some(m.data().to_vec()));
        }
        loop {
            let (Some(mech), Some(enc)) = (self.mechanism.as_mut(), self.enc.as_mut()) else {
                return Err(Closed::PROTOCOL);
            };
            // What the mechanism has to say goes out, after a failure too (its ERROR).
            let status = match push_handshake_commands(mech.as_mut(), enc) {
                Err(f) => Status::Failed(f),
                Ok(()) => mech.status(),
            };
            match status {
                Status::Handshaking => {}
                Status::Ready => {
                    let mut props = mech.peer_properties().clone();
                    if let Some(zap) = mech.zap_properties() {
                        props = merge_properties(zap, &props);
                    }
                    let user_id = mech.user_id().to_vec();
                    self.transforms = mech.transforms_messages();
                    let id = props.get(command::IDENTITY).unwrap_or_default().to_vec();
                    self.set_metadata(props, &user_id);
                    return Ok(Some(id));
                }
                Status::Failed(f) => {
                    let _ = self.flush_out();
                    return Err(Closed::Protocol(f));
                }
                Status::Refused(f) => {
                    self.to_report = Some(f);
                    self.state = State::Refused;
                    self.drain()?;
                    return Ok(None);
                }
            }
            let Some(m) = self.next_frame()? else {
                return Ok(None);
            };
            let Some(mech) = self.mechanism.as_mut() else {
                return Err(Closed::PROTOCOL);
            };
            let processed = if m.flags() & msg::COMMAND == 0 {
                Err(HandshakeFailure::Protocol(
                    ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND,
                ))
            } else {
                mech.process_handshake_command(m.data())
            };
            if let Err(f) = processed {
                // Its ERROR, if it has one, goes out first.
                if let Some(enc) = self.enc.as_mut() {
                    let _ = push_handshake_commands(mech.as_mut(), enc);
                }
                let _ = self.flush_out();
                return Err(Closed::Protocol(f));
            }
        }
    }

    /// After a refusal: writes what is left to say and drops what the peer sends; the
    /// peer closing ends the connection, with no further event. A round's worth of reads
    /// at most per `drive` (see `base`, fairness): the handshake timer, which ends the
    /// connection, gets its turn however fast the peer sends.
    fn drain(&mut self) -> Step<()> {
        self.flush_out()?;
        let mut scratch = [0u8; 4096];
        let mut left = if self.rounds {
            base::READS_PER_ROUND
        } else {
            u32::MAX
        };
        while self.readable {
            if left == 0 {
                self.resumes = true;
                return Ok(());
            }
            left -= 1;
            match self.stream.read(&mut scratch) {
                Ok(0) => return Err(Closed::PROTOCOL),
                Ok(_) => {}
                Err(e) => base::io_err(e, &mut self.readable).map_err(|_| Closed::PROTOCOL)?,
            }
        }
        Ok(())
    }

    /// The metadata received messages carry: the User-Id a ZAP handler gave and
    /// Peer-Address, then the properties of the handler and of the peer (Socket-Type,
    /// Identity, also as Routing-Id); a name already present keeps its first value, as in
    /// libzmq.
    fn set_metadata(&mut self, props: Properties, user_id: &[u8]) {
        let mut all = Properties::default();
        if !user_id.is_empty() {
            let _ = all.insert(command::USER_ID, user_id);
        }
        if !self.peer_address.is_empty() {
            let _ = all.insert(command::PEER_ADDRESS, self.peer_address.as_bytes());
        }
        let mut all = merge_properties(&all, &props);
        if let Some(id) = props.get(command::IDENTITY) {
            let _ = all.insert("Routing-Id", id);
        }
        let md = MetadataRef::new(all.to_msg_metadata().with_fd(self.stream.raw_fd()));
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
                Err(_) => return Err(Closed::PROTOCOL),
            }
            if !self.readable {
                return Ok(None);
            }
            let [body, rest] = dec.read_bufs();
            let asked = body.len() + rest.len();
            if asked == 0 {
                return if dec.is_out_of_memory() {
                    Err(Closed::Connection)
                } else {
                    Ok(None)
                };
            }
            match self
                .stream
                .read_vectored(&mut [IoSliceMut::new(body), IoSliceMut::new(rest)])
            {
                Ok(0) => return Err(Closed::Connection),
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
                    self.heard = true;
                    self.moved = self.moved.saturating_add(n);
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
        let before = enc.pending();
        let wrote = base::write_out(&mut self.stream, enc, &mut self.writable)?;
        self.moved = self.moved.saturating_add(before - enc.pending());
        Ok(wrote)
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
            loop {
                // Short data frames already read go straight into the socket's queue, each
                // built in its slot (no temporary: see DESIGN.md, "The message path");
                // anything else, or reading more, takes the general path below.
                if !self.transforms && self.socket_type != socket_type::DISH {
                    if let Some(dec) = self.dec.as_mut() {
                        let mut failed = false;
                        while let Some(true) =
                            pipe.write_with(|slot| match dec.decode_data_into(slot) {
                                Ok(m) => m,
                                Err(_) => {
                                    failed = true;
                                    None
                                }
                            })
                        {
                            progress = true;
                        }
                        if failed {
                            return Err(Closed::PROTOCOL);
                        }
                    }
                }
                let Some(mut m) = self.next_frame()? else {
                    break;
                };
                progress = true;
                if self.transforms {
                    m = self.decode(m)?;
                }
                if m.flags() & msg::COMMAND != 0 {
                    match self.on_command(&m)? {
                        Some(sub) => {
                            m = sub;
                            // A JOIN / LEAVE carries its group as its metadata.
                            if m.flags() & (msg::JOIN | msg::LEAVE) == 0 {
                                m.set_metadata(self.metadata.clone());
                            }
                        }
                        None => continue,
                    }
                } else if self.socket_type == socket_type::DISH {
                    match self.dish_message(m)? {
                        Some(with_group) => m = with_group,
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
            self.pull(pipe, false)?;
            if self.enc.as_ref().is_some_and(Encoder::is_empty) {
                self.pull(pipe, true)?;
            }
            let Some(enc) = self.enc.as_mut() else { break };
            if enc.is_empty() {
                break;
            }
            let full = !enc.has_room();
            if !full && self.wrote_partial && self.rounds && self.writable {
                // A batch that was not full went out in this `drive` already, and the pipe
                // has more, though not a batch: the writer streams at about our pace. What
                // it writes meanwhile goes out in the thread's next round, after its other
                // connections (libzmq: one write per engine and poll). Writing it at once
                // would make every batch as small as one turn of this loop, and among many
                // connections fed at once (a PUB's) each costs a system call.
                self.resumes = true;
                break;
            }
            if !self.flush_out()? {
                // The socket is full: its next writable edge drives us again.
                break;
            }
            progress = true;
            self.wrote_partial |= !full;
            #[cfg(test)]
            if let Some(f) = self.after_write.as_mut() {
                f();
            }
            // A full batch that went out whole: the peer keeps up, larger writes pay. Bytes
            // left: the socket is full, the peer is the slower one; smaller batches again.
            if let Some(enc) = self.enc.as_mut() {
                if !enc.is_empty() {
                    enc.shrink_batch(DEFAULT_BATCH);
                } else if full {
                    enc.grow_batch(MAX_WRITE_BATCH);
                }
            }
        }
        Ok(progress)
    }

    /// Moves messages from the pipe into the encoder while it has room; with `sleep`, a
    /// pipe found empty goes to sleep (see `Pipe::read_awake`).
    fn pull(&mut self, pipe: &mut Pipe, sleep: bool) -> Step<()> {
        let Some(enc) = self.enc.as_mut() else {
            return Ok(());
        };
        // A message no rule below rewrites is encoded where it lies in the pipe (no move
        // of it on the way: see DESIGN.md, "The message path").
        let plain = !self.transforms
            && self.socket_type != socket_type::RADIO
            && !(self.zmtp31 && matches!(self.socket_type, ZMQ_SUB | ZMQ_XSUB));
        while enc.has_room() {
            let out_more = &mut self.out_more;
            let got = pipe.read_with(sleep, |m| {
                if plain && m.flags() & (msg::JOIN | msg::LEAVE) == 0 {
                    *out_more = m.more();
                    enc.push_from(m);
                    None
                } else {
                    Some(std::mem::take(m))
                }
            });
            let m = match got {
                None => break,
                Some(None) => continue,
                Some(Some(m)) => m,
            };
            let first = !self.out_more;
            self.out_more = m.more();
            let m = if first
                && self.zmtp31
                && matches!(self.socket_type, ZMQ_SUB | ZMQ_XSUB)
                && !m.more()
            {
                subscription_to_command(m)
            } else if m.flags() & (msg::JOIN | msg::LEAVE) != 0 {
                // A DISH's join or leave: a command.
                let join = m.flags() & msg::JOIN != 0;
                command::join_leave(join, m.group().to_bytes()).map_err(|_| Closed::Connection)?
            } else if self.socket_type == socket_type::RADIO {
                // The group goes first, in a frame of its own.
                let mut g =
                    Msg::from_slice(m.group().to_bytes()).map_err(|_| Closed::Connection)?;
                g.set_flags(msg::MORE);
                push_out(enc, self.transforms, self.mechanism.as_mut(), g)?;
                m
            } else {
                m
            };
            push_out(enc, self.transforms, self.mechanism.as_mut(), m)?;
        }
        Ok(())
    }

    /// A frame a DISH received: the group frame is kept until its body comes, which
    /// becomes the message, in the group (libzmq: anything else breaks the connection).
    fn dish_message(&mut self, m: Msg) -> Step<Option<Msg>> {
        let Some(group) = self.dish_group.take() else {
            if !m.more() || m.size() > crate::msg::GROUP_MAX_LENGTH {
                return Err(Closed::PROTOCOL);
            }
            self.dish_group = Some(m);
            return Ok(None);
        };
        if m.more() {
            return Err(Closed::PROTOCOL);
        }
        let g = group.data();
        let md = match &self.dish_md {
            Some(md) if md.group().is_some_and(|x| x.to_bytes() == g) => md.clone(),
            _ => {
                let name = std::ffi::CString::new(g).map_err(|_| Closed::PROTOCOL)?;
                let base = match self.metadata.as_deref() {
                    Some(md) => md.clone(),
                    None => crate::msg::Metadata::new(Vec::new()),
                };
                let md = MetadataRef::new(base.with_group(Some(name)));
                self.dish_md = Some(md.clone());
                md
            }
        };
        let mut m = m;
        m.set_metadata(Some(md));
        Ok(Some(m))
    }

    /// Queues a message or command the engine makes itself (PING, PONG), encoded by the
    /// mechanism when it encodes.
    fn send_command(&mut self, m: Msg) -> Step<()> {
        let Some(enc) = self.enc.as_mut() else {
            return Ok(());
        };
        let m = match self.mechanism.as_mut() {
            Some(mech) if self.transforms => mech.encode(m).map_err(Closed::Protocol)?,
            _ => m,
        };
        enc.push(m);
        Ok(())
    }

    /// Queues a message ahead of the pipe's (see `Engine::send_first`).
    pub fn send_first(&mut self, m: Msg) {
        if let Some(enc) = self.enc.as_mut() {
            let _ = push_out(enc, self.transforms, self.mechanism.as_mut(), m);
        }
    }

    /// A frame received from a mechanism that encodes messages, as the socket sees it.
    #[cold]
    fn decode(&mut self, m: Msg) -> Step<Msg> {
        let Some(mech) = self.mechanism.as_mut() else {
            return Ok(m);
        };
        let mut plain = mech.decode(m).map_err(Closed::Message)?;
        plain.set_metadata(self.metadata.clone());
        Ok(plain)
    }

    /// A command from the peer in the message phase; a subscription becomes a message for
    /// the socket.
    fn on_command(&mut self, m: &Msg) -> Step<Option<Msg>> {
        match ZmtpCommand::parse(m.data(), self.mechanism_name).map_err(|_| Closed::PROTOCOL)? {
            ZmtpCommand::Ping { ttl, context } => {
                if ttl > 0 {
                    // The peer is gone if nothing more comes within its TTL.
                    self.arm_ttl = Some(Duration::from_millis(ttl as u64 * 100));
                }
                if let Ok(p) = command::pong(context) {
                    self.send_command(p)?;
                }
                Ok(None)
            }
            ZmtpCommand::Pong(_) => Ok(None),
            ZmtpCommand::Subscribe(topic) if matches!(self.socket_type, ZMQ_PUB | ZMQ_XPUB) => Ok(
                Some(command::sub_message(true, topic).map_err(|_| Closed::Connection)?),
            ),
            ZmtpCommand::Cancel(topic) if matches!(self.socket_type, ZMQ_PUB | ZMQ_XPUB) => Ok(
                Some(command::sub_message(false, topic).map_err(|_| Closed::Connection)?),
            ),
            ZmtpCommand::Join(group) if self.socket_type == socket_type::RADIO => Ok(Some(
                Msg::join_leave(true, group).map_err(|_| Closed::PROTOCOL)?,
            )),
            ZmtpCommand::Leave(group) if self.socket_type == socket_type::RADIO => Ok(Some(
                Msg::join_leave(false, group).map_err(|_| Closed::PROTOCOL)?,
            )),
            _ => Err(Closed::PROTOCOL),
        }
    }
}

/// Queues a message for the peer, encoded by the mechanism when it encodes (CURVE sees
/// every message on its way out).
fn push_out(
    enc: &mut Encoder,
    transforms: bool,
    mech: Option<&mut Box<dyn Mechanism>>,
    m: Msg,
) -> Step<()> {
    if !transforms {
        enc.push(m);
    } else if let Some(mech) = mech {
        enc.push(mech.encode(m).map_err(Closed::Protocol)?);
    }
    Ok(())
}

/// A subscription message (first byte 1 or 0, then the topic) as a 3.1 command.
fn subscription_to_command(m: Msg) -> Msg {
    match command::parse_sub_message(m.data()) {
        Some((true, topic)) => command::subscribe(topic).unwrap_or(m),
        Some((false, topic)) => command::cancel(topic).unwrap_or(m),
        None => m,
    }
}

/// The metadata of a connection whose ZAP handler gave properties: the handler's first,
/// then the peer's, a name given by both keeping the handler's value (as libzmq's map).
fn merge_properties(zap: &Properties, peer: &Properties) -> Properties {
    let mut all = zap.clone();
    for (name, value) in peer.iter() {
        if all.get(name).is_none() {
            let _ = all.insert(name, value);
        }
    }
    all
}

/// Queues every handshake command the mechanism has to send now.
fn push_handshake_commands(
    mech: &mut dyn Mechanism,
    enc: &mut Encoder,
) -> Result<(), HandshakeFailure> {
    while let Some(m) = mech.next_handshake_command()? {
        enc.push(m);
    }
    Ok(())
}

/// A greeting the codec refused: the event libzmq raises for it, if any.
fn protocol_error(e: CodecError) -> Closed {
    Closed::Protocol(
        e.event_code()
            .map_or(HandshakeFailure::Silent, HandshakeFailure::Protocol),
    )
}

/// The engine's timers (libzmq's handshake, heartbeat interval, heartbeat timeout and TTL
/// timers), numbered from the engine's timer base.
#[derive(Clone, Copy)]
enum Timer {
    /// HANDSHAKE_IVL: the handshake must be done by then.
    Handshake,
    /// HEARTBEAT_IVL: time to send a PING.
    HeartbeatIvl,
    /// HEARTBEAT_TIMEOUT after a PING: the peer must have sent something by then.
    HeartbeatTimeout,
    /// The TTL of the peer's last PING: it must have sent something more by then.
    HeartbeatTtl,
    /// [`TRIM_AFTER_MS`] after buffers grew: if less than a first batch moved since,
    /// they are trimmed.
    Trim,
}

/// How long a connection whose buffers grew (a burst) must stay quiet before it gives the
/// memory back: long enough that a stream's pauses do not make it shrink and grow again.
const TRIM_AFTER_MS: u64 = 1000;

/// The engine's pending timers.
#[derive(Default)]
struct Timers {
    handshake: Option<TimerId>,
    heartbeat: Option<TimerId>,
    heartbeat_timeout: Option<TimerId>,
    heartbeat_ttl: Option<TimerId>,
    trim: Option<TimerId>,
}

impl Timers {
    /// Every pending timer, forgotten.
    fn take_all(&mut self) -> impl Iterator<Item = TimerId> {
        [
            self.handshake.take(),
            self.heartbeat.take(),
            self.heartbeat_timeout.take(),
            self.heartbeat_ttl.take(),
            self.trim.take(),
        ]
        .into_iter()
        .flatten()
    }
}

#[cfg(test)]
#[path = "zmtp_tests.rs"]
mod tests;
