//! `zmq_threadstart`, `zmq_threadclose`: threads for C code, behind a handle.

use std::ffi::c_void;
use std::thread::JoinHandle;

use super::boundary;
use super::handle::{Handle, Tagged};
use super::types::zmq_thread_fn;
use crate::error::Error;

/// The object behind a `zmq_threadstart` handle.
struct Thread(JoinHandle<()>);

impl Tagged for Thread {
    const TAG: u32 = 0x5a54_4844;
    const BAD: Error = Error::Fault;
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
    boundary(|| {
        let func = func.ok_or(Error::Fault)?;
        let start = ThreadStart { func, arg };
        let handle = std::thread::Builder::new()
            .name("ZMQapp".into())
            .spawn(move || start.run())?;
        Ok(Handle::into_raw(Thread(handle)))
    })
}

/// Waits for the thread `thread` to finish and frees its handle.
///
/// # Safety
///
/// `thread` must be NULL or a handle from `zmq_threadstart` not yet closed.
#[no_mangle]
pub unsafe extern "C" fn zmq_threadclose(thread: *mut c_void) {
    boundary(|| {
        // SAFETY: the contract above is Handle::destroy's.
        let Thread(handle) = unsafe { Handle::<Thread>::destroy(thread) }?;
        let _ = handle.join();
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::errno;

    unsafe extern "C" fn bump(arg: *mut c_void) {
        // SAFETY: arg is the test's counter, which outlives the thread.
        unsafe { &*arg.cast::<std::sync::atomic::AtomicU32>() }
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    #[test]
    fn a_thread_runs_and_is_joined_and_bad_handles_give_efault() {
        let n = std::sync::atomic::AtomicU32::new(0);
        let arg = (&n as *const std::sync::atomic::AtomicU32)
            .cast_mut()
            .cast();
        // SAFETY: bump is safe to call with arg on another thread; the handle is closed once.
        unsafe {
            let t = zmq_threadstart(Some(bump), arg);
            assert!(!t.is_null());
            zmq_threadclose(t);
            assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 1);
            assert!(zmq_threadstart(None, std::ptr::null_mut()).is_null());
            assert_eq!(errno(), libc::EFAULT);
            zmq_threadclose(std::ptr::null_mut());
            assert_eq!(errno(), libc::EFAULT);
        }
    }
}
