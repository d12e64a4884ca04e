//! A stand-in for an I/O thread, for tests of the objects that run on one (engines,
//! sessions, listeners): a poll and a mailbox, and what an [`IoCtx`] borrows. Timers set
//! through the context are kept (not fired); objects spawned are collected.

use std::sync::Arc;
use std::time::Instant;

use mio::Poll;

use super::{IoCtx, IoObject};
use crate::io::timer_heap::{Due, TimerHeap};
use crate::mailbox::Mailbox;

/// See the module documentation.
pub struct TestIo {
    pub poll: Poll,
    pub mailbox: Arc<Mailbox>,
    timers: TimerHeap,
    /// Objects hosted through `IoCtx::spawn`, in order.
    pub spawned: Vec<Box<dyn IoObject>>,
    woke_reader: bool,
    /// With rounds (`with_rounds`): the objects (slot, id) that asked for the next round,
    /// for the test to call back.
    pub next_round: Option<Vec<(usize, u64)>>,
}

impl Default for TestIo {
    fn default() -> Self {
        TestIo::new()
    }
}

impl TestIo {
    pub fn new() -> TestIo {
        TestIo {
            poll: Poll::new().expect("poll"),
            mailbox: Arc::new(Mailbox::new()),
            timers: TimerHeap::default(),
            spawned: Vec::new(),
            woke_reader: false,
            next_round: None,
        }
    }

    /// As `new`, with rounds: objects may ask for the next round (`IoCtx::call_next_round`),
    /// and the test plays the thread that calls them back.
    pub fn with_rounds() -> TestIo {
        TestIo {
            next_round: Some(Vec::new()),
            ..TestIo::new()
        }
    }

    /// The context for the object in `slot` (its mio token is `slot + 1`).
    pub fn ctx(&mut self, slot: usize) -> IoCtx<'_> {
        IoCtx {
            registry: self.poll.registry(),
            mailbox: &self.mailbox,
            slot,
            timers: &mut self.timers,
            id: slot as u64,
            spawned: &mut self.spawned,
            woke_reader: &mut self.woke_reader,
            next_round: self.next_round.as_mut(),
        }
    }

    /// How many timers are pending (set, neither fired nor cancelled).
    #[cfg(test)]
    pub fn timers_set(&self) -> usize {
        self.timers.pending()
    }

    /// Takes the timers due by `now` (they do not fire by themselves here).
    pub fn due_timers(&mut self, now: Instant) -> Vec<Due> {
        std::iter::from_fn(|| self.timers.pop_due(now)).collect()
    }
}
