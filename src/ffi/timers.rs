//! `zmq_timers_*`: a timer set run by the caller, behind a handle. The timers and their
//! run are [`crate::timers::TimerSet`]'s; this module converts arguments and calls the C
//! handlers.

use std::ffi::{c_int, c_long, c_void};

use super::boundary;
use super::handle::{Handle, Tagged};
use super::types::zmq_timer_fn;
use crate::error::{Error, Result};
use crate::timers::{Executed, TimerSet};

/// What a timer runs: the C handler and its argument.
#[derive(Clone, Copy)]
struct TimerHandler {
    func: zmq_timer_fn,
    arg: *mut c_void,
}

/// The object behind a `zmq_timers_new` handle. A handler may call any `zmq_timers_*`
/// function on its own set; a `zmq_timers_destroy` from a handler stops the run, and the
/// outermost `zmq_timers_execute` frees the set when it returns.
struct Timers(TimerSet<TimerHandler>);

impl Tagged for Timers {
    const TAG: u32 = 0x5a54_4d52;
    const BAD: Error = Error::Fault;
}

/// The timer set behind `timers`; EFAULT for NULL or a handle that is not live timers.
///
/// # Safety
/// As [`Handle::get`]: NULL or a handle of this crate that was not destroyed; timer sets
/// are used by one thread at a time.
unsafe fn timer_set<'a>(timers: *mut c_void) -> Result<&'a TimerSet<TimerHandler>> {
    // SAFETY: the caller's contract is Handle::get's.
    Ok(&unsafe { Handle::<Timers>::get(timers) }?.0)
}

/// Converts a C interval in milliseconds.
fn interval_ms(interval: usize) -> u64 {
    u64::try_from(interval).unwrap_or(u64::MAX)
}

/// Creates an empty timer set.
#[no_mangle]
pub extern "C" fn zmq_timers_new() -> *mut c_void {
    boundary(|| Ok(Handle::into_raw(Timers(TimerSet::new()))))
}

/// Destroys the timer set `*timers_p` and sets `*timers_p` to NULL; EFAULT when either
/// pointer is NULL or the handle is not live timers.
///
/// # Safety
///
/// `timers_p` must be NULL or point to a `void *` that is NULL or a timers handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_destroy(timers_p: *mut *mut c_void) -> c_int {
    boundary(|| {
        if timers_p.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: timers_p is non-NULL and points to a handle slot, per the contract.
        let raw = unsafe { *timers_p };
        // SAFETY: raw is NULL or a timers handle, per the contract.
        if unsafe { timer_set(raw) }?.close() {
            // SAFETY: live (just checked) and no run uses it.
            unsafe { Handle::<Timers>::destroy(raw) }?;
        } else {
            // A handler destroys its own timer set: the running execute frees it.
            // SAFETY: live (just checked).
            unsafe { Handle::<Timers>::close_later(raw) }?;
        }
        // SAFETY: as above, timers_p points to the caller's handle slot.
        unsafe { *timers_p = std::ptr::null_mut() };
        Ok(0)
    })
}

/// Adds a timer firing every `interval` ms, calling `handler(id, arg)`; returns its id.
/// EFAULT when `timers` is not a timer set or `handler` is NULL.
///
/// # Safety
///
/// `timers` must be NULL or a live timers handle; `handler` must be NULL or a function
/// safe to call with `arg` from `zmq_timers_execute`.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_add(
    timers: *mut c_void,
    interval: usize,
    handler: Option<zmq_timer_fn>,
    arg: *mut c_void,
) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is timer_set's.
        let set = unsafe { timer_set(timers) }?;
        let func = handler.ok_or(Error::Fault)?;
        let handler = TimerHandler { func, arg };
        Ok(set.with(|t| t.add(interval_ms(interval), handler)))
    })
}

/// Cancels timer `timer_id`; EINVAL when it is unknown or already cancelled.
///
/// # Safety
///
/// `timers` must be NULL or a live timers handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_cancel(timers: *mut c_void, timer_id: c_int) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is timer_set's.
        unsafe { timer_set(timers) }?.with(|t| t.cancel(timer_id))?;
        Ok(0)
    })
}

/// Sets the interval of timer `timer_id` and restarts it; EINVAL when it is unknown.
///
/// # Safety
///
/// `timers` must be NULL or a live timers handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_set_interval(
    timers: *mut c_void,
    timer_id: c_int,
    interval: usize,
) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is timer_set's.
        unsafe { timer_set(timers) }?.with(|t| t.set_interval(timer_id, interval_ms(interval)))?;
        Ok(0)
    })
}

/// Restarts timer `timer_id`: it fires one interval from now; EINVAL when it is unknown.
///
/// # Safety
///
/// `timers` must be NULL or a live timers handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_reset(timers: *mut c_void, timer_id: c_int) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is timer_set's.
        unsafe { timer_set(timers) }?.with(|t| t.reset(timer_id))?;
        Ok(0)
    })
}

/// Milliseconds until the next timer expires (0 if one is due), or -1 when there is no
/// timer (or, with errno EFAULT, when `timers` is not a timer set).
///
/// # Safety
///
/// `timers` must be NULL or a live timers handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_timeout(timers: *mut c_void) -> c_long {
    boundary(|| {
        // SAFETY: the contract above is timer_set's.
        let left = unsafe { timer_set(timers) }?.with(|t| t.timeout());
        Ok(c_long::try_from(left).unwrap_or(c_long::MAX))
    })
}

/// Runs the handlers of all expired timers, in expiry order, and restarts those timers.
///
/// # Safety
///
/// `timers` must be NULL or a live timers handle; the handlers must be safe to call.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_execute(timers: *mut c_void) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is timer_set's.
        let set = unsafe { timer_set(timers) }?;
        let outcome = set.execute(|id, handler| {
            // SAFETY: the handler and argument were given to zmq_timers_add, whose caller
            // vouched for calling them here; the set is not borrowed meanwhile.
            unsafe { (handler.func)(id, handler.arg) }
        });
        if outcome == Executed::Closed {
            // SAFETY: a handler destroyed the set (its tag is cleared) while this outermost
            // run used it; nothing refers to it any more (`set` is not used after this).
            drop(unsafe { Handle::<Timers>::free_killed(timers) });
        }
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::errno;

    unsafe extern "C" fn destroy_own_timers(_id: c_int, arg: *mut c_void) {
        let slot = arg.cast::<*mut c_void>();
        // SAFETY: arg is the address of the test's timers handle slot.
        unsafe { assert_eq!(zmq_timers_destroy(slot), 0) };
    }

    unsafe extern "C" fn count(_id: c_int, arg: *mut c_void) {
        // SAFETY: arg is the address of the test's counter.
        unsafe { *arg.cast::<u32>() += 1 };
    }

    #[test]
    fn handler_may_destroy_its_timer_set() {
        let mut timers = zmq_timers_new();
        let mut runs = 0u32;
        let slot: *mut *mut c_void = &mut timers;
        // SAFETY: timers is live until the handler destroys it; the args outlive the calls.
        unsafe {
            assert_eq!(
                zmq_timers_add(timers, 0, Some(destroy_own_timers), slot.cast()),
                1
            );
            assert_eq!(
                zmq_timers_add(timers, 0, Some(count), (&mut runs as *mut u32).cast()),
                2
            );
            let live = timers;
            assert_eq!(zmq_timers_execute(live), 0);
        }
        assert!(timers.is_null());
        assert_eq!(runs, 0);
    }

    #[test]
    fn bad_handles_give_efault() {
        let watch = crate::ffi::stopwatch::zmq_stopwatch_start();
        // SAFETY: NULL is allowed; a stopwatch handle is a handle of this crate.
        unsafe {
            assert_eq!(zmq_timers_destroy(std::ptr::null_mut()), -1);
            assert_eq!(errno(), libc::EFAULT);
            assert_eq!(zmq_timers_timeout(watch), -1);
            assert_eq!(errno(), libc::EFAULT);
            assert_eq!(zmq_timers_execute(std::ptr::null_mut()), -1);
            assert_eq!(errno(), libc::EFAULT);
            crate::ffi::stopwatch::zmq_stopwatch_stop(watch);
        }
    }

    #[test]
    fn timers_fire_through_the_c_api() {
        let t = zmq_timers_new();
        let mut runs = 0u32;
        // SAFETY: t is live until destroyed; runs outlives the calls.
        unsafe {
            let id = zmq_timers_add(t, 0, Some(count), (&mut runs as *mut u32).cast());
            assert_eq!(zmq_timers_timeout(t), 0);
            assert_eq!(zmq_timers_execute(t), 0);
            assert_eq!(runs, 1);
            assert_eq!(zmq_timers_cancel(t, id), 0);
            assert_eq!(zmq_timers_cancel(t, id), -1);
            assert_eq!(errno(), libc::EINVAL);
            assert_eq!(zmq_timers_timeout(t), -1);
            let mut t = t;
            assert_eq!(zmq_timers_destroy(&mut t), 0);
            assert!(t.is_null());
        }
    }
}
