//! Thread-safe sockets (SERVER, CLIENT, RADIO, DISH, GATHER, SCATTER, PEER, CHANNEL): one
//! [`SocketBase`] behind a lock, so that many threads may send and receive on it at once.
//!
//! Threads: every call locks the socket for its whole look (commands, then the message),
//! never while it sleeps. A blocking send or receive that must wait releases the lock and
//! waits on the socket's [`Waiters`] (see there for the protocol that loses no wake-up);
//! another thread may then use the socket, or take the message it waited for, and it looks
//! again. `zmq_close` takes the socket out under the lock and wakes every waiter, which
//! then finds it gone (ENOTSOCK). The socket's commands and pipes are those of any socket:
//! only the thread that holds the lock touches them.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::SocketBase;
use crate::constants::ZMQ_DONTWAIT;
use crate::error::{Error, Result};
use crate::mailbox::Waiters;
use crate::msg::Msg;
use crate::options::Options;

/// A thread-safe socket: see the module documentation.
pub struct ThreadSafe {
    sock: Mutex<Option<Box<SocketBase>>>,
    waiters: Arc<Waiters>,
}

impl ThreadSafe {
    /// Shares `sock`, a socket of a thread-safe type (made with its waiters).
    pub fn new(sock: Box<SocketBase>) -> ThreadSafe {
        let waiters = sock.waiters.clone().unwrap_or_default();
        ThreadSafe {
            sock: Mutex::new(Some(sock)),
            waiters,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Box<SocketBase>>> {
        self.sock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the socket under its lock; ENOTSOCK once it is closed.
    pub fn with<R>(&self, f: impl FnOnce(&mut SocketBase) -> Result<R>) -> Result<R> {
        let mut g = self.lock();
        f(g.as_deref_mut().ok_or(Error::NotSock)?)
    }

    /// `zmq_msg_send`: waits (lock released) while the socket cannot take the message.
    pub fn send(&self, msg: &mut Msg, flags: i32) -> Result<()> {
        self.blocking(flags, |o| o.sndtimeo, |s| s.send(msg, flags | ZMQ_DONTWAIT))
    }

    /// `zmq_msg_recv`: waits (lock released) until a message comes.
    pub fn recv(&self, msg: &mut Msg, flags: i32) -> Result<()> {
        self.blocking(flags, |o| o.rcvtimeo, |s| s.recv(msg, flags | ZMQ_DONTWAIT))
    }

    /// Tries `op` under the lock until it does not say EAGAIN, waiting between tries for a
    /// change, up to the socket's timeout (`timeout` of its options) unless `flags` has
    /// ZMQ_DONTWAIT.
    fn blocking(
        &self,
        flags: i32,
        timeout: fn(&Options) -> i32,
        mut op: impl FnMut(&mut SocketBase) -> Result<()>,
    ) -> Result<()> {
        let mut deadline: Option<Option<Instant>> = None;
        loop {
            let seen = self.waiters.generation();
            let wait_ms = {
                let mut g = self.lock();
                let s = g.as_deref_mut().ok_or(Error::NotSock)?;
                match op(s) {
                    Err(Error::Again) => {}
                    r => return r,
                }
                let t = timeout(&s.options);
                if flags & ZMQ_DONTWAIT != 0 || t == 0 {
                    return Err(Error::Again);
                }
                let d = *deadline.get_or_insert_with(|| {
                    (t > 0).then(|| Instant::now() + Duration::from_millis(t as u64))
                });
                super::remaining(d)?
            };
            self.waiters.wait(seen, wait_ms);
        }
    }

    /// `zmq_close`: takes the socket out (threads still in a call find it gone), wakes
    /// every waiter, and hands the socket to the reaper.
    pub fn close(&self) -> Result<()> {
        let sock = self.lock().take().ok_or(Error::NotSock)?;
        self.waiters.notify();
        sock.close();
        Ok(())
    }
}
