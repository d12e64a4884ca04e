//! The timer set behind `zmq_timers_*`: repeating timers with millisecond intervals
//! ([`Timers`]), run by the caller through [`TimerSet::execute`].
//!
//! Semantics follow `man zmq_timers`: ids start at 1 and count up; a timer repeats every
//! `interval` ms until cancelled; cancelling an unknown or already-cancelled id fails with
//! EINVAL. A cancelled timer stays known (and cancelled) until the timer set next passes it
//! in [`Timers::timeout`] or [`TimerSet::execute`], as libzmq does; `set_interval` and
//! `reset` accept it until then, and it never fires again.
//!
//! Handlers are opaque values of type `H`, run by a closure given to [`TimerSet::execute`],
//! one at a time with the set not borrowed, so a handler may call back into the same timer
//! set (cancel, add, reset, execute, even close it).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;
use std::time::Instant;

use crate::error::{Error, Result};

/// Milliseconds on a monotonic clock (since the first call in this process).
pub fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A place in the expiry order: expiry time, then order of scheduling (so timers that
/// expire together run in the order they were scheduled), then the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    expiry: u64,
    seq: u64,
    id: i32,
}

#[derive(Debug)]
struct Timer<H> {
    interval: u64,
    slot: Slot,
    cancelled: bool,
    handler: H,
}

/// A set of repeating timers.
#[derive(Debug)]
pub struct Timers<H> {
    timers: HashMap<i32, Timer<H>>,
    order: BTreeSet<Slot>,
    last_id: i32,
    seq: u64,
}

impl<H> Default for Timers<H> {
    fn default() -> Self {
        Timers {
            timers: HashMap::new(),
            order: BTreeSet::new(),
            last_id: 0,
            seq: 0,
        }
    }
}

impl<H: Clone> Timers<H> {
    /// An empty timer set.
    #[cfg(test)]
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of timers known (including cancelled ones not yet passed over).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.timers.len()
    }

    /// Whether no timer is known.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }

    fn next_slot(&mut self, id: i32, expiry: u64) -> Slot {
        self.seq += 1;
        Slot {
            expiry,
            seq: self.seq,
            id,
        }
    }

    /// Moves timer `id` (which must exist) to expire at `expiry`.
    fn reschedule(&mut self, id: i32, expiry: u64) {
        let slot = self.next_slot(id, expiry);
        if let Some(timer) = self.timers.get_mut(&id) {
            self.order.remove(&timer.slot);
            timer.slot = slot;
            self.order.insert(slot);
        }
    }

    fn remove(&mut self, id: i32) {
        if let Some(timer) = self.timers.remove(&id) {
            self.order.remove(&timer.slot);
        }
    }

    /// Adds a timer that first fires `interval` ms after `now`; returns its id.
    pub fn add_at(&mut self, now: u64, interval: u64, handler: H) -> i32 {
        // Ids count up from 1; after 2^31 - 1 timers they wrap, skipping ids still in use.
        let mut id = self.last_id;
        loop {
            id = if id == i32::MAX { 1 } else { id + 1 };
            if !self.timers.contains_key(&id) {
                break;
            }
        }
        self.last_id = id;
        let slot = self.next_slot(id, now.saturating_add(interval));
        self.order.insert(slot);
        self.timers.insert(
            id,
            Timer {
                interval,
                slot,
                cancelled: false,
                handler,
            },
        );
        id
    }

    /// [`Timers::add_at`] at the current time.
    pub fn add(&mut self, interval: u64, handler: H) -> i32 {
        self.add_at(now_ms(), interval, handler)
    }

    /// Cancels timer `id`; `Inval` if it is unknown or already cancelled.
    pub fn cancel(&mut self, id: i32) -> Result<()> {
        match self.timers.get_mut(&id) {
            Some(timer) if !timer.cancelled => {
                timer.cancelled = true;
                Ok(())
            }
            _ => Err(Error::Inval),
        }
    }

    /// Gives timer `id` a new interval and makes it expire that long after `now`.
    pub fn set_interval_at(&mut self, now: u64, id: i32, interval: u64) -> Result<()> {
        let timer = self.timers.get_mut(&id).ok_or(Error::Inval)?;
        timer.interval = interval;
        self.reschedule(id, now.saturating_add(interval));
        Ok(())
    }

    /// [`Timers::set_interval_at`] at the current time.
    pub fn set_interval(&mut self, id: i32, interval: u64) -> Result<()> {
        self.set_interval_at(now_ms(), id, interval)
    }

    /// Restarts timer `id`: it expires one interval after `now`.
    pub fn reset_at(&mut self, now: u64, id: i32) -> Result<()> {
        let interval = self.timers.get(&id).ok_or(Error::Inval)?.interval;
        self.reschedule(id, now.saturating_add(interval));
        Ok(())
    }

    /// [`Timers::reset_at`] at the current time.
    pub fn reset(&mut self, id: i32) -> Result<()> {
        self.reset_at(now_ms(), id)
    }

    /// Milliseconds from `now` until the next live timer expires (0 if one is overdue), or
    /// -1 when there is none. Cancelled timers met on the way are forgotten.
    pub fn timeout_at(&mut self, now: u64) -> i64 {
        while let Some(&slot) = self.order.first() {
            if self.timers.get(&slot.id).is_some_and(|t| t.cancelled) {
                self.remove(slot.id);
                continue;
            }
            let left = slot.expiry.saturating_sub(now);
            return i64::try_from(left).unwrap_or(i64::MAX);
        }
        -1
    }

    /// [`Timers::timeout_at`] at the current time.
    pub fn timeout(&mut self) -> i64 {
        self.timeout_at(now_ms())
    }

    /// The timers expired at `now`, in the order they are to run. Pass each to
    /// [`Timers::fire`] with the same `now`.
    fn due(&self, now: u64) -> Vec<Slot> {
        self.order
            .iter()
            .take_while(|slot| slot.expiry <= now)
            .copied()
            .collect()
    }

    /// Takes one timer of a [`Timers::due`] list: when it is still scheduled at that slot
    /// and not cancelled, it is rescheduled one interval after `now` and its id and handler
    /// are returned for the caller to run. A cancelled timer is forgotten instead; a timer
    /// that was rescheduled or removed since (by an earlier handler) is left alone.
    fn fire(&mut self, slot: Slot, now: u64) -> Option<(i32, H)> {
        let timer = self.timers.get(&slot.id)?;
        if timer.slot != slot {
            return None;
        }
        if timer.cancelled {
            self.remove(slot.id);
            return None;
        }
        let (interval, handler) = (timer.interval, timer.handler.clone());
        self.reschedule(slot.id, now.saturating_add(interval));
        Some((slot.id, handler))
    }
}

/// What [`TimerSet::execute`] leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Executed {
    /// The set is still open.
    Open,
    /// A handler closed the set ([`TimerSet::close`]) during this run, the outermost one:
    /// nothing uses the set any more, the caller may free it.
    Closed,
}

/// A timer set whose handlers may use it while they run (the `zmq_timers_*` API, where a
/// handler gets the set's handle): [`Timers`] borrowed only between handlers, plus the
/// bookkeeping that lets a handler close the set under a run.
#[derive(Debug)]
pub struct TimerSet<H> {
    timers: RefCell<Timers<H>>,
    /// Runs of [`TimerSet::execute`] in progress (handlers may nest them).
    running: Cell<u32>,
    closed: Cell<bool>,
}

impl<H> Default for TimerSet<H> {
    fn default() -> Self {
        TimerSet {
            timers: RefCell::new(Timers::default()),
            running: Cell::new(0),
            closed: Cell::new(false),
        }
    }
}

impl<H: Clone> TimerSet<H> {
    /// An empty timer set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on the timers. Not to be called from inside `f`.
    pub fn with<R>(&self, f: impl FnOnce(&mut Timers<H>) -> R) -> R {
        f(&mut self.timers.borrow_mut())
    }

    /// Runs every timer expired at `now` through `run`, in expiry order, rescheduling each
    /// one interval after `now`. The set is not borrowed while `run` runs; when `run` closes
    /// the set, the run stops there.
    pub fn execute_at(&self, now: u64, mut run: impl FnMut(i32, H)) -> Executed {
        let due = self.timers.borrow().due(now);
        self.running.set(self.running.get() + 1);
        for slot in due {
            if self.closed.get() {
                break;
            }
            let fired = self.timers.borrow_mut().fire(slot, now);
            if let Some((id, handler)) = fired {
                run(id, handler);
            }
        }
        let running = self.running.get() - 1;
        self.running.set(running);
        if running == 0 && self.closed.get() {
            Executed::Closed
        } else {
            Executed::Open
        }
    }

    /// [`TimerSet::execute_at`] at the current time.
    pub fn execute(&self, run: impl FnMut(i32, H)) -> Executed {
        self.execute_at(now_ms(), run)
    }

    /// Closes the set: a run in progress stops after the current handler. True when no run
    /// is in progress, so the caller may free the set now; otherwise the outermost run
    /// reports [`Executed::Closed`] and its caller frees it.
    pub fn close(&self) -> bool {
        self.closed.set(true);
        self.running.get() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(timers: &mut Timers<&'static str>, now: u64) -> Vec<(i32, &'static str)> {
        let set = TimerSet {
            timers: RefCell::new(std::mem::take(timers)),
            running: Cell::new(0),
            closed: Cell::new(false),
        };
        let mut fired = Vec::new();
        assert_eq!(
            set.execute_at(now, |id, h| fired.push((id, h))),
            Executed::Open
        );
        *timers = set.timers.into_inner();
        fired
    }

    #[test]
    fn empty_set_has_no_timeout() {
        let mut t = Timers::<()>::new();
        assert_eq!(t.timeout_at(0), -1);
        assert!(t.is_empty());
    }

    #[test]
    fn ids_count_from_one() {
        let mut t = Timers::new();
        assert_eq!(t.add_at(0, 10, ()), 1);
        assert_eq!(t.add_at(0, 10, ()), 2);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn fires_in_expiry_order_and_repeats() {
        let mut t = Timers::new();
        let a = t.add_at(0, 30, "a");
        let b = t.add_at(0, 10, "b");
        let c = t.add_at(0, 10, "c");
        assert_eq!(t.timeout_at(0), 10);
        assert_eq!(t.timeout_at(4), 6);
        assert_eq!(run(&mut t, 9), vec![]);
        assert_eq!(run(&mut t, 10), vec![(b, "b"), (c, "c")]);
        assert_eq!(t.timeout_at(10), 10);
        assert_eq!(run(&mut t, 35), vec![(b, "b"), (c, "c"), (a, "a")]);
        // Rescheduled from the time of execution, not from the missed expiry.
        assert_eq!(t.timeout_at(35), 10);
        assert_eq!(t.timeout_at(100), 0);
    }

    #[test]
    fn cancel() {
        let mut t = Timers::new();
        let a = t.add_at(0, 10, "a");
        let b = t.add_at(0, 20, "b");
        assert_eq!(t.cancel(a), Ok(()));
        assert_eq!(t.cancel(a), Err(Error::Inval));
        assert_eq!(t.cancel(99), Err(Error::Inval));
        assert_eq!(t.timeout_at(0), 20);
        assert_eq!(run(&mut t, 20), vec![(b, "b")]);
        assert_eq!(t.cancel(b), Ok(()));
        assert_eq!(t.timeout_at(20), -1);
        assert!(t.is_empty());
        assert_eq!(t.cancel(a), Err(Error::Inval));
        assert_eq!(t.reset_at(0, a), Err(Error::Inval));
    }

    #[test]
    fn cancelled_timer_never_fires_even_if_reset() {
        let mut t = Timers::new();
        let a = t.add_at(0, 10, "a");
        t.cancel(a).unwrap();
        // Still known until passed over, as in libzmq.
        assert_eq!(t.reset_at(0, a), Ok(()));
        assert_eq!(t.set_interval_at(0, a, 5), Ok(()));
        assert_eq!(run(&mut t, 100), vec![]);
        assert!(t.is_empty());
        assert_eq!(t.set_interval_at(0, a, 5), Err(Error::Inval));
    }

    #[test]
    fn reset_and_set_interval() {
        let mut t = Timers::new();
        let a = t.add_at(0, 10, "a");
        assert_eq!(t.reset_at(8, a), Ok(()));
        assert_eq!(t.timeout_at(8), 10);
        assert_eq!(run(&mut t, 10), vec![]);
        assert_eq!(run(&mut t, 18), vec![(a, "a")]);
        assert_eq!(t.set_interval_at(20, a, 50), Ok(()));
        assert_eq!(t.timeout_at(20), 50);
        assert_eq!(run(&mut t, 70), vec![(a, "a")]);
        assert_eq!(t.timeout_at(70), 50);
        assert_eq!(t.set_interval_at(0, 42, 5), Err(Error::Inval));
        assert_eq!(t.reset_at(0, 42), Err(Error::Inval));
    }

    #[test]
    fn zero_interval_fires_once_per_execute() {
        let mut t = Timers::new();
        let a = t.add_at(0, 0, "a");
        assert_eq!(t.timeout_at(0), 0);
        assert_eq!(run(&mut t, 0), vec![(a, "a")]);
        assert_eq!(run(&mut t, 0), vec![(a, "a")]);
    }

    #[test]
    fn handler_may_cancel_a_later_due_timer() {
        let set = TimerSet::new();
        let (a, b) = set.with(|t| (t.add_at(0, 10, "a"), t.add_at(0, 10, "b")));
        let mut fired = Vec::new();
        set.execute_at(10, |id, h| {
            fired.push(h);
            if id == a {
                set.with(|t| t.cancel(b)).unwrap();
            }
        });
        assert_eq!(fired, vec!["a"]);
        assert_eq!(set.with(|t| t.len()), 1);
    }

    #[test]
    fn handler_may_close_the_set_which_its_outermost_run_reports() {
        let set = TimerSet::new();
        set.with(|t| {
            t.add_at(0, 0, "close");
            t.add_at(0, 0, "later");
        });
        let mut fired = Vec::new();
        let outcome = set.execute_at(0, |_, h| {
            fired.push(h);
            if h == "close" {
                // A nested run sees the set open, and is not the one to free it.
                assert_eq!(set.execute_at(0, |_, _| {}), Executed::Open);
                assert!(!set.close());
            }
        });
        assert_eq!(outcome, Executed::Closed);
        assert_eq!(fired, vec!["close"]);
        assert!(set.close());
    }

    #[test]
    fn huge_interval_saturates() {
        let mut t = Timers::new();
        t.add_at(5, u64::MAX, ());
        assert_eq!(t.timeout_at(5), i64::MAX);
    }

    #[test]
    fn clock_is_monotonic() {
        let a = now_ms();
        std::thread::sleep(std::time::Duration::from_millis(3));
        assert!(now_ms() >= a + 2);
    }
}
