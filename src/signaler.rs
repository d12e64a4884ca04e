//! A wake-up signal between threads: one Linux eventfd.
//!
//! `send` makes the fd readable; `recv` makes it unreadable again; `wait` blocks (poll) until
//! it is readable or a timeout passes. A socket's signaler fd is what `ZMQ_FD` returns, so an
//! application can poll it. The mailbox protocol (see `mailbox.rs`) sends at most one signal
//! per sleep of the reader; spurious readiness is allowed and callers loop.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{Error, Result};

/// An eventfd used as a level-triggered wake-up flag.
#[derive(Debug)]
pub struct Signaler {
    fd: OwnedFd,
}

impl Signaler {
    /// A new, unsignalled signaler.
    pub fn new() -> Result<Signaler> {
        // SAFETY: eventfd has no memory arguments; the result is checked before use.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(match Error::last_os_error() {
                Error::Os(libc::ENFILE) => Error::MFile,
                e => e,
            });
        }
        // SAFETY: fd is a freshly created descriptor that nothing else owns.
        Ok(Signaler {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// The descriptor: readable while a signal is pending.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Raises the signal.
    pub fn send(&self) {
        let one: u64 = 1;
        loop {
            // SAFETY: writes 8 bytes from a live u64 to our own eventfd.
            let rc = unsafe { libc::write(self.fd(), (&one as *const u64).cast(), 8) };
            if rc == 8 {
                return;
            }
            let e = std::io::Error::last_os_error().raw_os_error();
            if e != Some(libc::EINTR) {
                // EAGAIN means the counter is saturated: the fd is readable already.
                return;
            }
        }
    }

    /// Clears the signal (whatever number of sends it holds).
    pub fn recv(&self) {
        let mut v: u64 = 0;
        loop {
            // SAFETY: reads 8 bytes into a live u64 from our own eventfd.
            let rc = unsafe { libc::read(self.fd(), (&mut v as *mut u64).cast(), 8) };
            if rc == 8 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return;
            }
        }
    }

    /// Waits until the signal is raised: `timeout_ms` < 0 waits forever, 0 only checks.
    /// Returns `Ok(true)` when signalled, `Ok(false)` on timeout, `Err(Intr)` on a signal.
    pub fn wait(&self, timeout_ms: i64) -> Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let t = if timeout_ms < 0 {
            -1
        } else {
            timeout_ms.min(i32::MAX as i64) as i32
        };
        // SAFETY: one valid pollfd on the stack.
        let rc = unsafe { libc::poll(&mut pfd, 1, t) };
        if rc < 0 {
            return Err(Error::last_os_error());
        }
        Ok(rc > 0)
    }
}

/// `poll(2)` over `fds` for at most `timeout_ms` (< 0: no limit); returns how many have
/// events (in their `revents`). An error (EINTR included) is the system's.
pub fn poll_fds(fds: &mut [libc::pollfd], timeout_ms: i32) -> Result<usize> {
    // SAFETY: `fds` is a live, writable array of pollfd of the given length.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if rc < 0 {
        return Err(Error::last_os_error());
    }
    Ok(rc as usize)
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
