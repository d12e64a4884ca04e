//! libzmq 4.3.5 in Rust, behind libzmq's exact C ABI.
//!
//! See `DESIGN.md` (in the shared folder) for the architecture. The C ABI is in [`ffi`]; the
//! rest of the crate is safe Rust except the few modules named there (signaler, lock-free
//! queue, message buffer).

pub mod command;
pub mod constants;
pub mod ctx;
pub mod engine;
pub mod error;
pub mod ffi;
pub mod io;
pub mod listener;
pub mod mailbox;
pub mod msg;
pub mod msg_pool;
pub mod options;
pub mod pipe;
pub mod poll;
pub mod proxy;
pub mod routing;
pub mod session;
pub mod signaler;
pub mod socket;
pub mod stream;
pub mod timers;
pub mod transport;
pub mod ypipe;
pub mod z85;
