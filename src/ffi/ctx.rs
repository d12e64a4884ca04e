//! Context exports: `zmq_ctx_*`, `zmq_init`, `zmq_term`, and the handle checks for contexts.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use super::{guard, guard_ptr};
use crate::ctx::CtxInner;
use crate::error::{Error, Result};

const CTX_TAG: u32 = 0xabad_cafe;
const CTX_DEAD: u32 = 0xdead_cafe;

/// What a `void *context` points to.
pub struct CtxHandle {
    tag: AtomicU32,
    pub(crate) inner: Arc<CtxInner>,
}

/// Terminated context handles stay allocated (and reachable) so a stale handle reads a dead
/// tag (EFAULT) instead of freed memory.
static DEAD: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// The context behind a C handle; EFAULT for NULL, foreign or terminated handles.
pub(crate) fn ctx_ref<'a>(p: *mut c_void) -> Result<&'a CtxHandle> {
    if p.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: non-NULL handles come from zmq_ctx_new (never freed); the tag is checked
    // before anything else is used.
    let h = unsafe { &*(p as *const CtxHandle) };
    if h.tag.load(Ordering::Acquire) != CTX_TAG {
        return Err(Error::Fault);
    }
    Ok(h)
}

/// Creates a context.
#[no_mangle]
pub extern "C" fn zmq_ctx_new() -> *mut c_void {
    guard_ptr(|| {
        Ok(Box::into_raw(Box::new(CtxHandle {
            tag: AtomicU32::new(CTX_TAG),
            inner: CtxInner::new(),
        })) as *mut c_void)
    })
}

/// Terminates a context: waits for its sockets to close, then frees it.
///
/// # Safety
/// `context` must be NULL or a handle from `zmq_ctx_new`.
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_term(context: *mut c_void) -> c_int {
    guard(|| {
        let h = ctx_ref(context)?;
        h.inner.terminate()?;
        // SAFETY: the handle is live (tag checked); only its tag changes.
        unsafe {
            (*(context as *const CtxHandle))
                .tag
                .store(CTX_DEAD, Ordering::Release)
        };
        DEAD.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(context as usize);
        Ok(0)
    })
}

/// Makes blocking calls on the context's sockets return ETERM.
///
/// # Safety
/// `context` must be NULL or a handle from `zmq_ctx_new`.
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_shutdown(context: *mut c_void) -> c_int {
    guard(|| {
        ctx_ref(context)?.inner.shutdown();
        Ok(0)
    })
}

/// Sets a context option.
///
/// # Safety
/// `context` must be NULL or a handle from `zmq_ctx_new`.
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_set(context: *mut c_void, option: c_int, optval: c_int) -> c_int {
    guard(|| {
        ctx_ref(context)?.inner.set(option, optval)?;
        Ok(0)
    })
}

/// Reads a context option.
///
/// # Safety
/// `context` must be NULL or a handle from `zmq_ctx_new`.
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_get(context: *mut c_void, option: c_int) -> c_int {
    guard(|| ctx_ref(context)?.inner.get(option))
}

/// Old API: a context with `io_threads` I/O threads.
#[no_mangle]
pub extern "C" fn zmq_init(io_threads: c_int) -> *mut c_void {
    guard_ptr(|| {
        if io_threads < 0 {
            return Err(Error::Inval);
        }
        let inner = CtxInner::new();
        inner.set(crate::constants::ZMQ_IO_THREADS, io_threads)?;
        Ok(Box::into_raw(Box::new(CtxHandle {
            tag: AtomicU32::new(CTX_TAG),
            inner,
        })) as *mut c_void)
    })
}

/// Old name of `zmq_ctx_term`.
///
/// # Safety
/// As `zmq_ctx_term`.
#[no_mangle]
pub unsafe extern "C" fn zmq_term(context: *mut c_void) -> c_int {
    zmq_ctx_term(context)
}

/// Old name of `zmq_ctx_term`.
///
/// # Safety
/// As `zmq_ctx_term`.
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_destroy(context: *mut c_void) -> c_int {
    zmq_ctx_term(context)
}
