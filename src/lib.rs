//! libzmq 4.3.5 in Rust, behind libzmq's exact C ABI.
//!
//! See `DESIGN.md` (in the shared folder) for the architecture. The C ABI is in [`ffi`]; the
//! rest of the crate is safe Rust except the few modules named there (signaler, lock-free
//! queue, message buffer).

pub mod constants;
pub mod error;
pub mod ffi;
pub mod timers;
pub mod z85;
