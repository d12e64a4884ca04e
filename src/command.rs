//! Commands: the only way objects on different threads talk to each other.
//!
//! A command is sent to the mailbox of the object that owns its destination. Pipe commands
//! name the destination pipe end by its slot index in the owner's pipe table and its unique
//! id (the id guards against a slot reused after the pipe was removed).

use crate::pipe::Pipe;

/// Addresses one pipe end inside its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipeAddr {
    /// Slot in the owner's pipe table.
    pub index: usize,
    /// The pipe end's unique id.
    pub id: u64,
}

/// What one pipe end asks of its peer end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipeCmd {
    /// The peer wrote into the pipe while our reader was asleep.
    ActivateRead,
    /// The peer read messages: its total count, giving back HWM credit.
    ActivateWrite(u64),
    /// The peer asks to terminate the pipe.
    Term,
    /// The peer acknowledges our termination request.
    TermAck,
    /// The session's connection came back after a break; what the socket wrote meanwhile
    /// and the old connection did not take was dropped (libzmq's `hiccup`).
    Hiccup,
    /// `zmq_socket_monitor_pipes_stats`: the socket's end asks for the peer's count of
    /// queued messages, giving its own (written, not yet acknowledged as read).
    StatsQuery(u64),
    /// An inproc peer's answer: the asking end's count, then its own.
    StatsReply(u64, u64),
}

/// The commands of the ownership tree (see [`crate::own`]), between an object and its
/// owner (a socket, or an object on an I/O thread).
#[derive(Debug)]
pub enum ObjCmd {
    /// Owner to child: finish, flushing what can be flushed within `linger` ms (-1: no
    /// limit), then send `TermAck` to the owner.
    Term { linger: i32 },
    /// Child to owner: the child (this id) has ended.
    TermAck(u64),
    /// Child to owner: end the child (this id), as for an unbind or disconnect (a
    /// connect-role session that may not reconnect).
    TermReq(u64),
}

/// What one object asks of another.
pub enum Command {
    /// The context is terminating: blocking calls must return ETERM.
    Stop,
    /// Attach a new pipe end (an inproc peer connected to this bound socket).
    Bind(Box<Pipe>),
    /// A command for one pipe end, from its peer end.
    Pipe(PipeAddr, PipeCmd),
    /// For the reaper: take over a closed socket and finish its termination.
    Reap(Box<crate::socket::SocketBase>),
    /// For a thread's loop: exit.
    StopThread,
    /// For an I/O thread: host this object (a listener, a session).
    Plug(Box<dyn crate::io::io_thread::IoObject>),
    /// For an object of the ownership tree, by its id: on an I/O thread, or a socket.
    Object(u64, ObjCmd),
    /// To a socket from itself: it launched a listener or session (libzmq's `own` command,
    /// which a socket also sends itself). Carries nothing; it makes the socket's `ZMQ_FD`
    /// readable after a tcp or ipc bind or connect, as libzmq's is.
    Launched,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Stop => write!(f, "Stop"),
            Command::Bind(_) => write!(f, "Bind"),
            Command::Pipe(a, c) => write!(f, "Pipe({a:?}, {c:?})"),
            Command::Reap(_) => write!(f, "Reap"),
            Command::StopThread => write!(f, "StopThread"),
            Command::Plug(_) => write!(f, "Plug"),
            Command::Object(id, c) => write!(f, "Object({id}, {c:?})"),
            Command::Launched => write!(f, "Launched"),
        }
    }
}
