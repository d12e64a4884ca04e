//! Sockets: one `SocketBase` (commands, pipes, options, blocking, endpoints) and one small
//! routing strategy per socket type (`SocketType`), like libzmq's `x*` hooks.
//!
//! Threads: a classic socket is used by one application thread at a time; a thread-safe one
//! (SERVER, CLIENT, ...) by any number, one at a time under its lock ([`thread_safe`]).
//! After `zmq_close` it belongs to the reaper thread. Other threads reach it only through
//! its mailbox. [`SocketAccess`] is a socket as an API call reaches it, either way.
//! Ownership: the socket owns one end of each of its pipes (in `pipes`); the strategy holds
//! slot indices into that table. It is the root of its ownership tree ([`crate::own`]): it
//! owns the listeners of its tcp/ipc binds and the sessions of its tcp/ipc connects, which
//! live on I/O threads; it is reaped once they have all acknowledged their end.
//! Endpoints are parsed by [`crate::transport::Endpoint`]; their transports bind and connect
//! ([`crate::transport`]); monitor events go out through [`crate::monitor`].

pub mod pipes;
pub mod thread_safe;

mod channel;
mod client;
mod dealer;
mod dgram;
mod dish;
mod gather;
mod pair;
mod pub_;
mod pull;
mod push;
mod radio;
mod rep;
mod req;
mod router;
mod scatter;
mod server;
mod stream;
mod sub;
mod xpub;
mod xsub;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::command::{Command, ObjCmd, PipeAddr, PipeCmd};
use crate::constants::*;
use crate::ctx::{BoundEndpoint, CtxInner};
use crate::engine::codec::socket_type::{
    CHANNEL, CLIENT, DGRAM, DISH, GATHER, PEER, RADIO, SCATTER, SERVER,
};
use crate::error::{Error, Result};
use crate::io::io_thread::IoObject;
use crate::mailbox::{Mailbox, Waiters};
use crate::monitor::{Endpoints, Monitor};
use crate::msg::{self, Msg};
use crate::options::{OptVal, Options};
use crate::own::{Own, OwnerRef};
use crate::pipe::{pipepair_parts, Pipe, PipeEvent};
use crate::poller::ReadyList;
use crate::session::{Session, SocketRef};
use crate::transport::connecter::Connecter;
use crate::transport::listener::Listener;
use crate::transport::{inproc, udp, Endpoint};
use crate::watch::SocketWatch;
use pipes::Pipes;
use thread_safe::ThreadSafe;

/// The per-type routing behaviour of a socket.
pub trait SocketType: Send {
    /// A new pipe joined the socket.
    fn attach(&mut self, pipes: &mut Pipes, idx: usize, locally_initiated: bool);
    /// Sends one part; on success the message is taken, on failure it is left in place.
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()>;
    /// Receives one part.
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()>;
    /// Whether `recv` would succeed now.
    fn has_in(&mut self, pipes: &mut Pipes) -> bool;
    /// Whether `send` would succeed now.
    fn has_out(&mut self, pipes: &mut Pipes) -> bool;
    /// A pipe has messages again.
    fn read_activated(&mut self, pipes: &mut Pipes, idx: usize);
    /// A pipe has room again.
    fn write_activated(&mut self, pipes: &mut Pipes, idx: usize);
    /// A pipe is gone: forget its slot.
    fn terminated(&mut self, pipes: &mut Pipes, idx: usize);
    /// Type-specific options: `None` when the option is not the type's own.
    fn setsockopt(&mut self, _pipes: &mut Pipes, _id: i32, _v: &[u8]) -> Option<Result<()>> {
        None
    }
    /// Type-specific readable options.
    fn getsockopt(&self, _id: i32) -> Option<Result<OptVal>> {
        None
    }
    /// The connection of a pipe came back after a break (its session reconnected): the
    /// type sends what its peer must know again (subscriptions, groups).
    fn hiccuped(&mut self, _pipes: &mut Pipes, _idx: usize) {}
    /// `zmq_join`: only DISH joins groups (ENOTSUP elsewhere, as libzmq).
    #[cfg_attr(not(feature = "draft"), allow(dead_code))] // only the draft C API calls it
    fn join(&mut self, _pipes: &mut Pipes, _group: &[u8]) -> Result<()> {
        Err(Error::NotSup)
    }
    /// `zmq_leave`.
    #[cfg_attr(not(feature = "draft"), allow(dead_code))] // only the draft C API calls it
    fn leave(&mut self, _pipes: &mut Pipes, _group: &[u8]) -> Result<()> {
        Err(Error::NotSup)
    }
    /// `zmq_socket_get_peer_state`: ZMQ_POLLOUT when the peer named by `routing_id` has
    /// room for a message (ROUTER; ENOTSUP elsewhere, as libzmq).
    #[cfg_attr(not(feature = "draft"), allow(dead_code))] // only the draft C API calls it
    fn peer_state(&mut self, _pipes: &mut Pipes, _routing_id: &[u8]) -> Result<i32> {
        Err(Error::NotSup)
    }
    /// The routing id of the pipe attached last (PEER: what `zmq_connect_peer` returns).
    #[cfg_attr(not(feature = "draft"), allow(dead_code))] // only the draft C API calls it
    fn last_routing_id(&self) -> u32 {
        0
    }
}

/// Creates the strategy of a socket type and adjusts the options it implies.
fn create_type(ty: i32, options: &mut Options) -> Result<Box<dyn SocketType>> {
    Ok(match ty {
        ZMQ_PAIR => Box::new(pair::Pair::default()),
        ZMQ_PUSH => Box::new(push::Push::default()),
        ZMQ_PULL => Box::new(pull::Pull::default()),
        ZMQ_DEALER => Box::new(dealer::Dealer::default()),
        ZMQ_PUB => Box::new(pub_::Pub::default()),
        ZMQ_XPUB => Box::new(xpub::XPub::new(false)),
        ZMQ_SUB | ZMQ_XSUB => {
            // Pending subscriptions are not worth waiting for at close.
            options.linger = 0;
            if ty == ZMQ_SUB {
                Box::new(sub::Sub::default())
            } else {
                Box::new(xsub::XSub::default())
            }
        }
        ZMQ_REQ => Box::new(req::Req::default()),
        ZMQ_REP => {
            options.recv_routing_id = true;
            Box::new(rep::Rep::default())
        }
        ZMQ_ROUTER => {
            options.recv_routing_id = true;
            Box::new(router::Router::default())
        }
        // Its raw peers send no routing ids: the socket names them itself.
        ZMQ_STREAM => Box::new(stream::Stream::default()),
        SERVER => Box::new(server::Server::default()),
        PEER => Box::new(server::Server::peer()),
        CLIENT => Box::new(client::Client::default()),
        RADIO => Box::new(radio::Radio::default()),
        DISH => {
            // Pending joins are not worth waiting for at close (libzmq).
            options.linger = 0;
            Box::new(dish::Dish::default())
        }
        GATHER => Box::new(gather::Gather::default()),
        SCATTER => Box::new(scatter::Scatter::default()),
        CHANNEL => Box::new(channel::Channel::default()),
        DGRAM => Box::new(dgram::Dgram::default()),
        _ => return Err(Error::Inval),
    })
}

/// Whether sockets of type `ty` may be used by many threads at once (ZMQ_THREAD_SAFE).
pub fn is_thread_safe(ty: i32) -> bool {
    matches!(
        ty,
        SERVER | CLIENT | RADIO | DISH | GATHER | SCATTER | PEER | CHANNEL
    )
}

/// A socket as an API call reaches it: a classic socket, lent to the calling thread for
/// the call, or a thread-safe one, shared (each use takes its lock).
pub enum SocketAccess<'a> {
    Classic(&'a mut SocketBase),
    Safe(&'a ThreadSafe),
}

impl SocketAccess<'_> {
    /// Runs `f` on the socket (under its lock when it is thread-safe).
    pub fn with<R>(&mut self, f: impl FnOnce(&mut SocketBase) -> Result<R>) -> Result<R> {
        match self {
            SocketAccess::Classic(s) => f(s),
            SocketAccess::Safe(t) => t.with(f),
        }
    }

    /// `zmq_msg_send`, blocking as the socket's options and `flags` say.
    pub fn send(&mut self, msg: &mut Msg, flags: i32) -> Result<()> {
        match self {
            SocketAccess::Classic(s) => s.send(msg, flags),
            SocketAccess::Safe(t) => t.send(msg, flags),
        }
    }

    /// `zmq_msg_recv`, blocking as the socket's options and `flags` say.
    pub fn recv(&mut self, msg: &mut Msg, flags: i32) -> Result<()> {
        match self {
            SocketAccess::Classic(s) => s.recv(msg, flags),
            SocketAccess::Safe(t) => t.recv(msg, flags),
        }
    }
}

/// How long to wait between checks for commands while the socket is busy.
const COMMAND_THROTTLE: Duration = Duration::from_millis(1);

/// A socket. See the module documentation.
pub struct SocketBase {
    id: u64,
    ctx: Arc<CtxInner>,
    mailbox: Arc<Mailbox>,
    pub options: Options,
    pipes: Pipes,
    kind: Box<dyn SocketType>,
    ctx_terminated: bool,
    rcvmore: bool,
    last_command_check: Instant,
    /// A tcp/ipc endpoint was bound or connected (no spinning before sleeps, see
    /// `crate::watch`: the inproc spin).
    networked: bool,
    /// The last call that moved a message was a send: a receive now likely waits for the
    /// answer (request/reply), which is worth watching for (see `crate::watch`: the answer watch).
    answer_due: bool,
    watch: SocketWatch,
    /// Inproc names bound by this socket.
    bound: Vec<String>,
    /// In the reaper: terminating.
    reaping: bool,
    /// Where monitor events go; shared with the socket's objects on I/O threads, which
    /// report their events themselves.
    monitor: Monitor,
    /// `Bind` commands promised to us by connecting peers, and those processed.
    binds_sent: Arc<std::sync::atomic::AtomicU64>,
    binds_seen: u64,
    /// A zmq_disconnect happened while ZMQ_RECONNECT_STOP had AFTER_DISCONNECT: the
    /// sessions' ipc reconnects stop at the next refusal (see `crate::session`).
    disconnected: Arc<std::sync::atomic::AtomicBool>,
    /// The socket's place in the ownership tree: the objects on I/O threads it owns
    /// (listeners, connect-role sessions) until they acknowledge their end.
    own: Own<Owned>,
    /// Of a thread-safe socket: the threads and pollers waiting on it (shared with its
    /// mailbox, which notifies them).
    waiters: Option<Arc<Waiters>>,
    /// Of a classic socket: the pollers that hold it, each with its list and token, told
    /// when a call on the socket may have made it ready without a command (a REP that
    /// received can now send). A thread-safe socket's pollers are in its `waiters`.
    poll_hooks: Vec<(Arc<ReadyList>, usize)>,
}

/// What the socket knows of an object it owns.
struct Owned {
    /// The endpoint it serves (the unbind / disconnect key).
    endpoint: String,
    /// A connect-role session (else a listener).
    connect: bool,
}

impl SocketBase {
    /// Creates a socket of type `ty` in `ctx`.
    pub fn new(ctx: &Arc<CtxInner>, ty: i32) -> Result<Box<SocketBase>> {
        Self::create(ctx, ty, false)
    }

    /// A socket the library makes for itself, allowed while the context terminates.
    pub fn new_internal(ctx: &Arc<CtxInner>, ty: i32) -> Result<Box<SocketBase>> {
        Self::create(ctx, ty, true)
    }

    fn create(ctx: &Arc<CtxInner>, ty: i32, internal: bool) -> Result<Box<SocketBase>> {
        let mut options = Options::new(ty);
        let kind = create_type(ty, &mut options)?;
        let waiters = is_thread_safe(ty).then(|| Arc::new(Waiters::default()));
        let mailbox = Arc::new(Mailbox::with_waiters(waiters.clone()));
        let (id, ipv6, blocky) = ctx.register_socket(mailbox.clone(), internal)?;
        options.ipv6 = ipv6;
        if !blocky {
            options.linger = 0;
        }
        Ok(Box::new(SocketBase {
            id,
            ctx: ctx.clone(),
            pipes: Pipes::new(mailbox.clone()),
            mailbox,
            options,
            kind,
            ctx_terminated: false,
            rcvmore: false,
            last_command_check: Instant::now(),
            networked: false,
            answer_due: false,
            watch: SocketWatch::default(),
            bound: Vec::new(),
            reaping: false,
            monitor: Monitor::new(),
            binds_sent: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            disconnected: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            binds_seen: 0,
            own: Own::new(None),
            waiters,
            poll_hooks: Vec::new(),
        }))
    }

    /// Whether the socket is of a thread-safe type (then it must be shared as a
    /// [`ThreadSafe`]).
    pub fn is_thread_safe(&self) -> bool {
        self.waiters.is_some()
    }

    /// The descriptor a poller watches for the socket's commands: its mailbox's, for a
    /// classic socket (a thread-safe one tells its pollers through its waiters).
    pub fn poll_fd(&self) -> Result<Option<std::os::fd::RawFd>> {
        if self.is_thread_safe() {
            return Ok(None);
        }
        self.mailbox.fd().map(Some)
    }

    /// A poller holds the socket under `token` of its `list`.
    pub fn add_poll_hook(&mut self, list: Arc<ReadyList>, token: usize) {
        match &self.waiters {
            Some(w) => {
                w.add_poller(list.clone(), token);
                // Commands sent before the poller was registered told no one it is there
                // (those sent after it was tell it): wake it.
                if self.mailbox.has_pending() {
                    list.mark(token, true);
                }
            }
            None => self.poll_hooks.push((list, token)),
        }
    }

    /// The poller with `list` no longer holds the socket.
    pub fn remove_poll_hook(&mut self, list: &Arc<ReadyList>) {
        match &self.waiters {
            Some(w) => w.remove_poller(list),
            None => self.poll_hooks.retain(|(l, _)| !Arc::ptr_eq(l, list)),
        }
    }

    /// After a call that may have changed what the socket can do (a new endpoint, an
    /// option): see `touched`.
    fn changed<T>(&self, r: Result<T>) -> Result<T> {
        if r.is_ok() {
            self.touched();
        }
        r
    }

    /// A call changed the socket in a way that may make it ready without a command: tell
    /// its pollers (and, thread-safe, the threads waiting on it) to look again.
    fn touched(&self) {
        if let Some(w) = &self.waiters {
            w.notify();
        }
        for (list, token) in &self.poll_hooks {
            list.mark(*token, false);
        }
    }

    /// The socket's id in its context.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The fd of the socket's mailbox (`ZMQ_FD`).
    pub fn mailbox_fd(&self) -> Result<std::os::fd::RawFd> {
        self.mailbox.fd()
    }

    fn check_alive(&self) -> Result<()> {
        if self.ctx_terminated {
            Err(Error::Term)
        } else {
            Ok(())
        }
    }

    // ---- commands -------------------------------------------------------------------

    /// Processes commands, waiting up to `timeout_ms` for the first (0: don't wait).
    /// Takes the socket's commands, waiting up to `timeout_ms` for one; `throttle` limits
    /// how often a busy socket looks (timeout 0). `answer`: a blocking receive that may
    /// watch for the answer to its last send before it sleeps.
    #[inline(always)]
    fn process_commands(&mut self, timeout_ms: i64, throttle: bool) -> Result<()> {
        self.process_commands_for(timeout_ms, throttle, false)
    }

    /// As `process_commands`; the look of a send or receive that finds no command (the
    /// common case) is inlined into it, without the call and the large frame of the rest.
    #[inline(always)]
    fn process_commands_for(
        &mut self,
        timeout_ms: i64,
        throttle: bool,
        answer: bool,
    ) -> Result<()> {
        if timeout_ms == 0 && throttle && !self.mailbox.has_pending() {
            return self.check_alive();
        }
        self.take_commands(timeout_ms, throttle, answer)
    }

    #[inline(never)]
    fn take_commands(&mut self, timeout_ms: i64, throttle: bool, answer: bool) -> Result<()> {
        if timeout_ms == 0 {
            if throttle {
                let now = Instant::now();
                if now.duration_since(self.last_command_check) < COMMAND_THROTTLE
                    && !self.mailbox.has_pending()
                {
                    return self.check_alive();
                }
                self.last_command_check = now;
            }
            // Drain the wake-up signal too, so ZMQ_FD reflects only new events.
            self.mailbox.clear_signal();
        }
        let caught_up = std::mem::take(&mut self.pipes.watched);
        let spin_until = if timeout_ms == 0 {
            None
        } else {
            self.watch
                .before_sleep(&self.mailbox, self.networked, answer, caught_up)
        };
        let mut cmd = self.mailbox.recv_spin(timeout_ms, spin_until);
        loop {
            match cmd {
                Ok(c) => self.process_command(c),
                Err(Error::Again) => break,
                Err(e) => return Err(e),
            }
            cmd = self.mailbox.recv(0);
        }
        self.check_alive()
    }

    fn process_command(&mut self, cmd: Command) {
        match cmd {
            Command::Stop if !self.reaping => self.ctx_terminated = true,
            Command::Bind(pipe) => {
                self.binds_seen += 1;
                self.attach_pipe(*pipe, false)
            }
            Command::Pipe(addr, pc) => self.process_pipe_command(addr, pc),
            Command::Object(_, ObjCmd::TermAck(id)) => self.own.term_ack(id),
            Command::Object(_, ObjCmd::TermReq(id)) => {
                // A connect-role session that may not reconnect: ended with its pipe, as
                // by a disconnect.
                if let Some(o) = self.own.term_child(id, 0) {
                    let endpoint = o.endpoint.clone();
                    self.terminate_pipes_of(&endpoint, true);
                }
            }
            _ => {}
        }
    }

    fn process_pipe_command(&mut self, addr: PipeAddr, pc: PipeCmd) {
        let Some(p) = self.pipes.get_checked(addr.index, addr.id) else {
            return;
        };
        match p.process(pc) {
            PipeEvent::None => {}
            PipeEvent::ReadActivated => self.kind.read_activated(&mut self.pipes, addr.index),
            PipeEvent::WriteActivated => self.kind.write_activated(&mut self.pipes, addr.index),
            PipeEvent::Hiccuped => self.kind.hiccuped(&mut self.pipes, addr.index),
            // An inproc peer asks: answered through the pipe, its socket reports.
            PipeEvent::StatsQuery(theirs, ours) => {
                if let Some(p) = self.pipes.get_checked(addr.index, addr.id) {
                    p.reply_stats(theirs, ours);
                }
            }
            PipeEvent::StatsReply(ours, theirs) => {
                let endpoint = self
                    .pipes
                    .get(addr.index)
                    .endpoint
                    .clone()
                    .unwrap_or_default();
                let at = Endpoints {
                    local: endpoint.clone(),
                    remote: endpoint,
                    bound: false,
                };
                self.monitor
                    .emit(ZMQ_EVENT_PIPES_STATS as u64, &[ours, theirs], &at);
            }
            PipeEvent::Terminated => {
                self.kind.terminated(&mut self.pipes, addr.index);
                self.pipes.remove(addr.index);
            }
        }
    }

    fn attach_pipe(&mut self, mut pipe: Pipe, locally_initiated: bool) {
        // An inproc peer that goes away leaves ZMQ_DISCONNECT_MSG behind (over tcp and ipc
        // the session writes it).
        if !locally_initiated
            && self.options.receives_disconnect()
            && pipe
                .endpoint
                .as_deref()
                .is_some_and(|e| e.starts_with("inproc://"))
        {
            pipe.disconnect_msg = Some(self.options.disconnect_msg.clone());
        }
        let idx = self.pipes.next_index();
        pipe.attach(self.mailbox.clone(), idx);
        pipe.locally_initiated = locally_initiated;
        let terminate = self.reaping;
        let idx2 = self.pipes.insert(pipe);
        debug_assert_eq!(idx, idx2);
        self.kind.attach(&mut self.pipes, idx, locally_initiated);
        if terminate {
            self.pipes.get(idx).terminate(false);
        }
    }

    // ---- endpoints ------------------------------------------------------------------

    fn snapshot(&self) -> BoundEndpoint {
        BoundEndpoint {
            socket_id: self.id,
            mailbox: self.mailbox.clone(),
            sndhwm: self.options.sndhwm,
            rcvhwm: self.options.rcvhwm,
            recv_routing_id: self.options.recv_routing_id,
            routing_id: self.options.routing_id.clone(),
            hello: if self.options.sends_hello() {
                self.options.hello_msg.clone()
            } else {
                Vec::new()
            },
            binds_sent: self.binds_sent.clone(),
        }
    }

    /// `zmq_bind`.
    pub fn bind(&mut self, addr: &str) -> Result<()> {
        let r = self.bind_endpoint(addr);
        self.changed(r)
    }

    /// Parses an endpoint for this socket: udp only for the types that take it (libzmq
    /// checks that before anything else).
    fn parse_endpoint(&self, addr: &str) -> Result<Endpoint> {
        let ep = Endpoint::parse(addr)?;
        if matches!(ep, Endpoint::Udp(_))
            && !matches!(self.options.socket_type, RADIO | DISH | DGRAM)
        {
            return Err(Error::NoCompatProto);
        }
        Ok(ep)
    }

    fn bind_endpoint(&mut self, addr: &str) -> Result<()> {
        self.check_alive()?;
        self.process_commands(0, false)?;
        let ep = self.parse_endpoint(addr)?;
        match &ep {
            // Only a receiving socket binds a udp endpoint.
            Endpoint::Udp(_) if self.options.socket_type == RADIO => Err(Error::NoCompatProto),
            Endpoint::Udp(address) => self.open_udp(addr, address, true),
            Endpoint::Inproc(_) if self.options.socket_type == ZMQ_STREAM => {
                Err(Error::NoCompatProto)
            }
            Endpoint::Inproc(name) => {
                let pending = inproc::bind(&self.ctx, name, self.snapshot())?;
                self.bound.push(name.clone());
                for pc in pending {
                    let pipe = inproc::accept_pending(pc, name, &self.options);
                    self.attach_pipe(pipe, false);
                }
                self.options.last_endpoint = addr.to_string();
                Ok(())
            }
            _ => {
                self.networked = true;
                self.bind_network(&ep)
            }
        }
    }

    /// What an object the socket launches on an I/O thread needs to know of it.
    fn socket_ref(&self) -> SocketRef {
        SocketRef {
            mailbox: self.mailbox.clone(),
            binds_sent: self.binds_sent.clone(),
            options: self.options.clone(),
            monitor: self.monitor.clone(),
            ctx: Arc::downgrade(&self.ctx),
            disconnected: self.disconnected.clone(),
        }
    }

    /// How the socket's children reach it.
    fn as_owner(&self) -> OwnerRef {
        self.own.as_owner(self.mailbox.clone())
    }

    /// Binds a tcp or ipc endpoint: its transport makes the listening socket here (errors
    /// are immediate), then a listener runs it on an I/O thread.
    fn bind_network(&mut self, ep: &Endpoint) -> Result<()> {
        let io = self.ctx.choose_io_thread(self.options.affinity)?;
        let listening = ep.listen(&self.options)?;
        let fd = listening.sock.fd();
        let endpoint = listening.endpoint.clone();
        let listener = Listener::new(self.socket_ref(), self.as_owner(), listening);
        self.own.adopt(
            OwnerRef::new(io.clone(), listener.id()),
            Owned {
                endpoint: endpoint.clone(),
                connect: false,
            },
        );
        self.monitor
            .event(ZMQ_EVENT_LISTENING, fd as u32, &Endpoints::bound(&endpoint));
        io.send(Command::Plug(Box::new(listener)));
        self.mailbox.send(Command::Launched);
        self.options.last_endpoint = endpoint;
        Ok(())
    }

    /// Connects a tcp or ipc endpoint: a session on an I/O thread does the connecting; the
    /// pipe exists at once (unless ZMQ_IMMEDIATE), so messages queue meanwhile.
    fn connect_network(&mut self, ep: &Endpoint, addr: &str) -> Result<()> {
        let target = ep.connect_target(&self.options)?;
        let io = self.ctx.choose_io_thread(self.options.affinity)?;
        // Taken now, so that it names this connect's pipe even when that pipe comes later.
        let connect_routing_id = std::mem::take(&mut self.options.connect_routing_id);
        let (theirs, connect_routing_id) = if self.options.immediate {
            // The session makes the pipe, each time the connection is up.
            (None, connect_routing_id)
        } else {
            let o = &self.options;
            let (mut mine, mut theirs) =
                pipepair_parts([o.sndhwm as i64, -1], [-1, o.rcvhwm as i64]);
            mine.endpoint = Some(addr.to_string());
            theirs.endpoint = Some(addr.to_string());
            mine.routing_id = connect_routing_id;
            if o.conflate_applies() {
                mine.set_conflate();
                theirs.set_conflate();
            }
            self.attach_pipe(mine, true);
            (Some(theirs), Vec::new())
        };
        let session = Session::connect(
            self.socket_ref(),
            self.as_owner(),
            addr.to_string(),
            Connecter::new(target, &self.options),
            theirs,
            connect_routing_id,
        );
        self.own.adopt(
            OwnerRef::new(io.clone(), session.id()),
            Owned {
                endpoint: addr.to_string(),
                connect: true,
            },
        );
        io.send(Command::Plug(Box::new(session)));
        self.mailbox.send(Command::Launched);
        self.options.last_endpoint = addr.to_string();
        Ok(())
    }

    /// Binds (`bind`: DISH, DGRAM) or connects (RADIO) a udp endpoint: its transport makes
    /// the socket here (errors are immediate), then a session runs it on an I/O thread,
    /// with a pipe made now, as for a tcp connect. A RADIO's pipe takes every group.
    fn open_udp(&mut self, addr: &str, address: &str, bind: bool) -> Result<()> {
        let ty = self.options.socket_type;
        let sock = udp::open(address, &self.options, ty != DISH, ty != RADIO, ty == DGRAM)?;
        let io = self.ctx.choose_io_thread(self.options.affinity)?;
        let o = &self.options;
        let (mut mine, mut theirs) = pipepair_parts([o.sndhwm as i64, -1], [-1, o.rcvhwm as i64]);
        mine.endpoint = Some(addr.to_string());
        theirs.endpoint = Some(addr.to_string());
        mine.subscribe_all = ty == RADIO;
        self.attach_pipe(mine, !bind);
        let session = Session::udp(
            self.socket_ref(),
            self.as_owner(),
            addr.to_string(),
            sock,
            theirs,
        );
        self.own.adopt(
            OwnerRef::new(io.clone(), session.id()),
            Owned {
                endpoint: addr.to_string(),
                connect: !bind,
            },
        );
        io.send(Command::Plug(Box::new(session)));
        self.mailbox.send(Command::Launched);
        self.networked = true;
        self.options.last_endpoint = addr.to_string();
        Ok(())
    }

    /// Ends the owned objects of a network endpoint (listeners for unbind, sessions for
    /// disconnect), trying the address as given, then its canonical forms.
    fn end_network(&mut self, ep: &Endpoint, addr: &str, connect: bool) -> Result<()> {
        let mut n = self.end_owned(addr, connect);
        if n == 0 {
            for key in ep.term_keys(&self.options) {
                n = self.end_owned(&key, connect);
                if n > 0 {
                    break;
                }
            }
        }
        if n == 0 {
            return Err(Error::NoEnt);
        }
        if connect {
            self.terminate_pipes_of(addr, true);
        }
        // libzmq marks the socket after any network unbind or disconnect.
        if self.options.reconnect_stop & ZMQ_RECONNECT_STOP_AFTER_DISCONNECT != 0 {
            self.disconnected
                .store(true, std::sync::atomic::Ordering::Release);
        }
        Ok(())
    }

    /// Ends the owned objects (listeners for unbind, sessions for disconnect) of `addr`.
    fn end_owned(&mut self, addr: &str, connect: bool) -> usize {
        let linger = self.options.linger;
        self.own
            .term_children(|o| o.connect == connect && o.endpoint == addr, linger)
    }

    /// `zmq_connect`.
    pub fn connect(&mut self, addr: &str) -> Result<()> {
        let r = self.connect_endpoint(addr);
        self.changed(r)
    }

    fn connect_endpoint(&mut self, addr: &str) -> Result<()> {
        self.check_alive()?;
        self.process_commands(0, false)?;
        let ep = self.parse_endpoint(addr)?;
        match &ep {
            // Only RADIO connects a udp endpoint (a destination).
            Endpoint::Udp(_) if self.options.socket_type != RADIO => Err(Error::NoCompatProto),
            Endpoint::Udp(address) => self.open_udp(addr, address, false),
            Endpoint::Inproc(_) if self.options.socket_type == ZMQ_STREAM => {
                Err(Error::NoCompatProto)
            }
            Endpoint::Inproc(name) => {
                let mut mine = inproc::connect(&self.ctx, name, addr, &self.options)?;
                mine.routing_id = std::mem::take(&mut self.options.connect_routing_id);
                self.attach_pipe(mine, true);
                self.options.last_endpoint = addr.to_string();
                Ok(())
            }
            _ => {
                self.networked = true;
                self.connect_network(&ep, addr)
            }
        }
    }

    /// `zmq_connect_peer`: connects a PEER and tells the routing id of the new connection
    /// (ENOTSUP for other types, EFAULT with ZMQ_IMMEDIATE, which makes no pipe yet).
    #[cfg_attr(not(feature = "draft"), allow(dead_code))] // only the draft C API calls it
    pub fn connect_peer(&mut self, addr: &str) -> Result<u32> {
        if self.options.socket_type != PEER {
            return Err(Error::NotSup);
        }
        if self.options.immediate {
            return Err(Error::Fault);
        }
        self.connect(addr)?;
        Ok(self.kind.last_routing_id())
    }

    /// `zmq_socket_get_peer_state`: what the peer `routing_id` can take now (ROUTER).
    #[cfg_attr(not(feature = "draft"), allow(dead_code))] // only the draft C API calls it
    pub fn peer_state(&mut self, routing_id: &[u8]) -> Result<i32> {
        self.check_alive()?;
        self.process_commands(0, false)?;
        self.kind.peer_state(&mut self.pipes, routing_id)
    }

    /// `zmq_join` (`join`) or `zmq_leave`: a DISH's groups (ENOTSUP for other types).
    #[cfg_attr(not(feature = "draft"), allow(dead_code))] // only the draft C API calls it
    pub fn join_leave(&mut self, group: &[u8], join: bool) -> Result<()> {
        self.check_alive()?;
        if join {
            self.kind.join(&mut self.pipes, group)
        } else {
            self.kind.leave(&mut self.pipes, group)
        }
    }

    /// `zmq_unbind`.
    pub fn unbind(&mut self, addr: &str) -> Result<()> {
        let r = self.unbind_endpoint(addr);
        self.changed(r)
    }

    fn unbind_endpoint(&mut self, addr: &str) -> Result<()> {
        self.check_alive()?;
        self.process_commands(0, false)?;
        let ep = self.parse_endpoint(addr)?;
        match &ep {
            Endpoint::Inproc(name) => {
                self.ctx.unregister_endpoint(name, self.id)?;
                self.bound.retain(|n| n != name);
                self.terminate_pipes_of(addr, false);
                Ok(())
            }
            _ => self.end_network(&ep, addr, false),
        }
    }

    /// `zmq_disconnect`.
    pub fn disconnect(&mut self, addr: &str) -> Result<()> {
        let r = self.disconnect_endpoint(addr);
        self.changed(r)
    }

    fn disconnect_endpoint(&mut self, addr: &str) -> Result<()> {
        self.check_alive()?;
        self.process_commands(0, false)?;
        let ep = self.parse_endpoint(addr)?;
        match &ep {
            Endpoint::Inproc(_) => {
                if self.terminate_pipes_of(addr, true) == 0 {
                    return Err(Error::NoEnt);
                }
                Ok(())
            }
            _ => self.end_network(&ep, addr, true),
        }
    }

    fn terminate_pipes_of(&mut self, addr: &str, locally_initiated: bool) -> usize {
        let mut n = 0;
        for i in self.pipes.indices() {
            let p = self.pipes.get(i);
            if p.endpoint.as_deref() == Some(addr) && p.locally_initiated == locally_initiated {
                n += 1;
                if !self.drop_if_pending(i) {
                    self.pipes.get(i).terminate(false);
                }
            }
        }
        n
    }

    /// An inproc connection no bind has claimed has no peer to agree on termination: take
    /// it back from the context and drop it at once. Returns whether that happened.
    fn drop_if_pending(&mut self, i: usize) -> bool {
        let p = self.pipes.get(i);
        let Some(name) = p
            .endpoint
            .as_deref()
            .and_then(|e| e.strip_prefix("inproc://"))
        else {
            return false;
        };

        if !p.locally_initiated || !self.ctx.take_pending(name, p.peer_id()) {
            return false;
        }
        self.kind.terminated(&mut self.pipes, i);
        self.pipes.remove(i);
        true
    }

    // ---- messages -------------------------------------------------------------------

    /// `zmq_msg_send` core: sends one part (ZMQ_SNDMORE in `flags` marks more parts).
    pub fn send(&mut self, msg: &mut Msg, flags: i32) -> Result<()> {
        self.check_alive()?;
        if !msg.is_valid() {
            return Err(Error::Fault);
        }
        self.process_commands(0, true)?;
        msg.reset_flags(msg::MORE);
        if flags & ZMQ_SNDMORE != 0 {
            msg.set_flags(msg::MORE);
        }
        match self.kind.send(&mut self.pipes, msg) {
            Err(Error::Again) => {}
            r => return self.sent(r),
        }
        if flags & ZMQ_DONTWAIT != 0 || self.options.sndtimeo == 0 {
            return Err(Error::Again);
        }
        let deadline = deadline(self.options.sndtimeo);
        loop {
            self.process_commands(remaining(deadline)?, false)?;
            match self.kind.send(&mut self.pipes, msg) {
                Err(Error::Again) => {}
                r => return self.sent(r),
            }
        }
    }

    /// `zmq_msg_recv` core: receives one part into `msg`.
    pub fn recv(&mut self, msg: &mut Msg, flags: i32) -> Result<()> {
        // The old content is released when the receive ends, not before it waits: a big
        // message held meanwhile keeps the C allocator from giving the top of its heap back
        // to the system while this thread sleeps, and every buffer after it from being
        // faulted in again (pinned 64 KiB inproc_thr: 3.4 M msg/s against 1.3 M releasing
        // first, 12 page faults per 100 messages against 1).
        if !msg.is_valid() {
            return Err(Error::Fault);
        }
        // A message that holds no reference (most often one just initialised, as
        // `zmq_recv`'s) is received into as it is: taking it out would read its 64 bytes
        // right after the stores that wrote them, a stall of a few ns on every receive.
        let old = msg.holds_references().then(|| msg.take());
        let mut looked = false;
        let r = self.recv_part(msg, flags, &mut looked);
        // Only this receive may watch its pipes: others (REQ's send drops stale replies
        // with reads) would watch for nothing.
        self.pipes.catch_up = false;
        self.pipes.watched = false;
        // As libzmq's: a receive refused before it looked for a message (EFSM, ETERM, ...)
        // leaves the message as it was; one that looked leaves what it found, or an empty
        // message (EAGAIN, or ETERM / EINTR while it waited).
        match old {
            Some(old) if !looked => *msg = old,
            Some(old) => drop(old),
            None if looked && r.is_err() => msg.clear(),
            None => {}
        }
        r
    }

    /// `recv`'s work; `looked` tells whether it came to look for a message.
    fn recv_part(&mut self, msg: &mut Msg, flags: i32, looked: &mut bool) -> Result<()> {
        self.check_alive()?;
        self.process_commands(0, true)?;
        let blocking = flags & ZMQ_DONTWAIT == 0 && self.options.rcvtimeo != 0;
        self.pipes.catch_up = blocking && SocketWatch::may_catch_up(self.networked);
        self.pipes.watched = false;
        // A socket type that refuses (EFSM, ENOTSUP) does so before it looks.
        let r = self.kind.recv(&mut self.pipes, msg);
        *looked = matches!(r, Ok(()) | Err(Error::Again));
        match r {
            Err(Error::Again) => {}
            r => return self.received(msg, r),
        }
        if !blocking {
            // One more chance: commands may have brought messages.
            self.process_commands(0, false)?;
            let r = self.kind.recv(&mut self.pipes, msg);
            return self.received(msg, r);
        }
        let deadline = deadline(self.options.rcvtimeo);
        loop {
            self.process_commands_for(remaining(deadline)?, false, self.answer_due)?;
            match self.kind.recv(&mut self.pipes, msg) {
                Err(Error::Again) => {}
                r => return self.received(msg, r),
            }
        }
    }

    fn sent(&mut self, r: Result<()>) -> Result<()> {
        if r.is_ok() {
            self.answer_due = true;
            self.touched_by_message();
        }
        r
    }

    fn received(&mut self, msg: &Msg, r: Result<()>) -> Result<()> {
        if r.is_ok() {
            self.rcvmore = msg.more();
            self.answer_due = false;
            self.touched_by_message();
        }
        r
    }

    /// After a message moved: pollers of a classic socket look again (a request/reply
    /// socket's state changed). A thread-safe socket's waiters are not woken for it: its
    /// types have no such state, and its commands wake them.
    #[inline]
    fn touched_by_message(&self) {
        if !self.poll_hooks.is_empty() {
            self.touched();
        }
    }

    // ---- options --------------------------------------------------------------------

    /// `zmq_setsockopt`.
    pub fn setsockopt(&mut self, id: i32, v: &[u8]) -> Result<()> {
        let r = self.set_option(id, v);
        self.changed(r)
    }

    fn set_option(&mut self, id: i32, v: &[u8]) -> Result<()> {
        self.check_alive()?;
        if let Some(r) = self.kind.setsockopt(&mut self.pipes, id, v) {
            if r.is_ok() && id == ZMQ_ROUTER_RAW && crate::options::int_of(v)? != 0 {
                // The ROUTER went raw: raw engines, no routing ids from peers.
                self.options.router_raw = true;
                self.options.recv_routing_id = false;
            }
            return r;
        }
        self.options.set(id, v)?;
        if id == ZMQ_SNDHWM || id == ZMQ_RCVHWM {
            // Existing pipes follow the new HWMs, as in libzmq.
            for i in self.pipes.indices() {
                self.pipes
                    .get(i)
                    .set_local_hwms(self.options.sndhwm, self.options.rcvhwm);
            }
        }
        Ok(())
    }

    /// `zmq_getsockopt`: writes into `out`, returns the length written.
    pub fn getsockopt(&mut self, id: i32, out: &mut [u8]) -> Result<usize> {
        self.check_alive()?;
        let socket_level = match id {
            ZMQ_RCVMORE => OptVal::Int(self.rcvmore as i32),
            // A thread-safe socket has no descriptor to give (libzmq: EINVAL); zmq_poller
            // is the way to wait for it.
            ZMQ_FD if self.is_thread_safe() => return Err(Error::Inval),
            ZMQ_FD => OptVal::Int(self.mailbox.fd()?),
            ZMQ_EVENTS => OptVal::Int(self.events()?),
            ZMQ_THREAD_SAFE => OptVal::Int(self.is_thread_safe() as i32),
            _ => {
                let val = match self.kind.getsockopt(id) {
                    Some(r) => r?,
                    None => self.options.get(id)?,
                };
                return val.write_to(out);
            }
        };
        socket_level.write_padded(out)
    }

    /// Whether one more message could be sent now without blocking. Looks at commands only
    /// when some are pending (throttled as in `send`): cheap enough to ask before each
    /// message of a burst, as `zmq_proxy` does. A stale `false` is fine: the caller then
    /// polls, and `events` looks at every command.
    pub fn writable(&mut self) -> Result<bool> {
        self.process_commands(0, true)?;
        Ok(self.kind.has_out(&mut self.pipes))
    }

    /// `ZMQ_EVENTS`: processes pending commands, then reports POLLIN / POLLOUT.
    pub fn events(&mut self) -> Result<i32> {
        self.process_commands(0, false)?;
        let mut ev = 0;
        if self.kind.has_in(&mut self.pipes) {
            ev |= ZMQ_POLLIN;
        }
        if self.kind.has_out(&mut self.pipes) {
            ev |= ZMQ_POLLOUT;
        }
        Ok(ev)
    }

    // ---- closing --------------------------------------------------------------------

    // ---- monitoring -------------------------------------------------------------------

    /// `zmq_socket_monitor_versioned` (and `zmq_socket_monitor`: version 1, PAIR): the
    /// events in `events` go, encoded as `version` says, to a socket of type `ty` (PAIR,
    /// PUB or PUSH) bound at `addr` (inproc only); `None` stops monitoring. The checks come
    /// in libzmq's order (a bad type is found after the old monitor stopped).
    pub fn monitor(
        &mut self,
        addr: Option<&str>,
        events: u64,
        version: i32,
        ty: i32,
    ) -> Result<()> {
        self.check_alive()?;
        // Version 1 events fit in 16 bits; libzmq checks before anything else.
        if version == 1 && events >> 16 != 0 {
            return Err(Error::Inval);
        }
        let Some(addr) = addr else {
            self.stop_monitor();
            return Ok(());
        };
        if !matches!(Endpoint::parse(addr)?, Endpoint::Inproc(_)) {
            return Err(Error::ProtoNoSupport);
        }
        self.stop_monitor();
        self.monitor.start(&self.ctx, addr, events, version, ty)
    }

    /// `zmq_socket_monitor_pipes_stats`: each pipe's peer reports the messages queued
    /// both ways (ZMQ_EVENT_PIPES_STATS, to this socket's monitor): EINVAL unless the
    /// monitor wants that event, EAGAIN without a pipe.
    #[cfg_attr(not(feature = "draft"), allow(dead_code))] // only the draft C API calls it
    pub fn monitor_pipes_stats(&mut self) -> Result<()> {
        self.check_alive()?;
        if !self.monitor.wants(ZMQ_EVENT_PIPES_STATS as u64) {
            return Err(Error::Inval);
        }
        if self.pipes.is_empty() {
            return Err(Error::Again);
        }
        for i in self.pipes.indices() {
            self.pipes.get(i).query_stats();
        }
        Ok(())
    }

    /// Sends MONITOR_STOPPED and closes the monitor socket.
    pub fn stop_monitor(&mut self) {
        self.monitor.stop();
    }

    /// Gives back the inproc names this socket bound, at once: a new bind of the same name
    /// succeeds from now on, whatever the reaper has done yet. The pipes stay.
    pub fn release_inproc_names(&mut self) {
        for name in std::mem::take(&mut self.bound) {
            let _ = self.ctx.unregister_endpoint(&name, self.id);
        }
    }

    /// `zmq_close`: the reaper finishes the socket.
    pub fn close(self: Box<Self>) {
        // A socket the reaper will have to wait for (its pipes and children end first) gets
        // the descriptor the reaper polls here, in the caller's thread: a descriptor that
        // appears later in the background could take a number the application just closed
        // and still names (libzmq's socket has had its descriptor since it was made). If it
        // cannot be made now, the reaper looks at the socket every millisecond instead.
        if !self.is_reaped() {
            let _ = self.mailbox.fd();
        }
        let ctx = self.ctx.clone();
        ctx.reap(self);
    }

    /// Called by the reaper once: unbinds names and starts terminating every pipe.
    pub fn start_reaping(&mut self) {
        self.reaping = true;
        self.release_inproc_names();
        let _ = self.process_commands(0, false);
        // Inproc connections still waiting for a bind keep their messages: they finish
        // when the name is bound (at the latest by the context's termination).
        for i in self.pipes.indices() {
            self.pipes.get(i).terminate(false);
        }
        self.own.terminate(self.options.linger);
    }

    /// Called by the reaper when the socket's mailbox may have commands.
    pub fn reaper_process_commands(&mut self) {
        let _ = self.process_commands(0, false);
    }

    /// Whether every pipe has terminated, so the socket can be dropped.
    pub fn is_reaped(&self) -> bool {
        self.pipes.is_empty()
            && self.own.has_no_children()
            && self.binds_sent.load(std::sync::atomic::Ordering::Acquire) == self.binds_seen
    }
}

fn deadline(timeout_ms: i32) -> Option<Instant> {
    (timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64))
}

/// Milliseconds left until `deadline` (-1: none); EAGAIN once it has passed.
fn remaining(deadline: Option<Instant>) -> Result<i64> {
    match deadline {
        None => Ok(-1),
        Some(d) => {
            let now = Instant::now();
            if now >= d {
                return Err(Error::Again);
            }
            Ok((d - now).as_millis().max(1) as i64)
        }
    }
}
