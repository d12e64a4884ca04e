//! `zmq_atomic_counter_*`: a 32-bit counter shared between threads, behind a handle.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicU32, Ordering};

use super::boundary;
use super::handle::{Handle, Tagged};
use crate::error::{Error, Result};

/// The object behind a `zmq_atomic_counter_new` handle: a 32-bit counter, as libzmq's.
struct AtomicCounter(AtomicU32);

impl Tagged for AtomicCounter {
    const TAG: u32 = 0x5a43_4e54;
    const BAD: Error = Error::Fault;
}

/// The counter behind `counter`; EFAULT for NULL or a handle that is not a live counter.
///
/// # Safety
/// As [`Handle::get`]: NULL or a handle of this crate that was not destroyed.
unsafe fn counter_ref<'a>(counter: *mut c_void) -> Result<&'a AtomicU32> {
    // SAFETY: the caller's contract is Handle::get's.
    Ok(&unsafe { Handle::<AtomicCounter>::get(counter) }?.0)
}

/// Creates an atomic counter, initially 0.
#[no_mangle]
pub extern "C" fn zmq_atomic_counter_new() -> *mut c_void {
    boundary(|| Ok(Handle::into_raw(AtomicCounter(AtomicU32::new(0)))))
}

/// Sets the counter to `value`.
///
/// # Safety
///
/// `counter` must be NULL or a handle from `zmq_atomic_counter_new` not yet destroyed.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_set(counter: *mut c_void, value: c_int) {
    boundary(|| {
        // SAFETY: the contract above is counter_ref's.
        unsafe { counter_ref(counter) }?.store(value as u32, Ordering::SeqCst);
        Ok(())
    })
}

/// Adds 1 to the counter; returns the value before.
///
/// # Safety
///
/// `counter` must be NULL or a handle from `zmq_atomic_counter_new` not yet destroyed.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_inc(counter: *mut c_void) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is counter_ref's.
        let c = unsafe { counter_ref(counter) }?;
        Ok(c.fetch_add(1, Ordering::SeqCst) as c_int)
    })
}

/// Subtracts 1 from the counter; returns 1 if it is not zero afterwards, else 0.
///
/// # Safety
///
/// `counter` must be NULL or a handle from `zmq_atomic_counter_new` not yet destroyed.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_dec(counter: *mut c_void) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is counter_ref's.
        let c = unsafe { counter_ref(counter) }?;
        let before = c.fetch_sub(1, Ordering::SeqCst);
        Ok(c_int::from(before.wrapping_sub(1) != 0))
    })
}

/// The counter's current value.
///
/// # Safety
///
/// `counter` must be NULL or a handle from `zmq_atomic_counter_new` not yet destroyed.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_value(counter: *mut c_void) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is counter_ref's.
        let c = unsafe { counter_ref(counter) }?;
        Ok(c.load(Ordering::SeqCst) as c_int)
    })
}

/// Destroys the counter `*counter_p` and sets `*counter_p` to NULL.
///
/// # Safety
///
/// `counter_p` must be NULL or point to a `void *` that is NULL or a live counter handle,
/// which no other thread uses any more.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_destroy(counter_p: *mut *mut c_void) {
    boundary(|| {
        if counter_p.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: counter_p is non-NULL and points to a handle slot, per the contract.
        let counter = unsafe { *counter_p };
        // SAFETY: counter is NULL or a live handle nobody else uses, per the contract.
        unsafe { Handle::<AtomicCounter>::destroy(counter) }?;
        // SAFETY: as above, counter_p points to the caller's handle slot.
        unsafe { *counter_p = std::ptr::null_mut() };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::errno;

    #[test]
    fn counter_wraps_like_a_32_bit_counter() {
        let mut c = zmq_atomic_counter_new();
        // SAFETY: c is a live counter until destroyed at the end.
        unsafe {
            assert_eq!(zmq_atomic_counter_dec(c), 1);
            assert_eq!(zmq_atomic_counter_value(c), -1);
            assert_eq!(zmq_atomic_counter_inc(c), -1);
            assert_eq!(zmq_atomic_counter_value(c), 0);
            zmq_atomic_counter_destroy(&mut c);
        }
        assert!(c.is_null());
    }

    #[test]
    fn null_and_foreign_handles_give_efault() {
        let watch = crate::ffi::stopwatch::zmq_stopwatch_start();
        // SAFETY: NULL is allowed; a stopwatch handle is a handle of this crate.
        unsafe {
            assert_eq!(zmq_atomic_counter_inc(std::ptr::null_mut()), -1);
            assert_eq!(errno(), libc::EFAULT);
            zmq_atomic_counter_destroy(std::ptr::null_mut());
            assert_eq!(errno(), libc::EFAULT);
            let mut none = std::ptr::null_mut();
            zmq_atomic_counter_destroy(&mut none);
            assert_eq!(errno(), libc::EFAULT);
            assert_eq!(zmq_atomic_counter_value(watch), -1);
            assert_eq!(errno(), libc::EFAULT);
            crate::ffi::stopwatch::zmq_stopwatch_stop(watch);
        }
    }
}
