//! Exports that need no context: z85, CURVE key helpers, atomic counters, stopwatch, sleep,
//! threads, and the `zmq_timers_*` API.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, c_long, c_ulong, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::types::{zmq_thread_fn, zmq_timer_fn};
use super::{guard, guard_ptr, guard_void, set_errno};
use crate::error::{Error, Result};
use crate::timers::{now_ms, Timers};
use crate::z85;

/// Runs `f` behind the panic boundary for exports whose failure value is not a C `int`:
/// an `Err` sets errno and returns `failed`, a panic does the same with EFAULT.
fn guard_value<T, F: FnOnce() -> Result<T>>(failed: T, f: F) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            set_errno(e.errno());
            failed
        }
        Err(_) => {
            set_errno(Error::Fault.errno());
            failed
        }
    }
}

// ---------------------------------------------------------------------------------------
// Z85

/// Encodes `size` bytes at `data` as Z85 text into `dest`, with a terminating NUL.
///
/// Returns `dest`, or NULL with errno EINVAL when `size` is not a multiple of 4 (EFAULT
/// when `dest`, or `data` with a non-zero `size`, is NULL).
///
/// # Safety
///
/// `data` must point to `size` readable bytes and `dest` to `size * 5 / 4 + 1` writable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_z85_encode(
    dest: *mut c_char,
    data: *const u8,
    size: usize,
) -> *mut c_char {
    guard_ptr(|| {
        if !size.is_multiple_of(4) {
            return Err(Error::Inval);
        }
        if dest.is_null() || (data.is_null() && size > 0) {
            return Err(Error::Fault);
        }
        let text_len = (size / 4).checked_mul(5).ok_or(Error::Inval)?;
        let input: &[u8] = if size == 0 {
            &[]
        } else {
            // SAFETY: data is non-NULL and the caller guarantees `size` readable bytes.
            unsafe { std::slice::from_raw_parts(data, size) }
        };
        // SAFETY: dest is non-NULL and the caller guarantees size * 5 / 4 + 1 writable bytes;
        // the input and output buffers of a valid call do not overlap.
        let out = unsafe { std::slice::from_raw_parts_mut(dest.cast::<u8>(), text_len + 1) };
        z85::encode_into(input, &mut out[..text_len])?;
        out[text_len] = 0;
        Ok(dest)
    })
}

/// Decodes the NUL-terminated Z85 text `string` into `dest`.
///
/// Returns `dest`, or NULL with errno EINVAL when `string` is empty or its length is not a
/// multiple of 5, it holds a character outside the Z85 alphabet, or a group overflows 32 bits
/// (EFAULT when a pointer is NULL).
///
/// # Safety
///
/// `string` must be a NUL-terminated string and `dest` must have room for
/// `strlen(string) * 4 / 5` bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_z85_decode(dest: *mut u8, string: *const c_char) -> *mut u8 {
    guard_ptr(|| {
        if string.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: string is non-NULL and the caller guarantees it is NUL-terminated.
        let text = unsafe { CStr::from_ptr(string) }.to_bytes();
        // libzmq also refuses the empty string (while it encodes zero bytes to "").
        if text.is_empty() || !text.len().is_multiple_of(5) {
            return Err(Error::Inval);
        }
        if dest.is_null() {
            return Err(Error::Fault);
        }
        let len = z85::decoded_len(text.len());
        // SAFETY: dest is non-NULL and the caller guarantees room for strlen * 4 / 5 bytes.
        let out = unsafe { std::slice::from_raw_parts_mut(dest, len) };
        z85::decode_into(text, out)?;
        Ok(dest)
    })
}

// ---------------------------------------------------------------------------------------
// CURVE key helpers

/// Generates a CURVE key pair. This build has no CURVE support: fails with ENOTSUP, as a
/// libzmq built without libsodium does.
///
/// # Safety
///
/// Always safe to call; the buffers are not touched.
#[no_mangle]
pub unsafe extern "C" fn zmq_curve_keypair(
    z85_public_key: *mut c_char,
    z85_secret_key: *mut c_char,
) -> c_int {
    let _ = (z85_public_key, z85_secret_key);
    guard(|| Err(Error::NotSup))
}

/// Derives a CURVE public key from a secret key. This build has no CURVE support: fails
/// with ENOTSUP, as a libzmq built without libsodium does.
///
/// # Safety
///
/// Always safe to call; the buffers are not touched.
#[no_mangle]
pub unsafe extern "C" fn zmq_curve_public(
    z85_public_key: *mut c_char,
    z85_secret_key: *const c_char,
) -> c_int {
    let _ = (z85_public_key, z85_secret_key);
    guard(|| Err(Error::NotSup))
}

// ---------------------------------------------------------------------------------------
// Atomic counters

const COUNTER_TAG: u32 = 0x5a43_4e54;

/// The object behind a `zmq_atomic_counter_new` handle: a 32-bit counter, as libzmq's.
struct AtomicCounter {
    tag: u32,
    value: AtomicU32,
}

/// The counter behind `counter`; EFAULT for NULL or a handle that is not a live counter.
///
/// # Safety
///
/// `counter` must be NULL or point to readable memory of at least an `AtomicCounter`.
unsafe fn counter_ref<'a>(counter: *mut c_void) -> Result<&'a AtomicCounter> {
    let counter = counter.cast::<AtomicCounter>();
    // SAFETY: non-NULL pointers are readable per this function's contract; a live counter
    // was made by zmq_atomic_counter_new and is only freed by zmq_atomic_counter_destroy.
    match unsafe { counter.as_ref() } {
        Some(c) if c.tag == COUNTER_TAG => Ok(c),
        _ => Err(Error::Fault),
    }
}

/// Creates an atomic counter, initially 0.
#[no_mangle]
pub extern "C" fn zmq_atomic_counter_new() -> *mut c_void {
    guard_ptr(|| {
        let counter = Box::new(AtomicCounter {
            tag: COUNTER_TAG,
            value: AtomicU32::new(0),
        });
        Ok(Box::into_raw(counter).cast())
    })
}

/// Sets the counter to `value`.
///
/// # Safety
///
/// `counter` must be NULL or a handle from `zmq_atomic_counter_new` not yet destroyed.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_set(counter: *mut c_void, value: c_int) {
    guard_void(|| {
        // SAFETY: counter is NULL or a live handle, per this function's contract.
        match unsafe { counter_ref(counter) } {
            Ok(c) => c.value.store(value as u32, Ordering::SeqCst),
            Err(e) => set_errno(e.errno()),
        }
    })
}

/// Adds 1 to the counter; returns the value before.
///
/// # Safety
///
/// `counter` must be NULL or a handle from `zmq_atomic_counter_new` not yet destroyed.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_inc(counter: *mut c_void) -> c_int {
    guard(|| {
        // SAFETY: counter is NULL or a live handle, per this function's contract.
        let c = unsafe { counter_ref(counter) }?;
        Ok(c.value.fetch_add(1, Ordering::SeqCst) as c_int)
    })
}

/// Subtracts 1 from the counter; returns 1 if it is not zero afterwards, else 0.
///
/// # Safety
///
/// `counter` must be NULL or a handle from `zmq_atomic_counter_new` not yet destroyed.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_dec(counter: *mut c_void) -> c_int {
    guard(|| {
        // SAFETY: counter is NULL or a live handle, per this function's contract.
        let c = unsafe { counter_ref(counter) }?;
        let before = c.value.fetch_sub(1, Ordering::SeqCst);
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
    guard(|| {
        // SAFETY: counter is NULL or a live handle, per this function's contract.
        let c = unsafe { counter_ref(counter) }?;
        Ok(c.value.load(Ordering::SeqCst) as c_int)
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
    guard_void(|| {
        if counter_p.is_null() {
            set_errno(Error::Fault.errno());
            return;
        }
        // SAFETY: counter_p is non-NULL and points to a handle slot, per the contract.
        let counter = unsafe { *counter_p };
        // SAFETY: counter is NULL or a live handle, per the contract.
        if let Err(e) = unsafe { counter_ref(counter) } {
            set_errno(e.errno());
            return;
        }
        // SAFETY: the handle is a live counter made by Box::into_raw in
        // zmq_atomic_counter_new; clearing the tag first makes a second destroy fail.
        unsafe {
            let counter = counter.cast::<AtomicCounter>();
            (*counter).tag = 0;
            drop(Box::from_raw(counter));
            *counter_p = std::ptr::null_mut();
        }
    })
}

// ---------------------------------------------------------------------------------------
// Stopwatch and sleep

const STOPWATCH_TAG: u32 = 0x5a53_5457;

/// The object behind a `zmq_stopwatch_start` handle.
struct Stopwatch {
    tag: u32,
    start: Instant,
}

/// Microseconds since the stopwatch `watch` started, or EFAULT for a bad handle.
///
/// # Safety
///
/// `watch` must be NULL or point to readable memory of at least a `Stopwatch`.
unsafe fn stopwatch_elapsed(watch: *mut c_void) -> Result<c_ulong> {
    // SAFETY: non-NULL pointers are readable per this function's contract.
    match unsafe { watch.cast::<Stopwatch>().as_ref() } {
        Some(w) if w.tag == STOPWATCH_TAG => {
            Ok(c_ulong::try_from(w.start.elapsed().as_micros()).unwrap_or(c_ulong::MAX))
        }
        _ => Err(Error::Fault),
    }
}

/// Starts a stopwatch on a monotonic clock; returns its handle.
#[no_mangle]
pub extern "C" fn zmq_stopwatch_start() -> *mut c_void {
    guard_ptr(|| {
        let watch = Box::new(Stopwatch {
            tag: STOPWATCH_TAG,
            start: Instant::now(),
        });
        Ok(Box::into_raw(watch).cast())
    })
}

/// Microseconds since `watch` started; the stopwatch keeps running. A bad handle gives 0
/// with errno EFAULT.
///
/// # Safety
///
/// `watch` must be NULL or a handle from `zmq_stopwatch_start` not yet stopped.
#[no_mangle]
pub unsafe extern "C" fn zmq_stopwatch_intermediate(watch: *mut c_void) -> c_ulong {
    // SAFETY: watch is NULL or a live handle, per this function's contract.
    guard_value(0, || unsafe { stopwatch_elapsed(watch) })
}

/// Microseconds since `watch` started; frees the stopwatch. A bad handle gives 0 with
/// errno EFAULT.
///
/// # Safety
///
/// `watch` must be NULL or a handle from `zmq_stopwatch_start` not yet stopped.
#[no_mangle]
pub unsafe extern "C" fn zmq_stopwatch_stop(watch: *mut c_void) -> c_ulong {
    guard_value(0, || {
        // SAFETY: watch is NULL or a live handle, per this function's contract.
        let elapsed = unsafe { stopwatch_elapsed(watch) }?;
        // SAFETY: the handle is a live stopwatch made by Box::into_raw in
        // zmq_stopwatch_start; clearing the tag first makes a second stop fail.
        unsafe {
            let watch = watch.cast::<Stopwatch>();
            (*watch).tag = 0;
            drop(Box::from_raw(watch));
        }
        Ok(elapsed)
    })
}

/// Sleeps for `seconds` seconds (not at all when `seconds` is not positive).
#[no_mangle]
pub extern "C" fn zmq_sleep(seconds: c_int) {
    guard_void(|| {
        if let Ok(secs) = u64::try_from(seconds) {
            std::thread::sleep(Duration::from_secs(secs));
        }
    })
}

// ---------------------------------------------------------------------------------------
// Threads

const THREAD_TAG: u32 = 0x5a54_4844;

/// The object behind a `zmq_threadstart` handle.
struct Thread {
    tag: u32,
    handle: Option<JoinHandle<()>>,
}

/// The thread function and its argument, moved into the new thread.
struct ThreadStart {
    func: zmq_thread_fn,
    arg: *mut c_void,
}

// SAFETY: handing `arg` to another thread is the whole point of zmq_threadstart; the caller
// answers for what the pointer refers to being usable from that thread.
unsafe impl Send for ThreadStart {}

impl ThreadStart {
    /// Runs the thread function with all signals blocked, as libzmq's threads do, so that
    /// signals go to the application's own threads.
    fn run(self) {
        // SAFETY: sigfillset fills a zeroed sigset_t we own; pthread_sigmask changes only the
        // calling thread's mask and accepts a NULL old set.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut set);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
        // SAFETY: func is the caller's thread function and arg its argument, per the
        // contract of zmq_threadstart.
        unsafe { (self.func)(self.arg) }
    }
}

/// Starts a thread running `func(arg)`; returns its handle for `zmq_threadclose`, or NULL
/// with errno (EFAULT when `func` is NULL, or the system's error).
///
/// # Safety
///
/// `func` must be NULL or a function that is safe to call with `arg` on another thread.
#[no_mangle]
pub unsafe extern "C" fn zmq_threadstart(
    func: Option<zmq_thread_fn>,
    arg: *mut c_void,
) -> *mut c_void {
    guard_ptr(|| {
        let func = func.ok_or(Error::Fault)?;
        let start = ThreadStart { func, arg };
        let handle = std::thread::Builder::new()
            .name("ZMQapp".into())
            .spawn(move || start.run())?;
        let thread = Box::new(Thread {
            tag: THREAD_TAG,
            handle: Some(handle),
        });
        Ok(Box::into_raw(thread).cast())
    })
}

/// Waits for the thread `thread` to finish and frees its handle.
///
/// # Safety
///
/// `thread` must be NULL or a handle from `zmq_threadstart` not yet closed.
#[no_mangle]
pub unsafe extern "C" fn zmq_threadclose(thread: *mut c_void) {
    guard_void(|| {
        let thread = thread.cast::<Thread>();
        // SAFETY: thread is NULL or a live handle, per this function's contract.
        match unsafe { thread.as_ref() } {
            Some(t) if t.tag == THREAD_TAG => {}
            _ => {
                set_errno(Error::Fault.errno());
                return;
            }
        }
        // SAFETY: the handle is a live Thread made by Box::into_raw in zmq_threadstart;
        // clearing the tag first makes a second close fail.
        let mut thread = unsafe {
            (*thread).tag = 0;
            Box::from_raw(thread)
        };
        if let Some(handle) = thread.handle.take() {
            let _ = handle.join();
        }
    })
}

// ---------------------------------------------------------------------------------------
// Timers

const TIMERS_TAG: u32 = 0x5a54_4d52;

/// What a timer runs: the C handler and its argument.
#[derive(Clone, Copy)]
struct TimerHandler {
    func: zmq_timer_fn,
    arg: *mut c_void,
}

/// The object behind a `zmq_timers_new` handle.
///
/// Handlers run with no borrow of the timer set held, so they may call any `zmq_timers_*`
/// function on it; a `zmq_timers_destroy` from a handler stops the run and frees the object
/// when the outermost `zmq_timers_execute` returns.
struct TimersHandle {
    tag: Cell<u32>,
    timers: RefCell<Timers<TimerHandler>>,
    executing: Cell<u32>,
    destroyed: Cell<bool>,
}

/// The timer set behind `timers`; EFAULT for NULL or a handle that is not live timers.
///
/// # Safety
///
/// `timers` must be NULL or point to readable memory of at least a `TimersHandle`.
unsafe fn timers_ref<'a>(timers: *mut c_void) -> Result<&'a TimersHandle> {
    // SAFETY: non-NULL pointers are readable per this function's contract; live timers are
    // only freed by zmq_timers_destroy (or a zmq_timers_execute that outlived it).
    match unsafe { timers.cast::<TimersHandle>().as_ref() } {
        Some(t) if t.tag.get() == TIMERS_TAG => Ok(t),
        _ => Err(Error::Fault),
    }
}

/// Converts a C interval in milliseconds.
fn interval_ms(interval: usize) -> u64 {
    u64::try_from(interval).unwrap_or(u64::MAX)
}

/// Creates an empty timer set.
#[no_mangle]
pub extern "C" fn zmq_timers_new() -> *mut c_void {
    guard_ptr(|| {
        let timers = Box::new(TimersHandle {
            tag: Cell::new(TIMERS_TAG),
            timers: RefCell::new(Timers::new()),
            executing: Cell::new(0),
            destroyed: Cell::new(false),
        });
        Ok(Box::into_raw(timers).cast())
    })
}

/// Destroys the timer set `*timers_p` and sets `*timers_p` to NULL; EFAULT when either
/// pointer is NULL or the handle is not live timers.
///
/// # Safety
///
/// `timers_p` must be NULL or point to a `void *` that is NULL or a timers handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_destroy(timers_p: *mut *mut c_void) -> c_int {
    guard(|| {
        if timers_p.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: timers_p is non-NULL and points to a handle slot, per the contract.
        let raw = unsafe { *timers_p };
        // SAFETY: raw is NULL or a timers handle, per the contract.
        let timers = unsafe { timers_ref(raw) }?;
        timers.tag.set(0);
        if timers.executing.get() > 0 {
            // A handler destroys its own timer set: the running execute frees it.
            timers.destroyed.set(true);
        } else {
            // SAFETY: the handle was made by Box::into_raw in zmq_timers_new, is live (tag
            // checked), and no execute is using it.
            drop(unsafe { Box::from_raw(raw.cast::<TimersHandle>()) });
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
    guard(|| {
        // SAFETY: timers is NULL or a live handle, per this function's contract.
        let timers = unsafe { timers_ref(timers) }?;
        let func = handler.ok_or(Error::Fault)?;
        let handler = TimerHandler { func, arg };
        Ok(timers
            .timers
            .borrow_mut()
            .add(interval_ms(interval), handler))
    })
}

/// Cancels timer `timer_id`; EINVAL when it is unknown or already cancelled.
///
/// # Safety
///
/// `timers` must be NULL or a live timers handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_cancel(timers: *mut c_void, timer_id: c_int) -> c_int {
    guard(|| {
        // SAFETY: timers is NULL or a live handle, per this function's contract.
        let timers = unsafe { timers_ref(timers) }?;
        timers.timers.borrow_mut().cancel(timer_id)?;
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
    guard(|| {
        // SAFETY: timers is NULL or a live handle, per this function's contract.
        let timers = unsafe { timers_ref(timers) }?;
        timers
            .timers
            .borrow_mut()
            .set_interval(timer_id, interval_ms(interval))?;
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
    guard(|| {
        // SAFETY: timers is NULL or a live handle, per this function's contract.
        let timers = unsafe { timers_ref(timers) }?;
        timers.timers.borrow_mut().reset(timer_id)?;
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
    guard_value(-1, || {
        // SAFETY: timers is NULL or a live handle, per this function's contract.
        let timers = unsafe { timers_ref(timers) }?;
        let left = timers.timers.borrow_mut().timeout();
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
    guard(|| {
        let raw = timers;
        // SAFETY: timers is NULL or a live handle, per this function's contract.
        let timers = unsafe { timers_ref(raw) }?;
        let now = now_ms();
        let due = timers.timers.borrow().due(now);
        timers.executing.set(timers.executing.get() + 1);
        for slot in due {
            if timers.destroyed.get() {
                break;
            }
            let fired = timers.timers.borrow_mut().fire(slot, now);
            if let Some((id, handler)) = fired {
                // SAFETY: the handler and argument were given to zmq_timers_add, whose
                // caller vouched for calling them here; no borrow of the set is held.
                unsafe { (handler.func)(id, handler.arg) };
            }
        }
        let executing = timers.executing.get() - 1;
        timers.executing.set(executing);
        if executing == 0 && timers.destroyed.get() {
            // SAFETY: a handler destroyed the set while we ran it; this outermost execute
            // is its last user, and the handle came from Box::into_raw in zmq_timers_new.
            drop(unsafe { Box::from_raw(raw.cast::<TimersHandle>()) });
        }
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::errno;

    #[test]
    fn z85_through_the_c_api() {
        let data = [0x86u8, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];
        let mut text = [0x55 as c_char; 11];
        // SAFETY: the buffers have the sizes the functions need.
        unsafe {
            assert_eq!(
                zmq_z85_encode(text.as_mut_ptr(), data.as_ptr(), 8),
                text.as_mut_ptr()
            );
            assert_eq!(CStr::from_ptr(text.as_ptr()).to_bytes(), b"HelloWorld");
            let mut back = [0u8; 8];
            assert_eq!(
                zmq_z85_decode(back.as_mut_ptr(), text.as_ptr()),
                back.as_mut_ptr()
            );
            assert_eq!(back, data);
            assert!(zmq_z85_decode(back.as_mut_ptr(), c"".as_ptr()).is_null());
            assert_eq!(errno(), libc::EINVAL);
        }
    }

    #[test]
    fn null_pointers_give_efault_not_a_crash() {
        // SAFETY: NULL is allowed for every handle argument below.
        unsafe {
            assert!(zmq_z85_encode(std::ptr::null_mut(), std::ptr::null(), 4).is_null());
            assert_eq!(errno(), libc::EFAULT);
            assert!(zmq_z85_decode(std::ptr::null_mut(), std::ptr::null()).is_null());
            assert_eq!(errno(), libc::EFAULT);
            assert_eq!(zmq_atomic_counter_inc(std::ptr::null_mut()), -1);
            assert_eq!(errno(), libc::EFAULT);
            zmq_atomic_counter_destroy(std::ptr::null_mut());
            let mut none = std::ptr::null_mut();
            zmq_atomic_counter_destroy(&mut none);
            assert_eq!(zmq_stopwatch_stop(std::ptr::null_mut()), 0);
            assert_eq!(errno(), libc::EFAULT);
            assert!(zmq_threadstart(None, std::ptr::null_mut()).is_null());
            zmq_threadclose(std::ptr::null_mut());
            assert_eq!(zmq_timers_destroy(std::ptr::null_mut()), -1);
            assert_eq!(errno(), libc::EFAULT);
        }
    }

    #[test]
    fn handles_of_another_kind_are_refused() {
        let watch = zmq_stopwatch_start();
        // SAFETY: a stopwatch handle is readable memory, just not a counter or timers.
        unsafe {
            assert_eq!(zmq_atomic_counter_value(watch), -1);
            assert_eq!(errno(), libc::EFAULT);
            assert_eq!(zmq_timers_timeout(watch), -1);
            assert_eq!(errno(), libc::EFAULT);
            zmq_stopwatch_stop(watch);
        }
    }

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
}
