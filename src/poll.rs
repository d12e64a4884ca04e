//! `zmq_poll`'s core: level-triggered readiness over sockets and plain file descriptors.
//!
//! A socket is watched through its `ZMQ_FD` (readable when commands arrive) and judged by
//! `ZMQ_EVENTS` after each wake-up; the first pass never blocks, so messages already queued
//! are seen at once. A thread-safe socket has no `ZMQ_FD`: when one is among the items, the
//! call is made with a [`Poller`] for its duration, as libzmq does.

use std::os::fd::RawFd;
use std::time::Duration;

use crate::constants::*;
use crate::error::Result;
use crate::poller::{self, Poller};
use crate::socket::SocketAccess;
use crate::sys;

/// What one poll item watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The socket at this index of the sockets given to [`poll`] (several items may name
    /// the same socket).
    Socket(usize),
    /// A file descriptor.
    Fd(RawFd),
}

/// One thing to poll: what, for which events (ZMQ_POLL* bits), and what was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollItem {
    pub target: Target,
    pub events: i16,
    pub revents: i16,
}

impl PollItem {
    /// An item waiting for `events` on `target`.
    pub fn new(target: Target, events: i16) -> PollItem {
        PollItem {
            target,
            events,
            revents: 0,
        }
    }
}

/// Polls `items` (whose sockets are `sockets[i]`) and fills their `revents`; returns how
/// many are ready. Waits `timeout_ms` at most (< 0: for ever; 0: not at all). With no item
/// it only sleeps that long.
pub fn poll(
    sockets: &mut [SocketAccess<'_>],
    items: &mut [PollItem],
    timeout_ms: i64,
) -> Result<usize> {
    poll_masked(sockets, items, timeout_ms, None)
}

/// `zmq_ppoll`: as [`poll`], with the thread's signal mask replaced by `sigmask` while it
/// waits (`None`: as `poll`). A thread-safe socket has no `ZMQ_FD` to wait on: EINVAL,
/// as libzmq's `zmq_ppoll` gives.
pub fn poll_masked(
    sockets: &mut [SocketAccess<'_>],
    items: &mut [PollItem],
    timeout_ms: i64,
    sigmask: Option<&libc::sigset_t>,
) -> Result<usize> {
    if sockets.iter().any(|s| matches!(s, SocketAccess::Safe(_))) {
        if sigmask.is_some() {
            return Err(crate::error::Error::Inval);
        }
        return poll_with_poller(sockets, items, timeout_ms);
    }
    if items.is_empty() {
        if timeout_ms != 0 {
            let d = if timeout_ms < 0 {
                Duration::from_secs(u64::MAX / 4)
            } else {
                Duration::from_millis(timeout_ms as u64)
            };
            std::thread::sleep(d);
        }
        return Ok(0);
    }
    let mut pfds = Vec::with_capacity(items.len());
    for it in items.iter() {
        let (fd, events) = match it.target {
            Target::Socket(s) => {
                let fd = sockets[s].with(|s| s.mailbox_fd())?;
                (fd, libc::POLLIN)
            }
            Target::Fd(fd) => {
                let mut e = 0;
                if it.events & ZMQ_POLLIN as i16 != 0 {
                    e |= libc::POLLIN;
                }
                if it.events & ZMQ_POLLOUT as i16 != 0 {
                    e |= libc::POLLOUT;
                }
                if it.events & ZMQ_POLLPRI as i16 != 0 {
                    e |= libc::POLLPRI;
                }
                (fd, e)
            }
        };
        pfds.push(libc::pollfd {
            fd,
            events,
            revents: 0,
        });
    }
    let mut passes = poller::Passes::new(timeout_ms);
    while let Some(wait) = passes.next_wait() {
        match sigmask {
            Some(mask) => sys::ppoll(&mut pfds, wait, mask)?,
            None => sys::poll(&mut pfds, wait)?,
        };
        let mut n = 0;
        for (it, pfd) in items.iter_mut().zip(&pfds) {
            let r = match it.target {
                Target::Socket(s) => {
                    let events = sockets[s].with(|s| s.events())? as i16;
                    events & it.events & (ZMQ_POLLIN | ZMQ_POLLOUT) as i16
                }
                Target::Fd(_) => {
                    poller::pollfd_bits(pfd.revents) & (it.events | ZMQ_POLLERR as i16)
                }
            };
            it.revents = r;
            if r != 0 {
                n += 1;
            }
        }
        if n > 0 {
            return Ok(n);
        }
    }
    Ok(0)
}

/// `zmq_poll` over items that include a thread-safe socket: the items go into a poller for
/// the call (an item that repeats a socket or descriptor adds its events), and the
/// poller's events come back as `revents`.
fn poll_with_poller(
    sockets: &mut [SocketAccess<'_>],
    items: &mut [PollItem],
    timeout_ms: i64,
) -> Result<usize> {
    let mut p = Poller::new()?;
    let mut added = std::collections::HashMap::new();
    for it in items.iter() {
        let events = it.events & (ZMQ_POLLIN | ZMQ_POLLOUT | ZMQ_POLLPRI | ZMQ_POLLERR) as i16;
        let key = match it.target {
            Target::Socket(s) => poller::Target::Socket(s),
            Target::Fd(fd) => poller::Target::Fd(fd),
        };
        let all = added.entry(key).or_insert(None::<i16>);
        match (*all, key) {
            (Some(e), poller::Target::Socket(s)) => {
                *all = Some(e | events);
                p.modify(s, e | events)?;
            }
            (Some(e), poller::Target::Fd(fd)) => {
                *all = Some(e | events);
                p.modify_fd(fd, e | events)?;
            }
            (None, poller::Target::Socket(s)) => {
                *all = Some(events);
                p.add(s, &mut sockets[s], 0, events)?;
            }
            (None, poller::Target::Fd(fd)) => {
                *all = Some(events);
                p.add_fd(fd, 0, events)?;
            }
        }
    }
    let mut out = Vec::new();
    let max = added.len();
    let mut resolve =
        |h: usize, f: &mut dyn FnMut(&mut crate::socket::SocketBase) -> Result<()>| {
            sockets[h].with(f)
        };
    let r = p.wait(&mut out, max, timeout_ms, &mut resolve);
    p.detach(&mut resolve);
    match r {
        Ok(_) | Err(crate::error::Error::Again) => {}
        Err(e) => return Err(e),
    }
    let mut n = 0;
    for it in items.iter_mut() {
        let key = match it.target {
            Target::Socket(s) => poller::Target::Socket(s),
            Target::Fd(fd) => poller::Target::Fd(fd),
        };
        it.revents = out
            .iter()
            .find(|e| e.target == key)
            .map_or(0, |e| e.events & (it.events | ZMQ_POLLERR as i16));
        if it.revents != 0 {
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_readable_fd_is_ready_and_an_idle_one_times_out() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut items = [PollItem::new(Target::Fd(b.as_raw_fd()), ZMQ_POLLIN as i16)];
        assert_eq!(poll(&mut [], &mut items, 10).unwrap(), 0);
        assert_eq!(items[0].revents, 0);
        a.write_all(b"x").unwrap();
        assert_eq!(poll(&mut [], &mut items, -1).unwrap(), 1);
        assert_eq!(items[0].revents, ZMQ_POLLIN as i16);
    }

    #[test]
    fn no_item_sleeps_for_the_timeout() {
        let t = Instant::now();
        assert_eq!(poll(&mut [], &mut [], 5).unwrap(), 0);
        assert!(t.elapsed() >= Duration::from_millis(5));
    }
}
