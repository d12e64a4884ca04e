//! The watch policy: when a thread spins for a while instead of going to sleep, and for how
//! long. Every such decision of the library is here; the mailbox only provides the
//! mechanics (`Mailbox::spin_for`, `Mailbox::recv_spin`).
//!
//! Going to sleep and being woken costs a thread far more on a VM (an idle virtual CPU halts,
//! and its wake-up goes through the hypervisor) than a whole request/reply exchange over
//! loopback: that, not the work, is most of the latency. So a few short watches:
//!
//! - **The inproc spin** (application thread, [`SocketWatch`]): a blocking call on a socket
//!   whose peers are all in this process watches its mailbox for [`INPROC_SPIN`] before it
//!   sleeps. A socket with tcp/ipc endpoints never spins so: its messages come through an I/O
//!   thread, and on a machine with few cores the spinning thread would take the CPU that I/O
//!   thread needs (measured: throughput suffers on 2 cores).
//! - **The answer watch** (application thread, [`SocketWatch`]): a receive on a socket with
//!   tcp/ipc endpoints whose last move was a send (request/reply) watches its mailbox for the
//!   answer for [`ANSWER_WATCH`] before it sleeps.
//! - **The reply watch** (I/O thread, [`IoWatches`]): after waking an application thread with
//!   messages, the I/O thread watches its mailbox for [`REPLY_WATCH`] before sleeping in the
//!   poll: a request/reply peer usually answers within microseconds, and catching the answer
//!   awake saves the answering thread a wake-up signal and this thread a sleep and wake-up.
//!   Only messages to send count as an answer (a reader's credit does not).
//! - **The network watch** (I/O thread, [`IoWatches`]): after such an answer was caught (and
//!   written), the next request is usually on its way; the thread polls its sockets without
//!   blocking for [`NET_WATCH`] before sleeping, so that the request finds it awake. It does
//!   not run when the thread may use only one CPU.
//!
//! All yield the CPU between looks (a thread that shares the CPU, the one that will answer
//! perhaps, runs at once). All but the inproc spin adapt through a [`Watch`]: a watch stops
//! after [`WATCH_CREDIT`] in a row came up empty (traffic that is not request/reply: streams,
//! PUB/SUB, sporadic requests) and is tried again after [`WATCH_RETRY`] opportunities, so such
//! traffic costs almost no CPU.

use std::time::{Duration, Instant};

use mio::{Events, Poll};

use crate::mailbox::Mailbox;

/// How long a blocking call on a socket whose peers are all in this process watches for
/// commands before it sleeps.
pub const INPROC_SPIN: Duration = Duration::from_micros(20);
/// How long a receive on a networked socket watches for the answer to its last send.
pub const ANSWER_WATCH: Duration = Duration::from_micros(50);
/// How long the I/O thread watches for an answer after waking an application thread.
pub const REPLY_WATCH: Duration = Duration::from_micros(50);
/// How long the I/O thread polls its sockets for the next request after an answer.
pub const NET_WATCH: Duration = Duration::from_micros(150);

/// Empty watches in a row that turn a watch off.
pub const WATCH_CREDIT: u32 = 4;
/// Opportunities a watch that is off skips before it tries again.
pub const WATCH_RETRY: u32 = 64;

/// One adaptive watch: on while it catches what it watches for. See the module docs.
#[derive(Debug)]
pub struct Watch {
    /// Watches allowed before the next success; 0: off.
    credit: u32,
    /// Opportunities skipped while off.
    skipped: u32,
}

impl Watch {
    /// A watch that is on.
    pub fn new() -> Watch {
        Watch {
            credit: WATCH_CREDIT,
            skipped: 0,
        }
    }

    /// Whether to watch at this opportunity.
    pub fn allowed(&mut self) -> bool {
        if self.credit > 0 {
            return true;
        }
        self.skipped += 1;
        if self.skipped >= WATCH_RETRY {
            self.skipped = 0;
            self.credit = 1;
        }
        false
    }

    /// How the watch went: it caught what it watched for, or not.
    pub fn record(&mut self, caught: bool) {
        self.credit = if caught {
            WATCH_CREDIT
        } else {
            self.credit.saturating_sub(1)
        };
    }
}

impl Default for Watch {
    fn default() -> Watch {
        Watch::new()
    }
}

/// The watches of an application thread blocking on one socket: the inproc spin and the
/// answer watch.
#[derive(Debug, Default)]
pub struct SocketWatch {
    answer: Watch,
}

impl SocketWatch {
    /// Before a blocking wait on `mailbox`: spins as the policy says, and returns how long
    /// the wait itself may still spin before it sleeps (`Mailbox::recv_spin`).
    /// `networked`: the socket has tcp/ipc endpoints; `answer_due`: its last move was a send.
    pub fn before_sleep(
        &mut self,
        mailbox: &Mailbox,
        networked: bool,
        answer_due: bool,
    ) -> Option<Instant> {
        if !networked {
            return Some(Instant::now() + INPROC_SPIN);
        }
        if answer_due && self.answer.allowed() {
            let caught = mailbox.spin_for(Instant::now() + ANSWER_WATCH);
            self.answer.record(caught);
        }
        None
    }
}

/// The watches of an I/O thread: the reply watch and the network watch.
#[derive(Debug)]
pub struct IoWatches {
    reply: Watch,
    net: Watch,
    /// The thread may use more than one CPU (else the network watch never runs).
    may_watch_sockets: bool,
    /// The last reply watch caught an answer: the network watch may follow.
    answered_recently: bool,
}

impl IoWatches {
    pub fn new() -> IoWatches {
        IoWatches {
            reply: Watch::new(),
            net: Watch::new(),
            // Watching the sockets pays only when another CPU can run the other side
            // meanwhile (this thread's affinity allows more than one).
            may_watch_sockets: std::thread::available_parallelism().is_ok_and(|n| n.get() > 1),
            answered_recently: false,
        }
    }

    /// The thread woke an application thread with messages: watches its mailbox for the
    /// answer. True when commands came (the caller takes them, then calls
    /// [`IoWatches::reply_taken`]).
    pub fn reply_watch(&mut self, mailbox: &Mailbox) -> bool {
        if !self.reply.allowed() {
            return false;
        }
        if mailbox.spin_for(Instant::now() + REPLY_WATCH) {
            return true;
        }
        self.reply.record(false);
        false
    }

    /// The commands a reply watch caught were taken; `answered`: one was messages to send.
    pub fn reply_taken(&mut self, answered: bool) {
        self.reply.record(answered);
        self.answered_recently = answered;
    }

    /// Before the thread sleeps in its poll: after an answer, polls the sockets without
    /// blocking for the next request. True when `events` holds events (the caller then
    /// does not poll).
    pub fn net_watch(&mut self, poll: &mut Poll, events: &mut Events, mailbox: &Mailbox) -> bool {
        if !std::mem::take(&mut self.answered_recently)
            || !self.may_watch_sockets
            || !self.net.allowed()
        {
            return false;
        }
        let got = watch_sockets(poll, events, mailbox);
        self.net.record(got || mailbox.has_pending());
        got
    }
}

impl Default for IoWatches {
    fn default() -> IoWatches {
        IoWatches::new()
    }
}

/// Polls without blocking, yielding the CPU between looks, for [`NET_WATCH`] or until an
/// event comes (true) or a command does.
fn watch_sockets(poll: &mut Poll, events: &mut Events, mailbox: &Mailbox) -> bool {
    let until = Instant::now() + NET_WATCH;
    loop {
        if poll.poll(events, Some(Duration::ZERO)).is_err() {
            return false;
        }
        if !events.is_empty() {
            return true;
        }
        if Instant::now() >= until || mailbox.has_pending() {
            return false;
        }
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;
    use mio::Token;

    #[test]
    fn a_watch_stops_after_empty_watches_and_tries_again_later() {
        let mut w = Watch::new();
        // Answered watches keep it on.
        for _ in 0..10 {
            assert!(w.allowed());
            w.record(true);
        }
        // A few empty ones in a row turn it off...
        for _ in 0..WATCH_CREDIT {
            assert!(w.allowed());
            w.record(false);
        }
        for _ in 0..WATCH_RETRY - 1 {
            assert!(!w.allowed());
        }
        // ...until it tries once more; one answer brings it fully back.
        assert!(!w.allowed());
        assert!(w.allowed());
        w.record(true);
        assert_eq!(w.credit, WATCH_CREDIT, "fully back");
    }

    #[test]
    fn the_socket_watch_sees_an_event_or_a_command_or_gives_up() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(4);
        let mailbox = Mailbox::new().unwrap();
        // Nothing happens: it gives up after NET_WATCH.
        let t = Instant::now();
        assert!(!watch_sockets(&mut poll, &mut events, &mailbox));
        assert!(t.elapsed() >= NET_WATCH);
        // A readable socket is an event.
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        let mut b = mio::net::UnixStream::from_std(b);
        poll.registry()
            .register(&mut b, Token(1), mio::Interest::READABLE)
            .unwrap();
        std::io::Write::write_all(&mut a, b"x").unwrap();
        assert!(watch_sockets(&mut poll, &mut events, &mailbox));
        assert_eq!(events.iter().next().map(|e| e.token()), Some(Token(1)));
        // A command ends the watch too (the loop takes it), without an event.
        mailbox.send(Command::Stop);
        assert!(!watch_sockets(&mut poll, &mut events, &mailbox));
    }
}
