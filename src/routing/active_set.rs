//! The pipe list that `lb` and `fq` share: pipes in `[0, active)` are usable (room to write,
//! or possibly messages to read), the rest wait for their peer to activate them; `current` is
//! the round-robin position inside the active part.

/// An ordered set of pipe slots with an active prefix and a round-robin cursor.
#[derive(Default)]
pub struct ActiveSet {
    pipes: Vec<usize>,
    active: usize,
    current: usize,
}

impl ActiveSet {
    /// Adds a pipe to the active part.
    pub fn attach(&mut self, idx: usize) {
        self.pipes.push(idx);
        let last = self.pipes.len() - 1;
        self.pipes.swap(self.active, last);
        self.active += 1;
    }

    /// Removes a pipe; returns whether it was the current one (None if unknown).
    pub fn remove(&mut self, idx: usize) -> Option<bool> {
        let mut pos = self.pipes.iter().position(|&p| p == idx)?;
        let was_current = pos == self.current;
        if pos < self.active {
            self.active -= 1;
            let last = self.active;
            self.pipes.swap(pos, last);
            // The cursor follows the pipe it pointed at (a message in progress stays on it).
            if self.current == last {
                self.current = pos;
            }
            pos = last;
        }
        self.pipes.swap_remove(pos);
        if self.current >= self.active {
            self.current = 0;
        }
        Some(was_current)
    }

    /// Moves a pipe back into the active part.
    pub fn activate(&mut self, idx: usize) {
        if let Some(pos) = self.pipes.iter().position(|&p| p == idx) {
            if pos >= self.active {
                self.pipes.swap(pos, self.active);
                self.active += 1;
            }
        }
    }

    /// The current pipe, if any pipe is active.
    pub fn current(&self) -> Option<usize> {
        (self.active > 0).then(|| self.pipes[self.current])
    }

    /// How many pipes are in the active part.
    pub fn active(&self) -> usize {
        self.active
    }

    /// Moves the cursor to the next active pipe.
    pub fn advance(&mut self) {
        if self.active > 0 {
            self.current = (self.current + 1) % self.active;
        }
    }

    /// Takes the current pipe out of the active part (it is full, or empty).
    pub fn deactivate_current(&mut self) {
        if self.active == 0 {
            return;
        }
        self.active -= 1;
        self.pipes.swap(self.current, self.active);
        if self.current == self.active {
            self.current = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_an_active_pipe_keeps_the_others() {
        let mut s = ActiveSet::default();
        for i in [10, 11, 12] {
            s.attach(i);
        }
        s.advance();
        s.advance();
        s.deactivate_current(); // 12 inactive; the cursor wraps to 10
        assert_eq!(s.remove(10), Some(true));
        let mut seen = Vec::new();
        for _ in 0..2 {
            seen.push(s.current().unwrap());
            s.advance();
        }
        assert_eq!(seen, vec![11, 11]);
        s.activate(12);
        let mut seen: Vec<usize> = (0..2)
            .map(|_| {
                let c = s.current().unwrap();
                s.advance();
                c
            })
            .collect();
        seen.sort();
        assert_eq!(seen, vec![11, 12]);
        assert_eq!(s.remove(99), None);
    }

    #[test]
    fn the_cursor_stays_on_its_pipe_when_another_is_removed() {
        let mut s = ActiveSet::default();
        for i in [1, 2, 3] {
            s.attach(i);
        }
        s.advance();
        s.advance();
        assert_eq!(s.current(), Some(3));
        assert_eq!(s.remove(2), Some(false));
        assert_eq!(s.current(), Some(3));
        assert_eq!(s.remove(1), Some(false));
        assert_eq!(s.current(), Some(3));
    }
}
