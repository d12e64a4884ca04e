//! Engines: the ZMTP protocol over a byte stream. [`codec`] is the pure part (no I/O).

pub mod codec;
pub mod zmtp;
