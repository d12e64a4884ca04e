//! Subscriptions per pipe (the PUB/XPUB side): which pipes want a message.
//!
//! Invariants: each node holds the set of pipes (slot indices, no duplicates) subscribed to
//! its prefix; a node with no pipes and no children is removed (except the root), so the
//! trie holds exactly the live subscriptions. A pipe subscribed twice to one topic is in the
//! set once (one unsubscription removes it). Children are sorted by byte.

/// A multi-pipe subscription trie. See the module documentation.
#[derive(Default, Debug)]
pub struct Mtrie {
    root: Node,
    /// Prefixes with at least one pipe: ZMQ_TOPICS_COUNT.
    prefixes: usize,
}

#[derive(Default, Debug)]
struct Node {
    pipes: Vec<usize>,
    children: Vec<(u8, Node)>,
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

impl Node {
    fn is_empty(&self) -> bool {
        self.pipes.is_empty() && self.children.is_empty()
    }

    fn rm(&mut self, prefix: &[u8], pipe: usize) -> RmResult {
        match prefix.split_first() {
            None => match self.pipes.iter().position(|&p| p == pipe) {
                None => RmResult::NotFound,
                Some(i) => {
                    self.pipes.swap_remove(i);
                    if self.pipes.is_empty() {
                        RmResult::LastValueRemoved
                    } else {
                        RmResult::ValuesRemain
                    }
                }
            },
            Some((&b, rest)) => {
                let Ok(i) = self.children.binary_search_by_key(&b, |c| c.0) else {
                    return RmResult::NotFound;
                };
                let r = self.children[i].1.rm(rest, pipe);
                if self.children[i].1.is_empty() {
                    self.children.remove(i);
                }
                r
            }
        }
    }

    fn rm_pipe(
        &mut self,
        pipe: usize,
        path: &mut Vec<u8>,
        only_last: bool,
        f: &mut dyn FnMut(&[u8]),
    ) -> usize {
        let mut emptied = 0;
        if let Some(i) = self.pipes.iter().position(|&p| p == pipe) {
            self.pipes.swap_remove(i);
            if self.pipes.is_empty() {
                emptied += 1;
            }
            if !only_last || self.pipes.is_empty() {
                f(path);
            }
        }
        for (b, c) in &mut self.children {
            path.push(*b);
            emptied += c.rm_pipe(pipe, path, only_last, f);
            path.pop();
        }
        self.children.retain(|(_, c)| !c.is_empty());
        emptied
    }
}

impl Mtrie {
    /// Subscribes `pipe` to `prefix`; true when no pipe was subscribed to it before.
    pub fn add(&mut self, prefix: &[u8], pipe: usize) -> bool {
        let mut n = &mut self.root;
        for &b in prefix {
            let i = match n.children.binary_search_by_key(&b, |c| c.0) {
                Ok(i) => i,
                Err(i) => {
                    n.children.insert(i, (b, Node::default()));
                    i
                }
            };
            n = &mut n.children[i].1;
        }
        let first = n.pipes.is_empty();
        if !n.pipes.contains(&pipe) {
            n.pipes.push(pipe);
        }
        if first {
            self.prefixes += 1;
        }
        first
    }

    /// Unsubscribes `pipe` from `prefix`.
    pub fn rm(&mut self, prefix: &[u8], pipe: usize) -> RmResult {
        let r = self.root.rm(prefix, pipe);
        if r == RmResult::LastValueRemoved {
            self.prefixes -= 1;
        }
        r
    }

    /// Removes every subscription of `pipe`, calling `f` with each of its topics (with
    /// `only_last`, only with those no other pipe is subscribed to).
    pub fn rm_pipe(&mut self, pipe: usize, only_last: bool, mut f: impl FnMut(&[u8])) {
        let emptied = self.root.rm_pipe(pipe, &mut Vec::new(), only_last, &mut f);
        self.prefixes -= emptied;
    }

    /// How many distinct prefixes have a pipe.
    pub fn num_prefixes(&self) -> usize {
        self.prefixes
    }

    /// Calls `f` with every pipe subscribed to a prefix of `data` (a pipe may come more
    /// than once when it has several matching subscriptions).
    pub fn match_pipes(&self, data: &[u8], mut f: impl FnMut(usize)) {
        let mut n = &self.root;
        let mut rest = data;
        loop {
            n.pipes.iter().for_each(|&p| f(p));
            let Some((&b, r)) = rest.split_first() else {
                return;
            };
            match n.children.binary_search_by_key(&b, |c| c.0) {
                Ok(i) => n = &n.children[i].1,
                Err(_) => return,
            }
            rest = r;
        }
    }

    /// Whether nothing is subscribed.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.root.is_empty()
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
        let mut gone = Vec::new();
        t.rm_pipe(1, true, |topic| gone.push(topic.to_vec()));
        gone.sort();
        assert_eq!(gone, vec![b"y".to_vec(), b"yz".to_vec()]);
        assert_eq!(matches(&t, b"yz"), Vec::<usize>::new());
        let mut all = Vec::new();
        t.rm_pipe(2, false, |topic| all.push(topic.to_vec()));
        assert_eq!(all, vec![b"x".to_vec()]);
        assert!(t.is_empty());
    }
}
