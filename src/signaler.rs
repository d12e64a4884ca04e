//! A wake-up signal between threads: one Linux eventfd.
//!
//! `send` makes the fd readable; `recv` makes it unreadable again; `wait` blocks (poll) until
//! it is readable or a timeout passes. A socket's signaler fd is what `ZMQ_FD` returns, so an
//! application can poll it. The mailbox protocol (see `mailbox.rs`) sends at most one signal
//! per sleep of the reader; spurious readiness is allowed and callers loop.

use std::io::ErrorKind;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use crate::error::{Error, Result};
use crate::sys;

/// An eventfd used as a level-triggered wake-up flag.
#[derive(Debug)]
pub struct Signaler {
    fd: OwnedFd,
}

impl Signaler {
    /// A new, unsignalled signaler.
    pub fn new() -> Result<Signaler> {
        match sys::eventfd() {
            Ok(fd) => Ok(Signaler { fd }),
            Err(e) => Err(match Error::from(e) {
                Error::Os(libc::ENFILE) => Error::MFile,
                e => e,
            }),
        }
    }

    /// The descriptor: readable while a signal is pending.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Raises the signal.
    pub fn send(&self) {
        loop {
            match sys::eventfd_write(self.fd.as_fd(), 1) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // EAGAIN means the counter is saturated: the fd is readable already.
                _ => return,
            }
        }
    }

    /// Clears the signal; returns how many sends it held (0: none was pending).
    pub fn recv(&self) -> u64 {
        loop {
            match sys::eventfd_read(self.fd.as_fd()) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Ok(n) => return n,
                Err(_) => return 0,
            }
        }
    }

    /// Waits until the signal is raised: `timeout_ms` < 0 waits forever, 0 only checks.
    /// Returns `Ok(true)` when signalled, `Ok(false)` on timeout, `Err(Intr)` on a signal.
    pub fn wait(&self, timeout_ms: i64) -> Result<bool> {
        let t = if timeout_ms < 0 {
            -1
        } else {
            timeout_ms.min(i32::MAX as i64) as i32
        };
        Ok(sys::poll_readable(self.fd.as_fd(), t)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_wait_recv() {
        let s = Signaler::new().unwrap();
        assert!(!s.wait(0).unwrap());
        s.send();
        s.send();
        assert!(s.wait(0).unwrap());
        s.recv();
        assert!(!s.wait(0).unwrap());
    }

    #[test]
    fn wakes_another_thread() {
        let s = std::sync::Arc::new(Signaler::new().unwrap());
        let s2 = s.clone();
        let t = std::thread::spawn(move || s2.wait(-1).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
        s.send();
        assert!(t.join().unwrap());
    }
}
