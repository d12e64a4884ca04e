//! libzmq 4.3.5 in Rust, behind libzmq's exact C ABI.
//!
//! See `DESIGN.md` at the root of the repository for the architecture. The C ABI is in
//! [`ffi`]; the rest of the crate is safe Rust except the few modules DESIGN.md names (the
//! message buffer, the lock-free queue, the system-call layer [`sys`]).

pub mod command;
pub mod constants;
pub mod ctx;
pub mod engine;
pub mod error;
pub mod ffi;
pub mod io;
pub mod mailbox;
pub mod mechanism;
pub mod monitor;
pub mod msg;
pub mod msg_pool;
pub mod options;
pub mod own;
pub mod pipe;
pub mod poll;
pub mod proxy;
pub mod routing;
pub mod session;
pub mod signaler;
pub mod socket;
pub mod sys;
pub mod timers;
pub mod transport;
pub mod watch;
pub mod ypipe;
pub mod z85;
