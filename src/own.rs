//! The ownership tree (libzmq's `own_t`): who ends whom, and who waits for whom.
//!
//! ```text
//!   socket ──owns──► listener ──owns──► accepted session ─► engine
//!          └─owns──► connect-role session ─► connecter / engine
//! ```
//!
//! Every object of the tree has an [`Own`]: its id, the [`OwnerRef`] of its owner (none for
//! a socket: the reaper and the context wait for it), and the children it launched. The
//! protocol, in [`ObjCmd`] commands:
//!
//! - `Term { linger }`, owner to child: end, flushing for at most `linger` ms. An owner sends
//!   it once per child: to all when it ends itself ([`Own::terminate`]), or to some when
//!   asked (unbind, disconnect: [`Own::term_children`]; a child's `TermReq`: [`Own::term_child`]).
//! - `TermAck(child)`, child to owner: the child has ended and is gone ([`Own::ack_owner`],
//!   sent once). A child may also end on its own (an accepted connection closed by the
//!   peer); the owner then just forgets it ([`Own::term_ack`]).
//! - `TermReq(child)`, child to owner: end me (a connect-role session that may not
//!   reconnect); the owner decides, as for an unbind.
//!
//! An owner that is ending acknowledges its own owner only once all its children have
//! acknowledged ([`Own::try_finish`]): so the socket's close waits for the listener, which
//! waits for the sessions it accepted, which flush within LINGER; and `zmq_ctx_term` waits
//! for the socket.
//!
//! Threads: an `Own` lives inside its object and is used on that object's thread only;
//! commands reach an object through its thread's mailbox, addressed by id (a socket's mailbox
//! is its own, so there the id is only informative). A `Term` for a child that has ended
//! meanwhile finds no object and is dropped.
//!
//! Failures: an object on an I/O thread whose code panics is torn down through this same
//! tree (see `io_thread`): it ends its pipes and its children and acknowledges its owner, as
//! for a `Term` with linger 0, so the ones waiting for it (up to `zmq_ctx_term`) finish.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::command::{Command, ObjCmd};
use crate::mailbox::Mailbox;

static NEXT_OBJECT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh id for an object of the tree, unique in the process.
pub fn next_object_id() -> u64 {
    NEXT_OBJECT_ID.fetch_add(1, Ordering::Relaxed)
}

/// How to reach an object of the tree: the mailbox of its thread, and its id.
#[derive(Clone)]
pub struct OwnerRef {
    mailbox: Arc<Mailbox>,
    id: u64,
}

impl OwnerRef {
    /// The object `id` reached through `mailbox`.
    pub fn new(mailbox: Arc<Mailbox>, id: u64) -> OwnerRef {
        OwnerRef { mailbox, id }
    }

    /// Sends `cmd` to the object.
    pub fn send(&self, cmd: ObjCmd) {
        self.mailbox.send(Command::Object(self.id, cmd));
    }
}

struct Child<T> {
    at: OwnerRef,
    /// Already told to end.
    ending: bool,
    tag: T,
}

/// One object's place in the tree, with what its owner wants to know of each child (`T`).
/// See the module documentation.
pub struct Own<T = ()> {
    id: u64,
    owner: Option<OwnerRef>,
    children: HashMap<u64, Child<T>>,
    terminating: bool,
    acked: bool,
}

impl<T> Own<T> {
    /// A new object (fresh id) owned by `owner` (`None`: the root, a socket).
    pub fn new(owner: Option<OwnerRef>) -> Own<T> {
        Own {
            id: next_object_id(),
            owner,
            children: HashMap::new(),
            terminating: false,
            acked: false,
        }
    }

    /// The object's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// How the object's children reach it, through `mailbox` (its thread's).
    pub fn as_owner(&self, mailbox: Arc<Mailbox>) -> OwnerRef {
        OwnerRef::new(mailbox, self.id)
    }

    /// Records a child launched by this object (the caller plugs it): `at` reaches it.
    pub fn adopt(&mut self, at: OwnerRef, tag: T) {
        self.children.insert(
            at.id,
            Child {
                at,
                ending: false,
                tag,
            },
        );
    }

    /// Tells one child to end (unless it is told already or gone); returns its tag then.
    pub fn term_child(&mut self, child: u64, linger: i32) -> Option<&T> {
        let c = self.children.get_mut(&child).filter(|c| !c.ending)?;
        c.ending = true;
        c.at.send(ObjCmd::Term { linger });
        Some(&c.tag)
    }

    /// Tells the children whose tag matches to end (those not told already); returns how
    /// many were told.
    pub fn term_children(&mut self, mut matches: impl FnMut(&T) -> bool, linger: i32) -> usize {
        let mut n = 0;
        for c in self.children.values_mut() {
            if !c.ending && matches(&c.tag) {
                c.ending = true;
                c.at.send(ObjCmd::Term { linger });
                n += 1;
            }
        }
        n
    }

    /// The object ends: every child not told yet is told to end. Returns false when it was
    /// ending already.
    pub fn terminate(&mut self, linger: i32) -> bool {
        if std::mem::replace(&mut self.terminating, true) {
            return false;
        }
        self.term_children(|_| true, linger);
        true
    }

    /// A child has ended (a `TermAck`): forget it.
    pub fn term_ack(&mut self, child: u64) {
        self.children.remove(&child);
    }

    /// Whether no child is left.
    pub fn has_no_children(&self) -> bool {
        self.children.is_empty()
    }

    /// Once the object is ending and every child has ended: acknowledges to the owner.
    /// Returns whether the object is finished.
    pub fn try_finish(&mut self) -> bool {
        if self.terminating && self.children.is_empty() {
            self.ack_owner();
            true
        } else {
            false
        }
    }

    /// The object has ended: tells its owner (once).
    pub fn ack_owner(&mut self) {
        if std::mem::replace(&mut self.acked, true) {
            return;
        }
        if let Some(o) = &self.owner {
            o.send(ObjCmd::TermAck(self.id));
        }
    }

    /// Asks the owner to end this object (`TermReq`).
    pub fn request_term(&self) {
        if let Some(o) = &self.owner {
            o.send(ObjCmd::TermReq(self.id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The commands waiting in `mb`, as (object id, command) text.
    fn drain(mb: &Mailbox) -> Vec<String> {
        let mut v = Vec::new();
        while let Ok(c) = mb.recv(0) {
            match c {
                Command::Object(id, oc) => v.push(format!("{id} {oc:?}")),
                other => v.push(format!("{other:?}")),
            }
        }
        v
    }

    #[test]
    fn an_owner_acks_only_after_all_its_children_acked() {
        let socket_mb = Arc::new(Mailbox::new());
        let io_mb = Arc::new(Mailbox::new());
        let mut socket: Own<&str> = Own::new(None);
        let mut listener: Own = Own::new(Some(socket.as_owner(socket_mb.clone())));
        let mut s1: Own = Own::new(Some(listener.as_owner(io_mb.clone())));
        let mut s2: Own = Own::new(Some(listener.as_owner(io_mb.clone())));
        socket.adopt(OwnerRef::new(io_mb.clone(), listener.id()), "tcp://a");
        listener.adopt(OwnerRef::new(io_mb.clone(), s1.id()), ());
        listener.adopt(OwnerRef::new(io_mb.clone(), s2.id()), ());

        // The socket ends: its one child is told, once.
        assert!(socket.terminate(100));
        assert!(!socket.terminate(100));
        assert_eq!(
            drain(&io_mb),
            [format!("{} Term {{ linger: 100 }}", listener.id())]
        );
        assert!(!socket.try_finish());

        // The listener ends: both sessions are told; it cannot finish before they ack.
        assert!(listener.terminate(100));
        let mut told = drain(&io_mb);
        told.sort();
        let mut want = vec![
            format!("{} Term {{ linger: 100 }}", s1.id()),
            format!("{} Term {{ linger: 100 }}", s2.id()),
        ];
        want.sort();
        assert_eq!(told, want);
        assert!(!listener.try_finish());

        s1.ack_owner();
        s1.ack_owner(); // once only
        s2.ack_owner();
        for c in drain(&io_mb) {
            let (_, ack) = c.split_once(' ').unwrap();
            let child: u64 = ack
                .trim_start_matches("TermAck(")
                .trim_end_matches(')')
                .parse()
                .unwrap();
            listener.term_ack(child);
        }
        assert!(listener.has_no_children());
        assert!(listener.try_finish());
        assert_eq!(
            drain(&socket_mb),
            [format!("{} TermAck({})", socket.id(), listener.id())]
        );
        socket.term_ack(listener.id());
        assert!(socket.has_no_children());
        // The root has nobody to acknowledge to.
        assert!(socket.try_finish());
        assert!(drain(&socket_mb).is_empty());
    }

    #[test]
    fn children_are_told_to_end_selectively_and_once() {
        let mb = Arc::new(Mailbox::new());
        let mut socket: Own<(&str, bool)> = Own::new(None);
        let ids: Vec<u64> = (0..3).map(|_| next_object_id()).collect();
        socket.adopt(OwnerRef::new(mb.clone(), ids[0]), ("tcp://a", true));
        socket.adopt(OwnerRef::new(mb.clone(), ids[1]), ("tcp://a", false));
        socket.adopt(OwnerRef::new(mb.clone(), ids[2]), ("tcp://b", true));

        assert_eq!(socket.term_children(|t| *t == ("tcp://a", true), 0), 1);
        assert_eq!(socket.term_children(|t| *t == ("tcp://a", true), 0), 0);
        assert_eq!(socket.term_child(ids[2], 5), Some(&("tcp://b", true)));
        assert_eq!(socket.term_child(ids[2], 5), None);
        assert_eq!(socket.term_child(12345678, 5), None);
        assert_eq!(
            drain(&mb),
            [
                format!("{} Term {{ linger: 0 }}", ids[0]),
                format!("{} Term {{ linger: 5 }}", ids[2])
            ]
        );
        // Ending tells only the one left.
        socket.terminate(-1);
        assert_eq!(drain(&mb), [format!("{} Term {{ linger: -1 }}", ids[1])]);

        // A child asking to end is heard by its owner.
        let child: Own = Own::new(Some(OwnerRef::new(mb.clone(), 7)));
        child.request_term();
        assert_eq!(drain(&mb), [format!("7 TermReq({})", child.id())]);
    }
}
