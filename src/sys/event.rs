//! The eventfd behind a signaler and the futex it sleeps on before it has one, and
//! `poll(2)`: for one descriptor to become readable, or over many (`zmq_poll`).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::AtomicU32;

/// A new eventfd with counter 0, close-on-exec and non-blocking.
pub fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: no memory arguments; the result is checked.
    let fd = syscall!(eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK))?;
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds `value` to the counter of eventfd `fd` (one 8-byte write). EAGAIN when the counter
/// would overflow; EINTR is the caller's to retry.
#[inline]
pub fn eventfd_write(fd: BorrowedFd<'_>, value: u64) -> io::Result<()> {
    // SAFETY: writes the 8 bytes of a live u64.
    syscall!(write(fd.as_raw_fd(), (&value as *const u64).cast(), 8))?;
    Ok(())
}

/// Reads and resets the counter of eventfd `fd` (one 8-byte read). EAGAIN when it is 0;
/// EINTR is the caller's to retry.
#[inline]
pub fn eventfd_read(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let mut value: u64 = 0;
    // SAFETY: reads at most 8 bytes into a live u64.
    syscall!(read(fd.as_raw_fd(), (&mut value as *mut u64).cast(), 8))?;
    Ok(value)
}

/// `timeout_ms` as the relative timespec of `ppoll` and `futex` (`None`: no limit, for < 0).
fn relative_timespec(timeout_ms: libc::c_int) -> Option<libc::timespec> {
    (timeout_ms >= 0).then(|| libc::timespec {
        tv_sec: (timeout_ms / 1000) as libc::time_t,
        tv_nsec: ((timeout_ms % 1000) as libc::c_long) * 1_000_000,
    })
}

/// Sleeps while `word` holds `expected` (`FUTEX_WAIT`, private to the process), at most
/// `timeout_ms` (< 0: no limit). `Ok(true)`: woken, or the word did not hold `expected` (the
/// kernel compares atomically with going to sleep), or a spurious return; `Ok(false)`: the
/// time passed. EINTR (a signal handler ran) is returned, not retried.
pub fn futex_wait(word: &AtomicU32, expected: u32, timeout_ms: libc::c_int) -> io::Result<bool> {
    let ts = relative_timespec(timeout_ms);
    let tsp = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live, aligned 32-bit atomic for the call (the kernel only reads it
    // and queues the thread on its address); `tsp` is NULL or points to a live relative
    // timespec; the remaining arguments are unused by FUTEX_WAIT.
    match syscall!(syscall(
        libc::SYS_futex,
        word.as_ptr(),
        libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
        expected,
        tsp,
        std::ptr::null::<u32>(),
        0u32
    )) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ETIMEDOUT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Wakes every thread sleeping in [`futex_wait`] on `word`.
pub fn futex_wake_all(word: &AtomicU32) {
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE only uses its address to
    // find the sleepers, and the remaining arguments are unused by it. It cannot fail for a
    // valid address, so the result is not looked at.
    let _ = syscall!(syscall(
        libc::SYS_futex,
        word.as_ptr(),
        libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
        libc::c_int::MAX,
        std::ptr::null::<libc::timespec>(),
        std::ptr::null::<u32>(),
        0u32
    ));
}

/// `poll` of `fd` for POLLIN: true when it is ready, false when `timeout_ms` passed (-1
/// waits forever, 0 only checks). EINTR is returned, not retried.
#[inline]
pub fn poll_readable(fd: BorrowedFd<'_>, timeout_ms: libc::c_int) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd on the stack, live for the call.
    let n = syscall!(poll(&mut pfd, 1, timeout_ms))?;
    Ok(n > 0)
}

/// `poll(2)` over `fds` for at most `timeout_ms` (< 0: no limit); returns how many have
/// events (in their `revents`). EINTR is returned, not retried.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: libc::c_int) -> io::Result<usize> {
    // SAFETY: `fds` is a live, writable array of pollfd of the given length.
    let n = syscall!(poll(
        fds.as_mut_ptr(),
        fds.len() as libc::nfds_t,
        timeout_ms
    ))?;
    Ok(n as usize)
}

/// `ppoll(2)`: as [`poll`], with the thread's signal mask replaced by `sigmask` for the
/// wait (atomically, as `zmq_ppoll` promises). EINTR is returned, not retried.
pub fn ppoll(
    fds: &mut [libc::pollfd],
    timeout_ms: libc::c_int,
    sigmask: &libc::sigset_t,
) -> io::Result<usize> {
    let ts = relative_timespec(timeout_ms);
    let tsp = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `fds` is a live, writable array of the given length; `tsp` is NULL or points
    // to a live timespec; `sigmask` is a live sigset_t.
    let n = syscall!(ppoll(
        fds.as_mut_ptr(),
        fds.len() as libc::nfds_t,
        tsp,
        sigmask as *const libc::sigset_t
    ))?;
    Ok(n as usize)
}

/// A new epoll instance (close-on-exec): the set behind `zmq_poller`.
pub fn epoll_create() -> io::Result<OwnedFd> {
    // SAFETY: no memory arguments; the result is checked.
    let fd = syscall!(epoll_create1(libc::EPOLL_CLOEXEC))?;
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds (`op` EPOLL_CTL_ADD), changes (MOD) or removes (DEL) `fd` in the epoll set `ep`,
/// level-triggered for `events` (EPOLLIN, ...), reported with `token`. `fd` is any integer
/// the caller names (EBADF when it is not an open descriptor): epoll only records it.
pub fn epoll_ctl(
    ep: BorrowedFd<'_>,
    op: libc::c_int,
    fd: libc::c_int,
    events: u32,
    token: u64,
) -> io::Result<()> {
    let mut ev = libc::epoll_event { events, u64: token };
    // SAFETY: a live epoll_event for the call (the kernel ignores it for DEL).
    syscall!(epoll_ctl(ep.as_raw_fd(), op, fd, &mut ev))?;
    Ok(())
}

/// Waits up to `timeout_ms` (< 0: no limit, 0: only looks) for events of the epoll set
/// `ep`; fills the front of `out` and returns how many. EINTR is returned, not retried.
pub fn epoll_wait(
    ep: BorrowedFd<'_>,
    out: &mut [libc::epoll_event],
    timeout_ms: libc::c_int,
) -> io::Result<usize> {
    let max = out.len().min(libc::c_int::MAX as usize).max(1) as libc::c_int;
    if out.is_empty() {
        return Ok(0);
    }
    // SAFETY: `out` is a live, writable array of at least `max` events.
    let n = syscall!(epoll_wait(
        ep.as_raw_fd(),
        out.as_mut_ptr(),
        max,
        timeout_ms
    ))?;
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn counter_adds_and_resets() {
        let fd = eventfd().unwrap();
        let e = eventfd_read(fd.as_fd()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert!(!poll_readable(fd.as_fd(), 0).unwrap());
        eventfd_write(fd.as_fd(), 2).unwrap();
        eventfd_write(fd.as_fd(), 3).unwrap();
        assert!(poll_readable(fd.as_fd(), 0).unwrap());
        assert_eq!(eventfd_read(fd.as_fd()).unwrap(), 5);
        assert!(!poll_readable(fd.as_fd(), 0).unwrap());
        eventfd_write(fd.as_fd(), u64::MAX - 1).unwrap();
        let e = eventfd_write(fd.as_fd(), 1).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EAGAIN));
    }
}
