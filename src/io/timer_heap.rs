//! The timers of one I/O thread: the one timer facility of the objects it hosts (sessions,
//! their engines, listeners). An object sets a one-shot timer with a number of its own
//! choosing (`IoCtx::add_timer`), may cancel it (`IoCtx::cancel_timer`), and is called back
//! with that number when it fires (`IoObject::timer`), on its thread.
//!
//! Invariants: a cancelled timer never fires; a timer of an object that has left the thread
//! (its slot now hosts another object, or none) never fires; timers due at the same instant
//! fire in the order they were set.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::time::{Duration, Instant};

/// A timer that was set: what cancels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerId(u64);

/// One timer: when, its sequence number (its [`TimerId`]), and whose it is.
type Entry = Reverse<(Instant, u64, Due)>;

/// A timer that is due: the object's slot and id on the thread, and the object's number for
/// the timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Due {
    pub slot: usize,
    pub object: u64,
    pub timer: u32,
}

/// See the module documentation.
#[derive(Default)]
pub struct TimerHeap {
    heap: BinaryHeap<Entry>,
    /// Timers set and neither fired nor cancelled.
    live: HashSet<u64>,
    /// Timers cancelled while still in the heap (skipped when they come up).
    cancelled: HashSet<u64>,
    next: u64,
}

impl TimerHeap {
    /// Sets a timer that fires after `after`.
    pub fn add(&mut self, after: Duration, due: Due) -> TimerId {
        self.next += 1;
        self.heap
            .push(Reverse((Instant::now() + after, self.next, due)));
        self.live.insert(self.next);
        TimerId(self.next)
    }

    /// Cancels a timer; nothing happens if it already fired or was cancelled.
    pub fn cancel(&mut self, id: TimerId) {
        if self.live.remove(&id.0) {
            self.cancelled.insert(id.0);
        }
    }

    /// The next timer due at `now` or earlier, taken off the heap.
    pub fn pop_due(&mut self, now: Instant) -> Option<Due> {
        while let Some(Reverse((at, seq, due))) = self.heap.peek().copied() {
            if at > now {
                return None;
            }
            self.heap.pop();
            if !self.cancelled.remove(&seq) {
                self.live.remove(&seq);
                return Some(due);
            }
        }
        None
    }

    /// How many timers are pending (set, neither fired nor cancelled).
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.live.len()
    }

    /// How long until the next timer is due (`None`: no timer is set).
    pub fn next_timeout(&mut self) -> Option<Duration> {
        // Cancelled timers at the front would wake the thread for nothing.
        while let Some(Reverse((_, seq, _))) = self.heap.peek() {
            if !self.cancelled.remove(seq) {
                break;
            }
            self.heap.pop();
        }
        self.heap
            .peek()
            .map(|Reverse((at, ..))| at.saturating_duration_since(Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(timer: u32) -> Due {
        Due {
            slot: 0,
            object: 1,
            timer,
        }
    }

    #[test]
    fn timers_fire_in_time_order_and_once() {
        let mut h = TimerHeap::default();
        h.add(Duration::from_millis(20), due(2));
        h.add(Duration::ZERO, due(1));
        let later = Instant::now() + Duration::from_millis(30);
        assert_eq!(h.pop_due(later), Some(due(1)));
        assert_eq!(h.pop_due(later), Some(due(2)));
        assert_eq!(h.pop_due(later), None);
        assert_eq!(h.next_timeout(), None);
    }

    #[test]
    fn a_timer_that_is_not_due_waits() {
        let mut h = TimerHeap::default();
        h.add(Duration::from_secs(60), due(1));
        assert_eq!(h.pop_due(Instant::now()), None);
        let t = h.next_timeout().unwrap();
        assert!(t > Duration::from_secs(59) && t <= Duration::from_secs(60));
    }

    #[test]
    fn a_cancelled_timer_never_fires_and_does_not_wake_the_thread() {
        let mut h = TimerHeap::default();
        let a = h.add(Duration::ZERO, due(1));
        let b = h.add(Duration::from_secs(60), due(2));
        h.cancel(a);
        h.cancel(b);
        assert_eq!(h.pop_due(Instant::now() + Duration::from_secs(61)), None);
        assert_eq!(h.next_timeout(), None);
        assert!(
            h.cancelled.is_empty(),
            "cancellations are forgotten once passed"
        );
        // Cancelling a timer that already fired is harmless and remembers nothing.
        let c = h.add(Duration::ZERO, due(3));
        assert_eq!(h.pop_due(Instant::now()), Some(due(3)));
        h.cancel(c);
        assert!(h.cancelled.is_empty());
    }
}
