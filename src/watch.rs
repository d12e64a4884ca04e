//! The watch policy: when a thread spins for a while instead of going to sleep, and for how
//! long. Every such decision of the library is here; the mailbox only provides the
//! mechanics (`Mailbox::spin_for`, `Mailbox::recv_spin`), and the mailbox and the I/O
//! thread's poll report their sleeps and signals ([`sleep_begin`], [`signal_begin`]).
//!
//! Going to sleep and being woken costs CPU: the sleeper's own (the blocking call, the
//! switches to and from another task) and the waker's (the signal that wakes it). On a VM it
//! costs latency above all: an idle virtual CPU halts, and its wake-up goes through the
//! hypervisor, so the wake-up takes longer than a whole request/reply exchange over loopback.
//! So a few short watches, where an answer is due:
//!
//! - **The inproc spin** (application thread, [`SocketWatch`]): a blocking call on a socket
//!   whose peers are all in this process watches its mailbox for [`INPROC_SPIN`] before it
//!   sleeps. A socket with tcp/ipc endpoints never spins so: its messages come through an I/O
//!   thread, and on a machine with few cores the spinning thread would take the CPU that I/O
//!   thread needs (measured: throughput suffers on 2 cores).
//! - **The catch-up watch** (application thread, [`CatchUp`]): within that spin, a blocking
//!   receive whose last readable pipe ran empty watches the pipe itself, awake, so that its
//!   writer need not wake it with a command; it looks seldom when messages stream and often
//!   when they answer requests.
//! - **The answer watch** (application thread, [`SocketWatch`]): a receive on a socket with
//!   tcp/ipc endpoints whose last move was a send (request/reply) watches its mailbox for the
//!   answer before it sleeps.
//! - **The reply watch** (I/O thread, [`IoWatches`]): after waking an application thread with
//!   messages, the I/O thread watches its mailbox before sleeping in the poll: a
//!   request/reply peer usually answers within microseconds, and catching the answer awake
//!   saves the answering thread a wake-up signal and this thread a sleep and wake-up. Only
//!   messages to send count as an answer (a reader's credit does not).
//! - **The network watch** (I/O thread, [`IoWatches`]): after such an answer was caught (and
//!   written), the next request is usually on its way; the thread polls its sockets without
//!   blocking before it sleeps, so that the request finds it awake.
//!
//! **Whether a watch pays** is decided from what the process observes:
//! - *What a sleep costs here*: every [`SAMPLE_EVERY`]th blocking wait and wake-up signal of
//!   each thread is timed on the thread's CPU clock ([`sleep_begin`], [`signal_begin`]); the
//!   moving averages of the two are the cost of one sleep.
//! - *The budget*: a watch lasts at most a few times that cost ([`ANSWER_FACTOR`],
//!   [`REPLY_FACTOR`], [`NET_FACTOR`]; never shorter than [`WATCH_FLOOR`] nor longer than
//!   [`WATCH_LIMIT`]): an answer caught
//!   within it saved more than the watch spent, one caught later would not have. The factor
//!   stands for what one catch spares: the watcher's sleep, the signal its peer would have
//!   sent and, for the answer and network watches, the wake-up latency that would delay the
//!   rest of the exchange and put the peer's watches to sleep too (DESIGN.md, "Watches", has
//!   the measurements).
//! - *Per watch*: a [`Watch`] is off while more than one watch in four comes up empty
//!   ([`WATCH_CREDIT`], [`MISS_COST`]: streams, PUB/SUB, requests paced slower than the
//!   budget) and tries once more after [`WATCH_RETRY`] opportunities, so such traffic costs
//!   almost no CPU.
//!
//! All yield the CPU between looks (a thread that shares the CPU, the one that will answer
//! perhaps, runs at once). What counts as a catch: for the reply watch, messages to send;
//! for the answer watch, any command (in practice the pipe activation that brings the
//! answer); for the network watch, any event or command. None runs when the process may use
//! only one CPU ([`enabled`], decided once). Setting the environment variable
//! `ZMQRS_WATCH=off` (or `0`) before the process starts using the library turns every watch
//! off: each thread sleeps at once, as libzmq's do.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use mio::{Events, Poll};

use crate::mailbox::Mailbox;

/// How long a blocking call on a socket whose peers are all in this process watches for
/// commands before it sleeps.
pub const INPROC_SPIN: Duration = Duration::from_micros(20);
/// The longest any adaptive watch lasts, whatever a sleep costs.
pub const WATCH_LIMIT: Duration = Duration::from_micros(50);
/// The shortest budget an adaptive watch is given, whatever a sleep was measured to cost.
pub const WATCH_FLOOR: Duration = Duration::from_micros(5);
/// How many sleeps' worth (numerator, denominator) the answer watch may spend: its catch
/// spares the watcher's sleep, the I/O thread's signal and the watcher's wake-up latency,
/// which delays every thread of the exchange after it.
pub const ANSWER_FACTOR: (u32, u32) = (5, 1);
/// How many sleeps' worth the reply watch may spend: its catch spares this thread's sleep
/// and the answering thread's signal, little more.
pub const REPLY_FACTOR: (u32, u32) = (3, 2);
/// How many sleeps' worth the network watch may spend: its catch spares this thread's sleep
/// and keeps the exchange awake (see [`ANSWER_FACTOR`]).
pub const NET_FACTOR: (u32, u32) = (5, 1);

/// A watch's credit when fully on: each catch adds one, each empty watch takes
/// [`MISS_COST`], and at 0 the watch is off. So four empty watches in a row turn it off, and
/// so does any run in which more than one watch in four comes up empty.
pub const WATCH_CREDIT: u32 = 12;
/// The credit an empty watch takes.
pub const MISS_COST: u32 = 3;
/// Opportunities a watch that is off skips before it tries again.
pub const WATCH_RETRY: u32 = 64;

/// Every how many blocking waits (and, separately, wake-up signals) a thread times one. A
/// sample reads the thread's CPU clock twice, a system call of about 0.5 µs each here (no
/// vDSO for that clock): every 8th cost 1.5-2 % of each sleep, every 32nd 0.4 %, and the
/// average still follows a change within a thousand sleeps.
pub const SAMPLE_EVERY: u32 = 32;
/// A blocking wait slept when it was off the CPU at least this long (else it found its
/// event at once, and its CPU time says nothing about sleeping).
const SLEPT_OFF_CPU: Duration = Duration::from_micros(20);
/// A sample above this counts as this much (a wait whose thread did other work on the way,
/// a signal that took a page fault): one outlier moves the average by 1/16 of it at most.
const SAMPLE_CAP: Duration = Duration::from_micros(100);

/// The thread CPU time of a sleep and wake-up (blocking call to return), as measured.
static SLEEP_CPU: CpuAverage = CpuAverage::new(Duration::from_micros(6));
/// The thread CPU time of a signal that wakes a sleeping thread, as measured.
static SIGNAL_CPU: CpuAverage = CpuAverage::new(Duration::from_micros(4));

/// Whether the watches are on for this process: not when `ZMQRS_WATCH=off`, nor when the
/// process may use only one CPU (then the thread that would answer needs the watcher's CPU;
/// measured pinned, back-to-back REQ/REP cost 97 µs of CPU per exchange watching and 73 µs
/// not, for the same round trip). Decided once, by the first thread that asks (its CPU
/// affinity; `taskset` and cgroup limits hold for the whole process). No lock: two threads
/// that ask at once both decide, alike, and a process forked meanwhile cannot inherit a
/// held lock.
pub fn enabled() -> bool {
    /// 0: not decided yet, 1: off, 2: on.
    static STATE: AtomicU8 = AtomicU8::new(0);
    match STATE.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            let on = watches_on(std::env::var("ZMQRS_WATCH").ok().as_deref())
                && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
            STATE.store(if on { 2 } else { 1 }, Ordering::Relaxed);
            on
        }
    }
}

/// What a value of `ZMQRS_WATCH` means: "off" (any case) or "0" turns the watches off.
fn watches_on(var: Option<&str>) -> bool {
    !var.is_some_and(|v| v.eq_ignore_ascii_case("off") || v == "0")
}

/// What one sleep costs here: the sleeper's CPU time plus the waker's, as measured.
pub fn sleep_cost() -> Duration {
    SLEEP_CPU.get() + SIGNAL_CPU.get()
}

/// How long an adaptive watch may last: `factor` sleeps' worth, within [`WATCH_FLOOR`] and
/// [`WATCH_LIMIT`].
pub fn budget(factor: (u32, u32)) -> Duration {
    budget_for(sleep_cost(), factor)
}

/// `factor` times `cost`, within [`WATCH_FLOOR`] and [`WATCH_LIMIT`].
fn budget_for(cost: Duration, factor: (u32, u32)) -> Duration {
    (cost * factor.0 / factor.1.max(1)).clamp(WATCH_FLOOR, WATCH_LIMIT)
}

/// A moving average of sampled CPU times, shared by the threads of the process (a racing
/// update may lose a sample; the average stays an average).
struct CpuAverage {
    nanos: AtomicU64,
}

impl CpuAverage {
    const fn new(initial: Duration) -> CpuAverage {
        CpuAverage {
            nanos: AtomicU64::new(initial.as_nanos() as u64),
        }
    }

    fn get(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    /// Adds a sample with weight 1/16 (one above [`SAMPLE_CAP`] counts as the cap).
    fn add(&self, sample: Duration) {
        let old = self.nanos.load(Ordering::Relaxed);
        let new = sample.min(SAMPLE_CAP).as_nanos() as u64;
        let avg = if new >= old {
            old + (new - old) / 16
        } else {
            old - (old - new) / 16
        };
        self.nanos.store(avg, Ordering::Relaxed);
    }

    /// Adds the CPU time of the blocking wait `s` timed, if it slept.
    fn add_wait(&self, s: Sample) {
        let cpu = crate::sys::thread_cpu_time().saturating_sub(s.cpu);
        if slept(s.wall.elapsed(), cpu) {
            self.add(cpu);
        }
    }
}

/// Whether a wait that took `wall` time and `cpu` of its thread's CPU slept: it was off the
/// CPU for [`SLEPT_OFF_CPU`] or more (else it found its event at once).
fn slept(wall: Duration, cpu: Duration) -> bool {
    wall.saturating_sub(cpu) >= SLEPT_OFF_CPU
}

thread_local! {
    /// Waits and signals this thread skips before it times the next one of each.
    static UNTIL_SAMPLE: Cell<(u32, u32)> = const { Cell::new((0, 0)) };
}

/// A blocking wait or a signal being timed.
#[derive(Debug)]
pub struct Sample {
    cpu: Duration,
    wall: Instant,
}

/// Whether this thread times its next wait (`wait`) or signal: every [`SAMPLE_EVERY`]th,
/// and none while the watches are off (nothing would read the averages).
fn sample(wait: bool) -> Option<Sample> {
    if !enabled() {
        return None;
    }
    let due = UNTIL_SAMPLE.with(|c| {
        let (mut w, mut s) = c.get();
        let n = if wait { &mut w } else { &mut s };
        let due = *n == 0;
        *n = if due { SAMPLE_EVERY - 1 } else { *n - 1 };
        c.set((w, s));
        due
    });
    due.then(|| Sample {
        cpu: crate::sys::thread_cpu_time(),
        wall: Instant::now(),
    })
}

/// Before a blocking wait (a socket's sleep on its mailbox, an I/O thread's poll).
pub fn sleep_begin() -> Option<Sample> {
    sample(true)
}

/// After the blocking wait `sample` timed: when it slept, its CPU time is a sleep's.
pub fn sleep_end(sample: Option<Sample>) {
    if let Some(s) = sample {
        SLEEP_CPU.add_wait(s);
    }
}

/// Before a signal that wakes a sleeping thread.
pub fn signal_begin() -> Option<Sample> {
    sample(false)
}

/// After the signal `sample` timed.
pub fn signal_end(sample: Option<Sample>) {
    if let Some(s) = sample {
        SIGNAL_CPU.add(crate::sys::thread_cpu_time().saturating_sub(s.cpu));
    }
}

/// One adaptive watch: on while it catches what it watches for within the budget. See the
/// module docs.
#[derive(Debug)]
pub struct Watch {
    /// Watches allowed before the next catch; 0: off.
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
            (self.credit + 1).min(WATCH_CREDIT)
        } else {
            self.credit.saturating_sub(MISS_COST)
        };
    }
}

impl Default for Watch {
    fn default() -> Watch {
        Watch::new()
    }
}

/// The longest gap, in pauses, between two looks of the catch-up watch at its pipe: about
/// 1.7 µs on the machine of DESIGN.md's measurements.
pub const CATCH_UP_GAP: u32 = 64;
/// Pauses between two looks at the clock (and yields of the CPU) in the catch-up watch.
const CATCH_UP_CLOCK: u32 = 64;

/// The catch-up watch: a blocking receive on a socket whose peers are all in-process (it
/// would spin on its mailbox for [`INPROC_SPIN`] anyway) found its last readable pipe empty.
/// Instead of putting that pipe to sleep at once (its writer would then wake it with a
/// command through the mailbox), the reader looks at the pipe again for up to `INPROC_SPIN`,
/// and stops early for any command. The wait that follows an empty catch-up watch does not
/// spin again (`Pipes::watched`).
///
/// How often it looks adapts to the traffic. A reader that looks at every pause while its
/// writer streams follows it message by message, and the queue's shared line then crosses
/// between their cores at every message: 1-byte `inproc_thr` fell from 16 M to 10 M msg/s.
/// A reader that looks every [`CATCH_UP_GAP`] pauses finds a batch each time, but an answer
/// to a request waits for its next look (inproc REQ/REP round trip: 0.97 µs instead of
/// 0.45). So the gap doubles, up to that, when a look catches at once (a stream) and halves,
/// down to one pause, when a catch took several looks (an exchange).
#[derive(Debug)]
pub struct CatchUp {
    gap: u32,
}

impl Default for CatchUp {
    fn default() -> CatchUp {
        CatchUp { gap: 1 }
    }
}

impl CatchUp {
    /// Watches: `look` tries to read from the pipe (without putting it to sleep). True
    /// when it caught a message. The mailbox is marked active meanwhile (see
    /// `Mailbox::watch_begin`): a command sent during the watch costs its sender no signal.
    pub fn watch(&mut self, mailbox: &Mailbox, mut look: impl FnMut() -> Look) -> bool {
        if mailbox.watch_begin() {
            return look() == Look::Caught;
        }
        let caught = self.looks(mailbox, &mut look);
        mailbox.watch_end();
        caught
    }

    fn looks(&mut self, mailbox: &Mailbox, look: &mut impl FnMut() -> Look) -> bool {
        let until = Instant::now() + INPROC_SPIN;
        let mut looks = 0u32;
        let mut pauses = 0u32;
        loop {
            for _ in 0..self.gap {
                if mailbox.has_pending() {
                    return look() == Look::Caught;
                }
                std::hint::spin_loop();
            }
            looks += 1;
            match look() {
                Look::Caught => {
                    self.gap = if looks == 1 {
                        (self.gap * 2).min(CATCH_UP_GAP)
                    } else {
                        (self.gap / 2).max(1)
                    };
                    return true;
                }
                Look::Ended => return false,
                Look::Empty => {}
            }
            pauses += self.gap;
            if pauses >= CATCH_UP_CLOCK {
                pauses = 0;
                if Instant::now() >= until {
                    return false;
                }
                // The writer may be a thread that shares this CPU.
                std::thread::yield_now();
            }
        }
    }
}

/// What one look of the catch-up watch found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// A message: the watch ends.
    Caught,
    /// Nothing yet.
    Empty,
    /// The pipe is ending (its delimiter came): nothing more will come, the watch ends.
    Ended,
}

/// The watches of an application thread blocking on one socket: the inproc spin and the
/// answer watch.
#[derive(Debug, Default)]
pub struct SocketWatch {
    answer: Watch,
}

impl SocketWatch {
    /// Whether a blocking receive on a socket (tcp/ipc endpoints or not: `networked`) may
    /// run the catch-up watch ([`CatchUp`]).
    #[inline]
    pub fn may_catch_up(networked: bool) -> bool {
        !networked && enabled()
    }

    /// Before a blocking wait on `mailbox`: spins as the policy says, and returns how long
    /// the wait itself may still spin before it sleeps (`Mailbox::recv_spin`).
    /// `networked`: the socket has tcp/ipc endpoints; `answer_due`: its last move was a send.
    pub fn before_sleep(
        &mut self,
        mailbox: &Mailbox,
        networked: bool,
        answer_due: bool,
        caught_up: bool,
    ) -> Option<Instant> {
        if !enabled() {
            return None;
        }
        if !networked {
            // After an empty catch-up watch, which watched the mailbox as long.
            return (!caught_up).then(|| Instant::now() + INPROC_SPIN);
        }
        if answer_due && self.answer.allowed() {
            let caught = mailbox.spin_for(Instant::now() + budget(ANSWER_FACTOR));
            self.answer.record(caught);
        }
        None
    }
}

/// The watches of an I/O thread: the reply watch and the network watch.
#[derive(Debug, Default)]
pub struct IoWatches {
    reply: Watch,
    net: Watch,
    /// The last reply watch caught an answer: the network watch may follow.
    answered_recently: bool,
}

impl IoWatches {
    pub fn new() -> IoWatches {
        IoWatches::default()
    }

    /// The thread woke an application thread with messages: watches its mailbox for the
    /// answer. True when commands came (the caller takes them, then calls
    /// [`IoWatches::reply_taken`]).
    pub fn reply_watch(&mut self, mailbox: &Mailbox) -> bool {
        if !enabled() || !self.reply.allowed() {
            return false;
        }
        if mailbox.spin_for(Instant::now() + budget(REPLY_FACTOR)) {
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

    /// The thread does not sleep in this round (objects asked for the next one): the network
    /// watch it would have run is not owed later.
    pub fn skip(&mut self) {
        self.answered_recently = false;
    }

    /// Before the thread sleeps in its poll: after an answer, polls the sockets without
    /// blocking for the next request. True when `events` holds events (the caller then
    /// does not poll).
    pub fn net_watch(&mut self, poll: &mut Poll, events: &mut Events, mailbox: &Mailbox) -> bool {
        if !std::mem::take(&mut self.answered_recently) || !enabled() || !self.net.allowed() {
            return false;
        }
        let got = watch_sockets(poll, events, mailbox, Instant::now() + budget(NET_FACTOR));
        self.net.record(got || mailbox.has_pending());
        got
    }
}

/// Polls without blocking, yielding the CPU between looks, until `until` or an event comes
/// (true) or a command does.
fn watch_sockets(poll: &mut Poll, events: &mut Events, mailbox: &Mailbox, until: Instant) -> bool {
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

    #[test]
    fn a_watch_stops_after_empty_watches_and_tries_again_later() {
        let mut w = Watch::new();
        // Answered watches keep it on.
        for _ in 0..10 {
            assert!(w.allowed());
            w.record(true);
        }
        // Four empty ones in a row turn it off...
        for _ in 0..WATCH_CREDIT / MISS_COST {
            assert!(w.allowed());
            w.record(false);
        }
        for _ in 0..WATCH_RETRY - 1 {
            assert!(!w.allowed());
        }
        // ...until it tries once more; answers bring it back, one at a time: after three
        // catches, one empty watch no longer turns it off.
        assert!(!w.allowed());
        for _ in 0..MISS_COST {
            assert!(w.allowed());
            w.record(true);
        }
        w.record(false);
        assert!(w.allowed());
    }

    /// Break-even is one empty watch in four: above, a watch goes off however its catches
    /// and misses mix; below, it stays on.
    fn on_after(pattern: &[bool], rounds: usize) -> bool {
        let mut w = Watch::new();
        let mut watched = 0;
        for &caught in pattern.iter().cycle().take(pattern.len() * rounds) {
            if w.allowed() {
                watched += 1;
                w.record(caught);
            }
        }
        watched == pattern.len() * rounds
    }

    #[test]
    fn a_watch_that_misses_more_than_one_in_four_goes_off() {
        assert!(!on_after(&[true, false], 50));
        assert!(!on_after(&[true, true, false], 50));
        assert!(on_after(&[true, true, true, true, false], 50));
        assert!(on_after(&[true], 50));
    }

    #[test]
    fn zmqrs_watch_off_or_0_turns_the_watches_off() {
        assert!(watches_on(None));
        assert!(watches_on(Some("on")));
        assert!(watches_on(Some("")));
        assert!(!watches_on(Some("off")));
        assert!(!watches_on(Some("OFF")));
        assert!(!watches_on(Some("0")));
    }

    #[test]
    fn the_budget_follows_the_measured_cost_of_a_sleep_within_its_bounds() {
        let avg = CpuAverage::new(Duration::from_micros(10));
        for _ in 0..200 {
            avg.add(Duration::from_micros(2));
        }
        assert!(avg.get() < Duration::from_micros(3), "{:?}", avg.get());
        // An outlier counts as SAMPLE_CAP at most.
        let before = avg.get();
        avg.add(Duration::from_secs(5));
        assert!(avg.get() <= before + SAMPLE_CAP / 16, "{:?}", avg.get());
        // Factors of the cost, clamped.
        let us = Duration::from_micros;
        assert_eq!(budget_for(us(8), (5, 1)), us(40));
        assert_eq!(budget_for(us(8), (3, 2)), us(12));
        assert_eq!(budget_for(us(20), (5, 1)), WATCH_LIMIT);
        assert_eq!(budget_for(us(1), (3, 2)), WATCH_FLOOR);
        assert_eq!(budget_for(us(8), (1, 0)), us(8), "no division by zero");
        for f in [ANSWER_FACTOR, REPLY_FACTOR, NET_FACTOR] {
            let b = budget(f);
            assert!(b >= WATCH_FLOOR && b <= WATCH_LIMIT, "{b:?}");
        }
    }

    #[test]
    fn a_thread_times_one_wait_in_sample_every() {
        std::thread::spawn(|| {
            let timed = (0..SAMPLE_EVERY * 4)
                .filter(|_| sleep_begin().is_some())
                .count();
            // Signals are counted apart from waits. Nothing is timed with the watches off.
            if enabled() {
                assert_eq!(timed, 4);
                assert!(signal_begin().is_some());
            } else {
                assert_eq!(timed, 0);
                assert!(signal_begin().is_none());
            }
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_wait_slept_when_it_was_off_the_cpu_long_enough() {
        let us = Duration::from_micros;
        assert!(!slept(us(5), us(4)), "found its event at once");
        assert!(!slept(us(30), us(25)), "busy all along");
        assert!(slept(us(500), us(6)));
        assert!(slept(SLEPT_OFF_CPU, Duration::ZERO));
        assert!(!slept(us(3), us(10)), "clocks read apart");
    }

    #[test]
    fn a_real_sleep_joins_the_measure() {
        let avg = CpuAverage::new(Duration::from_micros(90));
        let s = Sample {
            cpu: crate::sys::thread_cpu_time(),
            wall: Instant::now(),
        };
        std::thread::sleep(Duration::from_millis(5));
        avg.add_wait(s);
        // A sleep costs its thread far less CPU than 90 µs: the average moves down.
        assert!(avg.get() < Duration::from_micros(90), "{:?}", avg.get());
    }

    #[test]
    fn the_socket_watch_sees_an_event_or_a_command_or_gives_up() {
        use crate::command::Command;
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(4);
        let mailbox = Mailbox::new();
        let span = Duration::from_micros(200);
        // Nothing happens: it gives up at the deadline.
        let t = Instant::now();
        assert!(!watch_sockets(&mut poll, &mut events, &mailbox, t + span));
        assert!(t.elapsed() >= span);
        // A readable socket is an event.
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        let mut b = mio::net::UnixStream::from_std(b);
        poll.registry()
            .register(&mut b, mio::Token(1), mio::Interest::READABLE)
            .unwrap();
        std::io::Write::write_all(&mut a, b"x").unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        assert!(watch_sockets(&mut poll, &mut events, &mailbox, until));
        assert_eq!(events.iter().next().map(|e| e.token()), Some(mio::Token(1)));
        // A command ends the watch too (the loop takes it), without an event.
        let mut poll = Poll::new().unwrap();
        mailbox.send(Command::Stop);
        let t = Instant::now();
        assert!(!watch_sockets(
            &mut poll,
            &mut events,
            &mailbox,
            t + Duration::from_secs(5)
        ));
        assert!(t.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn the_catch_up_watch_looks_seldom_for_a_stream_and_often_for_an_exchange() {
        let mailbox = Mailbox::new();
        let mut w = CatchUp::default();
        assert_eq!(w.gap, 1);
        // A message at the first look each time (a writer streaming): the gap doubles up to
        // its limit.
        for _ in 0..20 {
            assert!(w.watch(&mailbox, || Look::Caught));
        }
        assert_eq!(w.gap, CATCH_UP_GAP);
        // Messages that take several looks (answers): it halves down to one pause. (A watch
        // that the scheduler keeps off the CPU past INPROC_SPIN gives up without a catch and
        // leaves the gap as it was: that one is tried again.)
        for _ in 0..20 {
            let gap = w.gap;
            loop {
                let mut looks = 0;
                let caught = w.watch(&mailbox, || {
                    looks += 1;
                    if looks == 3 {
                        Look::Caught
                    } else {
                        Look::Empty
                    }
                });
                if caught {
                    break;
                }
                assert_eq!(w.gap, gap, "a watch that gave up keeps the gap");
            }
        }
        assert_eq!(w.gap, 1);
    }

    #[test]
    fn the_catch_up_watch_gives_up_after_the_inproc_spin_at_a_command_or_an_end() {
        use crate::command::Command;
        let mailbox = Mailbox::new();
        let mut w = CatchUp::default();
        let t = Instant::now();
        let mut looks = 0;
        assert!(!w.watch(&mailbox, || {
            looks += 1;
            Look::Empty
        }));
        assert!(t.elapsed() >= INPROC_SPIN);
        assert!(looks > 1);
        // A pipe that ends stops it at once.
        let mut looks = 0;
        assert!(!w.watch(&mailbox, || {
            looks += 1;
            Look::Ended
        }));
        assert_eq!(looks, 1);
        // A command ends it at once, after one last look at the pipe (which may have been
        // activated by it).
        mailbox.send(Command::Stop);
        let mut looks = 0;
        assert!(!w.watch(&mailbox, || {
            looks += 1;
            Look::Empty
        }));
        assert_eq!(looks, 1);
        assert!(w.watch(&mailbox, || Look::Caught));
    }

    #[test]
    fn a_command_sent_during_a_catch_up_watch_costs_no_wake_up_signal() {
        use crate::command::Command;
        let mailbox = std::sync::Arc::new(Mailbox::new());
        // The owner found its queue empty: a command now would signal it.
        assert!(mailbox.recv(0).is_err());
        let sender = mailbox.clone();
        let mut w = CatchUp::default();
        let mut sent = false;
        assert!(!w.watch(&mailbox, || {
            if !sent {
                sent = true;
                sender.send(Command::Stop);
            }
            Look::Empty
        }));
        assert!(matches!(mailbox.recv(0), Ok(Command::Stop)));
        // No signal was left behind: a wait on the empty queue lasts its whole timeout
        // instead of returning at once on a stale signal.
        let t = Instant::now();
        assert!(mailbox.recv(5).is_err());
        assert!(t.elapsed() >= Duration::from_millis(5));
    }
}
