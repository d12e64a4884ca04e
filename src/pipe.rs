//! Pipes: a bidirectional message channel between two objects (two sockets for inproc, a
//! socket and a session otherwise), made of two lock-free queues (`ypipe`).
//!
//! Ownership: each `Pipe` value is one end, owned by exactly one object and used only on that
//! object's thread. The ends share a `PipePair`: the per-direction HWMs and, for each end, the
//! address (mailbox + slot) where commands for it go. An end not yet attached to an owner
//! (an inproc connect before the bind) keeps its commands pending until `attach`.
//!
//! Flow control: an end may write while `msgs_written - peers_msgs_read < hwm` (0 means no
//! limit), counting whole messages. The reader gives credit back with `ActivateWrite` every
//! `lwm` messages. A writer wakes a sleeping reader with `ActivateRead` (only then).
//!
//! Termination (both ends must agree, so no message is lost or read after the end):
//! `terminate` writes a delimiter after the pending messages and sends `Term`; the peer,
//! with `delay` set, keeps delivering messages until it reads the delimiter, then acks;
//! an end is gone for its owner when it receives `TermAck` ([`PipeEvent::Terminated`]).

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::command::{Command, PipeAddr, PipeCmd};
use crate::mailbox::Mailbox;
use crate::msg::{self, Msg};
use crate::watch::{CatchUp, Look};
use crate::ypipe::{ypipe, Reader, Writer};

static NEXT_PIPE_ID: AtomicU64 = AtomicU64::new(1);

/// The low-water mark for a given HWM: the reader gives credit back every `lwm` messages.
/// Half the HWM, as libzmq 4.3 does: a writer that stopped short of the HWM (a PUB that drops
/// above it) must get credit after at most half the HWM is read, not only when nearly all of
/// it is (the older `hwm - 1024` rule left a 9999-message burst under an 11024 HWM uncredited).
fn compute_lwm(hwm: u64) -> u64 {
    hwm.div_ceil(2)
}

#[derive(Default)]
struct EndAddr {
    mailbox: Option<Arc<Mailbox>>,
    index: usize,
    id: u64,
    pending: Vec<PipeCmd>,
}

/// State shared by the two ends of a pipe.
struct PipePair {
    /// For the queue written by end d: the writer's SNDHWM (`w[d]`) and the reader's RCVHWM
    /// (`r[d]`), -1 where that side is unknown (an inproc connect before the bind). Over
    /// inproc the HWM of a queue is the sum of both, 0 (no limit) if either is 0.
    w: [AtomicI64; 2],
    r: [AtomicI64; 2],
    ends: [Mutex<EndAddr>; 2],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Active,
    DelimiterReceived,
    WaitingForDelimiter,
    TermAckSent,
    TermReqSent1,
    TermReqSent2,
}

/// What the owner must do after a pipe processed a command.
#[derive(Debug, PartialEq, Eq)]
pub enum PipeEvent {
    /// Nothing.
    None,
    /// Messages can be read again.
    ReadActivated,
    /// Messages can be written again.
    WriteActivated,
    /// The pipe is finished: drop every reference to it.
    Terminated,
    /// The peer's connection came back after a break (see `Pipe::hiccup`).
    Hiccuped,
    /// The peer asks for queue counts (`zmq_socket_monitor_pipes_stats`): its count, then
    /// this end's (messages written, not yet acknowledged as read by the other end).
    StatsQuery(u64, u64),
    /// The answer to this end's query, through an inproc peer: this end's count, then the
    /// peer's.
    StatsReply(u64, u64),
}

/// One end of a pipe. See the module documentation.
pub struct Pipe {
    id: u64,
    side: usize,
    pair: Arc<PipePair>,
    inpipe: Option<Reader<Msg>>,
    outpipe: Option<Writer<Msg>>,
    in_active: bool,
    out_active: bool,
    msgs_read: u64,
    /// `msgs_read` when the last credit (`ActivateWrite`) was sent: one goes every LWM
    /// messages (no division on the hot path; a changed HWM applies from the next message).
    last_credit: u64,
    msgs_written: u64,
    peers_msgs_read: u64,
    state: State,
    delay: bool,
    /// Routing id of the peer (ROUTER, STREAM), set by the socket when it attaches the pipe.
    /// Before that, the id chosen with ZMQ_CONNECT_ROUTING_ID for the zmq_connect that made
    /// the pipe (empty: none), which the socket uses unless another pipe has it.
    pub routing_id: Vec<u8>,
    /// The endpoint this pipe was created for (for unbind/disconnect), if any.
    pub endpoint: Option<String>,
    /// Whether this end's owner created the connection (connect side).
    pub locally_initiated: bool,
    /// ZMQ_DISCONNECT_MSG of this end's socket: read as the last message when the peer
    /// ends the pipe (an inproc peer that went away; set by the socket at attach).
    pub disconnect_msg: Option<Vec<u8>>,
    /// The disconnect message, due after the peer's delimiter.
    final_msg: Option<Msg>,
    /// The peer takes every message, having no way to subscribe (a RADIO's udp endpoint:
    /// datagrams carry no JOIN); libzmq's `subscribe_to_all`.
    pub subscribe_all: bool,
    conflate: bool,
}

/// Creates a pipe: `hwms[0]` limits messages from end 0 to end 1, `hwms[1]` the reverse.
#[cfg(any(test, feature = "fuzzing"))]
pub fn pipepair(hwms: [u64; 2]) -> (Pipe, Pipe) {
    pipepair_parts([hwms[0] as i64, hwms[1] as i64], [-1, -1])
}

/// Creates a pipe from both sides' HWMs: `w[d]` is the SNDHWM of the end writing queue d,
/// `r[d]` the RCVHWM of the end reading it (-1: not known yet).
pub fn pipepair_parts(w: [i64; 2], r: [i64; 2]) -> (Pipe, Pipe) {
    let pair = Arc::new(PipePair {
        w: [AtomicI64::new(w[0]), AtomicI64::new(w[1])],
        r: [AtomicI64::new(r[0]), AtomicI64::new(r[1])],
        ends: [
            Mutex::new(EndAddr::default()),
            Mutex::new(EndAddr::default()),
        ],
    });
    let (w0, mut r0) = ypipe();
    let (w1, mut r1) = ypipe();
    // Each reader starts asleep: the first message wakes its owner with a command, so a
    // socket's ZMQ_FD signals it even when the application has not looked at the socket
    // since it was made (libzmq's fd is readable then too). One command per pipe.
    r0.check_read();
    r1.check_read();
    let id0 = NEXT_PIPE_ID.fetch_add(2, Ordering::Relaxed);
    let mk = |side: usize, id: u64, inpipe, outpipe| Pipe {
        id,
        side,
        pair: pair.clone(),
        inpipe: Some(inpipe),
        outpipe: Some(outpipe),
        in_active: true,
        out_active: true,
        msgs_read: 0,
        last_credit: 0,
        msgs_written: 0,
        peers_msgs_read: 0,
        state: State::Active,
        delay: true,
        routing_id: Vec::new(),
        endpoint: None,
        locally_initiated: false,
        disconnect_msg: None,
        final_msg: None,
        subscribe_all: false,
        conflate: false,
    };
    let a = mk(0, id0, r1, w0);
    let b = mk(1, id0 + 1, r0, w1);
    (a, b)
}

fn lock(m: &Mutex<EndAddr>) -> std::sync::MutexGuard<'_, EndAddr> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pipe {
    /// The unique id of this end.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The owner never reads this pipe (PUSH): when the peer ends it, acknowledge at once
    /// instead of waiting to read up to the delimiter.
    pub fn set_nodelay(&mut self) {
        self.delay = false;
    }

    /// The unique id of the other end.
    pub fn peer_id(&self) -> u64 {
        if self.side == 0 {
            self.id + 1
        } else {
            self.id - 1
        }
    }

    /// Makes `mailbox` the owner of this end, at `index` in its pipe table; commands that
    /// arrived before are delivered now.
    pub fn attach(&mut self, mailbox: Arc<Mailbox>, index: usize) {
        let pending = {
            let mut a = lock(&self.pair.ends[self.side]);
            a.mailbox = Some(mailbox.clone());
            a.index = index;
            a.id = self.id;
            std::mem::take(&mut a.pending)
        };
        for c in pending {
            mailbox.send(Command::Pipe(PipeAddr { index, id: self.id }, c));
        }
    }

    fn send_peer(&self, cmd: PipeCmd) {
        let mut a = lock(&self.pair.ends[1 - self.side]);
        match &a.mailbox {
            Some(mb) => mb.send(Command::Pipe(
                PipeAddr {
                    index: a.index,
                    id: a.id,
                },
                cmd,
            )),
            None => a.pending.push(cmd),
        }
    }

    fn hwm(&self, d: usize) -> u64 {
        let w = self.pair.w[d].load(Ordering::Relaxed);
        let r = self.pair.r[d].load(Ordering::Relaxed);
        let h = match (w, r) {
            (w, _) if w < 0 => r,
            (w, r) if r < 0 => w,
            (0, _) | (_, 0) => 0,
            (w, r) => w + r,
        };
        h.max(0) as u64
    }

    fn out_hwm(&self) -> u64 {
        self.hwm(self.side)
    }

    fn in_lwm(&self) -> u64 {
        compute_lwm(self.hwm(1 - self.side))
    }

    /// Records this end's owner's SNDHWM (for the queue it writes) and RCVHWM (for the
    /// queue it reads); takes effect at once on both ends.
    pub fn set_local_hwms(&self, sndhwm: i32, rcvhwm: i32) {
        self.pair.w[self.side].store(sndhwm as i64, Ordering::Relaxed);
        self.pair.r[1 - self.side].store(rcvhwm as i64, Ordering::Relaxed);
    }

    /// Whether a message can be read now. When not, the reader sleeps until `ActivateRead`.
    pub fn check_read(&mut self) -> bool {
        if self.final_msg.is_some() {
            return true;
        }
        if !self.in_active || !matches!(self.state, State::Active | State::WaitingForDelimiter) {
            return false;
        }
        let Some(inp) = self.inpipe.as_mut() else {
            return false;
        };
        match inp.probe() {
            None => {
                self.in_active = false;
                false
            }
            Some(m) if m.is_delimiter() => {
                inp.read();
                self.process_delimiter();
                self.final_msg.is_some()
            }
            Some(_) => true,
        }
    }

    /// Reads one message, if one is available. With ZMQ_CONFLATE only the newest queued
    /// message is returned; older ones are dropped.
    pub fn read(&mut self) -> Option<Msg> {
        let mut m = self.read_one(true)?;
        if self.conflate {
            while self.check_read() {
                match self.read_one(true) {
                    Some(newer) => m = newer,
                    None => break,
                }
            }
        }
        Some(m)
    }

    /// Keep only the newest message when reading (ZMQ_CONFLATE); HWMs do not apply.
    pub fn set_conflate(&mut self) {
        self.conflate = true;
        self.pair.w[self.side].store(0, Ordering::Relaxed);
        self.pair.r[1 - self.side].store(-1, Ordering::Relaxed);
        self.pair.w[1 - self.side].store(0, Ordering::Relaxed);
        self.pair.r[self.side].store(-1, Ordering::Relaxed);
    }

    /// As [`read`](Self::read), but when nothing is there the pipe does not go to sleep:
    /// the writer will not wake the reader, who must look again later and end with `read`
    /// (for an engine pulling while it writes: no sleep and wake-up per batch).
    pub fn read_awake(&mut self) -> Option<Msg> {
        if self.conflate {
            return self.read();
        }
        self.read_one(false)
    }

    /// As [`read`](Self::read), into `dst`, which the caller has emptied (`Msg::clear`):
    /// the message goes straight from the queue's slot to its place, with no temporary
    /// (see DESIGN.md, "The message path"). Returns whether a part was read.
    #[inline]
    pub fn read_into(&mut self, dst: &mut Msg) -> bool {
        if self.conflate {
            return match self.read() {
                Some(m) => {
                    *dst = m;
                    true
                }
                None => false,
            };
        }
        self.read_one_into(dst, true)
    }

    /// As [`read`](Self::read) (with `sleep`) or [`read_awake`](Self::read_awake)
    /// (without), the message handed to `f` where it lies in the queue, with no move on the
    /// way (`ypipe::Reader::read_with`): `f` may take it; what it leaves is dropped there.
    /// None when nothing was read.
    #[inline]
    pub fn read_with<R>(&mut self, sleep: bool, f: impl FnOnce(&mut Msg) -> R) -> Option<R> {
        if self.conflate || self.final_msg.is_some() {
            let mut m = if sleep {
                self.read()?
            } else {
                self.read_awake()?
            };
            return Some(f(&mut m));
        }
        if !self.in_active || !matches!(self.state, State::Active | State::WaitingForDelimiter) {
            return None;
        }
        let inp = self.inpipe.as_mut()?;
        let mut f = Some(f);
        let mut counts = false;
        let got = inp.read_with(sleep, |m| {
            if m.is_delimiter() {
                return None;
            }
            counts = !m.more() && m.flags() & msg::ROUTING_ID == 0;
            f.take().map(|f| f(m))
        });
        match got {
            None => {
                if sleep {
                    self.in_active = false;
                }
                None
            }
            Some(Some(r)) => {
                if counts {
                    self.count_read();
                }
                Some(r)
            }
            Some(None) => {
                // The peer's delimiter; then its disconnect message, if any.
                self.process_delimiter();
                let mut m = self.final_msg.take()?;
                f.take().map(|f| f(&mut m))
            }
        }
    }

    /// Whether a reader that finds this pipe empty could see messages come by watching it:
    /// it is awake, live, and not conflating.
    pub fn watchable(&self) -> bool {
        !self.conflate
            && self.final_msg.is_none()
            && self.in_active
            && self.inpipe.is_some()
            && matches!(self.state, State::Active | State::WaitingForDelimiter)
    }

    /// As [`read_into`](Self::read_into); when the queue is empty, its reader first
    /// watches it a while without going to sleep (the catch-up watch, `crate::watch`), so
    /// that a writer just behind need not wake it with a command. Sleeps as `read` when the
    /// watch ends empty.
    pub fn read_into_watched(
        &mut self,
        dst: &mut Msg,
        mailbox: &Mailbox,
        watch: &mut CatchUp,
    ) -> bool {
        if !self.watchable() {
            return self.read_into(dst);
        }
        self.read_one_into(dst, false)
            || watch.watch(mailbox, || {
                if self.read_one_into(dst, false) {
                    Look::Caught
                } else if self.watchable() {
                    Look::Empty
                } else {
                    Look::Ended
                }
            })
            || self.read_one_into(dst, true)
    }

    /// Reads one message part, if one is available; when none is and `sleep`, the pipe
    /// goes to sleep until `ActivateRead`.
    fn read_one(&mut self, sleep: bool) -> Option<Msg> {
        let mut m = Msg::new();
        self.read_one_into(&mut m, sleep).then_some(m)
    }

    /// As `read_one`, into the empty `dst`.
    #[inline]
    fn read_one_into(&mut self, dst: &mut Msg, sleep: bool) -> bool {
        if let Some(m) = self.final_msg.take() {
            *dst = m;
            return true;
        }
        if !self.in_active || !matches!(self.state, State::Active | State::WaitingForDelimiter) {
            return false;
        }
        let Some(inp) = self.inpipe.as_mut() else {
            return false;
        };
        if !inp.read_into(dst, sleep) {
            if sleep {
                self.in_active = false;
            }
            return false;
        }
        if dst.is_delimiter() {
            *dst = Msg::new();
            self.process_delimiter();
            return match self.final_msg.take() {
                Some(m) => {
                    *dst = m;
                    true
                }
                None => false,
            };
        }
        if !dst.more() && dst.flags() & msg::ROUTING_ID == 0 {
            self.count_read();
        }
        true
    }

    /// Counts a whole message read; gives credit back every LWM messages.
    #[inline]
    fn count_read(&mut self) {
        self.msgs_read += 1;
        let lwm = self.in_lwm();
        if lwm > 0 && self.msgs_read - self.last_credit >= lwm {
            self.last_credit = self.msgs_read;
            self.send_peer(PipeCmd::ActivateWrite(self.msgs_read));
        }
    }

    /// Whether a message can be written now (HWM not reached). When not, the writer waits
    /// for `ActivateWrite`.
    pub fn check_write(&mut self) -> bool {
        if !self.out_active || self.state != State::Active {
            return false;
        }
        let hwm = self.out_hwm();
        if hwm > 0 && self.msgs_written - self.peers_msgs_read >= hwm {
            self.out_active = false;
            return false;
        }
        true
    }

    /// Whether the queue is below the HWM (libzmq's `check_hwm`: the credit alone, whether
    /// the writer went to sleep or not).
    #[cfg_attr(not(feature = "draft"), allow(dead_code))] // only the draft C API needs it
    pub fn below_hwm(&self) -> bool {
        let hwm = self.out_hwm();
        hwm == 0 || self.queued_out() < hwm
    }

    /// Writes one message part; gives it back when the pipe is full or closing.
    pub fn write(&mut self, m: Msg) -> Result<(), Msg> {
        if !self.check_write() {
            return Err(m);
        }
        self.write_unchecked(m);
        Ok(())
    }

    /// As [`write`](Self::write), the part built in the queue's slot by `fill`, with no
    /// temporary on the way (`ypipe::Writer::write_with`): `fill` writes the slot and returns
    /// the part it wrote there, or None when it wrote nothing. None when the pipe is full or
    /// closing (`fill` is not called), else whether a part was written.
    #[inline]
    pub fn write_with(
        &mut self,
        fill: impl for<'a> FnOnce(&'a mut MaybeUninit<Msg>) -> Option<&'a mut Msg>,
    ) -> Option<bool> {
        if !self.check_write() {
            return None;
        }
        let out = self.outpipe.as_mut()?;
        let mut flags = 0;
        let wrote = out.write_with(|slot| {
            let m = fill(slot)?;
            flags = m.flags();
            Some((m, flags & msg::MORE != 0))
        });
        if wrote && flags & (msg::MORE | msg::ROUTING_ID) == 0 {
            self.msgs_written += 1;
        }
        Some(wrote)
    }

    /// Writes a whole control message (a subscription) ignoring the HWM: such messages are
    /// never dropped for want of room. False when the pipe is closing.
    pub fn write_control(&mut self, m: Msg) -> bool {
        if self.state != State::Active {
            return false;
        }
        debug_assert!(!m.more());
        self.write_unchecked(m);
        true
    }

    /// Writes ignoring the HWM (routing ids, and parts after the first of a message).
    pub fn write_unchecked(&mut self, m: Msg) {
        let more = m.more();
        let counts = !more && m.flags() & msg::ROUTING_ID == 0;
        if let Some(out) = self.outpipe.as_mut() {
            out.write(m, more);
            if counts {
                self.msgs_written += 1;
            }
        }
    }

    /// Drops the parts of an unfinished message written so far.
    pub fn rollback(&mut self) {
        if let Some(out) = self.outpipe.as_mut() {
            while out.unwrite().is_some() {}
        }
    }

    /// Publishes written messages, waking the reader if it sleeps; true when it had to be
    /// woken (it had read everything and was waiting).
    pub fn flush(&mut self) -> bool {
        if self.state == State::TermAckSent {
            return false;
        }
        if let Some(out) = self.outpipe.as_mut() {
            if !out.flush() {
                self.send_peer(PipeCmd::ActivateRead);
                return true;
            }
        }
        false
    }

    /// Handles a command from the peer end.
    pub fn process(&mut self, cmd: PipeCmd) -> PipeEvent {
        match cmd {
            PipeCmd::ActivateRead => {
                if !self.in_active
                    && matches!(self.state, State::Active | State::WaitingForDelimiter)
                {
                    self.in_active = true;
                    return PipeEvent::ReadActivated;
                }
                PipeEvent::None
            }
            PipeCmd::ActivateWrite(n) => {
                self.peers_msgs_read = n;
                if !self.out_active && self.state == State::Active {
                    self.out_active = true;
                    return PipeEvent::WriteActivated;
                }
                PipeEvent::None
            }
            PipeCmd::Term => {
                match self.state {
                    State::Active if self.delay => self.state = State::WaitingForDelimiter,
                    State::Active | State::DelimiterReceived => {
                        self.state = State::TermAckSent;
                        self.outpipe = None;
                        self.send_peer(PipeCmd::TermAck);
                    }
                    State::TermReqSent1 => {
                        self.state = State::TermReqSent2;
                        self.outpipe = None;
                        self.send_peer(PipeCmd::TermAck);
                    }
                    _ => {}
                }
                PipeEvent::None
            }
            PipeCmd::StatsQuery(theirs) => PipeEvent::StatsQuery(theirs, self.queued_out()),
            PipeCmd::StatsReply(ours, theirs) => PipeEvent::StatsReply(ours, theirs),
            PipeCmd::Hiccup if self.state == State::Active => PipeEvent::Hiccuped,
            PipeCmd::Hiccup => PipeEvent::None,
            PipeCmd::TermAck => {
                if self.state == State::TermReqSent1 {
                    self.outpipe = None;
                    self.send_peer(PipeCmd::TermAck);
                }
                self.inpipe = None;
                PipeEvent::Terminated
            }
        }
    }

    /// Messages written to the peer that it has not acknowledged as read yet (the count its
    /// HWM credit says: acknowledgements come in batches).
    fn queued_out(&self) -> u64 {
        self.msgs_written.saturating_sub(self.peers_msgs_read)
    }

    /// Asks the peer end for its queue count (see `PipeEvent::StatsQuery`).
    pub fn query_stats(&mut self) {
        if self.state == State::Active {
            self.send_peer(PipeCmd::StatsQuery(self.queued_out()));
        }
    }

    /// Answers a peer's query through the pipe (an inproc peer socket reports it).
    pub fn reply_stats(&mut self, theirs: u64, ours: u64) {
        if self.state == State::Active {
            self.send_peer(PipeCmd::StatsReply(theirs, ours));
        }
    }

    /// A session's connection came back after a break: drops what the socket wrote that
    /// the old connection did not take, and tells the socket, which sends what its new
    /// peer must know (a SUB's subscriptions, a DISH's groups), as libzmq's hiccup.
    pub fn hiccup(&mut self) {
        if self.state != State::Active {
            return;
        }
        while self.read().is_some() {}
        self.send_peer(PipeCmd::Hiccup);
    }

    /// The peer's delimiter: the peer ended the pipe (this end did not, or it would not
    /// read any more).
    fn process_delimiter(&mut self) {
        if let Some(d) = self.disconnect_msg.take() {
            self.final_msg = Msg::from_slice(&d).ok();
        }
        if self.state == State::Active {
            self.state = State::DelimiterReceived;
        } else {
            self.rollback();
            self.outpipe = None;
            self.send_peer(PipeCmd::TermAck);
            self.state = State::TermAckSent;
        }
    }

    /// Starts terminating the pipe. With `delay`, messages the peer already sent are still
    /// delivered before the end; without, they are dropped.
    pub fn terminate(&mut self, delay: bool) {
        self.delay = delay;
        match self.state {
            State::TermReqSent1 | State::TermReqSent2 | State::TermAckSent => return,
            State::Active | State::DelimiterReceived => {
                self.send_peer(PipeCmd::Term);
                self.state = State::TermReqSent1;
            }
            State::WaitingForDelimiter if !delay => {
                self.rollback();
                self.outpipe = None;
                self.send_peer(PipeCmd::TermAck);
                self.state = State::TermAckSent;
            }
            State::WaitingForDelimiter => {}
        }
        self.out_active = false;
        if self.outpipe.is_some() {
            self.rollback();
            if let Some(out) = self.outpipe.as_mut() {
                out.write(Msg::delimiter(), false);
            }
            self.flush();
        }
    }

    /// Whether the peer has asked to end this pipe or we have (no new messages may be sent).
    pub fn is_terminating(&self) -> bool {
        self.state != State::Active
    }

    /// Marks the reader asleep state as unknown so the next read checks the queue again.
    #[cfg(test)]
    pub fn set_in_active(&mut self) {
        if matches!(self.state, State::Active | State::WaitingForDelimiter) {
            self.in_active = true;
        }
    }
}

impl std::fmt::Debug for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pipe({}, {:?})", self.id, self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(b: &[u8], more: bool) -> Msg {
        Msg::part(b, more)
    }

    /// A pipe pair with these HWMs whose ends are owned through one mailbox, at slots 0
    /// (the first end) and 1.
    fn attached(hwms: [u64; 2]) -> (Pipe, Pipe, Arc<Mailbox>) {
        let (mut a, mut b) = pipepair(hwms);
        let mb = Arc::new(Mailbox::new());
        a.attach(mb.clone(), 0);
        b.attach(mb.clone(), 1);
        (a, b, mb)
    }

    #[test]
    fn hwm_counts_whole_messages_and_credit_comes_back() {
        let (mut a, mut b, mb) = attached([2, 2]);
        assert!(a.write(part(b"1", true)).is_ok());
        assert!(a.write(part(b"2", false)).is_ok());
        assert!(a.write(part(b"3", false)).is_ok());
        a.flush();
        assert!(
            a.write(part(b"4", false)).is_err(),
            "HWM of 2 messages reached"
        );
        for want in [&b"1"[..], b"2", b"3"] {
            assert_eq!(b.read().unwrap().data(), want);
        }
        // lwm of hwm 2 is 1: each read gave credit back.
        let mut got_credit = false;
        while let Ok(Command::Pipe(addr, cmd)) = mb.recv(0) {
            if addr.index == 0 && a.process(cmd) == PipeEvent::WriteActivated {
                got_credit = true;
            }
        }
        assert!(got_credit);
        assert!(a.write(part(b"4", false)).is_ok());
    }

    #[test]
    fn a_watched_read_takes_what_comes_and_sleeps_only_when_nothing_did() {
        let (mut a, mut b, mb) = attached([0, 0]);
        let mut watch = CatchUp::default();
        let mut m = Msg::new();
        // The reader starts asleep: the first message wakes it.
        a.write(part(b"1", false)).unwrap();
        assert!(a.flush(), "a new pipe's reader is asleep");
        let Ok(Command::Pipe(_, cmd)) = mb.recv(0) else {
            panic!("no activation")
        };
        b.process(cmd);
        assert!(b.read_into_watched(&mut m, &mb, &mut watch));
        assert_eq!(m.data(), b"1");
        // A message written meanwhile by another thread is caught without a wake-up
        // command; the reader stays awake. The writer starts when the reader is about to
        // watch; a writer that comes later than the whole watch finds the reader asleep and
        // must wake it, so the exchange is repeated until one was caught in time.
        let go = Arc::new(AtomicU64::new(0));
        let (go_w, done) = (go.clone(), Arc::new(AtomicU64::new(0)));
        let done_w = done.clone();
        let writer = std::thread::spawn(move || {
            let mut woke = Vec::new();
            for i in 1..=200u64 {
                while go_w.load(Ordering::Acquire) < i {
                    std::hint::spin_loop();
                }
                a.write(part(b"2", false)).unwrap();
                woke.push(a.flush());
                done_w.store(i, Ordering::Release);
            }
            (a, woke)
        });
        let mut caught_awake = 0;
        for i in 1..=200u64 {
            m.clear();
            go.store(i, Ordering::Release);
            let mut got = b.read_into_watched(&mut m, &mb, &mut watch);
            if got {
                caught_awake += 1;
            }
            while !got {
                // Too late: the pipe slept; take the activation and read.
                let cmd = loop {
                    // (A wait may end on the wake-up signal of an earlier command.)
                    match mb.recv(-1) {
                        Ok(Command::Pipe(_, cmd)) => break cmd,
                        Err(crate::error::Error::Again) => continue,
                        other => panic!("no activation: {other:?}"),
                    }
                };
                b.process(cmd);
                got = b.read_into(&mut m);
            }
            assert_eq!(m.data(), b"2");
            while done.load(Ordering::Acquire) < i {
                std::hint::spin_loop();
            }
        }
        let (mut a, woke) = writer.join().unwrap();
        let commands = woke.iter().filter(|&&w| w).count();
        assert_eq!(
            commands + caught_awake,
            200,
            "a command exactly for each sleep"
        );
        assert!(caught_awake > 0, "no message was caught by a watch");
        // Nothing comes: the watch gives up and the pipe sleeps; the next flush wakes it.
        m.clear();
        assert!(!b.read_into_watched(&mut m, &mb, &mut watch));
        a.write(part(b"3", false)).unwrap();
        assert!(a.flush());
    }

    #[test]
    fn a_part_built_in_its_slot_counts_as_a_write() {
        let (mut a, mut b, _mb) = attached([2, 2]);
        let mut built = |bytes: &'static [u8], more: bool| {
            a.write_with(|slot| Some(slot.write(part(bytes, more))))
        };
        assert_eq!(built(b"1", true), Some(true));
        assert_eq!(built(b"2", false), Some(true));
        assert_eq!(built(b"3", false), Some(true));
        assert_eq!(built(b"4", false), None, "HWM of 2 messages reached");
        assert_eq!(a.write_with(|_| None), None);
        a.flush();
        for want in [&b"1"[..], b"2", b"3"] {
            assert_eq!(b.read().unwrap().data(), want);
        }
        assert!(b.read().is_none());
    }

    #[test]
    fn a_message_read_where_it_lies_counts_and_the_delimiter_ends_the_pipe() {
        let (mut a, mut b, mb) = attached([2, 2]);
        b.disconnect_msg = Some(b"bye".to_vec());
        a.write(part(b"1", true)).unwrap();
        a.write(part(b"2", false)).unwrap();
        a.write(part(b"3", false)).unwrap();
        a.flush();
        let mut seen = Vec::new();
        while let Some(()) = b.read_with(false, |m| seen.push(std::mem::take(m).data().to_vec())) {}
        assert_eq!(seen, [&b"1"[..], b"2", b"3"]);
        // Two whole messages read: the credit came back.
        while let Ok(Command::Pipe(addr, cmd)) = mb.recv(0) {
            if addr.index == 0 {
                a.process(cmd);
            }
        }
        assert!(a.write(part(b"4", false)).is_ok());
        a.flush();
        a.terminate(true);
        assert_eq!(
            b.read_with(true, |m| m.data().to_vec()),
            Some(b"4".to_vec())
        );
        assert_eq!(
            b.read_with(true, |m| m.data().to_vec()),
            Some(b"bye".to_vec()),
            "the delimiter gives the disconnect message"
        );
        assert_eq!(b.read_with(true, |m| m.data().to_vec()), None);
    }

    #[test]
    fn a_slot_left_unwritten_is_not_a_write() {
        let (mut a, mut b, _mb) = attached([0, 0]);
        assert_eq!(a.write_with(|_| None), Some(false));
        a.write(part(b"x", false)).unwrap();
        a.flush();
        assert_eq!(b.read().unwrap().data(), b"x");
        assert!(b.read().is_none());
    }

    #[test]
    fn low_water_mark_is_half_the_high_water_mark() {
        assert_eq!(compute_lwm(0), 0);
        assert_eq!(compute_lwm(1), 1);
        assert_eq!(compute_lwm(1000), 500);
        assert_eq!(compute_lwm(11024), 5512);
    }

    #[test]
    fn reader_below_the_hwm_gives_credit_after_half_of_it() {
        // A burst of 5/8 of the HWM, read by the peer, must let the writer send more than the
        // remaining 3/8 (libzmq's test_hwm_pubsub "reset HWM": 9999 then 1100 under 11024).
        let (mut a, mut b, mb) = attached([4000, 4000]);
        for _ in 0..2500 {
            assert!(a.write(part(b"x", false)).is_ok());
        }
        a.flush();
        while b.read().is_some() {}
        while let Ok(Command::Pipe(addr, cmd)) = mb.recv(0) {
            if addr.index == 0 {
                a.process(cmd);
            }
        }
        for i in 0..2000 {
            assert!(a.write(part(b"y", false)).is_ok(), "write {i} after credit");
        }
    }

    #[test]
    fn termination_delivers_pending_messages_then_ends_both_sides() {
        let (mut a, mut b, mb) = attached([0, 0]);
        a.write(part(b"last", false)).unwrap();
        a.flush();
        a.terminate(false);
        let mut a_done = false;
        let mut b_done = false;
        let mut got = Vec::new();
        for _ in 0..10 {
            while let Ok(Command::Pipe(addr, cmd)) = mb.recv(0) {
                let ev = if addr.index == 0 {
                    a.process(cmd)
                } else {
                    b.process(cmd)
                };
                if ev == PipeEvent::Terminated {
                    if addr.index == 0 {
                        a_done = true
                    } else {
                        b_done = true
                    }
                }
            }
            while let Some(m) = b.read() {
                got.push(m.data().to_vec());
            }
        }
        assert_eq!(got, vec![b"last".to_vec()]);
        assert!(a_done && b_done);
    }
}
