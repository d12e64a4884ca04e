//! The pipe table of one socket: pipe ends by slot index. Routing strategies keep slot
//! indices; commands for a pipe end carry its index and id (see `command::PipeAddr`).

use crate::pipe::Pipe;

/// Slots of pipe ends; a freed slot is reused.
#[derive(Default)]
pub struct Pipes {
    slots: Vec<Option<Pipe>>,
    free: Vec<usize>,
}

impl Pipes {
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
