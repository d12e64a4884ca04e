//! `zmq_proxy`, `zmq_proxy_steerable`, `zmq_device`: forward messages between two sockets,
//! optionally copying them to a capture socket, until the context terminates (or, when
//! steerable, until TERMINATE arrives on the control socket).
//!
//! Invariant: the proxy blocks only in its poll. A message is taken from one side only when
//! the other side can take it (POLLOUT); a direction whose destination is full waits for
//! that POLLOUT instead of its source's POLLIN, so a full or peerless destination neither
//! blocks the proxy (control stays responsive) nor makes it spin. Control messages are
//! copied to the capture socket too, as in libzmq.

use std::ffi::{c_int, c_short, c_void};

use super::guard;
use super::poll::{poll_targets, Target};
use super::socket::sock_mut;
use crate::constants::*;
use crate::error::{Error, Result};
use crate::msg::Msg;

#[derive(Default)]
struct Stats {
    msgs_in: u64,
    bytes_in: u64,
    msgs_out: u64,
    bytes_out: u64,
}

/// At most this many messages go one way before the other way and control get a turn.
const BURST: usize = 1000;

/// Moves whole messages from `from` to `to` (copying each part to `capture`) while `from`
/// has one and `to` can take one, up to [`BURST`]. A message is received only when `to` can
/// take it, so the proxy never blocks on a full or peerless destination (it would then miss
/// TERMINATE). `to == from` (a single-socket proxy) is always writable.
fn forward(
    from: *mut c_void,
    to: *mut c_void,
    capture: *mut c_void,
    sin: &mut Stats,
    sout: &mut Stats,
) -> Result<()> {
    for _ in 0..BURST {
        if to != from && !sock_mut(to)?.writable()? {
            return Ok(());
        }
        let mut size = 0u64;
        let mut first = true;
        loop {
            let mut m = Msg::new();
            // The first part may be missing (end of burst); later parts are there: a
            // message's parts arrive together.
            match sock_mut(from)?.recv(&mut m, if first { ZMQ_DONTWAIT } else { 0 }) {
                Err(Error::Again) if first => return Ok(()),
                r => r?,
            }
            first = false;
            let more = m.more();
            size += m.size() as u64;
            let flags = if more { ZMQ_SNDMORE } else { 0 };
            if !capture.is_null() {
                let mut c = m.share();
                sock_mut(capture)?.send(&mut c, flags)?;
            }
            // HWM counts whole messages, so once the first part went, the rest go too.
            sock_mut(to)?.send(&mut m, flags)?;
            if !more {
                break;
            }
        }
        sin.msgs_in += 1;
        sin.bytes_in += size;
        sout.msgs_out += 1;
        sout.bytes_out += size;
    }
    Ok(())
}

/// One direction of the proxy: `from` had a message that `to` could not take yet, so the
/// proxy waits for `to`'s POLLOUT instead of `from`'s POLLIN (which would spin).
#[derive(Default, Clone, Copy)]
struct Blocked {
    front_to_back: bool,
    back_to_front: bool,
}

fn run(
    front: *mut c_void,
    back: *mut c_void,
    capture: *mut c_void,
    control: *mut c_void,
) -> Result<c_int> {
    if front.is_null() || back.is_null() {
        return Err(Error::Fault);
    }
    sock_mut(front)?;
    sock_mut(back)?;
    let single = front == back;
    let mut fs = Stats::default();
    let mut bs = Stats::default();
    let mut paused = false;
    let mut blocked = Blocked::default();
    let (pin, pout) = (ZMQ_POLLIN as c_short, ZMQ_POLLOUT as c_short);
    loop {
        // While paused only control is watched; otherwise each direction waits either for
        // input (its source) or, when blocked, for room (its destination).
        let mut targets = Vec::with_capacity(3);
        if !paused {
            let mut fev = if blocked.front_to_back { 0 } else { pin };
            let mut bev = 0;
            if blocked.front_to_back && !single {
                bev |= pout;
            }
            if !single {
                if blocked.back_to_front {
                    fev |= pout;
                } else {
                    bev |= pin;
                }
            }
            if fev != 0 {
                targets.push((Target::Socket(front), fev));
            }
            if bev != 0 {
                targets.push((Target::Socket(back), bev));
            }
        }
        if !control.is_null() {
            targets.push((Target::Socket(control), pin));
        }
        if targets.is_empty() {
            // Paused without a control socket cannot happen; nothing to wait for otherwise.
            return Err(Error::Fault);
        }
        let mut rev = vec![0 as c_short; targets.len()];
        poll_targets(&targets, &mut rev, -1)?;
        if !control.is_null() && rev[targets.len() - 1] != 0 {
            let mut cmd = Msg::new();
            sock_mut(control)?.recv(&mut cmd, 0)?;
            if cmd.more() {
                return Err(Error::Inval);
            }
            if !capture.is_null() {
                let mut c = cmd.share();
                sock_mut(capture)?.send(&mut c, 0)?;
            }
            match cmd.data() {
                b"PAUSE" => paused = true,
                b"RESUME" => paused = false,
                b"TERMINATE" => return Ok(0),
                b"STATISTICS" => {
                    let vals = [
                        fs.msgs_in,
                        fs.bytes_in,
                        fs.msgs_out,
                        fs.bytes_out,
                        bs.msgs_in,
                        bs.bytes_in,
                        bs.msgs_out,
                        bs.bytes_out,
                    ];
                    for (i, v) in vals.iter().enumerate() {
                        let mut m = Msg::from_slice(&v.to_ne_bytes())?;
                        sock_mut(control)?.send(&mut m, if i < 7 { ZMQ_SNDMORE } else { 0 })?;
                    }
                }
                _ => {}
            }
            continue;
        }
        if paused {
            continue;
        }
        // Look at both sockets afresh: the poll result covers only what was asked.
        let fe = sock_mut(front)?.events()? as c_short;
        let be = if single {
            0
        } else {
            sock_mut(back)?.events()? as c_short
        };
        if fe & pin != 0 {
            if single || be & pout != 0 {
                forward(front, back, capture, &mut fs, &mut bs)?;
                blocked.front_to_back = false;
            } else {
                blocked.front_to_back = true;
            }
        } else {
            blocked.front_to_back = false;
        }
        if !single {
            if be & pin != 0 {
                if fe & pout != 0 {
                    forward(back, front, capture, &mut bs, &mut fs)?;
                    blocked.back_to_front = false;
                } else {
                    blocked.back_to_front = true;
                }
            } else {
                blocked.back_to_front = false;
            }
        }
    }
}

/// Forwards between `frontend` and `backend` until the context terminates.
///
/// # Safety
/// Arguments must be socket handles (capture may be NULL).
#[no_mangle]
pub unsafe extern "C" fn zmq_proxy(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
) -> c_int {
    guard(|| run(frontend, backend, capture, std::ptr::null_mut()))
}

/// As `zmq_proxy`, steered by PAUSE / RESUME / TERMINATE / STATISTICS on `control`.
///
/// # Safety
/// Arguments must be socket handles (capture and control may be NULL).
#[no_mangle]
pub unsafe extern "C" fn zmq_proxy_steerable(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
    control: *mut c_void,
) -> c_int {
    guard(|| run(frontend, backend, capture, control))
}

/// Old API: `zmq_proxy` without capture (the device type is ignored, as in libzmq).
///
/// # Safety
/// Arguments must be socket handles.
#[no_mangle]
pub unsafe extern "C" fn zmq_device(
    _type: c_int,
    frontend: *mut c_void,
    backend: *mut c_void,
) -> c_int {
    guard(|| {
        run(
            frontend,
            backend,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    })
}
