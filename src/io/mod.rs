//! Background threads: I/O threads (one `mio::Poll` each) and the reaper.

mod io_thread;
mod reaper;

pub use io_thread::IoThread;
pub use reaper::Reaper;
