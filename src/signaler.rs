//! A wake-up signal between threads: a counter that sleepers wait on, with a Linux eventfd
//! made only when something asks for a descriptor.
//!
//! `send` raises the signal; `recv` clears it and says how many sends it held; `wait` blocks
//! until it is raised or a timeout passes. Spurious readiness is allowed and callers loop.
//! The mailbox protocol (see `mailbox.rs`) sends at most one signal per sleep of the reader.
//!
//! Until [`Signaler::fd`] is first called the signal is the futex word `count`, and a
//! sleeper waits on it with `futex(2)`: no descriptor per socket, so creating a socket takes
//! no slot in the process's descriptor table. (Growing that table in a multi-threaded
//! process waits for an RCU grace period, several milliseconds here, at the 128th, 256th,
//! 512th... descriptor.) `fd` (`ZMQ_FD`, `zmq_poll`, a poller, the reaper and the I/O threads
//! that poll a mailbox) makes the eventfd; from then on the signal lives in it, and sends
//! write it.
//!
//! Invariants, all accesses sequentially consistent:
//! - `raw` is -1 until `owned` holds the eventfd, then its number, for good.
//! - A send before the eventfd counts in `count`; whoever sees both a count and `raw`
//!   (the maker of the eventfd after it published it, a sender after it counted) moves the
//!   count into the eventfd with one `swap`, so each send is in exactly one of the two, and
//!   a send that raced with the making of the eventfd still makes it readable.
//! - Sleepers wait on a separate futex word, `epoch`. A sleeper reads `epoch`, announces
//!   itself in `sleepers`, then looks at `raw` and `count` a last time, and sleeps only while
//!   `epoch` is still what it read. A sender, or the maker, looks at `sleepers` after its own
//!   change; when someone may sleep it advances `epoch` and wakes them all. So either the
//!   sleeper's last look sees the change, or the waker saw the sleeper and the epoch moved:
//!   its sleep returns at once or is woken (then it finds the count, or the eventfd to
//!   poll). A wake-up that changed nothing in the word (the eventfd made, a send that went to
//!   it) could not do that on `count` alone.
//! - A sleep without a timeout still sleeps with one (the longest a futex takes, and again):
//!   a futex wait without a timeout is restarted by the kernel after a signal handler
//!   installed with SA_RESTART, where `poll` (libzmq's wait) returns EINTR whatever the flags.
//!   With a timeout it returns EINTR too, so a blocking call reports the signal as libzmq's.

use std::io::ErrorKind;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering::SeqCst};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::sys;

/// A level-triggered wake-up flag (see the module docs).
#[derive(Debug)]
pub struct Signaler {
    /// The eventfd's number once it exists, -1 before.
    raw: AtomicI32,
    owned: OnceLock<OwnedFd>,
    /// Sends not (yet) in the eventfd.
    count: AtomicU32,
    /// The futex word sleepers wait on: advanced by every wake-up that may find a sleeper.
    epoch: AtomicU32,
    /// Threads in, or about to be in, a futex wait on `epoch`.
    sleepers: AtomicU32,
}

impl Signaler {
    /// A new, unsignalled signaler (no descriptor yet).
    pub fn new() -> Signaler {
        Signaler {
            raw: AtomicI32::new(-1),
            owned: OnceLock::new(),
            count: AtomicU32::new(0),
            epoch: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
        }
    }

    /// Wakes the threads that may sleep on the futex (after the caller's change).
    #[inline]
    fn wake_sleepers(&self) {
        if self.sleepers.load(SeqCst) > 0 {
            self.epoch.fetch_add(1, SeqCst);
            sys::futex_wake_all(&self.epoch);
        }
    }

    /// The descriptor, readable while a signal is pending; made on the first call (EMFILE
    /// when the process or the system is out of descriptors).
    pub fn fd(&self) -> Result<RawFd> {
        if let Some(fd) = self.eventfd() {
            return Ok(fd.as_raw_fd());
        }
        let made = sys::eventfd().map_err(|e| match Error::from(e) {
            Error::Os(libc::ENFILE) => Error::MFile,
            e => e,
        })?;
        // Two threads may race here; the loser's eventfd is closed on return.
        let _ = self.owned.set(made);
        let fd = self.owned.get().ok_or(Error::MFile)?;
        self.raw.store(fd.as_raw_fd(), SeqCst);
        self.forward(fd.as_fd());
        // A sleeper on the futex now has to poll the eventfd instead.
        self.wake_sleepers();
        Ok(fd.as_raw_fd())
    }

    /// The eventfd, once `fd` made it.
    #[inline]
    fn eventfd(&self) -> Option<BorrowedFd<'_>> {
        if self.raw.load(SeqCst) < 0 {
            return None;
        }
        self.owned.get().map(|fd| fd.as_fd())
    }

    /// Moves the sends counted before the eventfd existed into it.
    fn forward(&self, fd: BorrowedFd<'_>) {
        let n = self.count.swap(0, SeqCst);
        if n > 0 {
            write_eventfd(fd, n as u64);
        }
    }

    /// Raises the signal.
    pub fn send(&self) {
        if let Some(fd) = self.eventfd() {
            write_eventfd(fd, 1);
        } else {
            self.count.fetch_add(1, SeqCst);
            // The eventfd may have been made since the look above, after its maker moved
            // the count: then this send is moved by us.
            if let Some(fd) = self.eventfd() {
                self.forward(fd);
            }
        }
        self.wake_sleepers();
    }

    /// Clears the signal; returns how many sends it held (0: none was pending).
    pub fn recv(&self) -> u64 {
        let mut n = self.count.swap(0, SeqCst) as u64;
        if let Some(fd) = self.eventfd() {
            loop {
                match sys::eventfd_read(fd) {
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Ok(m) => n += m,
                    Err(_) => {}
                }
                break;
            }
        }
        n
    }

    /// Waits until the signal is raised: `timeout_ms` < 0 waits forever, 0 only checks.
    /// Returns `Ok(true)` when signalled, `Ok(false)` on timeout, `Err(Intr)` on a signal.
    pub fn wait(&self, timeout_ms: i64) -> Result<bool> {
        let deadline = (timeout_ms > 0)
            .then(|| Instant::now().checked_add(Duration::from_millis(timeout_ms as u64)))
            .flatten();
        loop {
            // What is left of the timeout, in poll's and futex's terms (-1: no limit).
            let left = match deadline {
                _ if timeout_ms == 0 => 0,
                None if timeout_ms > 0 => i32::MAX,
                None => -1,
                Some(d) => {
                    let ms = d.saturating_duration_since(Instant::now()).as_micros();
                    // Rounded up, so that a sleep does not end just short of the deadline.
                    ms.div_ceil(1000).min(i32::MAX as u128) as i32
                }
            };
            if let Some(fd) = self.eventfd() {
                return Ok(sys::poll_readable(fd, left)?);
            }
            if self.count.load(SeqCst) > 0 {
                return Ok(true);
            }
            if left == 0 {
                return Ok(false);
            }
            let epoch = self.epoch.load(SeqCst);
            self.sleepers.fetch_add(1, SeqCst);
            let slept = if self.raw.load(SeqCst) < 0 && self.count.load(SeqCst) == 0 {
                // Never without a timeout (see the module docs: EINTR).
                sys::futex_wait(&self.epoch, epoch, if left < 0 { i32::MAX } else { left })
            } else {
                Ok(true)
            };
            self.sleepers.fetch_sub(1, SeqCst);
            // Timed out: the caller's timeout, unless it has none (then sleep again).
            if !slept? && left >= 0 && self.count.load(SeqCst) == 0 && self.raw.load(SeqCst) < 0 {
                return Ok(false);
            }
        }
    }
}

/// Adds `n` to the eventfd's counter (EAGAIN means it is saturated: readable already).
fn write_eventfd(fd: BorrowedFd<'_>, n: u64) {
    loop {
        match sys::eventfd_write(fd, n) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn send_wait_recv_without_and_with_a_descriptor() {
        let s = Signaler::new();
        for with_fd in [false, true] {
            if with_fd {
                s.fd().unwrap();
            }
            assert!(!s.wait(0).unwrap());
            s.send();
            s.send();
            assert!(s.wait(0).unwrap());
            assert_eq!(s.recv(), 2, "recv says how many sends it cleared");
            assert!(!s.wait(0).unwrap());
            assert_eq!(s.recv(), 0);
        }
    }

    #[test]
    fn no_descriptor_until_one_is_asked_for_then_always_the_same() {
        let s = Signaler::new();
        s.send();
        s.recv();
        assert!(s.eventfd().is_none(), "sending and receiving make no fd");
        let fd = s.fd().unwrap();
        assert_eq!(s.fd().unwrap(), fd);
        assert!(!sys::poll_readable(s.eventfd().unwrap(), 0).unwrap());
    }

    #[test]
    fn sends_made_before_the_descriptor_make_it_readable() {
        let s = Signaler::new();
        s.send();
        s.send();
        let fd = s.fd().unwrap();
        assert!(
            sys::poll_readable(s.eventfd().unwrap(), 0).unwrap(),
            "fd {fd} readable"
        );
        assert_eq!(s.recv(), 2);
        assert!(!sys::poll_readable(s.eventfd().unwrap(), 0).unwrap());
    }

    #[test]
    fn wakes_another_thread_without_and_with_a_descriptor() {
        for with_fd in [false, true] {
            let s = Arc::new(Signaler::new());
            if with_fd {
                s.fd().unwrap();
            }
            let s2 = s.clone();
            let t = thread::spawn(move || s2.wait(-1).unwrap());
            thread::sleep(Duration::from_millis(20));
            s.send();
            assert!(t.join().unwrap());
        }
    }

    #[test]
    fn a_sleeper_on_the_futex_moves_to_the_descriptor_made_meanwhile() {
        let s = Arc::new(Signaler::new());
        let s2 = s.clone();
        let t = thread::spawn(move || s2.wait(-1).unwrap());
        thread::sleep(Duration::from_millis(20));
        // Made while the other thread sleeps without one; the send then goes to the fd only.
        s.fd().unwrap();
        thread::sleep(Duration::from_millis(20));
        assert!(!t.is_finished(), "nothing was sent yet");
        s.send();
        assert!(t.join().unwrap());
    }

    #[test]
    fn a_sleeper_is_woken_whenever_the_descriptor_is_made_and_a_send_goes_to_it() {
        // The descriptor made on another thread while the owner is about to sleep, and the
        // send after it going to the descriptor only: the wake-up moves the futex word, so no
        // interleaving leaves the sleeper asleep (each round is bounded by the join below).
        for round in 0..200 {
            let s = Arc::new(Signaler::new());
            let s2 = s.clone();
            let sleeper = thread::spawn(move || s2.wait(10_000).unwrap());
            if round % 2 == 0 {
                thread::yield_now();
            }
            let s3 = s.clone();
            let maker = thread::spawn(move || s3.fd().unwrap());
            s.send();
            maker.join().unwrap();
            let start = Instant::now();
            assert!(sleeper.join().unwrap(), "round {round}: signalled");
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "round {round}: woken late"
            );
        }
    }

    #[test]
    fn a_wait_without_a_signal_ends_with_its_timeout() {
        let s = Signaler::new();
        let start = Instant::now();
        assert!(!s.wait(30).unwrap());
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn every_send_is_counted_once_while_the_descriptor_is_being_made() {
        // Senders race with the maker of the fd: each send ends up either in the counter or
        // in the eventfd, never in both, never in neither.
        const SENDERS: u64 = 4;
        const SENDS: u64 = 20_000;
        for _ in 0..20 {
            let s = Arc::new(Signaler::new());
            let senders: Vec<_> = (0..SENDERS)
                .map(|_| {
                    let s = s.clone();
                    thread::spawn(move || (0..SENDS).for_each(|_| s.send()))
                })
                .collect();
            let mut got = s.recv();
            s.fd().unwrap();
            got += s.recv();
            for t in senders {
                t.join().unwrap();
            }
            got += s.recv();
            assert_eq!(got, SENDERS * SENDS);
        }
    }
}
