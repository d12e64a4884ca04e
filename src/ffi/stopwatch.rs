//! `zmq_stopwatch_*` (a monotonic stopwatch behind a handle) and `zmq_sleep`.

use std::ffi::{c_int, c_ulong, c_void};
use std::time::{Duration, Instant};

use super::boundary;
use super::handle::{Handle, Tagged};
use crate::error::Error;

/// The object behind a `zmq_stopwatch_start` handle: when it started.
struct Stopwatch(Instant);

impl Tagged for Stopwatch {
    const TAG: u32 = 0x5a53_5457;
    const BAD: Error = Error::Fault;
}

impl Stopwatch {
    /// Microseconds since the start.
    fn elapsed_us(&self) -> c_ulong {
        c_ulong::try_from(self.0.elapsed().as_micros()).unwrap_or(c_ulong::MAX)
    }
}

/// Starts a stopwatch on a monotonic clock; returns its handle.
#[no_mangle]
pub extern "C" fn zmq_stopwatch_start() -> *mut c_void {
    boundary(|| Ok(Handle::into_raw(Stopwatch(Instant::now()))))
}

/// Microseconds since `watch` started; the stopwatch keeps running. A bad handle gives 0
/// with errno EFAULT.
///
/// # Safety
///
/// `watch` must be NULL or a handle from `zmq_stopwatch_start` not yet stopped.
#[no_mangle]
pub unsafe extern "C" fn zmq_stopwatch_intermediate(watch: *mut c_void) -> c_ulong {
    // SAFETY: the contract above is Handle::get's.
    boundary(|| Ok(unsafe { Handle::<Stopwatch>::get(watch) }?.elapsed_us()))
}

/// Microseconds since `watch` started; frees the stopwatch. A bad handle gives 0 with
/// errno EFAULT.
///
/// # Safety
///
/// `watch` must be NULL or a handle from `zmq_stopwatch_start` not yet stopped.
#[no_mangle]
pub unsafe extern "C" fn zmq_stopwatch_stop(watch: *mut c_void) -> c_ulong {
    // SAFETY: the contract above is Handle::destroy's.
    boundary(|| Ok(unsafe { Handle::<Stopwatch>::destroy(watch) }?.elapsed_us()))
}

/// Sleeps for `seconds` seconds (not at all when `seconds` is not positive).
#[no_mangle]
pub extern "C" fn zmq_sleep(seconds: c_int) {
    boundary(|| {
        if let Ok(secs) = u64::try_from(seconds) {
            std::thread::sleep(Duration::from_secs(secs));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::errno;

    #[test]
    fn stopwatch_measures_and_bad_handles_give_efault() {
        let watch = zmq_stopwatch_start();
        std::thread::sleep(Duration::from_millis(2));
        // SAFETY: watch is live until stopped; NULL is allowed.
        unsafe {
            assert!(zmq_stopwatch_intermediate(watch) >= 2000);
            assert!(zmq_stopwatch_stop(watch) >= 2000);
            assert_eq!(zmq_stopwatch_stop(std::ptr::null_mut()), 0);
            assert_eq!(errno(), libc::EFAULT);
        }
    }
}
