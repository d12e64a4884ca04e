//! The inproc transport: two sockets of one context joined by a pipe, with no I/O thread.
//!
//! A bind registers the name in the context ([`bind`]); a connect finds the binder there and
//! sends it its end of a new pipe (`Command::Bind`), or, when the name is not bound yet,
//! leaves the binder's end pending in the context, which the bind later claims
//! ([`accept_pending`]). Routing ids travel as the first message of each direction, for the
//! sides that want them. The HWM of each direction is the sum of both sides' (0 on either
//! side: unlimited), as in libzmq; inproc does not check socket-type compatibility.
//!
//! Threads: everything here runs on the thread of the socket that binds or connects; the
//! pipe ends are then attached by their sockets (the caller, or the binder through its
//! mailbox).

use std::sync::Arc;

use crate::command::Command;
use crate::ctx::{BoundEndpoint, CtxInner, PendingConnection};
use crate::error::Result;
use crate::msg::{self, Msg};
use crate::options::Options;
use crate::pipe::{pipepair_parts, Pipe};

/// Registers `name` for the binder `me`; EADDRINUSE when it is taken. Returns the
/// connections that were waiting for it (each to go through [`accept_pending`]).
pub fn bind(ctx: &CtxInner, name: &str, me: BoundEndpoint) -> Result<Vec<PendingConnection>> {
    ctx.register_endpoint(name, me)
}

/// The binder's end of a connection made before the bind of `name`, ready to attach: HWMs
/// summed, the binder's routing id sent when the connecter wants it.
pub fn accept_pending(mut pc: PendingConnection, name: &str, opts: &Options) -> Pipe {
    // The connector wrote its routing id first; keep it only if we want it.
    if !opts.recv_routing_id {
        if let Some(m) = pc.pipe.read() {
            if m.flags() & msg::ROUTING_ID == 0 {
                // Not a routing id after all: this cannot happen, but never lose data.
                debug_assert!(false, "pending inproc pipe did not start with a routing id");
            }
        }
    }
    // Inproc HWM is the sum of both sides' (0 on either side: unlimited).
    pc.pipe.set_local_hwms(opts.sndhwm, opts.rcvhwm);
    if pc.recv_routing_id {
        pc.pipe.write_unchecked(routing_id_msg(&opts.routing_id));
        pc.pipe.flush();
    }
    if opts.sends_hello() {
        send_hello(&mut pc.pipe, &opts.hello_msg);
    }
    pc.pipe.endpoint = Some(format!("inproc://{name}"));
    pc.pipe
}

/// Connects to `name` (`addr` is the whole endpoint): returns the connecter's end of the
/// pipe, to attach; the binder's end went to the binder, or waits in the context for the
/// bind. ETERM once the context is terminating.
pub fn connect(ctx: &Arc<CtxInner>, name: &str, addr: &str, o: &Options) -> Result<Pipe> {
    let mut made: Option<Pipe> = None;
    let bound = ctx.find_endpoint_or_pend(name, || {
        // No binder yet: queue the binder's end in the context with our HWMs; the bind
        // fixes them up. Our routing id goes first; the binder drops it if unwanted.
        let (mut mine, mut theirs) = pipepair_parts([o.sndhwm as i64, -1], [-1, o.rcvhwm as i64]);
        mine.write_unchecked(routing_id_msg(&o.routing_id));
        mine.flush();
        if o.sends_hello() {
            send_hello(&mut mine, &o.hello_msg);
        }
        theirs.endpoint = Some(addr.to_string());
        let pc = PendingConnection {
            pipe: theirs,
            recv_routing_id: o.recv_routing_id,
        };
        made = Some(mine);
        pc
    })?;
    let mut mine = match bound {
        None => made.expect("pending connection made its pipe"),
        Some(b) => {
            let (mut mine, mut theirs) = pipepair_parts(
                [o.sndhwm as i64, b.sndhwm as i64],
                [b.rcvhwm as i64, o.rcvhwm as i64],
            );
            if b.recv_routing_id {
                mine.write_unchecked(routing_id_msg(&o.routing_id));
                mine.flush();
            }
            if o.recv_routing_id {
                theirs.write_unchecked(routing_id_msg(&b.routing_id));
                theirs.flush();
            }
            // ZMQ_HELLO_MSG: each side's goes first to the other.
            if o.sends_hello() {
                send_hello(&mut mine, &o.hello_msg);
            }
            if !b.hello.is_empty() {
                send_hello(&mut theirs, &b.hello);
            }
            theirs.endpoint = Some(addr.to_string());
            b.mailbox.send(Command::Bind(Box::new(theirs)));
            mine
        }
    };
    mine.endpoint = Some(addr.to_string());
    Ok(mine)
}

/// Connects a session to the ZAP handler bound at `inproc://zeromq.zap.01` (RFC 27): a
/// pipe with no HWM either way, the handler's end sent to its socket, an empty routing id
/// first when the handler's socket wants one (a ROUTER or REP). Returns the session's end,
/// to attach; `None` when no handler is bound.
pub fn connect_zap(ctx: &CtxInner) -> Option<Pipe> {
    let b = ctx.find_endpoint(crate::mechanism::zap::ENDPOINT)?;
    let (mut mine, mut theirs) = pipepair_parts([0, 0], [-1, -1]);
    if b.recv_routing_id {
        mine.write_unchecked(routing_id_msg(b""));
        mine.flush();
    }
    theirs.endpoint = Some(format!("inproc://{}", crate::mechanism::zap::ENDPOINT));
    b.mailbox.send(Command::Bind(Box::new(theirs)));
    Some(mine)
}

/// Writes ZMQ_HELLO_MSG into a new pipe, for the peer (ignoring the HWM: it comes first).
fn send_hello(pipe: &mut Pipe, hello: &[u8]) {
    if let Ok(m) = Msg::from_slice(hello) {
        pipe.write_unchecked(m);
        pipe.flush();
    }
}

/// A routing-id message carrying `id`.
fn routing_id_msg(id: &[u8]) -> Msg {
    let mut m = Msg::from_slice(id).unwrap_or_default();
    m.set_flags(msg::ROUTING_ID);
    m
}
