//! `zmq_proxy`'s core: forwards messages between two sockets, optionally copying them to a
//! capture socket, until the context terminates (or, when steered, until TERMINATE arrives
//! on the control socket).
//!
//! Invariant: the proxy blocks only in its poll. A message is taken from one side only when
//! the other side can take it (POLLOUT); a direction whose destination is full waits for
//! that POLLOUT instead of its source's POLLIN, so a full or peerless destination neither
//! blocks the proxy (control stays responsive) nor makes it spin. Control messages are
//! copied to the capture socket too, as in libzmq.

use crate::constants::*;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::poll::{poll, PollItem, Target};
use crate::socket::SocketAccess;
use crate::socket::SocketBase;

/// The sockets of a proxy, as indices into the socket list given to [`run`]. Roles may
/// share a socket: `front == back` is a single-socket proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub front: usize,
    pub back: usize,
    pub capture: Option<usize>,
    pub control: Option<usize>,
}

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
    socks: &mut [&mut SocketBase],
    from: usize,
    to: usize,
    capture: Option<usize>,
    sin: &mut Stats,
    sout: &mut Stats,
) -> Result<()> {
    for _ in 0..BURST {
        if to != from && !socks[to].writable()? {
            return Ok(());
        }
        let mut size = 0u64;
        let mut first = true;
        loop {
            let mut m = Msg::new();
            // The first part may be missing (end of burst); later parts are there: a
            // message's parts arrive together.
            match socks[from].recv(&mut m, if first { ZMQ_DONTWAIT } else { 0 }) {
                Err(Error::Again) if first => return Ok(()),
                r => r?,
            }
            first = false;
            let more = m.more();
            size += m.size() as u64;
            let flags = if more { ZMQ_SNDMORE } else { 0 };
            if let Some(c) = capture {
                let mut copy = m.share();
                socks[c].send(&mut copy, flags)?;
            }
            // HWM counts whole messages, so once the first part went, the rest go too.
            socks[to].send(&mut m, flags)?;
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

/// Runs the proxy over `socks` in `roles` until TERMINATE arrives on the control socket
/// (`Ok`) or a socket fails (ETERM when the context terminates).
pub fn run(socks: &mut [&mut SocketBase], roles: Roles) -> Result<()> {
    let Roles {
        front,
        back,
        capture,
        control,
    } = roles;
    let single = front == back;
    let mut fs = Stats::default();
    let mut bs = Stats::default();
    let mut paused = false;
    let mut blocked = Blocked::default();
    let (pin, pout) = (ZMQ_POLLIN as i16, ZMQ_POLLOUT as i16);
    loop {
        // While paused only control is watched; otherwise each direction waits either for
        // input (its source) or, when blocked, for room (its destination).
        let mut items = Vec::with_capacity(3);
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
                items.push(PollItem::new(Target::Socket(front), fev));
            }
            if bev != 0 {
                items.push(PollItem::new(Target::Socket(back), bev));
            }
        }
        if let Some(c) = control {
            items.push(PollItem::new(Target::Socket(c), pin));
        }
        if items.is_empty() {
            // Paused without a control socket cannot happen; nothing to wait for otherwise.
            return Err(Error::Fault);
        }
        {
            let mut access: Vec<SocketAccess<'_>> =
                socks.iter_mut().map(|s| SocketAccess::Classic(s)).collect();
            poll(&mut access, &mut items, -1)?;
        }
        if let Some(c) = control.filter(|_| items[items.len() - 1].revents != 0) {
            let mut cmd = Msg::new();
            socks[c].recv(&mut cmd, 0)?;
            if cmd.more() {
                return Err(Error::Inval);
            }
            if let Some(cap) = capture {
                let mut copy = cmd.share();
                socks[cap].send(&mut copy, 0)?;
            }
            match cmd.data() {
                b"PAUSE" => paused = true,
                b"RESUME" => paused = false,
                b"TERMINATE" => return Ok(()),
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
                        socks[c].send(&mut m, if i < 7 { ZMQ_SNDMORE } else { 0 })?;
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
        let fe = socks[front].events()? as i16;
        let be = if single {
            0
        } else {
            socks[back].events()? as i16
        };
        if fe & pin != 0 {
            if single || be & pout != 0 {
                forward(socks, front, back, capture, &mut fs, &mut bs)?;
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
                    forward(socks, back, front, capture, &mut bs, &mut fs)?;
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
