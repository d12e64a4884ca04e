//! `zmq_poll`: level-triggered readiness over sockets and plain file descriptors.
//!
//! A socket is watched through its `ZMQ_FD` (readable when commands arrive) and judged by
//! `ZMQ_EVENTS` after each wake-up; the first pass never blocks, so messages already queued
//! are seen at once.

use std::ffi::{c_int, c_long, c_short, c_void};
use std::time::{Duration, Instant};

use super::guard;
use super::socket::sock_mut;
use super::types::zmq_pollitem_t;
use crate::constants::*;
use crate::error::{Error, Result};

/// What to wait for on one pollable thing.
pub(crate) enum Target {
    Socket(*mut c_void),
    Fd(c_int),
}

/// Polls `targets` with `events` (ZMQ_POLL* bits); fills `revents`; returns how many are
/// ready. `timeout_ms` < 0 waits for ever.
pub(crate) fn poll_targets(
    targets: &[(Target, c_short)],
    revents: &mut [c_short],
    timeout_ms: i64,
) -> Result<usize> {
    let mut pfds = Vec::with_capacity(targets.len());
    for (t, ev) in targets {
        let (fd, events) = match t {
            Target::Socket(s) => (sock_mut(*s)?.mailbox_fd(), libc::POLLIN),
            Target::Fd(fd) => {
                let mut e = 0;
                if ev & ZMQ_POLLIN as c_short != 0 {
                    e |= libc::POLLIN;
                }
                if ev & ZMQ_POLLOUT as c_short != 0 {
                    e |= libc::POLLOUT;
                }
                if ev & ZMQ_POLLPRI as c_short != 0 {
                    e |= libc::POLLPRI;
                }
                (*fd, e)
            }
        };
        pfds.push(libc::pollfd {
            fd,
            events,
            revents: 0,
        });
    }
    let deadline =
        (timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
    let mut first = true;
    loop {
        let wait: c_int = if first {
            0
        } else {
            match deadline {
                None => -1,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    left.as_millis().clamp(1, i32::MAX as u128) as c_int
                }
            }
        };
        // SAFETY: pfds is a live array of pollfd of the given length.
        let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, wait) };
        if rc < 0 {
            return Err(Error::last_os_error());
        }
        let mut n = 0;
        for (i, (t, ev)) in targets.iter().enumerate() {
            let mut r: c_short = 0;
            match t {
                Target::Socket(s) => {
                    let events = sock_mut(*s)?.events()? as c_short;
                    r = events & ev & (ZMQ_POLLIN | ZMQ_POLLOUT) as c_short;
                }
                Target::Fd(_) => {
                    let got = pfds[i].revents;
                    if got & libc::POLLIN != 0 && ev & ZMQ_POLLIN as c_short != 0 {
                        r |= ZMQ_POLLIN as c_short;
                    }
                    if got & libc::POLLOUT != 0 && ev & ZMQ_POLLOUT as c_short != 0 {
                        r |= ZMQ_POLLOUT as c_short;
                    }
                    if got & libc::POLLPRI != 0 && ev & ZMQ_POLLPRI as c_short != 0 {
                        r |= ZMQ_POLLPRI as c_short;
                    }
                    if got & !(libc::POLLIN | libc::POLLOUT | libc::POLLPRI) != 0 {
                        r |= ZMQ_POLLERR as c_short;
                    }
                }
            }
            revents[i] = r;
            if r != 0 {
                n += 1;
            }
        }
        if n > 0 || timeout_ms == 0 {
            return Ok(n);
        }
        if !first {
            if let Some(d) = deadline {
                if Instant::now() >= d {
                    return Ok(0);
                }
            }
        }
        first = false;
    }
}

/// Waits until items are ready or `timeout` (ms; -1 for ever) passes; returns the count.
///
/// # Safety
/// `items` must point to `nitems` writable poll items.
#[no_mangle]
pub unsafe extern "C" fn zmq_poll(
    items: *mut zmq_pollitem_t,
    nitems: c_int,
    timeout: c_long,
) -> c_int {
    guard(|| {
        if nitems < 0 {
            return Err(Error::Inval);
        }
        if nitems == 0 {
            if timeout != 0 {
                let d = if timeout < 0 {
                    Duration::from_secs(u64::MAX / 4)
                } else {
                    Duration::from_millis(timeout as u64)
                };
                std::thread::sleep(d);
            }
            return Ok(0);
        }
        if items.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: the caller's contract: nitems items.
        let items = unsafe { std::slice::from_raw_parts_mut(items, nitems as usize) };
        let targets: Vec<(Target, c_short)> = items
            .iter()
            .map(|it| {
                (
                    if it.socket.is_null() {
                        Target::Fd(it.fd)
                    } else {
                        Target::Socket(it.socket)
                    },
                    it.events,
                )
            })
            .collect();
        let mut revents = vec![0 as c_short; items.len()];
        let n = poll_targets(&targets, &mut revents, timeout)?;
        for (it, r) in items.iter_mut().zip(revents) {
            it.revents = r;
        }
        Ok(n as c_int)
    })
}
