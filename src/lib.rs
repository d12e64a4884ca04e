//! libzmq 4.3.5 in Rust, behind libzmq's exact C ABI.
//!
//! See `DESIGN.md` at the root of the repository for the architecture. The C ABI is in
//! [`ffi`]; the rest of the crate is safe Rust except the few modules DESIGN.md names (the
//! message buffer, the lock-free queue, the system-call layer [`sys`]).

pub(crate) mod command;
pub mod constants;
pub(crate) mod ctx;
pub(crate) mod engine;
pub(crate) mod error;
pub mod ffi;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
pub(crate) mod io;
pub(crate) mod mailbox;
pub(crate) mod mechanism;
pub(crate) mod monitor;
pub(crate) mod msg;
pub(crate) mod msg_pool;
pub(crate) mod options;
pub(crate) mod own;
pub(crate) mod pipe;
pub(crate) mod poll;
pub(crate) mod poller;
pub(crate) mod proxy;
pub(crate) mod routing;
pub(crate) mod session;
pub(crate) mod signaler;
pub(crate) mod socket;
pub(crate) mod sys;
pub(crate) mod timers;
pub(crate) mod transport;
pub(crate) mod watch;
pub(crate) mod ypipe;
pub(crate) mod z85;
