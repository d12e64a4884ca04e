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
//! Encoding, as libzmq 4.x: two parts per event, a 6-byte one (the event number as a
//! native-endian u16, then the value as a native-endian u32) and the endpoint's text.
//! Sends never block: an event the PAIR socket has no room for is dropped.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::constants::*;
use crate::ctx::CtxInner;
use crate::error::Result;
use crate::msg::Msg;
use crate::socket::SocketBase;

/// Where a socket's monitor events go: the PAIR socket, and the events it wants.
struct Sink {
    pair: Box<SocketBase>,
    events: i32,
}

/// A handle on a socket's monitor; clones share it. See the module documentation.
#[derive(Clone, Default)]
pub struct Monitor(Arc<Mutex<Option<Sink>>>);

impl Monitor {
    /// A monitor sending nowhere yet.
    pub fn new() -> Monitor {
        Monitor::default()
    }

    fn lock(&self) -> MutexGuard<'_, Option<Sink>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reports `event` (with its value, about `endpoint`), if it is wanted; from any thread.
    pub fn event(&self, event: i32, value: u32, endpoint: &str) {
        let mut guard = self.lock();
        let Some(sink) = guard.as_mut() else {
            return;
        };
        if sink.events & event == 0 {
            return;
        }
        let mut head = [0u8; 6];
        head[..2].copy_from_slice(&(event as u16).to_ne_bytes());
        head[2..].copy_from_slice(&value.to_ne_bytes());
        if let (Ok(mut m1), Ok(mut m2)) =
            (Msg::from_slice(&head), Msg::from_slice(endpoint.as_bytes()))
        {
            if sink.pair.send(&mut m1, ZMQ_SNDMORE | ZMQ_DONTWAIT).is_ok() {
                let _ = sink.pair.send(&mut m2, ZMQ_DONTWAIT);
            }
        }
    }

    /// Starts sending the events in `events` to a new PAIR socket of `ctx` bound at `addr`
    /// (an inproc address, checked by the caller). Errors are the bind's.
    pub fn start(&self, ctx: &Arc<CtxInner>, addr: &str, events: i32) -> Result<()> {
        let mut pair = SocketBase::new(ctx, ZMQ_PAIR)?;
        if let Err(e) = pair.bind(addr) {
            pair.close();
            return Err(e);
        }
        *self.lock() = Some(Sink { pair, events });
        Ok(())
    }

    /// Sends MONITOR_STOPPED (if wanted) and closes the PAIR socket; nothing when not
    /// monitoring.
    pub fn stop(&self) {
        self.event(ZMQ_EVENT_MONITOR_STOPPED, 0, "");
        let taken = self.lock().take();
        if let Some(mut sink) = taken {
            // The name is free when this returns: monitoring again at the same endpoint
            // works at once (the events already sent stay readable).
            sink.pair.release_inproc_names();
            sink.pair.close();
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
        monitor.event(ZMQ_EVENT_CONNECTED, 1, "tcp://x:1");
        monitor
            .start(
                &ctx,
                "inproc://monitor-unit-test",
                ZMQ_EVENT_CONNECTED | ZMQ_EVENT_MONITOR_STOPPED,
            )
            .unwrap();
        let mut reader = SocketBase::new(&ctx, ZMQ_PAIR).unwrap();
        reader
            .setsockopt(ZMQ_RCVTIMEO, &5000i32.to_ne_bytes())
            .unwrap();
        reader.connect("inproc://monitor-unit-test").unwrap();

        let clone = monitor.clone();
        clone.event(ZMQ_EVENT_DISCONNECTED, 7, "tcp://x:1"); // not wanted
        clone.event(ZMQ_EVENT_CONNECTED, 0x01020304, "tcp://x:1");
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
        clone.event(ZMQ_EVENT_CONNECTED, 1, "tcp://x:1");
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
                .start(&ctx, "inproc://monitor-restart", ZMQ_EVENT_ALL)
                .unwrap();
            monitor.stop();
        }
        ctx.terminate().unwrap();
    }
}
