//! Prefix subscriptions with reference counts (the SUB/XSUB side filter).
//!
//! Invariants: each prefix's count is how many times it was subscribed and not yet
//! unsubscribed; prefixes with count 0 are not in the tree (see `radix`), so it holds
//! exactly the live subscriptions.

use super::radix::Radix;

/// A subscription trie. See the module documentation.
#[derive(Default, Debug)]
pub struct Trie {
    tree: Radix<u32>,
    /// Prefixes subscribed (once each, whatever their count): ZMQ_TOPICS_COUNT.
    prefixes: usize,
}

impl Trie {
    /// Adds a subscription; true when the prefix was not subscribed before.
    pub fn add(&mut self, prefix: &[u8]) -> bool {
        let n = self.tree.entry(prefix);
        *n += 1;
        let first = *n == 1;
        if first {
            self.prefixes += 1;
        }
        first
    }

    /// Removes one subscription; true when it was the last one for this prefix (false
    /// also when the prefix was not subscribed at all).
    pub fn rm(&mut self, prefix: &[u8]) -> bool {
        let last = self.tree.update(prefix, |n| {
            if *n == 0 {
                return false;
            }
            *n -= 1;
            *n == 0
        }) == Some(true);
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
        let mut found = false;
        self.tree.walk(data, |&n| {
            found = n > 0;
            found
        });
        found
    }

    /// Calls `f` with every subscribed prefix (once each, whatever its count).
    pub fn apply(&self, mut f: impl FnMut(&[u8])) {
        self.tree.for_each(|prefix, _| f(prefix));
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
