//! The prefix tree both subscription sets are built on (`trie` for SUB, `mtrie` for PUB): a
//! radix tree from byte-string prefixes to values, walked along a message's first bytes.
//!
//! Invariants:
//! - A node's prefix is its parent's prefix, the byte the parent keys it by, then its own
//!   `label`. The root's prefix is empty; so is its label.
//! - `keys` is sorted, and `children[i]` is the child keyed by `keys[i]`.
//! - Every node but the root holds a value or has at least two children: a node left with
//!   an empty value and one child is merged with that child, one left with neither is
//!   removed. So the tree holds exactly the live prefixes, and a chain of single bytes
//!   (`p0000000` in `p00000001`) is one node, not one node per byte.
//! - The children are a boxed slice sized exactly, and a label or key list of up to
//!   [`INLINE`] bytes is kept inside its node (longer ones in a box of their own): a
//!   subscription costs a node (72 to 88 bytes) and little else; inserting or removing a
//!   child reallocates its parent's children (a node has at most 256).
//!
//! No operation recurses: a topic is as long as a message may be, and the depth of the
//! tree is the peer's choice. Splitting or merging a node copies its label, so adding or
//! removing a prefix costs up to the length of the longest prefix it shares bytes with.

/// What a node holds for its prefix; the empty value means "not subscribed".
pub trait Value: Default {
    fn is_empty(&self) -> bool;
}

/// A count (the SUB side: how many times a prefix was subscribed).
impl Value for u32 {
    fn is_empty(&self) -> bool {
        *self == 0
    }
}

/// A radix tree of prefixes. See the module documentation.
#[derive(Default)]
pub struct Radix<V> {
    root: Node<V>,
}

impl<V: Value + std::fmt::Debug> std::fmt::Debug for Radix<V> {
    /// The prefixes and their values (walked, not recursed: the tree may be deep).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut all = Vec::new();
        self.for_each(|prefix, v| {
            all.push((
                String::from_utf8_lossy(prefix).into_owned(),
                format!("{v:?}"),
            ))
        });
        f.debug_map().entries(all).finish()
    }
}

impl<V> Drop for Radix<V> {
    fn drop(&mut self) {
        // Children are taken apart level by level, never by a recursive drop.
        let mut stack = vec![std::mem::take(&mut self.root.children)];
        while let Some(children) = stack.pop() {
            for mut c in children.into_vec() {
                stack.push(std::mem::take(&mut c.children));
            }
        }
    }
}

#[derive(Default)]
#[cfg_attr(test, derive(Debug))]
struct Node<V> {
    label: Bytes,
    keys: Bytes,
    children: Box<[Node<V>]>,
    value: V,
}

/// How many bytes a label or a key list keeps inside its node.
const INLINE: usize = 22;
const _: () = assert!(INLINE <= u8::MAX as usize);

/// A node's label or keys: up to [`INLINE`] bytes inside the node, more in a box of their
/// own. A lookup reads both at every level; kept inline (as most are: a few digits of a
/// label, the ten keys of a decimal digit), they come with the node's own cache lines
/// instead of a miss each, and cost no allocation.
#[cfg_attr(test, derive(Debug))]
enum Bytes {
    Inline(u8, [u8; INLINE]),
    Boxed(Box<[u8]>),
}

impl Default for Bytes {
    fn default() -> Bytes {
        Bytes::Inline(0, [0; INLINE])
    }
}

impl Bytes {
    fn new(b: &[u8]) -> Bytes {
        if b.len() <= INLINE {
            let mut a = [0; INLINE];
            a[..b.len()].copy_from_slice(b);
            Bytes::Inline(b.len() as u8, a)
        } else {
            Bytes::Boxed(b.into())
        }
    }

    /// Inserts `x` at `i`.
    fn insert(&mut self, i: usize, x: u8) {
        let mut v = self.to_vec();
        v.insert(i, x);
        *self = Bytes::new(&v);
    }

    /// Removes the byte at `i`.
    fn remove(&mut self, i: usize) {
        let mut v = self.to_vec();
        v.remove(i);
        *self = Bytes::new(&v);
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Inline(n, a) => &a[..usize::from(*n)],
            Bytes::Boxed(b) => b,
        }
    }
}

/// `b` with `x` inserted at `i`, reallocated to its exact new size.
pub(super) fn insert_at<T>(b: &mut Box<[T]>, i: usize, x: T) {
    let mut v = std::mem::take(b).into_vec();
    v.reserve_exact(1);
    v.insert(i, x);
    *b = v.into_boxed_slice();
}

/// `b` without its element at `i`, reallocated to its exact new size.
pub(super) fn remove_at<T>(b: &mut Box<[T]>, i: usize) -> T {
    let mut v = std::mem::take(b).into_vec();
    let x = v.remove(i);
    *b = v.into_boxed_slice();
    x
}

/// `data` after `label`, when it starts with it. Labels are mostly empty or a few bytes:
/// compared inline, not by a call to `memcmp`.
#[inline]
fn strip_label<'a>(data: &'a [u8], label: &[u8]) -> Option<&'a [u8]> {
    let (head, rest) = data.split_at_checked(label.len())?;
    head.iter().zip(label).all(|(a, b)| a == b).then_some(rest)
}

impl<V: Value> Node<V> {
    fn leaf(label: &[u8]) -> Node<V> {
        Node {
            label: Bytes::new(label),
            keys: Bytes::default(),
            children: Box::default(),
            value: V::default(),
        }
    }

    /// The index of the child keyed by `b`. Keys are often a run of consecutive bytes
    /// (digits, letters): then `b`'s place is computed, found or not, without a search
    /// whose exit the CPU could not predict. Otherwise a scan: the keys are bytes, a few to
    /// a cache line, and each step of a binary search would wait for the last.
    #[inline]
    fn child(&self, b: u8) -> Option<usize> {
        let keys = &*self.keys;
        let (&first, &last) = (keys.first()?, keys.last()?);
        let i = usize::from(b.wrapping_sub(first));
        if keys.get(i) == Some(&b) {
            return Some(i);
        }
        if usize::from(last - first) + 1 == keys.len() {
            return None;
        }
        keys.iter().position(|&k| k == b)
    }

    /// Cuts the label after `at` bytes: the rest moves, with the value and the children,
    /// into a single new child.
    fn split(&mut self, at: usize) {
        let tail = Node {
            label: Bytes::new(&self.label[at + 1..]),
            keys: std::mem::take(&mut self.keys),
            children: std::mem::take(&mut self.children),
            value: std::mem::take(&mut self.value),
        };
        self.keys = Bytes::new(&[self.label[at]]);
        self.children = vec![tail].into_boxed_slice();
        self.label = Bytes::new(&self.label[..at]);
    }

    /// Restores the invariant of a non-root node whose value or children changed: merged
    /// with its only child when it has no value; true when it should be removed (no value,
    /// no child).
    fn tidy(&mut self) -> bool {
        if !self.value.is_empty() {
            return false;
        }
        match self.children.len() {
            0 => true,
            1 => {
                let key = self.keys[0];
                let child = remove_at(&mut self.children, 0);
                let mut label = self.label.to_vec();
                label.push(key);
                label.extend_from_slice(&child.label);
                *self = Node {
                    label: Bytes::new(&label),
                    ..child
                };
                false
            }
            _ => false,
        }
    }
}

impl<V: Value> Radix<V> {
    /// The value of `prefix`, created empty (with the nodes on its way) when absent. The
    /// caller gives it a value: a node left empty breaks the invariant until `update` on
    /// its prefix tidies it.
    pub fn entry(&mut self, prefix: &[u8]) -> &mut V {
        let mut n = &mut self.root;
        let mut rest = prefix;
        while let Some((&b, r)) = rest.split_first() {
            let i = match n.child(b) {
                Some(i) => i,
                None => {
                    let i = n.keys.partition_point(|&k| k < b);
                    n.keys.insert(i, b);
                    insert_at(&mut n.children, i, Node::leaf(r));
                    return &mut n.children[i].value;
                }
            };
            let c = &mut n.children[i];
            let common = c.label.iter().zip(r).take_while(|(x, y)| x == y).count();
            if common < c.label.len() {
                c.split(common);
            }
            rest = &r[common..];
            n = c;
        }
        &mut n.value
    }

    /// Calls `f` with the value of `prefix` when the tree has a node for it (its value may
    /// be empty), then removes or merges what `f` left empty.
    pub fn update<R>(&mut self, prefix: &[u8], f: impl FnOnce(&mut V) -> R) -> Option<R> {
        // The child indices from the root to the node, found without holding a borrow.
        let mut path = Vec::new();
        let mut n = &self.root;
        let mut rest = prefix;
        while let Some((&b, r)) = rest.split_first() {
            let i = n.child(b)?;
            let c = &n.children[i];
            rest = strip_label(r, &c.label)?;
            path.push(i);
            n = c;
        }
        let Some((&last, up)) = path.split_last() else {
            return Some(f(&mut self.root.value));
        };
        let parent = up.iter().fold(&mut self.root, |n, &i| &mut n.children[i]);
        let r = f(&mut parent.children[last].value);
        // Only the node and its parent can break the invariant: the node may have lost its
        // value; the parent, when the node goes, a child.
        if parent.children[last].tidy() {
            parent.keys.remove(last);
            remove_at(&mut parent.children, last);
            if !up.is_empty() {
                parent.tidy();
            }
        }
        Some(r)
    }

    /// Calls `f` with the value of every prefix of `data` that has a node, shortest first,
    /// until `f` returns true.
    pub fn walk(&self, data: &[u8], mut f: impl FnMut(&V) -> bool) {
        let mut n = &self.root;
        let mut rest = data;
        loop {
            if f(&n.value) {
                return;
            }
            let Some((&b, r)) = rest.split_first() else {
                return;
            };
            let Some(i) = n.child(b) else { return };
            n = &n.children[i];
            let Some(r) = strip_label(r, &n.label) else {
                return;
            };
            rest = r;
        }
    }

    /// Calls `f` with every prefix holding a value, in byte order, and that value.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &V)) {
        let mut path = Vec::new();
        // Nodes to visit, each with the length of its parent's prefix and its key.
        let mut stack = vec![(&self.root, 0, None)];
        while let Some((n, at, key)) = stack.pop() {
            path.truncate(at);
            path.extend(key);
            path.extend_from_slice(&n.label);
            if !n.value.is_empty() {
                f(&path, &n.value);
            }
            for (c, &k) in n.children.iter().zip(n.keys.iter()).rev() {
                stack.push((c, path.len(), Some(k)));
            }
        }
    }

    /// Whether no prefix holds a value.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.root.value.is_empty() && self.root.children.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(t: &Radix<u32>) -> Vec<(Vec<u8>, u32)> {
        let mut v = Vec::new();
        t.for_each(|p, &x| v.push((p.to_vec(), x)));
        v
    }

    fn on_the_way(t: &Radix<u32>, data: &[u8]) -> Vec<u32> {
        let mut v = Vec::new();
        t.walk(data, |&x| {
            if x != 0 {
                v.push(x);
            }
            false
        });
        v
    }

    /// Every non-root node has a value or two children; keys are sorted.
    fn check_invariant(n: &Node<u32>, root: bool) {
        assert!(root || n.value != 0 || n.children.len() >= 2, "{n:?}");
        assert!(n.keys.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(n.keys.len(), n.children.len());
        n.children.iter().for_each(|c| check_invariant(c, false));
    }

    #[test]
    fn shared_prefixes_split_and_rejoin() {
        let mut t: Radix<u32> = Radix::default();
        *t.entry(b"p00000001") += 1;
        *t.entry(b"p00000002") += 2;
        *t.entry(b"p0") += 3;
        *t.entry(b"q") += 4;
        check_invariant(&t.root, true);
        // Root -> 'p' "0" (3) -> '0' "00000" -> '1' (1), '2' (2); root -> 'q' (4).
        assert_eq!(t.root.children[0].label[..], *b"0");
        assert_eq!(t.root.children[0].children[0].label[..], *b"00000");
        assert_eq!(on_the_way(&t, b"p00000002xyz"), vec![3, 2]);
        assert_eq!(on_the_way(&t, b"p0000000"), vec![3]);
        assert_eq!(on_the_way(&t, b"p00000003"), vec![3]);
        assert_eq!(on_the_way(&t, b"q"), vec![4]);
        assert!(on_the_way(&t, b"r").is_empty());
        assert_eq!(
            all(&t),
            vec![
                (b"p0".to_vec(), 3),
                (b"p00000001".to_vec(), 1),
                (b"p00000002".to_vec(), 2),
                (b"q".to_vec(), 4)
            ]
        );
        // Removing "p0" and "p00000001" leaves one node for "p00000002".
        assert_eq!(t.update(b"p0", std::mem::take), Some(3));
        assert_eq!(t.update(b"p00000001", std::mem::take), Some(1));
        check_invariant(&t.root, true);
        assert_eq!(t.root.children[0].label[..], *b"00000002");
        assert_eq!(on_the_way(&t, b"p00000002"), vec![2]);
        // Absent prefixes, including one that ends inside a label, are not found.
        assert_eq!(t.update(b"p000", |v| *v), None);
        assert_eq!(t.update(b"x", |v| *v), None);
        assert_eq!(t.update(b"p00000002", std::mem::take), Some(2));
        assert_eq!(t.update(b"q", std::mem::take), Some(4));
        assert!(t.is_empty());
    }

    #[test]
    fn the_empty_prefix_lives_at_the_root() {
        let mut t: Radix<u32> = Radix::default();
        *t.entry(b"") += 1;
        *t.entry(b"a") += 1;
        assert_eq!(on_the_way(&t, b"abc"), vec![1, 1]);
        assert_eq!(on_the_way(&t, b""), vec![1]);
        assert_eq!(t.update(b"", std::mem::take), Some(1));
        assert_eq!(all(&t), vec![(b"a".to_vec(), 1)]);
        // An empty value found at the root or an inner node: f runs, nothing breaks.
        assert_eq!(t.update(b"", |v| *v), Some(0));
    }

    #[test]
    fn a_walk_stops_when_told() {
        let mut t: Radix<u32> = Radix::default();
        *t.entry(b"a") += 1;
        *t.entry(b"ab") += 2;
        let mut seen = Vec::new();
        t.walk(b"abc", |&x| {
            seen.push(x);
            x == 1
        });
        assert_eq!(
            seen,
            vec![0, 1],
            "the root's empty value, then a's; not ab's"
        );
    }

    #[test]
    fn deep_chains_need_no_recursion() {
        // One prefix per length, 10 000 deep: every node is on one chain. (Longest first
        // and shortest first below, so that each operation walks only a few nodes.)
        let mut t: Radix<u32> = Radix::default();
        let long = vec![b'a'; 10_000];
        for n in (1..=long.len()).rev() {
            *t.entry(&long[..n]) += 1;
        }
        assert_eq!(on_the_way(&t, &long).len(), long.len());
        let mut count = 0;
        t.for_each(|_, _| count += 1);
        assert_eq!(count, long.len());
        for n in (1..=long.len()).step_by(2) {
            assert_eq!(t.update(&long[..n], std::mem::take), Some(1));
        }
        check_invariant_iteratively(&t);
        for n in (2..=long.len()).step_by(2) {
            assert_eq!(t.update(&long[..n], std::mem::take), Some(1));
        }
        assert!(t.is_empty());
        // Dropping a deep tree must not overflow the stack either.
        for n in (1..=long.len()).rev() {
            *t.entry(&long[..n]) += 1;
        }
        drop(t);
    }

    fn check_invariant_iteratively(t: &Radix<u32>) {
        let mut stack = vec![(&t.root, true)];
        while let Some((n, root)) = stack.pop() {
            assert!(root || n.value != 0 || n.children.len() >= 2);
            stack.extend(n.children.iter().map(|c| (c, false)));
        }
    }

    #[test]
    fn key_lists_and_labels_move_between_inline_and_boxed() {
        use std::collections::BTreeMap;
        let mut t: Radix<u32> = Radix::default();
        let mut m: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
        // 256 children under one prefix (keys boxed past 22), each with a label of 22, 23 or
        // 40 bytes after its key (inline, just boxed, boxed).
        let prefix = |k: u8| {
            let mut p = vec![b'x', k];
            p.extend(std::iter::repeat_n(b'l', [21, 22, 39][usize::from(k) % 3]));
            p.push(b'!');
            p
        };
        for k in 0..=255u8 {
            *t.entry(&prefix(k)) += 1;
            m.insert(prefix(k), 1);
        }
        check_invariant(&t.root, true);
        assert!(matches!(t.root.children[0].keys, Bytes::Boxed(_)));
        assert_eq!(all(&t), m.clone().into_iter().collect::<Vec<_>>());
        // Removed in a scattered order, the list crosses back to inline and the labels merge.
        for k in (0..=255u8).map(|i| i.wrapping_mul(97)) {
            assert_eq!(t.update(&prefix(k), std::mem::take), Some(1));
            m.remove(&prefix(k));
            if k % 16 == 0 {
                check_invariant(&t.root, true);
                assert_eq!(all(&t), m.clone().into_iter().collect::<Vec<_>>());
                for j in [k, k.wrapping_add(1)] {
                    let want = u32::from(m.contains_key(&prefix(j)));
                    assert_eq!(on_the_way(&t, &prefix(j)).len() as u32, want, "{j}");
                }
            }
        }
        assert!(t.is_empty());
    }

    #[test]
    fn random_operations_agree_with_a_map() {
        use std::collections::BTreeMap;
        let mut t: Radix<u32> = Radix::default();
        let mut m: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
        let mut x: u32 = 12345;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for _ in 0..20_000 {
            // Keys a, c, d: children both in runs (c, d) and with gaps (a, c).
            let len = (next() % 6) as usize;
            let key: Vec<u8> = (0..len).map(|_| b"acd"[(next() % 3) as usize]).collect();
            if next() % 3 == 0 {
                let had = m.get(&key).copied().unwrap_or(0);
                let got = t.update(&key, std::mem::take).unwrap_or(0);
                assert_eq!(got, had, "{key:?}");
                m.remove(&key);
            } else {
                *t.entry(&key) += 1;
                *m.entry(key).or_default() += 1;
            }
            let data: Vec<u8> = (0..6).map(|_| b"abcde"[(next() % 5) as usize]).collect();
            let want: Vec<u32> = (0..=data.len())
                .filter_map(|n| m.get(&data[..n]).copied())
                .collect();
            assert_eq!(on_the_way(&t, &data), want);
        }
        check_invariant(&t.root, true);
        let want: Vec<(Vec<u8>, u32)> = m.into_iter().collect();
        assert_eq!(all(&t), want);
    }
}
