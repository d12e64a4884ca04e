//! Subscriptions per pipe (the PUB/XPUB side): which pipes want a message.
//!
//! Invariants: each prefix holds the set of pipes (slot indices, no duplicates) subscribed
//! to it; prefixes with no pipe are not in the tree (see `radix`), so it holds exactly the
//! live subscriptions. A pipe subscribed twice to one topic is in the set once (one
//! unsubscription removes it).

use super::radix::{insert_at, remove_at, Radix, Value};

/// A multi-pipe subscription trie. See the module documentation.
#[derive(Default, Debug)]
pub struct Mtrie {
    tree: Radix<PipeSet>,
    /// Prefixes with at least one pipe: ZMQ_TOPICS_COUNT.
    prefixes: usize,
}

/// The pipes subscribed to one prefix: most prefixes have one, held without an allocation.
#[derive(Default, Debug)]
enum PipeSet {
    #[default]
    Empty,
    One(usize),
    /// Two or more.
    Many(Box<[usize]>),
}

impl Value for PipeSet {
    fn is_empty(&self) -> bool {
        matches!(self, PipeSet::Empty)
    }
}

impl PipeSet {
    fn as_slice(&self) -> &[usize] {
        match self {
            PipeSet::Empty => &[],
            PipeSet::One(p) => std::slice::from_ref(p),
            PipeSet::Many(v) => v,
        }
    }

    /// Adds `pipe` (no effect when present).
    fn insert(&mut self, pipe: usize) {
        *self = match std::mem::take(self) {
            PipeSet::Empty => PipeSet::One(pipe),
            PipeSet::One(p) if p == pipe => PipeSet::One(p),
            PipeSet::One(p) => PipeSet::Many(Box::new([p, pipe])),
            PipeSet::Many(v) if v.contains(&pipe) => PipeSet::Many(v),
            PipeSet::Many(mut v) => {
                let end = v.len();
                insert_at(&mut v, end, pipe);
                PipeSet::Many(v)
            }
        }
    }

    /// Removes `pipe`: what that did to the set.
    fn remove(&mut self, pipe: usize) -> RmResult {
        let Some(i) = self.as_slice().iter().position(|&p| p == pipe) else {
            return RmResult::NotFound;
        };
        *self = match std::mem::take(self) {
            PipeSet::Many(mut v) if v.len() > 2 => {
                remove_at(&mut v, i);
                PipeSet::Many(v)
            }
            PipeSet::Many(v) => PipeSet::One(v[1 - i]),
            _ => PipeSet::Empty,
        };
        if self.is_empty() {
            RmResult::LastValueRemoved
        } else {
            RmResult::ValuesRemain
        }
    }
}

/// What removing one subscription did.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RmResult {
    /// The pipe was not subscribed to the topic.
    NotFound,
    /// It was the last pipe subscribed to the topic.
    LastValueRemoved,
    /// Other pipes are still subscribed to the topic.
    ValuesRemain,
}

impl Mtrie {
    /// Subscribes `pipe` to `prefix`; true when no pipe was subscribed to it before.
    pub fn add(&mut self, prefix: &[u8], pipe: usize) -> bool {
        let set = self.tree.entry(prefix);
        let first = set.is_empty();
        set.insert(pipe);
        if first {
            self.prefixes += 1;
        }
        first
    }

    /// Unsubscribes `pipe` from `prefix`.
    pub fn rm(&mut self, prefix: &[u8], pipe: usize) -> RmResult {
        let r = self
            .tree
            .update(prefix, |set| set.remove(pipe))
            .unwrap_or(RmResult::NotFound);
        if r == RmResult::LastValueRemoved {
            self.prefixes -= 1;
        }
        r
    }

    /// Removes every subscription of `pipe`, calling `f` with each of its topics in byte
    /// order (with `only_last`, only with those no other pipe is subscribed to).
    pub fn rm_pipe(&mut self, pipe: usize, only_last: bool, mut f: impl FnMut(&[u8])) {
        let mut topics = Vec::new();
        self.tree.for_each(|prefix, set| {
            if set.as_slice().contains(&pipe) {
                topics.push(prefix.to_vec());
            }
        });
        for topic in topics {
            let r = self.rm(&topic, pipe);
            if !only_last || r == RmResult::LastValueRemoved {
                f(&topic);
            }
        }
    }

    /// How many distinct prefixes have a pipe.
    pub fn num_prefixes(&self) -> usize {
        self.prefixes
    }

    /// Calls `f` with every pipe subscribed to a prefix of `data` (a pipe may come more
    /// than once when it has several matching subscriptions).
    pub fn match_pipes(&self, data: &[u8], mut f: impl FnMut(usize)) {
        self.tree.walk(data, |set| {
            set.as_slice().iter().for_each(|&p| f(p));
            false
        });
    }

    /// Whether nothing is subscribed.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(t: &Mtrie, data: &[u8]) -> Vec<usize> {
        let mut v = Vec::new();
        t.match_pipes(data, |p| {
            if !v.contains(&p) {
                v.push(p)
            }
        });
        v.sort();
        v
    }

    #[test]
    fn add_rm_and_match() {
        let mut t = Mtrie::default();
        assert!(t.add(b"a", 1));
        assert!(!t.add(b"a", 2));
        assert!(!t.add(b"a", 2));
        assert!(t.add(b"", 3));
        assert!(t.add(b"abc", 1));
        assert_eq!(matches(&t, b"abcd"), vec![1, 2, 3]);
        assert_eq!(matches(&t, b"b"), vec![3]);
        assert_eq!(t.rm(b"a", 2), RmResult::ValuesRemain);
        assert_eq!(t.rm(b"a", 2), RmResult::NotFound);
        assert_eq!(t.rm(b"a", 1), RmResult::LastValueRemoved);
        assert_eq!(t.rm(b"zz", 1), RmResult::NotFound);
        assert_eq!(matches(&t, b"ab"), vec![3]);
        assert_eq!(matches(&t, b"abc"), vec![1, 3]);
    }

    #[test]
    fn removing_a_pipe_reports_its_topics() {
        let mut t = Mtrie::default();
        t.add(b"x", 1);
        t.add(b"x", 2);
        t.add(b"y", 1);
        t.add(b"yz", 1);
        t.add(b"a", 1);
        assert_eq!(t.num_prefixes(), 4);
        let mut gone = Vec::new();
        t.rm_pipe(1, true, |topic| gone.push(topic.to_vec()));
        // In byte order; "x" is not reported: pipe 2 still has it.
        assert_eq!(gone, vec![b"a".to_vec(), b"y".to_vec(), b"yz".to_vec()]);
        assert_eq!(t.num_prefixes(), 1);
        assert_eq!(matches(&t, b"yz"), Vec::<usize>::new());
        let mut all = Vec::new();
        t.rm_pipe(2, false, |topic| all.push(topic.to_vec()));
        assert_eq!(all, vec![b"x".to_vec()]);
        assert!(t.is_empty());
        assert_eq!(t.num_prefixes(), 0);
    }

    #[test]
    fn many_pipes_on_one_prefix() {
        let mut t = Mtrie::default();
        for p in [4, 7, 9, 7] {
            t.add(b"t", p);
        }
        assert_eq!(matches(&t, b"topic"), vec![4, 7, 9]);
        assert_eq!(t.rm(b"t", 7), RmResult::ValuesRemain);
        assert_eq!(t.rm(b"t", 7), RmResult::NotFound);
        assert_eq!(matches(&t, b"t"), vec![4, 9]);
        assert_eq!(t.rm(b"t", 4), RmResult::ValuesRemain);
        assert_eq!(matches(&t, b"t"), vec![9]);
        assert_eq!(t.rm(b"t", 9), RmResult::LastValueRemoved);
        assert!(t.is_empty());
    }
}
