//! The connecter of a connect-role session: one connect attempt at a time to its
//! [`Target`], through the SOCKS5 proxy when ZMQ_SOCKS_PROXY is set, and the reconnect
//! backoff (RECONNECT_IVL doubling up to RECONNECT_IVL_MAX, back to RECONNECT_IVL once
//! connected).
//!
//! Ownership and threads: held by its session, on the session's I/O thread; the stream of
//! an attempt in progress is registered under the session's token, and the session passes
//! its events on ([`Connecter::ready`]). A connected stream is handed to the session
//! (deregistered, tuned with the socket's options), which starts the engine. Whether and
//! when to try again after a failure is the session's decision (its reconnect policy); the
//! connecter only says how long to wait ([`Connecter::next_interval`]).
//!
//! ZMQ_CONNECT_TIMEOUT (a direct tcp connect only, as libzmq's: not ipc, not through a SOCKS
//! proxy): a timer, set when the connect is under way and cancelled when it completes; when it
//! fires first, the attempt is given up as failed ([`Connecter::timed_out`]), and the session
//! reconnects.

use std::os::unix::net::SocketAddr;

use std::time::Duration;

use crate::io::io_thread::IoCtx;
use crate::io::timer_heap::TimerId;
use crate::options::Options;
use crate::transport::connection::Connection;

use super::{ipc, net, socks, tcp};

/// Where a connect-role session connects to.
#[derive(Debug)]
pub enum Target {
    /// The address part of a tcp endpoint, resolved at each attempt (DNS may change).
    Tcp {
        addr: String,
        ipv6: bool,
    },
    Ipc(SocketAddr),
}

/// Where an attempt stands after a step.
pub enum Progress {
    /// Still under way: wait for the next event.
    Pending,
    /// Connected to the target (through the proxy, if any): the stream is the session's.
    Connected(Connection),
    /// This attempt failed (nothing is left registered).
    Failed(Failure),
}

/// How an attempt failed: what the monitor and the reconnect policy need.
#[derive(Clone, Copy, Debug, Default)]
pub struct Failure {
    /// The descriptor the attempt had (closed now): ZMQ_EVENT_CLOSED reports it.
    pub fd: Option<i32>,
    /// The target refused the connection (ECONNREFUSED), not through a proxy.
    pub refused: bool,
}

/// A connecter. See the module documentation.
pub struct Connecter {
    target: Target,
    /// The wait before the next attempt (the backoff's current step).
    ivl: i32,
    /// The stream whose connect is in progress (to the SOCKS proxy, with ZMQ_SOCKS_PROXY,
    /// and then through its handshake).
    connecting: Option<Connection>,
    /// The SOCKS handshake on `connecting`, once connected to the proxy.
    socks: Option<socks::Handshake>,
    /// The ZMQ_CONNECT_TIMEOUT timer of the tcp connect under way.
    timer: Option<TimerId>,
}

impl Connecter {
    /// A connecter to `target`, its backoff at RECONNECT_IVL.
    pub fn new(target: Target, opts: &Options) -> Connecter {
        Connecter {
            target,
            ivl: opts.reconnect_ivl,
            connecting: None,
            socks: None,
            timer: None,
        }
    }

    /// Whether the target is a tcp address (else ipc).
    pub fn is_tcp(&self) -> bool {
        matches!(self.target, Target::Tcp { .. })
    }

    /// Whether an attempt is under way.
    pub fn is_connecting(&self) -> bool {
        self.connecting.is_some()
    }

    /// Starts an attempt: Ok when it is under way (registered for its events). A direct tcp
    /// attempt with ZMQ_CONNECT_TIMEOUT sets the session's timer `timer_id` (see
    /// [`Self::timed_out`]).
    pub fn start(&mut self, io: &mut IoCtx, opts: &Options, timer_id: u32) -> Result<(), Failure> {
        self.socks = None;
        let proxy = &opts.socks_proxy;
        let started = match &self.target {
            // Through a SOCKS proxy: connect to the proxy (its address may have a source part).
            Target::Tcp { ipv6, .. } if !proxy.is_empty() => {
                tcp::start_connect(&String::from_utf8_lossy(proxy), *ipv6, opts)
            }
            Target::Tcp { addr, ipv6 } => tcp::start_connect(addr, *ipv6, opts),
            Target::Ipc(addr) => ipc::start_connect(addr),
        };
        match started {
            Ok(mut s) => {
                if s.register(io.registry, io.token()).is_err() {
                    return Err(Failure {
                        fd: Some(s.raw_fd()),
                        refused: false,
                    });
                }
                self.connecting = Some(s);
                if self.is_tcp() && proxy.is_empty() && opts.connect_timeout > 0 {
                    let after = Duration::from_millis(opts.connect_timeout as u64);
                    self.timer = Some(io.add_timer(after, timer_id));
                }
                Ok(())
            }
            // Failed at once: its descriptor (if it had one) is closed, and reported.
            Err(e) => Err(Failure {
                fd: e.fd,
                refused: proxy.is_empty() && e.error.raw_os_error() == Some(libc::ECONNREFUSED),
            }),
        }
    }

    /// The attempt's stream had an event.
    pub fn ready(&mut self, io: &mut IoCtx, ev: &mio::event::Event, opts: &Options) -> Progress {
        if self.connecting.is_none() {
            return Progress::Pending;
        }
        if self.socks.is_some() {
            self.socks_progress(io, opts)
        } else if ev.is_writable() || ev.is_error() || ev.is_write_closed() {
            self.connect_completed(io, opts)
        } else {
            Progress::Pending
        }
    }

    /// The ZMQ_CONNECT_TIMEOUT timer fired: the tcp connect under way, if any, is given up
    /// (its descriptor closed) and reported as a failed attempt.
    pub fn timed_out(&mut self, io: &mut IoCtx) -> Option<Failure> {
        self.timer = None;
        let mut s = self.connecting.take()?;
        s.deregister(io.registry);
        Some(Failure {
            fd: Some(s.raw_fd()),
            refused: false,
        })
    }

    fn stop_timer(&mut self, io: &mut IoCtx) {
        if let Some(t) = self.timer.take() {
            io.cancel_timer(t);
        }
    }

    /// Gives up the attempt under way, if any.
    pub fn abort(&mut self, io: &mut IoCtx) {
        self.stop_timer(io);
        self.socks = None;
        if let Some(mut s) = self.connecting.take() {
            s.deregister(io.registry);
        }
    }

    /// How long to wait (ms, at least 1) before the next attempt; the one after waits
    /// twice as long, up to RECONNECT_IVL_MAX (when that is above RECONNECT_IVL).
    pub fn next_interval(&mut self, opts: &Options) -> i32 {
        let wait = self.ivl.max(1);
        if opts.reconnect_ivl_max > opts.reconnect_ivl {
            self.ivl = (self.ivl * 2).min(opts.reconnect_ivl_max);
        }
        wait
    }

    /// The connect to the proxy or the target finished, one way or the other.
    fn connect_completed(&mut self, io: &mut IoCtx, opts: &Options) -> Progress {
        let Some(mut s) = self.connecting.take() else {
            return Progress::Pending;
        };
        self.stop_timer(io);
        let error = match &s {
            Connection::Tcp(t) => t.take_error(),
            Connection::Unix(u) => u.take_error(),
        };
        let connected = match &s {
            Connection::Tcp(t) => t.peer_addr().is_ok(),
            Connection::Unix(u) => u.peer_addr().is_ok(),
        };
        let error = match error {
            Ok(Some(e)) => e.raw_os_error(),
            Ok(None) if connected => None,
            _ => Some(0),
        };
        if let Some(errno) = error {
            s.deregister(io.registry);
            return Progress::Failed(Failure {
                fd: Some(s.raw_fd()),
                refused: errno == libc::ECONNREFUSED && opts.socks_proxy.is_empty(),
            });
        }
        let proxied = match &self.target {
            Target::Tcp { addr, .. } if !opts.socks_proxy.is_empty() => Some(addr),
            _ => None,
        };
        let Some(target) = proxied else {
            return self.connected(io, s, opts);
        };
        match socks::Handshake::new(target, &opts.socks_username, &opts.socks_password) {
            Ok(hs) => {
                // Same registration (both directions) for the handshake.
                self.socks = Some(hs);
                self.connecting = Some(s);
                self.socks_progress(io, opts)
            }
            Err(_) => {
                s.deregister(io.registry);
                Progress::Failed(Failure {
                    fd: Some(s.raw_fd()),
                    refused: false,
                })
            }
        }
    }

    /// Runs the SOCKS handshake as far as it goes; once the proxy is connected to the
    /// target, the stream is the target's. A refusal or a broken proxy fails the attempt.
    fn socks_progress(&mut self, io: &mut IoCtx, opts: &Options) -> Progress {
        let (Some(s), Some(hs)) = (self.connecting.as_mut(), self.socks.as_mut()) else {
            return Progress::Pending;
        };
        match socks::pump(hs, s) {
            Ok(false) => Progress::Pending,
            Ok(true) => {
                self.socks = None;
                match self.connecting.take() {
                    Some(s) => self.connected(io, s, opts),
                    None => Progress::Pending,
                }
            }
            Err(_) => {
                let fd = self.connecting.as_ref().map(|s| s.raw_fd());
                self.abort(io);
                Progress::Failed(Failure { fd, refused: false })
            }
        }
    }

    /// Connected to the peer (directly or through the proxy): the backoff starts over, and
    /// the stream, tuned, goes to the session's engine (which registers it anew).
    fn connected(&mut self, io: &mut IoCtx, mut s: Connection, opts: &Options) -> Progress {
        self.ivl = opts.reconnect_ivl;
        s.deregister(io.registry);
        if !net::tune(&s, opts) {
            return Progress::Failed(Failure {
                fd: Some(s.raw_fd()),
                refused: false,
            });
        }
        Progress::Connected(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(ivl: i32, max: i32) -> Options {
        let mut o = Options::new(crate::constants::ZMQ_DEALER);
        o.reconnect_ivl = ivl;
        o.reconnect_ivl_max = max;
        o
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum_and_never_waits_zero() {
        let o = opts(100, 700);
        let mut c = Connecter::new(
            Target::Tcp {
                addr: "h:1".into(),
                ipv6: false,
            },
            &o,
        );
        let waits: Vec<i32> = (0..5).map(|_| c.next_interval(&o)).collect();
        assert_eq!(waits, [100, 200, 400, 700, 700]);
        // No maximum (or one not above the interval): always the interval.
        let o = opts(100, 0);
        let mut c = Connecter::new(
            Target::Tcp {
                addr: "h:1".into(),
                ipv6: false,
            },
            &o,
        );
        assert_eq!([c.next_interval(&o), c.next_interval(&o)], [100, 100]);
        let o = opts(0, 0);
        let mut c = Connecter::new(
            Target::Tcp {
                addr: "h:1".into(),
                ipv6: false,
            },
            &o,
        );
        assert_eq!(c.next_interval(&o), 1);
        assert!(!c.is_connecting());
    }
}
