//! `zmq_proxy`, `zmq_proxy_steerable`, `zmq_device`: forward messages between two sockets,
//! optionally copying them to a capture socket, until the context terminates (or, when
//! steerable, until TERMINATE arrives on the control socket).

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

/// Moves one whole message from `from` to `to`, copying each part to `capture`.
fn forward(
    from: *mut c_void,
    to: *mut c_void,
    capture: *mut c_void,
    sin: &mut Stats,
    sout: &mut Stats,
) -> Result<()> {
    loop {
        let mut m = Msg::new();
        sock_mut(from)?.recv(&mut m, 0)?;
        let more = m.more();
        let size = m.size() as u64;
        sin.bytes_in += size;
        if !capture.is_null() {
            let mut c = m.share();
            sock_mut(capture)?.send(&mut c, if more { ZMQ_SNDMORE } else { 0 })?;
        }
        sock_mut(to)?.send(&mut m, if more { ZMQ_SNDMORE } else { 0 })?;
        sout.bytes_out += size;
        if !more {
            sin.msgs_in += 1;
            sout.msgs_out += 1;
            return Ok(());
        }
    }
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
    let mut fs = Stats::default();
    let mut bs = Stats::default();
    let mut paused = false;
    loop {
        let mut targets = vec![(Target::Socket(front), ZMQ_POLLIN as c_short)];
        if back != front {
            targets.push((Target::Socket(back), ZMQ_POLLIN as c_short));
        }
        if !control.is_null() {
            targets.push((Target::Socket(control), ZMQ_POLLIN as c_short));
        }
        let mut rev = vec![0 as c_short; targets.len()];
        poll_targets(&targets, &mut rev, -1)?;
        if !control.is_null() && rev[targets.len() - 1] != 0 {
            let mut cmd = Msg::new();
            sock_mut(control)?.recv(&mut cmd, 0)?;
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
        if rev[0] != 0 {
            forward(front, back, capture, &mut fs, &mut bs)?;
        }
        if back != front && rev[1] != 0 {
            forward(back, front, capture, &mut bs, &mut fs)?;
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
