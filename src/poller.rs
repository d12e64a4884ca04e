//! `zmq_poller`'s core: a set of sockets and file descriptors, each with the events it is
//! watched for and the caller's user data, that a wait reports ready ones from.
//!
//! A wait costs O(ready), not O(items): it looks only at the items that may have become
//! ready since the last wait, never at every item.
//! - Descriptors, and the mailbox descriptor of each classic socket, are in one epoll set
//!   (level-triggered), whose events name the item (its token).
//! - A socket can be ready without a new command: messages still queued after the last
//!   wait, or a change made by a call on the socket (a REP that received can send). So the
//!   sockets a wait found ready are looked at again by the next one, and a call that
//!   changes a socket marks it in the poller's [`ReadyList`] (the socket holds the list
//!   and its token, see `SocketBase::add_poll_hook`).
//! - A thread-safe socket has no descriptor of its own to watch: its mailbox's wake-ups
//!   mark it in the list, which then also raises the list's eventfd (in the epoll set).
//!
//! The epoll descriptor is `zmq_poller_fd`: it becomes readable when any item may have
//! become ready. libzmq gives a descriptor only to a poller that holds a thread-safe
//! socket (EINVAL otherwise), and so does the C API here.
//!
//! Descriptors epoll refuses (a regular file, a closed descriptor) stay items, polled with
//! `poll(2)` beside the epoll set as libzmq polls every descriptor: a regular file is always
//! ready, a closed one reports ZMQ_POLLERR.
//!
//! Threads: a poller is used by one thread at a time (as in libzmq). Its list is shared
//! with the sockets it holds, which mark it from any thread.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::constants::*;
use crate::error::{Error, Result};
use crate::signaler::Signaler;
use crate::socket::{SocketAccess, SocketBase};
use crate::sys;

/// How a poller reaches the sockets it holds, which it knows by handle: runs the function on
/// the socket (under its lock when thread-safe); an error when the handle no longer names
/// a socket (ENOTSOCK).
pub type Resolve<'r> =
    dyn FnMut(usize, &mut dyn FnMut(&mut SocketBase) -> Result<()>) -> Result<()> + 'r;

/// The epoll token of the ready list's eventfd.
const LIST_TOKEN: u64 = u64::MAX;

/// Items a poller's sockets marked as worth a look, shared with those sockets.
pub struct ReadyList {
    inner: Mutex<ListInner>,
    /// Raised when a mark must wake a waiting poller (a thread-safe socket's).
    signaler: Signaler,
}

#[derive(Default)]
struct ListInner {
    tokens: Vec<usize>,
    /// By token: already in `tokens`.
    queued: Vec<bool>,
    /// The signaler was raised since the last drain.
    signalled: bool,
}

impl ReadyList {
    fn new() -> Result<ReadyList> {
        Ok(ReadyList {
            inner: Mutex::new(ListInner::default()),
            signaler: Signaler::new(),
        })
    }

    /// Marks `token` for a look by the next wait; `wake`: also wake a wait in progress
    /// (the mark may come from another thread).
    pub fn mark(&self, token: usize, wake: bool) {
        let mut l = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if token >= l.queued.len() {
            l.queued.resize(token + 1, false);
        }
        if !l.queued[token] {
            l.queued[token] = true;
            l.tokens.push(token);
        }
        if wake && !l.signalled {
            l.signalled = true;
            self.signaler.send();
        }
    }

    /// Takes the marked tokens into `out`.
    fn drain(&self, out: &mut Vec<usize>) {
        // The signal first: a mark made after it is either taken below or signals again.
        self.signaler.recv();
        let mut l = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        l.signalled = false;
        let ListInner { tokens, queued, .. } = &mut *l;
        for t in tokens.drain(..) {
            queued[t] = false;
            out.push(t);
        }
    }
}

/// What an item watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A socket, named by its handle (the C pointer's address).
    Socket(usize),
    /// A file descriptor.
    Fd(RawFd),
}

/// One ready item, as a wait reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub target: Target,
    pub user_data: usize,
    pub events: i16,
}

struct Item {
    target: Target,
    user_data: usize,
    events: i16,
    /// Order of addition: waits report items in this order, as libzmq does.
    seq: u64,
    /// In the epoll set (a descriptor epoll took, or a classic socket's mailbox); else a
    /// thread-safe socket, or a descriptor polled on the side.
    in_epoll: bool,
}

/// A `zmq_poller`: see the module documentation.
pub struct Poller {
    epoll: OwnedFd,
    items: Vec<Option<Item>>,
    free: Vec<usize>,
    by_target: HashMap<Target, usize>,
    /// Epoll events name items by their `seq`, never reused (a descriptor closed before
    /// its removal may stay in the epoll set, under its old name).
    by_seq: HashMap<u64, usize>,
    list: Arc<ReadyList>,
    /// Sockets the last wait found ready (or just added or modified): looked at again.
    recheck: Vec<usize>,
    /// Descriptors epoll refused, polled on the side.
    side_fds: Vec<usize>,
    /// Thread-safe sockets held (the C API gives the descriptor only then).
    thread_safe: usize,
    /// Items that watch some event (a wait without one could never end).
    watching: usize,
    next_seq: u64,
    events_buf: Vec<libc::epoll_event>,
}

/// The mapping from ZMQ_POLL* bits to epoll's.
fn epoll_events(events: i16) -> u32 {
    let mut e = 0;
    if events & ZMQ_POLLIN as i16 != 0 {
        e |= libc::EPOLLIN;
    }
    if events & ZMQ_POLLOUT as i16 != 0 {
        e |= libc::EPOLLOUT;
    }
    if events & ZMQ_POLLPRI as i16 != 0 {
        e |= libc::EPOLLPRI;
    }
    e as u32
}

/// A descriptor's poll or epoll events as ZMQ_POLL* bits, as libzmq reports them: anything
/// beyond in, out and pri (an error, a hang-up, a closed descriptor) is ZMQ_POLLERR.
fn poll_bits(got_in: bool, got_out: bool, got_pri: bool, got_other: bool) -> i16 {
    let mut r = 0;
    if got_in {
        r |= ZMQ_POLLIN as i16;
    }
    if got_out {
        r |= ZMQ_POLLOUT as i16;
    }
    if got_pri {
        r |= ZMQ_POLLPRI as i16;
    }
    if got_other {
        r |= ZMQ_POLLERR as i16;
    }
    r
}

/// poll(2)'s `revents` as ZMQ_POLL* bits (see `poll_bits`).
pub(crate) fn pollfd_bits(revents: i16) -> i16 {
    let known = libc::POLLIN | libc::POLLOUT | libc::POLLPRI;
    poll_bits(
        revents & libc::POLLIN != 0,
        revents & libc::POLLOUT != 0,
        revents & libc::POLLPRI != 0,
        revents & !known != 0,
    )
}

/// The passes of a wait of `timeout_ms` (< 0: for ever; 0: no blocking), zmq_poll's way:
/// the first pass looks at what is ready now, each later one blocks for what is left.
pub(crate) struct Passes {
    deadline: Option<Instant>,
    timeout_ms: i64,
    first: bool,
}

impl Passes {
    pub(crate) fn new(timeout_ms: i64) -> Self {
        Passes {
            deadline: (timeout_ms > 0)
                .then(|| Instant::now() + Duration::from_millis(timeout_ms as u64)),
            timeout_ms,
            first: true,
        }
    }

    /// The system wait of the next pass in milliseconds (-1: no limit; a part of a
    /// millisecond left counts as one, so the last pass does not spin), or none when the
    /// time is up.
    pub(crate) fn next_wait(&mut self) -> Option<i32> {
        if std::mem::take(&mut self.first) {
            return Some(0);
        }
        if self.timeout_ms == 0 {
            return None;
        }
        let Some(d) = self.deadline else {
            return Some(-1);
        };
        let left = d
            .checked_duration_since(Instant::now())
            .filter(|l| !l.is_zero())?;
        Some(left.as_millis().clamp(1, i32::MAX as u128) as i32)
    }
}

impl Poller {
    /// An empty poller.
    pub fn new() -> Result<Poller> {
        let epoll = sys::epoll_create()?;
        let list = Arc::new(ReadyList::new()?);
        sys::epoll_ctl(
            epoll.as_fd(),
            libc::EPOLL_CTL_ADD,
            list.signaler.fd()?,
            libc::EPOLLIN as u32,
            LIST_TOKEN,
        )?;
        Ok(Poller {
            epoll,
            items: Vec::new(),
            free: Vec::new(),
            by_target: HashMap::new(),
            by_seq: HashMap::new(),
            list,
            recheck: Vec::new(),
            side_fds: Vec::new(),
            thread_safe: 0,
            watching: 0,
            next_seq: 0,
            events_buf: Vec::new(),
        })
    }

    // The C API (draft build) uses it; zmq_poll does not.
    #[cfg_attr(not(feature = "draft"), allow(dead_code))]
    /// Number of items.
    pub fn size(&self) -> usize {
        self.by_target.len()
    }

    // The C API (draft build) uses it; zmq_poll does not.
    #[cfg_attr(not(feature = "draft"), allow(dead_code))]
    /// The descriptor that becomes readable when an item may have become ready; EINVAL
    /// unless the poller holds a thread-safe socket, as libzmq.
    pub fn fd(&self) -> Result<RawFd> {
        if self.thread_safe == 0 {
            return Err(Error::Inval);
        }
        Ok(self.epoll.as_raw_fd())
    }

    /// Enters an item for `target` (EINVAL when it is already in) and registers `fd`, when
    /// given, with epoll for `epoll_mask`; gives the item's token and epoll's answer (the
    /// item stays in either way; its `in_epoll` says whether epoll took it).
    fn insert(
        &mut self,
        target: Target,
        user_data: usize,
        events: i16,
        fd: Option<RawFd>,
        epoll_mask: u32,
    ) -> Result<(usize, std::io::Result<()>)> {
        if self.by_target.contains_key(&target) {
            return Err(Error::Inval);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let added = match fd {
            Some(fd) => {
                sys::epoll_ctl(self.epoll.as_fd(), libc::EPOLL_CTL_ADD, fd, epoll_mask, seq)
            }
            None => Ok(()),
        };
        let item = Item {
            target,
            user_data,
            events,
            seq,
            in_epoll: fd.is_some() && added.is_ok(),
        };
        if events != 0 {
            self.watching += 1;
        }
        let token = match self.free.pop() {
            Some(t) => {
                self.items[t] = Some(item);
                t
            }
            None => {
                self.items.push(Some(item));
                self.items.len() - 1
            }
        };
        self.by_target.insert(target, token);
        self.by_seq.insert(seq, token);
        Ok((token, added))
    }

    fn take(&mut self, target: Target) -> Result<(usize, Item)> {
        let token = self.by_target.remove(&target).ok_or(Error::Inval)?;
        let item = self.items[token].take().ok_or(Error::Inval)?;
        self.by_seq.remove(&item.seq);
        if item.events != 0 {
            self.watching -= 1;
        }
        self.free.push(token);
        self.side_fds.retain(|&t| t != token);
        Ok((token, item))
    }

    /// Adds a socket (its handle `handle`) for `events`; EINVAL when it is already in.
    pub fn add(
        &mut self,
        handle: usize,
        sock: &mut SocketAccess<'_>,
        user_data: usize,
        events: i16,
    ) -> Result<()> {
        let target = Target::Socket(handle);
        if self.by_target.contains_key(&target) {
            return Err(Error::Inval);
        }
        let (fd, safe) = sock.with(|s| Ok((s.poll_fd()?, s.is_thread_safe())))?;
        let (token, added) = self.insert(target, user_data, events, fd, libc::EPOLLIN as u32)?;
        if let Err(e) = added {
            let _ = self.take(target);
            return Err(e.into());
        }
        let list = self.list.clone();
        sock.with(|s| {
            s.add_poll_hook(list, token);
            Ok(())
        })?;
        if safe {
            self.thread_safe += 1;
        }
        self.recheck.push(token);
        Ok(())
    }

    /// Changes the events a socket is watched for; EINVAL when it is not in.
    pub fn modify(&mut self, handle: usize, events: i16) -> Result<()> {
        let token = *self
            .by_target
            .get(&Target::Socket(handle))
            .ok_or(Error::Inval)?;
        if let Some(it) = self.items[token].as_mut() {
            self.watching = self.watching + usize::from(events != 0) - usize::from(it.events != 0);
            it.events = events;
        }
        self.recheck.push(token);
        Ok(())
    }

    // The C API (draft build) uses it; zmq_poll does not.
    #[cfg_attr(not(feature = "draft"), allow(dead_code))]
    /// Removes a socket; EINVAL when it is not in. `sock` is `None` when the socket was
    /// closed meanwhile (nothing to unhook then).
    pub fn remove(&mut self, handle: usize, sock: Option<&mut SocketAccess<'_>>) -> Result<()> {
        let (_, item) = self.take(Target::Socket(handle))?;
        let list = self.list.clone();
        let mut safe = !item.in_epoll;
        if let Some(sock) = sock {
            let _ = sock.with(|s| {
                safe = s.is_thread_safe();
                if let Ok(Some(fd)) = s.poll_fd() {
                    let _ = sys::epoll_ctl(self.epoll.as_fd(), libc::EPOLL_CTL_DEL, fd, 0, 0);
                }
                s.remove_poll_hook(&list);
                Ok(())
            });
        }
        if safe {
            self.thread_safe = self.thread_safe.saturating_sub(1);
        }
        Ok(())
    }

    /// Adds a descriptor for `events`; EINVAL when it is already in.
    pub fn add_fd(&mut self, fd: RawFd, user_data: usize, events: i16) -> Result<()> {
        let target = Target::Fd(fd);
        let (token, added) =
            self.insert(target, user_data, events, Some(fd), epoll_events(events))?;
        match added {
            Ok(()) => {}
            // A regular file or a descriptor that is not open: polled on the side.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EBADF)) => {
                self.side_fds.push(token)
            }
            Err(e) => {
                let _ = self.take(target);
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// Changes the events a descriptor is watched for; EINVAL when it is not in.
    pub fn modify_fd(&mut self, fd: RawFd, events: i16) -> Result<()> {
        let token = *self.by_target.get(&Target::Fd(fd)).ok_or(Error::Inval)?;
        let Some(it) = self.items[token].as_mut() else {
            return Err(Error::Inval);
        };
        self.watching = self.watching + usize::from(events != 0) - usize::from(it.events != 0);
        it.events = events;
        if it.in_epoll {
            sys::epoll_ctl(
                self.epoll.as_fd(),
                libc::EPOLL_CTL_MOD,
                fd,
                epoll_events(events),
                it.seq,
            )?;
        }
        Ok(())
    }

    // The C API (draft build) uses it; zmq_poll does not.
    #[cfg_attr(not(feature = "draft"), allow(dead_code))]
    /// Removes a descriptor; EINVAL when it is not in.
    pub fn remove_fd(&mut self, fd: RawFd) -> Result<()> {
        let (_, item) = self.take(Target::Fd(fd))?;
        if item.in_epoll {
            // The descriptor may have been closed meanwhile (then epoll forgot it already).
            let _ = sys::epoll_ctl(self.epoll.as_fd(), libc::EPOLL_CTL_DEL, fd, 0, 0);
        }
        Ok(())
    }

    /// Unhooks the poller from the sockets it still holds (at `zmq_poller_destroy`);
    /// `resolve` finds a socket by handle (an error: it was closed).
    pub fn detach(&mut self, resolve: &mut Resolve<'_>) {
        let list = self.list.clone();
        for it in self.items.iter().flatten() {
            if let Target::Socket(h) = it.target {
                let _ = resolve(h, &mut |s| {
                    s.remove_poll_hook(&list);
                    Ok(())
                });
            }
        }
    }

    /// Waits up to `timeout_ms` (< 0: no limit) for ready items and writes up to `max` of
    /// them into `out` (cleared first), in the order they were added. EAGAIN when none
    /// became ready in time; EFAULT when the wait could never end (no item watches any
    /// event and no timeout); EINTR when a signal came.
    pub fn wait(
        &mut self,
        out: &mut Vec<Event>,
        max: usize,
        timeout_ms: i64,
        resolve: &mut Resolve<'_>,
    ) -> Result<usize> {
        out.clear();
        if self.watching == 0 {
            if timeout_ms < 0 {
                return Err(Error::Fault);
            }
            if timeout_ms > 0 {
                std::thread::sleep(Duration::from_millis(timeout_ms as u64));
            }
            return Err(Error::Again);
        }
        let deadline =
            (timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
        let mut first = true;
        let mut candidates = std::mem::take(&mut self.recheck);
        loop {
            let wait_ms = if first {
                0
            } else {
                match deadline {
                    None => -1,
                    Some(d) => {
                        let left = d.saturating_duration_since(Instant::now());
                        left.as_millis().clamp(1, i32::MAX as u128) as i32
                    }
                }
            };
            let mut hits = HashMap::new();
            self.collect(wait_ms, &mut candidates, &mut hits)?;
            let found = self.check(&mut candidates, &hits, out, max, resolve)?;
            if found > 0 {
                return Ok(found);
            }
            if timeout_ms == 0 {
                return Err(Error::Again);
            }
            if !first && deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Error::Again);
            }
            first = false;
        }
    }

    /// Waits up to `wait_ms` for the epoll set (and the side descriptors), and adds the
    /// items it names (and those marked in the list) to `candidates`; `hits` gets what
    /// each descriptor item reported, as ZMQ_POLL* bits.
    fn collect(
        &mut self,
        wait_ms: i32,
        candidates: &mut Vec<usize>,
        hits: &mut HashMap<usize, i16>,
    ) -> Result<()> {
        let mut epoll_wait_ms = wait_ms;
        if !self.side_fds.is_empty() {
            // poll(2) over the epoll descriptor and the side ones, then read epoll.
            let mut pfds = vec![libc::pollfd {
                fd: self.epoll.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            }];
            let mut tokens = Vec::with_capacity(self.side_fds.len());
            for &t in &self.side_fds {
                if let Some(Item {
                    target: Target::Fd(fd),
                    events,
                    ..
                }) = self.items[t]
                {
                    tokens.push(t);
                    pfds.push(libc::pollfd {
                        fd,
                        events: epoll_events(events) as i16,
                        revents: 0,
                    });
                }
            }
            sys::poll(&mut pfds, wait_ms)?;
            for (&t, p) in tokens.iter().zip(&pfds[1..]) {
                let bits = pollfd_bits(p.revents);
                if bits != 0 {
                    hits.insert(t, bits);
                    candidates.push(t);
                }
            }
            epoll_wait_ms = 0;
        }
        let cap = (self.items.len() + 1).clamp(16, 1024);
        if self.events_buf.len() < cap {
            self.events_buf
                .resize(cap, libc::epoll_event { events: 0, u64: 0 });
        }
        let n = sys::epoll_wait(self.epoll.as_fd(), &mut self.events_buf, epoll_wait_ms)?;
        for ev in &self.events_buf[..n] {
            let (seq, e) = (ev.u64, ev.events);
            if seq == LIST_TOKEN {
                continue;
            }
            let Some(&t) = self.by_seq.get(&seq) else {
                continue;
            };
            if let Some(Item {
                target: Target::Fd(_),
                ..
            }) = self.items[t]
            {
                let known = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLPRI) as u32;
                hits.insert(
                    t,
                    poll_bits(
                        e & libc::EPOLLIN as u32 != 0,
                        e & libc::EPOLLOUT as u32 != 0,
                        e & libc::EPOLLPRI as u32 != 0,
                        e & !known != 0,
                    ),
                );
            }
            candidates.push(t);
        }
        self.list.drain(candidates);
        Ok(())
    }

    /// Looks at the candidate items; writes the ready ones (up to `max`, in order of
    /// addition) into `out`, and keeps every ready socket for the next wait's look.
    fn check(
        &mut self,
        candidates: &mut Vec<usize>,
        hits: &HashMap<usize, i16>,
        out: &mut Vec<Event>,
        max: usize,
        resolve: &mut Resolve<'_>,
    ) -> Result<usize> {
        let items = &self.items;
        candidates.retain(|&t| items.get(t).is_some_and(|i| i.is_some()));
        candidates.sort_unstable_by_key(|&t| items[t].as_ref().map_or(0, |i| i.seq));
        candidates.dedup();
        let mut found = 0;
        for &t in candidates.iter() {
            let Some(it) = &self.items[t] else { continue };
            // Past `max` the items are still looked at (once), so that only the ready
            // ones are kept for the next wait: a wait costs what may be ready, not more.
            let events = match it.target {
                Target::Socket(h) => {
                    let mut ev = 0;
                    resolve(h, &mut |s| {
                        ev = s.events()? as i16;
                        Ok(())
                    })?;
                    let r = ev & it.events & (ZMQ_POLLIN | ZMQ_POLLOUT) as i16;
                    if r != 0 {
                        self.recheck.push(t);
                    }
                    r
                }
                Target::Fd(_) if it.events == 0 => 0,
                // A descriptor not reported now is reported again by epoll (level-triggered)
                // or poll: nothing to keep.
                Target::Fd(_) => {
                    let got = hits.get(&t).copied().unwrap_or(0);
                    got & (it.events | ZMQ_POLLERR as i16)
                }
            };
            if events != 0 && found < max {
                out.push(Event {
                    target: it.target,
                    user_data: it.user_data,
                    events,
                });
                found += 1;
            }
        }
        candidates.clear();
        Ok(found)
    }
}
