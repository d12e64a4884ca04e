//! The context: owner of the I/O threads, the reaper, the socket registry, the inproc
//! endpoint registry and termination.
//!
//! Threads: application threads call in through `zmq_*`; I/O threads and the reaper start
//! with the first socket. The registry is behind one mutex, taken by socket creation and
//! close, binds and connects (the choice of an I/O thread, inproc endpoints), each connection
//! a listener accepts (on its I/O thread), and termination — never on the message path.
//!
//! Termination: `shutdown` marks the context terminating and sends `Stop` to every socket
//! (blocked calls return ETERM). `terminate` does the same, then waits until every socket is
//! closed and reaped, then stops the reaper and I/O threads.
//!
//! Fork: a child process inherits the context's memory but none of its threads (and its
//! mutex may be held by a thread that is gone), and it shares the parent's eventfds and
//! epoll sets. So in a forked child the context is inert: closing a socket leaks it
//! without signalling anyone, and `terminate` returns at once. The child makes a new
//! context of its own (as libzmq requires); the parent's context is unaffected.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::command::Command;
use crate::constants::*;
use crate::error::{Error, Result};
use crate::io::{io_thread, reaper, Worker};
use crate::mailbox::Mailbox;
use crate::pipe::Pipe;

/// What a connecting socket needs to know about an inproc endpoint's binder.
#[derive(Clone)]
pub struct BoundEndpoint {
    pub socket_id: u64,
    pub mailbox: Arc<Mailbox>,
    pub sndhwm: i32,
    pub rcvhwm: i32,
    pub recv_routing_id: bool,
    pub routing_id: Vec<u8>,
    /// ZMQ_HELLO_MSG the binder sends every new peer (empty: none).
    pub hello: Vec<u8>,
    /// Counts `Bind` commands sent to the binder, so it is not dropped with one in flight.
    pub binds_sent: Arc<std::sync::atomic::AtomicU64>,
}

/// An inproc connect made before the bind: the binder-side pipe end waits here.
pub struct PendingConnection {
    pub pipe: Pipe,
    pub recv_routing_id: bool,
}

struct State {
    io_threads_n: i32,
    max_sockets: i32,
    max_msgsz: i32,
    thread_priority: i32,
    thread_sched_policy: i32,
    /// Put before the names of the context's threads ("prefix/ZMQbg/IO/0"), as libzmq.
    thread_name_prefix: Vec<u8>,
    affinity_cpus: Vec<i32>,
    ipv6: bool,
    blocky: bool,
    zero_copy: bool,
    starting: bool,
    terminating: bool,
    next_socket_id: u64,
    sockets: HashMap<u64, Arc<Mailbox>>,
    /// Sockets created and not yet reaped (closed sockets stay here until the reaper is done).
    live_sockets: usize,
    endpoints: HashMap<String, BoundEndpoint>,
    pending: HashMap<String, Vec<PendingConnection>>,
    io_threads: Vec<Worker>,
    next_io: usize,
    reaper: Option<Worker>,
}

/// The shared part of a context; sockets keep an `Arc` of it.
pub struct CtxInner {
    state: Mutex<State>,
    reaped: Condvar,
    /// The process that created the context (see "Fork" above).
    pid: u32,
}

/// Largest socket count a context accepts.
pub const SOCKET_LIMIT: i32 = 65535;

impl CtxInner {
    /// A new context with libzmq's defaults.
    pub fn new() -> Arc<CtxInner> {
        Arc::new(CtxInner {
            state: Mutex::new(State {
                io_threads_n: ZMQ_IO_THREADS_DFLT,
                max_sockets: ZMQ_MAX_SOCKETS_DFLT,
                max_msgsz: i32::MAX,
                thread_priority: ZMQ_THREAD_PRIORITY_DFLT,
                thread_sched_policy: ZMQ_THREAD_SCHED_POLICY_DFLT,
                thread_name_prefix: Vec::new(),
                affinity_cpus: Vec::new(),
                ipv6: false,
                blocky: true,
                zero_copy: true,
                starting: true,
                terminating: false,
                next_socket_id: 1,
                sockets: HashMap::new(),
                live_sockets: 0,
                endpoints: HashMap::new(),
                pending: HashMap::new(),
                io_threads: Vec::new(),
                next_io: 0,
                reaper: None,
            }),
            reaped: Condvar::new(),
            pid: std::process::id(),
        })
    }

    /// Whether this is a forked child of the process that created the context: then no
    /// lock, thread or shared descriptor of the context may be used.
    pub fn forked(&self) -> bool {
        std::process::id() != self.pid
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `zmq_ctx_set`.
    pub fn set(&self, option: i32, value: i32) -> Result<()> {
        self.set_ext(option, &value.to_ne_bytes())
    }

    /// `zmq_ctx_set_ext`: the value's bytes; an int option needs exactly an int's.
    pub fn set_ext(&self, option: i32, v: &[u8]) -> Result<()> {
        let int = <[u8; 4]>::try_from(v).ok().map(i32::from_ne_bytes);
        let mut s = self.lock();
        match (option, int) {
            (ZMQ_IO_THREADS, Some(value)) if value >= 0 => s.io_threads_n = value,
            // libzmq takes any count the poller can hold; epoll has no limit of its own.
            (ZMQ_MAX_SOCKETS, Some(value)) if value >= 1 => s.max_sockets = value,
            (ZMQ_THREAD_PRIORITY, Some(value)) if value >= 0 => s.thread_priority = value,
            (ZMQ_THREAD_SCHED_POLICY, Some(value)) if value >= 0 => s.thread_sched_policy = value,
            (ZMQ_THREAD_AFFINITY_CPU_ADD, Some(value)) if value >= 0 => {
                if !s.affinity_cpus.contains(&value) {
                    s.affinity_cpus.push(value)
                }
            }
            (ZMQ_THREAD_AFFINITY_CPU_REMOVE, Some(value)) if value >= 0 => {
                let Some(i) = s.affinity_cpus.iter().position(|&c| c == value) else {
                    return Err(Error::Inval);
                };
                s.affinity_cpus.remove(i);
            }
            // An int is written out in decimal; other values are taken as 1 to 16 bytes.
            (ZMQ_THREAD_NAME_PREFIX, Some(value)) => {
                s.thread_name_prefix = value.to_string().into_bytes()
            }
            (ZMQ_THREAD_NAME_PREFIX, None) if (1..=16).contains(&v.len()) => {
                s.thread_name_prefix = v.to_vec()
            }
            (ZMQ_MAX_MSGSZ, Some(value)) if value >= 0 => s.max_msgsz = value,
            // Booleans: any non-negative int, non-zero meaning on, as libzmq.
            (ZMQ_IPV6, Some(value)) if value >= 0 => s.ipv6 = value != 0,
            (ZMQ_BLOCKY, Some(value)) if value >= 0 => s.blocky = value != 0,
            (ZMQ_ZERO_COPY_RECV, Some(value)) if value >= 0 => s.zero_copy = value != 0,
            _ => return Err(Error::Inval),
        }
        Ok(())
    }

    /// `zmq_ctx_get`.
    pub fn get(&self, option: i32) -> Result<i32> {
        let mut v = [0u8; 4];
        self.get_ext(option, &mut v)?;
        Ok(i32::from_ne_bytes(v))
    }

    /// `zmq_ctx_get_ext`: writes the value into `out`. An int option needs a buffer of
    /// exactly an int; the thread name prefix also comes as its bytes (no NUL) into any
    /// buffer that holds them, and as an int the number it starts with, as libzmq.
    pub fn get_ext(&self, option: i32, out: &mut [u8]) -> Result<()> {
        let s = self.lock();
        let is_int = out.len() == 4;
        let value = match option {
            ZMQ_IO_THREADS => s.io_threads_n,
            ZMQ_MAX_SOCKETS => s.max_sockets,
            ZMQ_SOCKET_LIMIT => SOCKET_LIMIT,
            ZMQ_THREAD_SCHED_POLICY => s.thread_sched_policy,
            ZMQ_THREAD_NAME_PREFIX if is_int => leading_int(&s.thread_name_prefix),
            ZMQ_THREAD_NAME_PREFIX if out.len() >= s.thread_name_prefix.len() => {
                out[..s.thread_name_prefix.len()].copy_from_slice(&s.thread_name_prefix);
                return Ok(());
            }
            ZMQ_MAX_MSGSZ => s.max_msgsz,
            ZMQ_MSG_T_SIZE => std::mem::size_of::<crate::msg::Msg>() as i32,
            ZMQ_IPV6 => s.ipv6 as i32,
            ZMQ_BLOCKY => s.blocky as i32,
            ZMQ_ZERO_COPY_RECV => s.zero_copy as i32,
            _ => return Err(Error::Inval),
        };
        if !is_int {
            return Err(Error::Inval);
        }
        out.copy_from_slice(&value.to_ne_bytes());
        Ok(())
    }

    /// Registers a new socket: returns its id and the context defaults it inherits
    /// (ipv6, blocky). Starts the threads on first use.
    /// `internal` sockets (the context's own) may be made while terminating.
    pub fn register_socket(
        self: &Arc<Self>,
        mailbox: Arc<Mailbox>,
        internal: bool,
    ) -> Result<(u64, bool, bool)> {
        let mut s = self.lock();
        if s.terminating && !internal {
            return Err(Error::Term);
        }
        if s.starting {
            let mut threads = Vec::new();
            for i in 0..s.io_threads_n {
                threads.push(io_thread::start(thread_name(
                    &s.thread_name_prefix,
                    &format!("IO/{i}"),
                ))?);
            }
            s.reaper = Some(reaper::start(
                self,
                thread_name(&s.thread_name_prefix, "Reaper"),
            )?);
            s.io_threads = threads;
            s.starting = false;
        }
        if s.sockets.len() >= s.max_sockets as usize && !internal {
            return Err(Error::MFile);
        }
        let id = s.next_socket_id;
        s.next_socket_id += 1;
        s.sockets.insert(id, mailbox);
        s.live_sockets += 1;
        Ok((id, s.ipv6, s.blocky))
    }

    /// The mailbox of an I/O thread for a new object: the next in turn of those in
    /// `affinity` (all when 0, or when it names none of the context's threads); one turn
    /// for the whole context, so its objects spread evenly over its threads. EMTHREAD when
    /// the context has no I/O thread.
    pub fn choose_io_thread(&self, affinity: u64) -> Result<Arc<Mailbox>> {
        let mut s = self.lock();
        let n = s.io_threads.len();
        if n == 0 {
            return Err(Error::MThread);
        }
        s.next_io = s.next_io.wrapping_add(1);
        let allowed = |i: &usize| affinity == 0 || (*i < 64 && affinity & (1 << i) != 0);
        let count = (0..n).filter(allowed).count();
        let pick = if count == 0 {
            s.next_io % n
        } else {
            (0..n).filter(allowed).nth(s.next_io % count).unwrap_or(0)
        };
        Ok(s.io_threads[pick].mailbox().clone())
    }

    /// A socket was closed by the application: hand it to the reaper.
    pub fn reap(&self, socket: Box<crate::socket::SocketBase>) {
        if self.forked() {
            // Dropping it would signal the parent's threads through shared eventfds.
            std::mem::forget(socket);
            return;
        }
        let s = self.lock();
        match &s.reaper {
            Some(r) => r.mailbox().send(Command::Reap(socket)),
            None => drop(socket),
        }
    }

    /// The reaper finished a socket: forget it.
    pub fn socket_reaped(&self, id: u64) {
        let mut s = self.lock();
        s.sockets.remove(&id);
        s.endpoints.retain(|_, e| e.socket_id != id);
        s.live_sockets -= 1;
        self.reaped.notify_all();
    }

    /// Marks the context terminating and stops every socket's blocking calls.
    pub fn shutdown(&self) {
        if self.forked() {
            return;
        }
        let mut s = self.lock();
        if !s.terminating {
            s.terminating = true;
            for mb in s.sockets.values() {
                mb.send(Command::Stop);
            }
        }
    }

    /// Shuts down, waits for every socket to be closed and reaped, stops the threads.
    pub fn terminate(self: &Arc<Self>) -> Result<()> {
        if self.forked() {
            // Nothing here belongs to this process: leave it all to the parent.
            return Ok(());
        }
        // Inproc connects that never found a binder: bind each name once with a throw-away
        // socket so that those connections (and their closed sockets) can finish.
        // No new inproc connect can be made from here on (they get ETERM).
        let names: Vec<String> = {
            let mut s = self.lock();
            s.terminating = true;
            s.pending.keys().cloned().collect()
        };
        for name in names {
            if let Ok(mut s) = crate::socket::SocketBase::new_internal(self, ZMQ_PAIR) {
                let _ = s.bind(&format!("inproc://{name}"));
                s.close();
            }
        }
        let mut s = self.lock();
        for mb in s.sockets.values() {
            mb.send(Command::Stop);
        }
        while s.live_sockets > 0 {
            s = self.reaped.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        let reaper = s.reaper.take();
        let io = std::mem::take(&mut s.io_threads);
        drop(s);
        if let Some(r) = reaper {
            r.stop();
        }
        for t in io {
            t.stop();
        }
        Ok(())
    }

    /// Registers an inproc endpoint; EADDRINUSE when the name is taken. Returns the
    /// connections that were waiting for it.
    pub fn register_endpoint(
        &self,
        name: &str,
        ep: BoundEndpoint,
    ) -> Result<Vec<PendingConnection>> {
        let mut s = self.lock();
        if s.endpoints.contains_key(name) {
            return Err(Error::AddrInUse);
        }
        s.endpoints.insert(name.to_string(), ep);
        Ok(s.pending.remove(name).unwrap_or_default())
    }

    /// Whether a socket is bound at the inproc endpoint `name`.
    pub fn is_bound(&self, name: &str) -> bool {
        self.lock().endpoints.contains_key(name)
    }

    /// Removes an inproc endpoint bound by `socket_id`; ENOENT when it is not bound by it.
    pub fn unregister_endpoint(&self, name: &str, socket_id: u64) -> Result<()> {
        let mut s = self.lock();
        match s.endpoints.get(name) {
            Some(e) if e.socket_id == socket_id => {
                s.endpoints.remove(name);
                Ok(())
            }
            _ => Err(Error::NoEnt),
        }
    }

    /// Looks up a bound inproc endpoint, counting the `Bind` the caller then sends it;
    /// `None` when nothing is bound there or the context is terminating.
    pub fn find_endpoint(&self, name: &str) -> Option<BoundEndpoint> {
        let s = self.lock();
        if s.terminating {
            return None;
        }
        let e = s.endpoints.get(name)?;
        // Counted under the lock: the binder unregisters under it before reaping.
        e.binds_sent
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Some(e.clone())
    }

    /// Looks up an inproc endpoint, or queues `pending` for a later bind. Both happen under
    /// one lock so a concurrent bind cannot slip between them.
    pub fn find_endpoint_or_pend(
        &self,
        name: &str,
        make_pending: impl FnOnce() -> PendingConnection,
    ) -> Result<Option<BoundEndpoint>> {
        let mut s = self.lock();
        if s.terminating {
            return Err(Error::Term);
        }
        if let Some(e) = s.endpoints.get(name) {
            // Counted under the lock: the binder unregisters under it before reaping.
            e.binds_sent
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            return Ok(Some(e.clone()));
        }
        let p = make_pending();
        s.pending.entry(name.to_string()).or_default().push(p);
        Ok(None)
    }

    /// Takes back a pending connection (its binder-side pipe end `pipe_id`) that no bind
    /// has claimed yet; returns whether it was still pending.
    pub fn take_pending(&self, name: &str, pipe_id: u64) -> bool {
        let mut s = self.lock();
        let Some(v) = s.pending.get_mut(name) else {
            return false;
        };
        let before = v.len();
        v.retain(|p| p.pipe.id() != pipe_id);
        before != v.len()
    }
}
/// The name of a context thread: libzmq's "ZMQbg/" + `what`, after the context's prefix and
/// a slash when it has one, cut to the 15 bytes a Linux thread name holds.
fn thread_name(prefix: &[u8], what: &str) -> String {
    let mut name = Vec::with_capacity(32);
    if !prefix.is_empty() {
        name.extend_from_slice(prefix);
        name.push(b'/');
    }
    name.extend_from_slice(b"ZMQbg/");
    name.extend_from_slice(what.as_bytes());
    name.truncate(15);
    // A thread name cannot hold a NUL; bytes that are not UTF-8 are replaced.
    name.retain(|&b| b != 0);
    String::from_utf8_lossy(&name).into_owned()
}

/// The number a byte string starts with (C's `atoi`: spaces, a sign, digits; 0 if none).
fn leading_int(bytes: &[u8]) -> i32 {
    let s = std::str::from_utf8(bytes).unwrap_or("");
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            (n * 10 + (d - b'0') as i64).min(i64::from(i32::MAX) + 1)
        });
    (if neg { -n } else { n }).clamp(i32::MIN as i64, i32::MAX as i64) as i32
}
