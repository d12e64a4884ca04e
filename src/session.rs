//! Sessions: the bridge between a socket's pipe and a network engine, on an I/O thread.
//!
//! Two roles:
//! - **connect**: made by `zmq_connect`. The socket creates the pipe at once (messages queue
//!   while disconnected) and owns the session. The session connects, runs an engine, and
//!   after a disconnect waits RECONNECT_IVL (doubling up to RECONNECT_IVL_MAX) and connects
//!   again, keeping the pipe.
//! - **accepted**: made by a listener for an accepted connection. The pipe is created when the
//!   handshake completes and handed to the socket (`Command::Bind`); when the connection ends
//!   the pipe is terminated and the session is done.
//!
//! The connect attempts (the SOCKS5 proxy included) and the backoff are the connecter's
//! ([`crate::transport::connecter`]); the session owns the reconnect policy: whether to try
//! again (not while ending, not with RECONNECT_IVL -1, not after a protocol error such as a
//! failed handshake: libzmq ends such a connection for good; nor as ZMQ_RECONNECT_STOP says:
//! a refusing tcp peer, a hang-up or silence during the handshake, a refused ipc attempt after
//! the socket disconnected something), and the timer. A failed attempt, a proxy's refusal
//! included, closes its descriptor (ZMQ_EVENT_CLOSED) and means reconnecting after the
//! backoff's interval.
//!
//! Raw sockets (STREAM) run the raw engine: its pipe exists from the start of the connection
//! (no handshake), and the socket ending the pipe (an empty data part) ends the connection
//! and the session, in both roles: no reconnection.
//!
//! Ownership: the session owns its pipe end (attached with the session's slot as index), its
//! engine and (connect role) its connecter. In the ownership tree ([`crate::own`]) its owner
//! is its socket (connect role) or its listener (accepted). Termination: the socket
//! terminating the pipe, or `ObjCmd::Term` from the owner, makes the session flush what it
//! can within LINGER, then end; it then sends `TermAck` to its owner. A connect-role session
//! that may not reconnect (RECONNECT_IVL -1) asks its socket to end it (`TermReq`).
//! Monitor events go to the socket's [`Monitor`] directly.
//!
//! ZAP: when the engine's mechanism asks the ZAP handler (`EngineStatus::ZapRequest`), the
//! session connects to it over inproc (its own pipe, made once, kept until the session
//! ends), writes the request and hands the reply back to the engine. The handler socket
//! owns the other end; the session ends its end when it finishes, and waits for it as for
//! its other old pipes.
//!
//! Threads: a session lives on one I/O thread, which runs all of it (engine included).
//! After a panic in its code the I/O thread calls [`IoObject::abort`]: the session drops its
//! engine and connect attempt, terminates its pipes, and acknowledges its owner once they
//! are gone, as for a `Term` with linger 0.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::command::{Command, ObjCmd, PipeCmd};
use crate::constants::*;
use crate::engine::base::Closed;
use crate::engine::codec::socket_type::DISH;
use crate::engine::{Engine, EngineStatus};
use crate::io::io_thread::{IoCtx, IoObject};
use crate::mailbox::Mailbox;
use crate::monitor::{Endpoints, Monitor};
use crate::msg::{self, Msg};
use crate::options::Options;
use crate::own::{Own, OwnerRef};
use crate::pipe::{pipepair_parts, Pipe, PipeEvent};
use crate::transport::connecter::{Connecter, Failure, Progress};
use crate::transport::connection::Connection;

const TIMER_RECONNECT: u32 = 1;
const TIMER_LINGER: u32 = 2;
/// ZMQ_CONNECT_TIMEOUT of a tcp connect under way (the connecter's).
const TIMER_CONNECT: u32 = 3;
/// The engine's timers are numbered from here up.
const TIMER_ENGINE: u32 = 16;

enum Role {
    Connect(Box<Connecter>),
    Accepted,
    /// A udp endpoint (bound or connected): its socket exists from the start, nothing
    /// connects or reconnects, and the session ends with its pipe, as an accepted one.
    Udp,
}

/// What a session (or a listener) needs to know about the socket it serves.
#[derive(Clone)]
pub struct SocketRef {
    /// Where new pipes go (`Command::Bind`).
    pub mailbox: Arc<Mailbox>,
    /// Counts `Bind` commands sent to the socket (see `SocketBase::is_reaped`).
    pub binds_sent: Arc<AtomicU64>,
    pub options: Options,
    /// Where the socket's monitor events go.
    pub monitor: Monitor,
    /// The socket's context (weak: the context outlives its I/O objects, not the reverse).
    pub ctx: std::sync::Weak<crate::ctx::CtxInner>,
    /// Set by the socket's zmq_disconnect when ZMQ_RECONNECT_STOP has AFTER_DISCONNECT.
    pub disconnected: Arc<AtomicBool>,
}

impl SocketRef {
    /// Whether a ZAP handler is bound in the socket's context now.
    pub fn zap_handler_bound(&self) -> bool {
        self.ctx
            .upgrade()
            .is_some_and(|c| c.is_bound(crate::mechanism::zap::ENDPOINT))
    }
}

/// A session. See the module documentation.
pub struct Session {
    own: Own,
    socket: SocketRef,
    endpoint: String,
    /// What the monitor events are about: the endpoint, and once connected both ends.
    at: Endpoints,
    role: Role,
    pipe: Option<Pipe>,
    engine: Option<Engine>,
    /// The owner asked us to end.
    term_requested: bool,
    /// Torn down after a panic (see [`IoObject::abort`]): only the pipes' termination is
    /// still awaited.
    aborted: bool,
    /// The current engine completed its handshake.
    handshaken: bool,
    /// An engine of this session became ready before (the next one reconnects).
    was_ready: bool,
    /// The pipe to the ZAP handler, once a mechanism asked it.
    zap_pipe: Option<Pipe>,
    /// Pipes being terminated (ZMQ_IMMEDIATE after a disconnect, the ZAP pipe at the end),
    /// until their peers ack.
    old_pipes: Vec<Pipe>,
    /// Connect role with ZMQ_IMMEDIATE: the ZMQ_CONNECT_ROUTING_ID taken by the zmq_connect,
    /// given to each pipe made for the socket (see `Pipe::routing_id`); empty: none.
    connect_routing_id: Vec<u8>,
    finish_when_clean: bool,
    done: bool,
}

impl Session {
    /// A session in its first state, whatever its role: what the constructors share.
    fn with_role(
        socket: SocketRef,
        owner: OwnerRef,
        endpoint: String,
        at: Endpoints,
        role: Role,
        pipe: Option<Pipe>,
        engine: Option<Engine>,
    ) -> Session {
        Session {
            own: Own::new(Some(owner)),
            socket,
            at,
            endpoint,
            role,
            pipe,
            engine,
            term_requested: false,
            aborted: false,
            handshaken: false,
            was_ready: false,
            zap_pipe: None,
            old_pipes: Vec::new(),
            connect_routing_id: Vec::new(),
            finish_when_clean: false,
            done: false,
        }
    }

    /// A connect-role session with its end of the socket's pipe, or (ZMQ_IMMEDIATE) with the
    /// routing id for the pipes it makes when connected.
    pub fn connect(
        socket: SocketRef,
        owner: OwnerRef,
        endpoint: String,
        connecter: Connecter,
        pipe: Option<Pipe>,
        connect_routing_id: Vec<u8>,
    ) -> Session {
        let at = Endpoints::connecting(&endpoint);
        let role = Role::Connect(Box::new(connecter));
        let mut s = Session::with_role(socket, owner, endpoint, at, role, pipe, None);
        s.connect_routing_id = connect_routing_id;
        s
    }

    /// The session of a udp endpoint: its socket, made by the transport, and its end of
    /// the socket's pipe. Owned by the socket.
    pub fn udp(
        socket: SocketRef,
        owner: OwnerRef,
        endpoint: String,
        sock: crate::transport::udp::UdpSocket,
        pipe: Pipe,
    ) -> Session {
        let engine = Engine::Udp(crate::engine::udp::Engine::new(sock, &socket.options));
        let at = Endpoints::bound(&endpoint);
        Session::with_role(
            socket,
            owner,
            endpoint,
            at,
            Role::Udp,
            Some(pipe),
            Some(engine),
        )
    }

    /// Whether the session ends when its pipe does, and ends the pipe itself when asked to
    /// end (accepted and udp sessions; a connect-role session's socket ends its pipe).
    fn ends_with_its_pipe(&self) -> bool {
        matches!(self.role, Role::Accepted | Role::Udp)
    }

    /// An accepted-role session over a connected stream, owned by its listener.
    pub fn accepted(
        socket: SocketRef,
        listener: OwnerRef,
        endpoint: String,
        stream: Connection,
        peer: String,
    ) -> Session {
        let at = Endpoints {
            local: endpoint.clone(),
            remote: stream.peer_uri(),
            bound: true,
        };
        let engine = Engine::new(
            stream,
            &socket.options,
            true,
            peer,
            socket.zap_handler_bound(),
        );
        let role = Role::Accepted;
        Session::with_role(socket, listener, endpoint, at, role, None, Some(engine))
    }

    fn start_connecting(&mut self, io: &mut IoCtx) {
        let Role::Connect(c) = &mut self.role else {
            return;
        };
        match c.start(io, &self.socket.options, TIMER_CONNECT) {
            Ok(()) => self.socket.monitor.event(
                ZMQ_EVENT_CONNECT_DELAYED,
                libc::EINPROGRESS as u32,
                &self.at,
            ),
            Err(f) => self.attempt_failed(io, f),
        }
    }

    /// A connect attempt failed: its descriptor is closed (ZMQ_EVENT_CLOSED, as libzmq
    /// reports it), then the reconnect policy decides, ZMQ_RECONNECT_STOP included: a tcp
    /// target that refused the connection ends the endpoint (CONN_REFUSED); after a
    /// zmq_disconnect on the socket, a refused ipc attempt is the last one
    /// (AFTER_DISCONNECT: no more attempts, the endpoint stays until disconnected).
    fn attempt_failed(&mut self, io: &mut IoCtx, f: Failure) {
        if let Some(fd) = f.fd {
            self.socket
                .monitor
                .event(ZMQ_EVENT_CLOSED, fd as u32, &self.at);
        }
        let stop = self.socket.options.reconnect_stop;
        let Role::Connect(c) = &self.role else {
            return self.schedule_reconnect(io);
        };
        if f.refused && !self.term_requested {
            if stop & ZMQ_RECONNECT_STOP_CONN_REFUSED != 0 && c.is_tcp() {
                self.own.request_term();
                return;
            }
            if stop & ZMQ_RECONNECT_STOP_AFTER_DISCONNECT != 0
                && !c.is_tcp()
                && self.socket.disconnected.load(Ordering::Acquire)
            {
                return;
            }
        }
        self.schedule_reconnect(io);
    }

    /// Whether a connect attempt is under way.
    fn is_connecting(&self) -> bool {
        matches!(&self.role, Role::Connect(c) if c.is_connecting())
    }

    /// Gives up the connect attempt under way, if any.
    fn abort_connecting(&mut self, io: &mut IoCtx) {
        if let Role::Connect(c) = &mut self.role {
            c.abort(io);
        }
    }

    /// The reconnect policy, after a failed attempt or a lost connection.
    fn schedule_reconnect(&mut self, io: &mut IoCtx) {
        // While ending with messages still queued, keep trying within LINGER (the linger
        // timer ends it); with nothing left to send, end now.
        if self.term_requested && self.pipe.is_none() {
            return self.finish(io);
        }
        let Role::Connect(c) = &mut self.role else {
            return self.finish(io);
        };
        let o = &self.socket.options;
        if o.reconnect_ivl < 0 {
            // Reconnection disabled: the socket ends this connection as for a disconnect.
            self.own.request_term();
            return;
        }
        let wait = c.next_interval(o);
        io.add_timer(Duration::from_millis(wait as u64), TIMER_RECONNECT);
        self.socket
            .monitor
            .event(ZMQ_EVENT_CONNECT_RETRIED, wait as u32, &self.at);
    }

    /// Connected to the peer (directly or through the proxy): start the engine.
    fn connected(&mut self, io: &mut IoCtx, s: Connection) {
        self.at.local = s.local_uri();
        self.socket
            .monitor
            .event(ZMQ_EVENT_CONNECTED, s.raw_fd() as u32, &self.at);
        let peer = s.peer_address();
        let zap = self.socket.zap_handler_bound();
        let mut engine = Engine::new(s, &self.socket.options, false, peer, zap);
        engine.plug(io, TIMER_ENGINE);
        self.engine = Some(engine);
        self.drive(io);
    }

    /// Runs the engine as far as it can go, and reacts to what it reports.
    fn drive(&mut self, io: &mut IoCtx) {
        loop {
            let Some(engine) = self.engine.as_mut() else {
                return;
            };
            #[cfg(test)]
            crate::io::io_thread::panic_hook::check(&self.endpoint);
            match engine.drive(io, self.pipe.as_mut()) {
                EngineStatus::Running => {
                    // Ending: the pipe is done, only the engine's last bytes were left to
                    // write.
                    if self.pipe.is_none() && self.term_requested && !engine.has_pending_output() {
                        self.finish(io);
                    }
                    return;
                }
                EngineStatus::Ready(peer_id) => self.engine_ready(io, peer_id),
                EngineStatus::Closed(why) => return self.engine_closed(io, why),
                EngineStatus::ZapRequest(request) => self.ask_zap(io, request),
                EngineStatus::HandshakeFailed(f) => {
                    if let Some((event, value)) = f.event() {
                        self.socket.monitor.event(event, value, &self.at);
                    }
                }
            }
        }
    }

    /// Sends the engine's request to the ZAP handler, connecting to it the first time;
    /// with no handler to reach, the engine is told so at once.
    fn ask_zap(&mut self, io: &mut IoCtx, request: Vec<Msg>) {
        if self.zap_pipe.is_none() {
            self.zap_pipe = self
                .socket
                .ctx
                .upgrade()
                .and_then(|ctx| crate::transport::inproc::connect_zap(&ctx))
                .map(|mut p| {
                    p.attach(io.mailbox.clone(), io.slot);
                    p
                });
        }
        let Some(p) = self.zap_pipe.as_mut() else {
            if let Some(e) = self.engine.as_mut() {
                e.zap_reply(None);
            }
            return;
        };
        for m in request {
            p.write_unchecked(m);
        }
        p.flush();
        // Looking now also sets the pipe to wake us when the reply comes.
        self.take_zap_reply();
    }

    /// Reads the ZAP handler's reply, if it is there, and hands it to the engine; true
    /// when there was one.
    fn take_zap_reply(&mut self) -> bool {
        let Some(p) = self.zap_pipe.as_mut() else {
            return false;
        };
        let Some(first) = p.read() else {
            return false;
        };
        // The whole message: its parts are all there once the first is. More parts than a
        // reply has are read and dropped (the reply is malformed anyway).
        let mut more = first.more();
        let mut frames = vec![first];
        while more {
            let Some(m) = p.read() else { break };
            more = m.more();
            if frames.len() <= crate::mechanism::zap::REPLY_FRAMES {
                frames.push(m);
            }
        }
        if let Some(e) = self.engine.as_mut() {
            e.zap_reply(Some(&frames));
        }
        true
    }

    /// The handshake is done: make sure there is a pipe to the socket.
    fn engine_ready(&mut self, io: &mut IoCtx, peer_id: Vec<u8>) {
        if self
            .engine
            .as_ref()
            .is_some_and(|e| e.has_handshake_stage())
        {
            self.handshaken = true;
            self.socket
                .monitor
                .event(ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0, &self.at);
        }
        let o = &self.socket.options;
        let id_msg = || {
            let mut m = Msg::from_slice(&peer_id).unwrap_or_default();
            m.set_flags(msg::ROUTING_ID);
            m
        };
        match self.pipe.as_mut() {
            None if !self.term_requested => {
                let (mut theirs, mut mine) =
                    pipepair_parts([o.sndhwm as i64, -1], [-1, o.rcvhwm as i64]);
                if o.recv_routing_id {
                    mine.write_unchecked(id_msg());
                    mine.flush();
                }
                if o.conflate_applies() {
                    mine.set_conflate();
                    theirs.set_conflate();
                }
                mine.attach(io.mailbox.clone(), io.slot);
                theirs.endpoint = Some(self.endpoint.clone());
                theirs.routing_id = self.connect_routing_id.clone();
                self.socket.binds_sent.fetch_add(1, Ordering::AcqRel);
                self.socket.mailbox.send(Command::Bind(Box::new(theirs)));
                self.pipe = Some(mine);
            }
            Some(p) => {
                // The connection came back: the subscribers send what the new peer must
                // know (libzmq hiccups them at the break; here at the new connection).
                if self.was_ready && matches!(o.socket_type, ZMQ_SUB | ZMQ_XSUB | DISH) {
                    p.hiccup();
                }
                if o.recv_routing_id {
                    p.write_unchecked(id_msg());
                    p.flush();
                }
            }
            _ => {}
        }
        // ZMQ_ROUTER_NOTIFY: an empty message from the new peer, after its routing id.
        if o.router_notify & ZMQ_NOTIFY_CONNECT != 0 {
            if let Some(p) = self.pipe.as_mut() {
                p.write_unchecked(Msg::new());
                p.flush();
            }
        }
        // ZMQ_HELLO_MSG: the first message the new peer gets.
        if o.sends_hello() {
            if let (Some(e), Ok(m)) = (self.engine.as_mut(), Msg::from_slice(&o.hello_msg)) {
                e.send_first(m);
            }
        }
        self.was_ready = true;
    }

    /// Drops the engine; `failed`: why the connection ended (not our own closing), which
    /// is what the monitor reports, as libzmq does: a broken connection or a timeout during
    /// the handshake raises HANDSHAKE_FAILED_NO_DETAIL; a protocol error the event its
    /// failure names (none after the handshake); then DISCONNECTED.
    fn close_engine(&mut self, io: &mut IoCtx, failed: Option<Closed>) {
        let was_handshaken = self.handshaken;
        if let Some(mut e) = self.engine.take() {
            let fd = e.fd() as u32;
            e.close(io);
            let handshaken = std::mem::replace(&mut self.handshaken, false);
            if let Some(why) = failed {
                let event = match why {
                    // A message the mechanism refused: reported even after the handshake,
                    // as libzmq's CURVE does.
                    Closed::Message(f) => f.event(),
                    _ if handshaken => None,
                    // libzmq reports the peer's hang-up as EPIPE.
                    Closed::Connection => {
                        Some((ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, libc::EPIPE as u32))
                    }
                    Closed::Timeout => Some((ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, 0)),
                    Closed::Protocol(f) => f.event(),
                };
                if let Some((event, value)) = event {
                    self.socket.monitor.event(event, value, &self.at);
                }
                self.socket
                    .monitor
                    .event(ZMQ_EVENT_DISCONNECTED, fd, &self.at);
            }
        }
        if let Some(p) = self.pipe.as_mut() {
            // A message half received is dropped.
            p.rollback();
            // What the socket hears of a connection that was up and broke (a failure, not
            // our own closing): ZMQ_ROUTER_NOTIFY's empty message, then ZMQ_DISCONNECT_MSG
            // (an accepted connection) or ZMQ_HICCUP_MSG (a connecting one), as libzmq.
            let o = &self.socket.options;
            if failed.is_some() && was_handshaken {
                if o.router_notify & ZMQ_NOTIFY_DISCONNECT != 0 {
                    p.write_unchecked(Msg::new());
                }
                let text = match self.role {
                    Role::Accepted if o.receives_disconnect() => Some(&o.disconnect_msg),
                    Role::Connect(_) if o.receives_hiccup() => Some(&o.hiccup_msg),
                    _ => None,
                };
                if let Some(m) = text.and_then(|t| Msg::from_slice(t).ok()) {
                    p.write_unchecked(m);
                }
            }
            p.flush();
        }
    }

    fn engine_closed(&mut self, io: &mut IoCtx, why: Closed) {
        let in_handshake = !self.handshaken;
        self.close_engine(io, Some(why));
        let connect = matches!(self.role, Role::Connect(_)) && !self.term_requested;
        // ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED: a peer that hangs up or goes silent during
        // the handshake (not a ZMTP peer, perhaps) counts as a protocol error.
        let stop_on_handshake = in_handshake
            && matches!(why, Closed::Connection | Closed::Timeout)
            && self.socket.options.reconnect_stop & ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED != 0;
        if connect && (matches!(why, Closed::Protocol(_) | Closed::Message(_)) || stop_on_handshake)
        {
            // As libzmq: a peer that broke the protocol (a failed handshake included) is
            // not tried again; the socket ends this connection as for a disconnect.
            self.own.request_term();
            return;
        }
        if connect {
            if self.socket.options.immediate {
                // ZMQ_IMMEDIATE: no pipe while disconnected, so sends block; a new pipe comes
                // with the next connection.
                if let Some(mut p) = self.pipe.take() {
                    p.terminate(false);
                    self.old_pipes.push(p);
                }
            }
            return self.schedule_reconnect(io);
        }
        match self.pipe.as_mut() {
            Some(p) => p.terminate(false),
            None => self.finish(io),
        }
    }

    /// The owner asks us to end (connect role: close or disconnect; accepted: unbind or the
    /// listener closing). Pending messages are flushed for up to `linger` ms.
    fn begin_term(&mut self, io: &mut IoCtx, linger: i32) {
        if self.term_requested {
            return;
        }
        self.term_requested = true;
        if self.pipe.is_none() {
            return self.finish(io);
        }
        if linger == 0 || self.engine.is_none() && self.ends_with_its_pipe() {
            self.abort_connecting(io);
            self.close_engine(io, None);
            if let Some(p) = self.pipe.as_mut() {
                p.terminate(false);
            }
            return;
        }
        if linger > 0 {
            io.add_timer(Duration::from_millis(linger as u64), TIMER_LINGER);
        }
        // A connect-role session's socket terminates the pipe itself (close, disconnect), after
        // the messages it queued: the engine sends them up to the delimiter, then the pipe ends
        // and so do we. Starting the termination from here could overtake those messages.
        // An accepted session is ended by its listener (unbind): it ends the pipe itself.
        if self.ends_with_its_pipe() {
            if let Some(p) = self.pipe.as_mut() {
                p.terminate(true);
            }
        }
        self.read_lone_delimiter();
        self.drive(io);
    }

    /// Without an engine nothing reads the pipe: if all it holds is the delimiter of a
    /// terminating socket, take it now so the termination completes.
    fn read_lone_delimiter(&mut self) {
        if self.engine.is_none() {
            if let Some(p) = self.pipe.as_mut() {
                p.check_read();
            }
        }
    }

    /// The pipe ended (the socket closed, or closed this raw connection): the session ends
    /// once the engine has written what it holds, within LINGER (whose timer starts here
    /// unless a request to end started it already).
    fn end_after_output(&mut self, io: &mut IoCtx) {
        let linger = self.socket.options.linger;
        let started = std::mem::replace(&mut self.term_requested, true);
        if linger != 0 && self.engine.as_ref().is_some_and(|e| e.has_pending_output()) {
            if linger > 0 && !started {
                io.add_timer(Duration::from_millis(linger as u64), TIMER_LINGER);
            }
            self.drive(io);
        } else {
            self.finish(io);
        }
    }

    /// LINGER is over: drop what could not be sent.
    fn linger_expired(&mut self, io: &mut IoCtx) {
        self.close_engine(io, None);
        self.abort_connecting(io);
        match self.pipe.as_mut() {
            Some(p) => p.terminate(false),
            None => self.finish(io),
        }
    }

    fn finish(&mut self, io: &mut IoCtx) {
        if self.done {
            return;
        }
        if let Some(mut e) = self.engine.take() {
            e.close(io);
        }
        self.abort_connecting(io);
        self.end_zap_pipe();
        if !self.old_pipes.is_empty() {
            // Their peers still have to acknowledge; finish after that.
            self.finish_when_clean = true;
            return;
        }
        self.done = true;
        self.own.ack_owner();
    }
}

impl Session {
    /// Ends the pipe to the ZAP handler, if there is one; it is waited for with the old
    /// pipes.
    fn end_zap_pipe(&mut self) {
        if let Some(mut p) = self.zap_pipe.take() {
            p.terminate(false);
            self.old_pipes.push(p);
        }
    }
}

impl IoObject for Session {
    fn id(&self) -> u64 {
        self.own.id()
    }

    fn plug(&mut self, io: &mut IoCtx) {
        if let Some(p) = self.pipe.as_mut() {
            p.attach(io.mailbox.clone(), io.slot);
        }
        match self.engine.as_mut() {
            Some(e) => {
                e.plug(io, TIMER_ENGINE);
                self.drive(io);
            }
            None => self.start_connecting(io),
        }
    }

    fn event(&mut self, io: &mut IoCtx, ev: &mio::event::Event) {
        if self.aborted {
            return;
        }
        if let Role::Connect(c) = &mut self.role {
            if c.is_connecting() {
                match c.ready(io, ev, &self.socket.options) {
                    Progress::Pending => {}
                    Progress::Connected(s) => self.connected(io, s),
                    Progress::Failed(f) => self.attempt_failed(io, f),
                }
                return;
            }
        }
        if let Some(e) = self.engine.as_mut() {
            e.ready(ev);
            self.drive(io);
        }
    }

    fn timer(&mut self, io: &mut IoCtx, timer_id: u32) {
        if self.aborted {
            return;
        }
        match timer_id {
            TIMER_RECONNECT if !self.done && self.engine.is_none() && !self.is_connecting() => {
                self.start_connecting(io)
            }
            TIMER_LINGER if self.term_requested => self.linger_expired(io),
            TIMER_CONNECT => {
                if let Role::Connect(c) = &mut self.role {
                    if let Some(f) = c.timed_out(io) {
                        self.attempt_failed(io, f);
                    }
                }
            }
            t if t >= TIMER_ENGINE => {
                if let Some(e) = self.engine.as_mut() {
                    e.timer(io, t);
                    self.drive(io);
                }
            }
            _ => {}
        }
    }

    fn next_round(&mut self, io: &mut IoCtx) {
        if self.aborted {
            return;
        }
        if let Some(e) = self.engine.as_mut() {
            e.next_round();
            self.drive(io);
        }
    }

    fn pipe_command(&mut self, io: &mut IoCtx, pipe_id: u64, cmd: PipeCmd) {
        if let Some(zap) = self.zap_pipe.as_mut().filter(|p| p.id() == pipe_id) {
            match zap.process(cmd) {
                PipeEvent::ReadActivated if self.take_zap_reply() => self.drive(io),
                // The handler's socket closed.
                PipeEvent::Terminated => self.zap_pipe = None,
                _ => {}
            }
            return;
        }
        if let Some(i) = self.old_pipes.iter().position(|p| p.id() == pipe_id) {
            if self.old_pipes[i].process(cmd) == PipeEvent::Terminated {
                self.old_pipes.swap_remove(i);
                if self.old_pipes.is_empty() && self.finish_when_clean {
                    self.finish(io);
                }
            }
            return;
        }
        let Some(p) = self.pipe.as_mut().filter(|p| p.id() == pipe_id) else {
            return;
        };
        match p.process(cmd) {
            // Only a session hiccups.
            PipeEvent::None | PipeEvent::Hiccuped | PipeEvent::StatsReply(..) => {
                self.read_lone_delimiter()
            }
            // The socket asks for the queue counts: reported to its monitor from here,
            // with both ends of the connection.
            PipeEvent::StatsQuery(theirs, ours) => {
                self.socket
                    .monitor
                    .emit(ZMQ_EVENT_PIPES_STATS as u64, &[theirs, ours], &self.at);
                self.read_lone_delimiter()
            }
            PipeEvent::ReadActivated if self.engine.is_none() => self.read_lone_delimiter(),
            PipeEvent::ReadActivated | PipeEvent::WriteActivated => self.drive(io),
            PipeEvent::Terminated => {
                self.pipe = None;
                // Connect role without a request to end (the socket dropped the pipe, e.g. a
                // second PAIR peer): stay connected; a new pipe comes with the next handshake.
                // Otherwise end, once the engine has written what it holds: the pipe can end
                // before the PipeTerm that starts LINGER is seen (the engine read the socket's
                // delimiter first), and the last messages may still be in the engine.
                if self.term_requested
                    || self.ends_with_its_pipe()
                    || self.socket.options.raw_socket()
                {
                    self.end_after_output(io);
                }
                return;
            }
        }
        // The socket started ending the pipe (it closed): flush within its LINGER, then end.
        if self.ends_with_its_pipe() && self.pipe.as_ref().is_some_and(|p| p.is_terminating()) {
            let linger = self.socket.options.linger;
            self.begin_term(io, linger);
        }
    }

    fn command(&mut self, io: &mut IoCtx, cmd: ObjCmd) {
        match cmd {
            ObjCmd::Term { linger } => self.begin_term(io, linger),
            // A session owns no objects of the tree.
            ObjCmd::TermAck(_) | ObjCmd::TermReq(_) => {}
        }
    }

    fn abort(&mut self, io: &mut IoCtx) {
        self.aborted = true;
        self.term_requested = true;
        self.abort_connecting(io);
        self.end_zap_pipe();
        if let Some(mut e) = self.engine.take() {
            e.close(io);
        }
        self.handshaken = false;
        match self.pipe.as_mut() {
            // Its `Terminated` ends the session (`end_after_output`, no engine left).
            Some(p) => {
                p.rollback();
                p.terminate(false);
            }
            None => self.finish(io),
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
pub(crate) mod tests;
