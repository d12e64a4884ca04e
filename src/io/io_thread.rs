//! An I/O thread: a `mio::Poll` loop over its mailbox and the objects it hosts (listeners,
//! sessions with their engines). Objects on it are only touched by it.
//!
//! Hosting: an object arrives by `Command::Plug` and gets a slot; mio tokens are
//! `slot + 1` (token 0 is the mailbox); pipe ends owned by an object are attached with the
//! object's slot as their index, so `Command::Pipe` reaches it directly. Other threads address
//! an object by its id (`Command::Object`). Timers are kept in one heap per thread
//! ([`TimerHeap`]), the one timer facility of the objects on it.
//!
//! Failures: a panic in an object's code (a bug) is caught here, so it takes neither the
//! thread nor the other objects with it. The object is then torn down through the ownership
//! tree ([`IoObject::abort`]: its pipes terminated, its children ended, its owner
//! acknowledged once they are), and stays hosted until that is done, so the socket that owns
//! it, and `zmq_ctx_term`, still finish. Only when `abort` panics too is it dropped at once.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Registry, Token};

use super::timer_heap::{Due, TimerHeap, TimerId};
use super::Worker;
use crate::command::{Command, ObjCmd, PipeCmd};
use crate::error::Result;
use crate::mailbox::Mailbox;
use crate::watch::IoWatches;

const MAILBOX: Token = Token(0);

/// What an object hosted on an I/O thread can use while it runs.
pub struct IoCtx<'a> {
    /// Where the object registers its fds (token: [`IoCtx::token`]).
    pub registry: &'a Registry,
    /// This thread's mailbox (objects attach their pipe ends to it).
    pub mailbox: &'a Arc<Mailbox>,
    /// The object's slot: its pipe index and token.
    pub slot: usize,
    timers: &'a mut TimerHeap,
    id: u64,
    /// New objects to host here (a listener's new sessions that go to its own thread).
    spawned: &'a mut Vec<Box<dyn IoObject>>,
    /// Set when the object woke an application thread waiting for messages.
    woke_reader: &'a mut bool,
    /// Objects (slot, id) to call in the next round of the loop ([`IoCtx::call_next_round`]);
    /// `None` where there are no rounds (the test stand-in).
    next_round: Option<&'a mut Vec<(usize, u64)>>,
}

impl IoCtx<'_> {
    /// The mio token for this object's fd.
    pub fn token(&self) -> Token {
        Token(self.slot + 1)
    }

    /// Calls `timer(timer_id)` on this object once, after `after` (unless cancelled).
    pub fn add_timer(&mut self, after: Duration, timer_id: u32) -> TimerId {
        self.timers.add(
            after,
            Due {
                slot: self.slot,
                object: self.id,
                timer: timer_id,
            },
        )
    }

    /// Cancels a timer this object set; harmless if it fired already.
    pub fn cancel_timer(&mut self, id: TimerId) {
        self.timers.cancel(id);
    }

    /// Hosts another object on this thread.
    pub fn spawn(&mut self, obj: Box<dyn IoObject>) {
        self.spawned.push(obj);
    }

    /// Messages were delivered to an application thread that was waiting for them: it may
    /// answer at once (see `crate::watch`: the reply watch).
    pub fn note_woke_reader(&mut self) {
        *self.woke_reader = true;
    }

    /// Whether [`IoCtx::call_next_round`] can be asked for here.
    pub fn has_rounds(&self) -> bool {
        self.next_round.is_some()
    }

    /// Asks for [`IoObject::next_round`] to be called on this object in the next round of
    /// the loop: once the thread has looked at its sockets again (without sleeping) and
    /// served what they reported. Nothing where there are no rounds (ask
    /// [`has_rounds`](Self::has_rounds) first).
    pub fn call_next_round(&mut self) {
        if let Some(v) = self.next_round.as_deref_mut() {
            v.push((self.slot, self.id));
        }
    }
}

/// An object living on an I/O thread.
pub trait IoObject: Send {
    /// Its id, unique in the process (for `Command::Object`).
    fn id(&self) -> u64;
    /// It arrived on the thread: register fds, start timers, attach pipes.
    fn plug(&mut self, io: &mut IoCtx);
    /// Its fd is ready.
    fn event(&mut self, io: &mut IoCtx, ev: &mio::event::Event);
    /// A timer it set fired.
    fn timer(&mut self, io: &mut IoCtx, timer_id: u32);
    /// A command for one of its pipe ends.
    fn pipe_command(&mut self, io: &mut IoCtx, pipe_id: u64, cmd: PipeCmd);
    /// A command of the ownership tree (`Term` from its owner, `TermAck` / `TermReq` from
    /// a child), see [`crate::own`].
    fn command(&mut self, io: &mut IoCtx, cmd: ObjCmd);
    /// Whether it has finished and can be dropped (it deregistered its fds).
    fn is_done(&self) -> bool;
    /// The next round came, as the object asked ([`IoCtx::call_next_round`]).
    fn next_round(&mut self, _io: &mut IoCtx) {}
    /// Its code panicked: end at once, as for `ObjCmd::Term` with linger 0, relying on no
    /// state but its pipes and its place in the ownership tree. It stays hosted (pipe
    /// commands still come) until `is_done`.
    fn abort(&mut self, io: &mut IoCtx);
}

/// Starts an I/O thread named `name`.
pub fn start(name: String) -> Result<Worker> {
    Worker::start(name, MAILBOX, run)
}

struct Host {
    objects: Vec<Option<Box<dyn IoObject>>>,
    free: Vec<usize>,
    by_id: HashMap<u64, usize>,
    timers: TimerHeap,
    /// An object woke an application thread in this round (see `crate::watch`: the reply watch).
    woke_reader: bool,
    /// Objects (slot, id) to call in the next round; while there are any, the thread
    /// does not sleep.
    next_round: Vec<(usize, u64)>,
}

impl Host {
    fn with<F: FnOnce(&mut dyn IoObject, &mut IoCtx)>(
        &mut self,
        reg: &Registry,
        mb: &Arc<Mailbox>,
        slot: usize,
        f: F,
    ) {
        let Some(Some(mut obj)) = self.objects.get_mut(slot).map(Option::take) else {
            return;
        };
        let mut spawned = Vec::new();
        let id = obj.id();
        {
            let mut io = IoCtx {
                registry: reg,
                mailbox: mb,
                slot,
                timers: &mut self.timers,
                id,
                spawned: &mut spawned,
                woke_reader: &mut self.woke_reader,
                next_round: Some(&mut self.next_round),
            };
            // A panic in one object (a bug) must not take the thread and every other
            // connection with it: that object is torn down (see the module documentation).
            let ran = catch_unwind(AssertUnwindSafe(|| f(obj.as_mut(), &mut io))).is_ok();
            let ok = ran || catch_unwind(AssertUnwindSafe(|| obj.abort(&mut io))).is_ok();
            if !ok {
                self.by_id.remove(&id);
                self.free.push(slot);
                for o in spawned {
                    self.plug(reg, mb, o);
                }
                return;
            }
        }
        if obj.is_done() {
            self.by_id.remove(&id);
            self.free.push(slot);
        } else {
            self.objects[slot] = Some(obj);
        }
        for o in spawned {
            self.plug(reg, mb, o);
        }
    }

    fn plug(&mut self, reg: &Registry, mb: &Arc<Mailbox>, obj: Box<dyn IoObject>) {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.objects.push(None);
                self.objects.len() - 1
            }
        };
        self.by_id.insert(obj.id(), slot);
        self.objects[slot] = Some(obj);
        self.with(reg, mb, slot, |o, io| o.plug(io));
    }
}

fn run(mut poll: Poll, mailbox: Arc<Mailbox>) {
    let mut events = Events::with_capacity(256);
    let mut host = Host {
        objects: Vec::new(),
        free: Vec::new(),
        by_id: HashMap::new(),
        timers: TimerHeap::default(),
        woke_reader: false,
        next_round: Vec::new(),
    };
    let mut round = Vec::new();
    let mut watches = IoWatches::new();
    // Commands are taken only when the mailbox's fd fired (and at start): the owner drains
    // the queue to empty each time, so a command that comes later raises the signal again.
    // The signal is cleared before draining, never after (that could eat the signal of a
    // command sent after the queue was found empty).
    let mut mail = true;
    // A watch ended with commands: whether one was an answer (messages to send) is known
    // once they are taken.
    let mut watched = false;
    loop {
        // After a watch that caught commands there is normally no signal to clear: the owner
        // was marked active, so senders did not raise one (one raised just before the watch
        // stays pending, and only costs an extra turn of this loop).
        if mail && !watched {
            mailbox.clear_signal();
        }
        let mut answered = false;
        while let Some(cmd) = mail.then(|| mailbox.recv(0).ok()).flatten() {
            let reg = poll.registry();
            match cmd {
                Command::StopThread => return,
                Command::Plug(obj) => host.plug(reg, &mailbox, obj),
                Command::Pipe(addr, pc) => host.with(reg, &mailbox, addr.index, |o, io| {
                    // Messages written for us to send (not, say, the reader's credit).
                    answered |= matches!(pc, PipeCmd::ActivateRead);
                    o.pipe_command(io, addr.id, pc)
                }),
                Command::Object(id, oc) => {
                    if let Some(&slot) = host.by_id.get(&id) {
                        host.with(reg, &mailbox, slot, |o, io| o.command(io, oc));
                    }
                }
                _ => {}
            }
        }
        if std::mem::take(&mut watched) {
            watches.reply_taken(answered);
        }
        let now = Instant::now();
        while let Some(due) = host.timers.pop_due(now) {
            if host.by_id.get(&due.object) == Some(&due.slot) {
                host.with(poll.registry(), &mailbox, due.slot, |o, io| {
                    o.timer(io, due.timer)
                });
            }
        }
        // Objects that asked for the next round (an engine with more to write) keep the
        // thread awake: it only looks at its sockets, and watches for nothing.
        let busy = !host.next_round.is_empty();
        if busy {
            watches.skip();
        }
        let woke_reader = std::mem::take(&mut host.woke_reader);
        if !busy && woke_reader && watches.reply_watch(&mailbox) {
            mail = true;
            watched = true;
            continue;
        }
        if busy || !watches.net_watch(&mut poll, &mut events, &mailbox) {
            let timeout = if busy {
                Some(Duration::ZERO)
            } else {
                host.timers.next_timeout()
            };
            let sample = if busy {
                None
            } else {
                crate::watch::sleep_begin()
            };
            let polled = poll.poll(&mut events, timeout);
            crate::watch::sleep_end(sample);
            if let Err(e) = polled {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return;
                }
            }
        }
        // This round's objects are those that asked before the poll; what asks from now
        // on waits for the next one (one write per engine per poll).
        std::mem::swap(&mut round, &mut host.next_round);
        mail = false;
        for ev in events.iter() {
            if ev.token() == MAILBOX {
                mail = true;
                continue;
            }
            let slot = ev.token().0 - 1;
            host.with(poll.registry(), &mailbox, slot, |o, io| o.event(io, ev));
        }
        for (slot, id) in round.drain(..) {
            if host.by_id.get(&id) == Some(&slot) {
                host.with(poll.registry(), &mailbox, slot, |o, io| o.next_round(io));
            }
        }
    }
}

/// Test builds only: makes the sessions of chosen endpoints panic in their I/O-thread code,
/// to prove the teardown after a panic.
#[cfg(test)]
pub(crate) mod panic_hook {
    use std::sync::Mutex;

    static ARMED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    /// From now on, sessions of `endpoint` panic when they next drive their engine.
    pub fn arm(endpoint: &str) {
        ARMED.lock().unwrap().push(endpoint.to_string());
    }

    /// Sessions of `endpoint` run normally again.
    pub fn disarm(endpoint: &str) {
        ARMED.lock().unwrap().retain(|e| e != endpoint);
    }

    /// Panics if `endpoint` is armed.
    pub fn check(endpoint: &str) {
        let armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
        if armed.iter().any(|e| e == endpoint) {
            drop(armed);
            panic!("injected panic (test) in a session of {endpoint}");
        }
    }
}

/// The ownership tree holds after a panic on an I/O thread (see the module documentation).
#[cfg(test)]
mod panic_tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::panic_hook;
    use crate::constants::*;
    use crate::ctx::CtxInner;
    use crate::msg::Msg;
    use crate::socket::SocketBase;

    fn send(s: &mut SocketBase, data: &[u8]) {
        let mut m = Msg::from_slice(data).unwrap();
        s.send(&mut m, 0).unwrap();
    }

    fn recv(s: &mut SocketBase) -> Vec<u8> {
        let mut m = Msg::default();
        s.recv(&mut m, 0).unwrap();
        m.data().to_vec()
    }

    #[test]
    fn sessions_that_panic_are_torn_down_and_the_context_still_terminates() {
        let ctx = CtxInner::new();
        let mut pull = SocketBase::new(&ctx, ZMQ_PULL).unwrap();
        pull.setsockopt(ZMQ_RCVTIMEO, &5000i32.to_ne_bytes())
            .unwrap();
        pull.bind("tcp://127.0.0.1:*").unwrap();
        let ep = pull.options.last_endpoint.clone();
        let mut push = SocketBase::new(&ctx, ZMQ_PUSH).unwrap();
        push.connect(&ep).unwrap();
        send(&mut push, b"before");
        assert_eq!(recv(&mut pull), b"before");

        // Both sessions (the connecting one, and the one the listener accepted: they share
        // the endpoint's text) panic the next time they run their engine. The connecting one
        // does at once, for this message; the accepted one when its peer's connection drops.
        panic_hook::arm(&ep);
        send(&mut push, b"lost");

        // With LINGER -1 on the PUSH, a session dropped without ending its pipe and
        // acknowledging its owner would keep the close, and so zmq_ctx_term, waiting forever.
        assert_eq!(push.options.linger, -1);
        push.close();
        pull.close();
        let (done_tx, done_rx) = mpsc::channel();
        let c = ctx.clone();
        std::thread::spawn(move || {
            let r = c.terminate();
            let _ = done_tx.send(r.is_ok());
        });
        assert_eq!(done_rx.recv_timeout(Duration::from_secs(20)), Ok(true));
        panic_hook::disarm(&ep);
    }
}

#[cfg(any(test, feature = "fuzzing"))]
#[path = "io_thread_testing.rs"]
pub mod testing;
