//! Socket monitoring (`zmq_socket_monitor`): every monitor event of a socket goes out
//! through its [`Monitor`].
//!
//! Ownership and threads: the socket holds the `Monitor`; each of its objects on I/O threads
//! (listeners, sessions) holds a clone and reports its own events from there, without
//! calling back into the socket. All clones share one sink: the PAIR socket the events are
//! sent to (bound at the address `zmq_socket_monitor` names, inproc only) with the mask of
//! events wanted. The sink is behind a mutex, taken only to emit an event or to start or
//! stop monitoring (never on the message path); events from one thread keep their order.
//!
//! Encoding, as libzmq (the version `zmq_socket_monitor_versioned` chose):
//! - version 1: two parts per event, a 6-byte one (the event number as a native-endian u16,
//!   then its value as a native-endian u32) and the endpoint's text (the bound endpoint for
//!   a listener's events and its connections', the connected one for a connecting
//!   socket's);
//! - version 2: the event as a native-endian u64, the number of values (u64), each value
//!   (u64), then the local and the remote endpoint's text, one part each.
//!
//! Sends never block: an event the monitor socket has no room for is dropped.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::constants::*;
use crate::ctx::CtxInner;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::SocketBase;

/// What an event is about: the local and the remote endpoint (libzmq's
/// `endpoint_uri_pair_t`). `bound`: the local end is a bound endpoint (a listener and
/// its connections), whose text version 1 reports; otherwise the remote one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub local: String,
    pub remote: String,
    pub bound: bool,
}

impl Endpoints {
    /// A bound endpoint, no peer (yet).
    pub fn bound(local: &str) -> Endpoints {
        Endpoints {
            local: local.to_string(),
            remote: String::new(),
            bound: true,
        }
    }

    /// An endpoint connected to, not connected yet.
    pub fn connecting(remote: &str) -> Endpoints {
        Endpoints {
            local: String::new(),
            remote: remote.to_string(),
            bound: false,
        }
    }

    /// The one endpoint of a version 1 event.
    fn identifier(&self) -> &str {
        if self.bound {
            &self.local
        } else {
            &self.remote
        }
    }
}

/// Where a socket's monitor events go: the monitor socket, the events it wants, and the
/// encoding.
struct Sink {
    socket: Box<SocketBase>,
    events: u64,
    version: i32,
}

/// A handle on a socket's monitor; clones share it. See the module documentation.
#[derive(Clone, Default)]
pub struct Monitor(Arc<Mutex<Option<Sink>>>);

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Monitor")
    }
}

impl Monitor {
    /// A monitor sending nowhere yet.
    pub fn new() -> Monitor {
        Monitor::default()
    }

    fn lock(&self) -> MutexGuard<'_, Option<Sink>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the monitor wants `event`.
    pub fn wants(&self, event: u64) -> bool {
        self.lock().as_ref().is_some_and(|s| s.events & event != 0)
    }

    /// Reports `event` with one value, about `at`, if it is wanted; from any thread.
    pub fn event(&self, event: i32, value: u32, at: &Endpoints) {
        self.emit(event as u32 as u64, &[u64::from(value)], at);
    }

    /// Reports `event` with its values (version 2 carries them all; version 1 the first).
    pub fn emit(&self, event: u64, values: &[u64], at: &Endpoints) {
        let mut guard = self.lock();
        let Some(sink) = guard.as_mut() else {
            return;
        };
        if sink.events & event == 0 {
            return;
        }
        let mut parts: Vec<Vec<u8>> = Vec::with_capacity(4 + values.len());
        match sink.version {
            1 => {
                let mut head = [0u8; 6];
                head[..2].copy_from_slice(&(event as u16).to_ne_bytes());
                let v = values.first().copied().unwrap_or(0) as u32;
                head[2..].copy_from_slice(&v.to_ne_bytes());
                parts.push(head.to_vec());
                parts.push(at.identifier().as_bytes().to_vec());
            }
            2 => {
                parts.push(event.to_ne_bytes().to_vec());
                parts.push((values.len() as u64).to_ne_bytes().to_vec());
                parts.extend(values.iter().map(|v| v.to_ne_bytes().to_vec()));
                parts.push(at.local.as_bytes().to_vec());
                parts.push(at.remote.as_bytes().to_vec());
            }
            // A version libzmq does not know: it sends nothing either.
            _ => return,
        }
        let last = parts.len() - 1;
        for (i, p) in parts.iter().enumerate() {
            let Ok(mut m) = Msg::from_slice(p) else {
                return;
            };
            let flags = if i < last { ZMQ_SNDMORE } else { 0 };
            // A part refused (no room, no peer) drops the event; the first part decides,
            // the others then always fit (a message counts once against the HWM).
            if sink.socket.send(&mut m, flags | ZMQ_DONTWAIT).is_err() {
                return;
            }
        }
    }

    /// Starts sending the events in `events`, encoded as `version` says, to a new socket of
    /// type `ty` (PAIR, PUB or PUSH) of `ctx` bound at `addr` (an inproc address, checked
    /// by the caller). Errors are the socket's and the bind's.
    pub fn start(
        &self,
        ctx: &Arc<CtxInner>,
        addr: &str,
        events: u64,
        version: i32,
        ty: i32,
    ) -> Result<()> {
        if !matches!(ty, ZMQ_PAIR | ZMQ_PUB | ZMQ_PUSH) {
            return Err(Error::Inval);
        }
        let mut socket = SocketBase::new(ctx, ty)?;
        // Never holds up the context's termination (libzmq sets it too).
        socket.options.linger = 0;
        if let Err(e) = socket.bind(addr) {
            socket.close();
            return Err(e);
        }
        *self.lock() = Some(Sink {
            socket,
            events,
            version,
        });
        Ok(())
    }

    /// Sends MONITOR_STOPPED (if wanted) and closes the monitor socket; nothing when not
    /// monitoring.
    pub fn stop(&self) {
        self.event(ZMQ_EVENT_MONITOR_STOPPED, 0, &Endpoints::default());
        let taken = self.lock().take();
        if let Some(mut sink) = taken {
            // The name is free when this returns: monitoring again at the same endpoint
            // works at once (the events already sent stay readable).
            sink.socket.release_inproc_names();
            sink.socket.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recv(s: &mut SocketBase) -> (Vec<u8>, bool) {
        let mut m = Msg::default();
        s.recv(&mut m, 0).unwrap();
        (m.data().to_vec(), m.more())
    }

    #[test]
    fn events_are_two_parts_filtered_by_the_mask_and_stop_is_the_last() {
        let ctx = CtxInner::new();
        let monitor = Monitor::new();
        // Not monitoring: nothing happens.
        let at = Endpoints::connecting("tcp://x:1");
        monitor.event(ZMQ_EVENT_CONNECTED, 1, &at);
        monitor
            .start(
                &ctx,
                "inproc://monitor-unit-test",
                (ZMQ_EVENT_CONNECTED | ZMQ_EVENT_MONITOR_STOPPED) as u64,
                1,
                ZMQ_PAIR,
            )
            .unwrap();
        let mut reader = SocketBase::new(&ctx, ZMQ_PAIR).unwrap();
        reader
            .setsockopt(ZMQ_RCVTIMEO, &5000i32.to_ne_bytes())
            .unwrap();
        reader.connect("inproc://monitor-unit-test").unwrap();

        let clone = monitor.clone();
        clone.event(ZMQ_EVENT_DISCONNECTED, 7, &at); // not wanted
        clone.event(ZMQ_EVENT_CONNECTED, 0x01020304, &at);
        let (head, more) = recv(&mut reader);
        assert!(more);
        let mut want = (ZMQ_EVENT_CONNECTED as u16).to_ne_bytes().to_vec();
        want.extend_from_slice(&0x01020304u32.to_ne_bytes());
        assert_eq!(head, want);
        assert_eq!(recv(&mut reader), (b"tcp://x:1".to_vec(), false));

        monitor.stop();
        let (head, _) = recv(&mut reader);
        assert_eq!(head[..2], (ZMQ_EVENT_MONITOR_STOPPED as u16).to_ne_bytes());
        assert_eq!(recv(&mut reader), (Vec::new(), false));
        // Stopped: events go nowhere, a second stop is harmless.
        clone.event(ZMQ_EVENT_CONNECTED, 1, &at);
        monitor.stop();
        reader.close();
        ctx.terminate().unwrap();
    }

    #[test]
    fn a_stopped_monitor_frees_its_endpoint_at_once() {
        let ctx = CtxInner::new();
        let monitor = Monitor::new();
        for _ in 0..50 {
            monitor
                .start(
                    &ctx,
                    "inproc://monitor-restart",
                    ZMQ_EVENT_ALL as u64,
                    1,
                    ZMQ_PAIR,
                )
                .unwrap();
            monitor.stop();
        }
        ctx.terminate().unwrap();
    }

    #[test]
    fn version_2_sends_64_bit_values_and_both_endpoints() {
        let ctx = CtxInner::new();
        let monitor = Monitor::new();
        monitor
            .start(&ctx, "inproc://monitor-v2", u64::MAX, 2, ZMQ_PAIR)
            .unwrap();
        let mut reader = SocketBase::new(&ctx, ZMQ_PAIR).unwrap();
        reader
            .setsockopt(ZMQ_RCVTIMEO, &5000i32.to_ne_bytes())
            .unwrap();
        reader.connect("inproc://monitor-v2").unwrap();
        let at = Endpoints {
            local: "tcp://127.0.0.1:5555".into(),
            remote: "tcp://127.0.0.1:40000".into(),
            bound: true,
        };
        monitor.emit(ZMQ_EVENT_PIPES_STATS as u64, &[3, 1 << 40], &at);
        let want: Vec<(Vec<u8>, bool)> = vec![
            ((ZMQ_EVENT_PIPES_STATS as u64).to_ne_bytes().to_vec(), true),
            (2u64.to_ne_bytes().to_vec(), true),
            (3u64.to_ne_bytes().to_vec(), true),
            ((1u64 << 40).to_ne_bytes().to_vec(), true),
            (b"tcp://127.0.0.1:5555".to_vec(), true),
            (b"tcp://127.0.0.1:40000".to_vec(), false),
        ];
        for w in want {
            assert_eq!(recv(&mut reader), w);
        }
        monitor.stop();
        reader.close();
        ctx.terminate().unwrap();
    }
}
