//! Prefix subscriptions with reference counts (the SUB/XSUB side filter).
//!
//! Invariants: each node counts how many times its prefix (the path from the root) was
//! subscribed and not yet unsubscribed; a node with count 0 and no children is removed
//! (except the root), so the trie holds exactly the live subscriptions. Children are kept
//! sorted by their byte for binary search.

/// A subscription trie. See the module documentation.
#[derive(Default, Debug)]
pub struct Trie {
    root: Node,
    /// Prefixes subscribed (once each, whatever their count): ZMQ_TOPICS_COUNT.
    prefixes: usize,
}

#[derive(Default, Debug)]
struct Node {
    refcnt: u32,
    children: Vec<(u8, Node)>,
}

impl Node {
    fn child(&self, b: u8) -> Option<&Node> {
        self.children
            .binary_search_by_key(&b, |c| c.0)
            .ok()
            .map(|i| &self.children[i].1)
    }

    fn is_empty(&self) -> bool {
        self.refcnt == 0 && self.children.is_empty()
    }

    fn rm(&mut self, prefix: &[u8]) -> Option<bool> {
        match prefix.split_first() {
            None => {
                if self.refcnt == 0 {
                    return None;
                }
                self.refcnt -= 1;
                Some(self.refcnt == 0)
            }
            Some((&b, rest)) => {
                let i = self.children.binary_search_by_key(&b, |c| c.0).ok()?;
                let r = self.children[i].1.rm(rest);
                if self.children[i].1.is_empty() {
                    self.children.remove(i);
                }
                r
            }
        }
    }

    fn apply(&self, path: &mut Vec<u8>, f: &mut dyn FnMut(&[u8])) {
        if self.refcnt > 0 {
            f(path);
        }
        for (b, c) in &self.children {
            path.push(*b);
            c.apply(path, f);
            path.pop();
        }
    }
}

impl Trie {
    /// Adds a subscription; true when the prefix was not subscribed before.
    pub fn add(&mut self, prefix: &[u8]) -> bool {
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
        n.refcnt += 1;
        if n.refcnt == 1 {
            self.prefixes += 1;
        }
        n.refcnt == 1
    }

    /// Removes one subscription; true when it was the last one for this prefix (false
    /// also when the prefix was not subscribed at all).
    pub fn rm(&mut self, prefix: &[u8]) -> bool {
        let last = self.root.rm(prefix).unwrap_or(false);
        if last {
            self.prefixes -= 1;
        }
        last
    }

    /// How many distinct prefixes are subscribed.
    pub fn num_prefixes(&self) -> usize {
        self.prefixes
    }

    /// Whether some subscribed prefix is a prefix of `data`.
    pub fn check(&self, data: &[u8]) -> bool {
        let mut n = &self.root;
        if n.refcnt > 0 {
            return true;
        }
        for &b in data {
            match n.child(b) {
                Some(c) => n = c,
                None => return false,
            }
            if n.refcnt > 0 {
                return true;
            }
        }
        false
    }

    /// Calls `f` with every subscribed prefix (once each, whatever its count).
    pub fn apply(&self, mut f: impl FnMut(&[u8])) {
        self.root.apply(&mut Vec::new(), &mut f);
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

    #[test]
    fn refcounted_subscriptions() {
        let mut t = Trie::default();
        assert!(t.add(b"ab"));
        assert!(!t.add(b"ab"));
        assert!(t.check(b"abc"));
        assert!(!t.rm(b"ab"));
        assert!(t.check(b"ab"));
        assert!(t.rm(b"ab"));
        assert!(!t.check(b"ab"));
        assert!(!t.rm(b"ab"));
        assert!(t.is_empty());
    }

    #[test]
    fn prefix_matching() {
        let mut t = Trie::default();
        t.add(b"foo");
        assert!(t.check(b"foo"));
        assert!(t.check(b"foobar"));
        assert!(!t.check(b"fo"));
        assert!(!t.check(b"bar"));
        t.add(b"");
        assert!(t.check(b"bar"));
        assert!(t.check(b""));
    }

    #[test]
    fn removing_a_prefix_keeps_longer_ones() {
        let mut t = Trie::default();
        t.add(b"a");
        t.add(b"abc");
        assert!(t.rm(b"a"));
        assert!(!t.check(b"ab"));
        assert!(t.check(b"abcd"));
        assert!(!t.rm(b"zz"));
        let mut all = Vec::new();
        t.add(b"b");
        t.add(b"b");
        t.apply(|p| all.push(p.to_vec()));
        assert_eq!(all, vec![b"abc".to_vec(), b"b".to_vec()]);
    }
}
