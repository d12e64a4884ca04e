//! A mailbox: the command queue of one object (a socket, an I/O thread, the reaper).
//!
//! Any thread may `send`; only the owner `recv`s. The owner sleeps on the signaler's fd.
//! Protocol: the owner marks itself inactive when it finds the queue empty; a sender that
//! finds the owner inactive marks it active and raises the signal. So at most one signal is
//! pending per sleep, and a busy owner gets commands without any syscall.
//!
//! The mailbox of a thread-safe socket also has [`Waiters`]: the owner is then every thread
//! that uses the socket, one at a time under the socket's lock, and any of them may be
//! waiting for the socket (a blocking send or receive, with the lock released) or polling
//! it (`zmq_poller`). A wake-up then also notifies all of them (see [`Waiters`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::command::Command;
use crate::error::{Error, Result};
use crate::poller::ReadyList;
use crate::signaler::Signaler;

struct Queue {
    cmds: VecDeque<Command>,
    active: bool,
}

/// The command queue of one object, with the fd it sleeps on.
pub struct Mailbox {
    queue: Mutex<Queue>,
    /// Commands queued and not yet taken: lets the owner skip the lock when idle.
    pending: AtomicUsize,
    signaler: Signaler,
    /// Signals raised, counted by the senders before they write one; `taken` counts those
    /// the owner read. Equal: no signal is pending, and the owner skips the read (a system
    /// call) when it clears the signal. A read that comes before the write it was counted
    /// for finds nothing and takes nothing, so the next clear reads again.
    raised: AtomicU64,
    taken: AtomicU64,
    /// Of a thread-safe socket: notified with every wake-up.
    waiters: Option<Arc<Waiters>>,
}

/// Everything that waits on a thread-safe socket (libzmq's `mailbox_safe_t`): threads
/// blocked in a send or receive, and the pollers that hold the socket.
///
/// Protocol: a thread reads the [`generation`](Waiters::generation) *before* it takes the
/// socket's lock and looks (commands, then its message); if it must wait, it releases the
/// lock and [`wait`](Waiters::wait)s for a newer generation. Every command sent to the
/// mailbox and every change a user of the socket makes raises the generation, so nothing
/// that happens after the look is missed, whichever thread took the commands. Pollers are told through their
/// [`ReadyList`], with the token under which they hold the socket.
///
/// The generation is read without a lock (every send and receive reads it); it changes only
/// under `lock`, where a waiter also checks it before it sleeps, so no change is missed.
#[derive(Default)]
pub struct Waiters {
    generation: AtomicU64,
    lock: Mutex<()>,
    changed: Condvar,
    pollers: Mutex<Vec<(Arc<ReadyList>, usize)>>,
}

impl Waiters {
    /// The current generation (see the protocol above).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Something changed: wakes every waiting thread and tells every poller.
    pub fn notify(&self) {
        {
            let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        self.changed.notify_all();
        for (list, token) in self
            .pollers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            list.mark(*token, true);
        }
    }

    /// Waits until the generation differs from `seen`, or `timeout_ms` passed (< 0: no
    /// limit). Returns either way: the caller looks again.
    pub fn wait(&self, seen: u64, timeout_ms: i64) {
        let mut g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let same = |_: &mut ()| self.generation.load(Ordering::Acquire) == seen;
        if timeout_ms < 0 {
            while same(&mut g) {
                g = self.changed.wait(g).unwrap_or_else(|p| p.into_inner());
            }
        } else if same(&mut g) {
            let t = Duration::from_millis(timeout_ms as u64);
            drop(self.changed.wait_timeout_while(g, t, same));
        }
    }

    /// A poller holds the socket under `token`.
    pub fn add_poller(&self, list: Arc<ReadyList>, token: usize) {
        let mut p = self.pollers.lock().unwrap_or_else(|p| p.into_inner());
        p.push((list, token));
    }

    /// The poller with this list no longer holds the socket.
    pub fn remove_poller(&self, list: &Arc<ReadyList>) {
        let mut p = self.pollers.lock().unwrap_or_else(|p| p.into_inner());
        p.retain(|(l, _)| !Arc::ptr_eq(l, list));
    }
}

impl Mailbox {
    /// A new empty mailbox.
    pub fn new() -> Mailbox {
        Self::with_waiters(None)
    }

    /// A new empty mailbox whose wake-ups also notify `waiters` (a thread-safe socket's).
    pub fn with_waiters(waiters: Option<Arc<Waiters>>) -> Mailbox {
        Mailbox {
            queue: Mutex::new(Queue {
                cmds: VecDeque::new(),
                active: false,
            }),
            pending: AtomicUsize::new(0),
            signaler: Signaler::new(),
            raised: AtomicU64::new(0),
            taken: AtomicU64::new(0),
            waiters,
        }
    }

    /// The fd that becomes readable when commands arrive (`ZMQ_FD`); made on the first
    /// call (see `signaler.rs`), so EMFILE when the process is out of descriptors.
    pub fn fd(&self) -> Result<std::os::fd::RawFd> {
        self.signaler.fd()
    }

    /// Queues a command for the owner and wakes it if it sleeps.
    pub fn send(&self, cmd: Command) {
        let wake = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.cmds.push_back(cmd);
            self.pending.fetch_add(1, Ordering::Release);
            !std::mem::replace(&mut q.active, true)
        };
        if wake {
            let sample = crate::watch::signal_begin();
            self.raised.fetch_add(1, Ordering::Release);
            self.signaler.send();
            crate::watch::signal_end(sample);
        }
        // Every command, not only a wake-up: a thread-safe socket's waiters and pollers may
        // have come after the owner was last woken, and no thread may have taken the
        // commands since (commands are rare: pipe activations, not messages).
        if let Some(w) = &self.waiters {
            w.notify();
        }
    }

    /// Takes the next command, waiting up to `timeout_ms` (< 0: forever, 0: no wait, and
    /// no syscall).
    /// Returns `Err(Again)` on timeout and `Err(Intr)` when a signal interrupted the wait.
    pub fn recv(&self, timeout_ms: i64) -> Result<Command> {
        self.recv_spin(timeout_ms, None)
    }

    /// As `recv`, but before sleeping watches the queue until `spin_until`: a busy peer
    /// usually answers sooner than a sleep and wake-up take. While watching, the owner stays
    /// marked active, so senders need not raise the signal.
    pub fn recv_spin(&self, timeout_ms: i64, spin_until: Option<Instant>) -> Result<Command> {
        if timeout_ms != 0 {
            if let Some(until) = spin_until {
                {
                    let mut q = self.lock();
                    if let Some(c) = q.cmds.pop_front() {
                        self.pending.fetch_sub(1, Ordering::Relaxed);
                        return Ok(c);
                    }
                    q.active = true;
                }
                self.watch(until);
            }
        }
        if let Some(c) = self.try_recv() {
            return Ok(c);
        }
        if timeout_ms == 0 {
            // No syscall: a signal still pending is harmless (the next wait returns at once)
            // and is cleared by `clear_signal` where it matters (ZMQ_FD).
            return Err(Error::Again);
        }
        let sample = crate::watch::sleep_begin();
        let signalled = self.signaler.wait(timeout_ms);
        crate::watch::sleep_end(sample);
        if !signalled? {
            return Err(Error::Again);
        }
        self.take_signal();
        self.try_recv().ok_or(Error::Again)
    }

    /// Watches the queue until `until` without sleeping, marked active (senders skip the
    /// signal meanwhile); true when a command came, to be taken with `recv(0)`. When none
    /// came the owner is marked inactive again, as if it had found the queue empty.
    pub fn spin_for(&self, until: Instant) -> bool {
        if self.watch_begin() {
            return true;
        }
        self.watch(until);
        self.watch_end()
    }

    /// The owner starts watching the queue (or something else, with `has_pending` beside):
    /// marked active, so that senders skip the wake-up signal meanwhile. True when commands
    /// are already there (nothing marked).
    pub fn watch_begin(&self) -> bool {
        let mut q = self.lock();
        if !q.cmds.is_empty() {
            return true;
        }
        q.active = true;
        false
    }

    /// The owner stops watching: when no command came it is marked inactive again, as if
    /// it had found the queue empty; when one came (true) it stays active until it takes
    /// them, so no signal is left behind.
    pub fn watch_end(&self) -> bool {
        let mut q = self.lock();
        if q.cmds.is_empty() {
            q.active = false;
            false
        } else {
            true
        }
    }

    /// Looks at the queue without sleeping until a command is there or `until` passed.
    fn watch(&self, until: Instant) {
        // Read the clock only every so often: it costs more than a look at the queue. Then
        // also give the CPU to any thread waiting for it: the answer may have to come from
        // a thread that shares this CPU.
        let mut spins = 0u32;
        while !self.has_pending() {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(64) {
                if Instant::now() >= until {
                    break;
                }
                std::thread::yield_now();
            }
            std::hint::spin_loop();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn try_recv(&self) -> Option<Command> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        match q.cmds.pop_front() {
            Some(c) => {
                self.pending.fetch_sub(1, Ordering::Relaxed);
                Some(c)
            }
            None => {
                q.active = false;
                None
            }
        }
    }

    /// Whether commands are waiting (a hint without locking; the owner's check is exact
    /// once it locks).
    #[inline]
    pub fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire) > 0
    }

    /// Clears a pending wake-up signal (used when the owner drains commands without waiting).
    pub fn clear_signal(&self) {
        if self.raised.load(Ordering::Acquire) != self.taken.load(Ordering::Relaxed) {
            self.take_signal();
        }
    }

    /// Reads the signal, counting what it held (see `raised`).
    fn take_signal(&self) {
        let n = self.signaler.recv();
        self.taken.fetch_add(n, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailbox({:?})", self.signaler)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn clearing_the_signal_reads_it_only_when_one_was_raised_and_not_taken() {
        let mb = Mailbox::new();
        // Nothing raised: nothing to read.
        mb.clear_signal();
        assert_eq!(mb.taken.load(Ordering::Relaxed), 0);
        // The owner is inactive (it found the queue empty): a command raises the signal.
        assert!(mb.recv(0).is_err());
        mb.send(Command::Stop);
        assert_eq!(mb.raised.load(Ordering::Relaxed), 1);
        assert!(matches!(mb.recv(0), Ok(Command::Stop)));
        mb.clear_signal();
        assert_eq!(mb.taken.load(Ordering::Relaxed), 1);
        assert!(!mb.signaler.wait(0).unwrap(), "the fd is quiet again");
        // A sender between counting its signal and writing it: the clear finds nothing and
        // takes nothing, so the clear after the write still reads it.
        mb.raised.fetch_add(1, Ordering::Release);
        mb.clear_signal();
        assert_eq!(mb.taken.load(Ordering::Relaxed), 1);
        mb.signaler.send();
        mb.clear_signal();
        assert_eq!(mb.taken.load(Ordering::Relaxed), 2);
        assert!(!mb.signaler.wait(0).unwrap());
    }

    #[test]
    fn spin_for_sees_a_command_sent_meanwhile_without_a_signal() {
        let mb = std::sync::Arc::new(Mailbox::new());
        let m2 = mb.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            m2.send(Command::Stop);
        });
        assert!(mb.spin_for(Instant::now() + Duration::from_secs(5)));
        t.join().unwrap();
        // The owner was marked active: the sender raised no signal.
        assert!(!mb.signaler.wait(0).unwrap());
        assert!(matches!(mb.recv(0), Ok(Command::Stop)));
    }

    #[test]
    fn spin_for_that_times_out_leaves_the_owner_to_be_signalled() {
        let mb = Mailbox::new();
        assert!(!mb.spin_for(Instant::now() + Duration::from_micros(50)));
        mb.send(Command::Stop);
        assert!(
            mb.signaler.wait(0).unwrap(),
            "an inactive owner is signalled"
        );
        assert!(matches!(mb.recv(0), Ok(Command::Stop)));
        assert!(matches!(mb.recv(0), Err(Error::Again)));
    }

    #[test]
    fn a_waiter_wakes_for_a_change_after_the_generation_it_read() {
        let w = std::sync::Arc::new(Waiters::default());
        let seen = w.generation();
        let w2 = w.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            w2.notify();
        });
        let start = Instant::now();
        w.wait(seen, -1);
        assert!(w.generation() != seen);
        assert!(start.elapsed() < Duration::from_secs(5));
        t.join().unwrap();
        // A change made before the wait began is not waited for.
        let before = w.generation();
        w.notify();
        w.wait(before, -1);
        // Nothing changes: the wait ends with its timeout.
        let now = w.generation();
        let start = Instant::now();
        w.wait(now, 30);
        assert!(start.elapsed() >= Duration::from_millis(25));
    }

    #[test]
    fn every_command_to_a_thread_safe_sockets_mailbox_notifies_its_waiters() {
        let w = std::sync::Arc::new(Waiters::default());
        let mb = Mailbox::with_waiters(Some(w.clone()));
        let g0 = w.generation();
        mb.send(Command::Stop);
        let g1 = w.generation();
        assert_ne!(g0, g1);
        // The owner is already awake (no signal), but waiters hear of it all the same.
        mb.send(Command::Stop);
        assert_ne!(w.generation(), g1);
    }
}
