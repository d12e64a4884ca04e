//! The pipe table of one socket: pipe ends by slot index. Routing strategies keep slot
//! indices; commands for a pipe end carry its index and id (see `command::PipeAddr`).

use std::sync::Arc;

use crate::mailbox::Mailbox;
use crate::msg::Msg;
use crate::pipe::Pipe;
use crate::watch::CatchUp;

/// Slots of pipe ends; a freed slot is reused.
#[derive(Default)]
pub struct Pipes {
    slots: Vec<Option<Pipe>>,
    free: Vec<usize>,
    /// The owning socket's mailbox, which a catch-up watch watches beside the pipe.
    mailbox: Option<Arc<Mailbox>>,
    /// The receive under way would spin on the mailbox before it sleeps anyway (a blocking
    /// receive on a socket whose peers are all in-process): a pipe found empty may be
    /// watched instead (`Pipe::read_into_watched`). Set by the socket for each receive.
    pub catch_up: bool,
    /// A catch-up watch ran in this receive and caught nothing: the wait that follows does
    /// not spin again.
    pub watched: bool,
    catch_up_watch: CatchUp,
}

impl Pipes {
    /// The table of a socket whose mailbox is `mailbox`.
    pub fn new(mailbox: Arc<Mailbox>) -> Pipes {
        Pipes {
            mailbox: Some(mailbox),
            ..Pipes::default()
        }
    }

    /// Reads the next part from the pipe in slot `i` into the empty `dst`
    /// (`Pipe::read_into`). When it is the socket's `last` pipe with messages to read and
    /// the receive may watch (`catch_up`), an empty pipe is watched before it sleeps.
    #[inline]
    pub fn read_into(&mut self, i: usize, dst: &mut Msg, last: bool) -> bool {
        let p = self.slots[i]
            .as_mut()
            .expect("routing strategy holds a live pipe slot");
        match &self.mailbox {
            Some(mailbox) if self.catch_up && last && p.watchable() => {
                let got = p.read_into_watched(dst, mailbox, &mut self.catch_up_watch);
                self.watched = !got;
                got
            }
            _ => p.read_into(dst),
        }
    }

    /// The slot a new pipe will take.
    pub fn next_index(&self) -> usize {
        self.free.last().copied().unwrap_or(self.slots.len())
    }

    /// Stores a pipe; returns its slot.
    pub fn insert(&mut self, p: Pipe) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(p);
                i
            }
            None => {
                self.slots.push(Some(p));
                self.slots.len() - 1
            }
        }
    }

    /// Removes the pipe in slot `i`.
    pub fn remove(&mut self, i: usize) -> Option<Pipe> {
        let p = self.slots.get_mut(i)?.take();
        if p.is_some() {
            self.free.push(i);
        }
        p
    }

    /// The pipe in slot `i`. Routing strategies only hold live slots, so this is infallible
    /// for them.
    pub fn get(&mut self, i: usize) -> &mut Pipe {
        self.slots[i]
            .as_mut()
            .expect("routing strategy holds a live pipe slot")
    }

    /// The pipe in slot `i` if `id` still lives there.
    pub fn get_checked(&mut self, i: usize, id: u64) -> Option<&mut Pipe> {
        self.slots.get_mut(i)?.as_mut().filter(|p| p.id() == id)
    }

    /// Slots of all live pipes.
    pub fn indices(&self) -> Vec<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.as_ref().map(|_| i))
            .collect()
    }

    /// Number of live pipes.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Whether no pipe is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[path = "pipes_harness.rs"]
pub mod harness;
