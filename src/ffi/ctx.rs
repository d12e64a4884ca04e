//! Context exports: `zmq_ctx_*`, `zmq_init`, `zmq_term`, and the context handle.

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use super::boundary;
use super::handle::{Handle, Tagged};
use crate::ctx::CtxInner;
use crate::error::{Error, Result};

/// What a `void *context` holds. Terminated contexts are retired (see [`Handle::retire`]):
/// a stale handle gives EFAULT.
pub(crate) struct CtxHandle {
    pub(crate) inner: Arc<CtxInner>,
}

impl Tagged for CtxHandle {
    const TAG: u32 = 0xabad_cafe;
    const BAD: Error = Error::Fault;
    const KEPT: bool = true;
}

/// The context behind a C handle; EFAULT for NULL, foreign or terminated handles.
///
/// # Safety
/// `p` must be NULL or a handle of this crate that was not destroyed (see [`Handle::get`]).
pub(crate) unsafe fn ctx_ref<'a>(p: *mut c_void) -> Result<&'a Arc<CtxInner>> {
    // SAFETY: the caller's contract is Handle::get's.
    Ok(&unsafe { Handle::<CtxHandle>::get(p) }?.inner)
}

/// Creates a context.
#[no_mangle]
pub extern "C" fn zmq_ctx_new() -> *mut c_void {
    boundary(|| {
        Ok(Handle::into_raw(CtxHandle {
            inner: CtxInner::new(),
        }))
    })
}

/// `zmq_ctx_term` and its old names.
///
/// # Safety
/// As [`ctx_ref`].
unsafe fn ctx_term(context: *mut c_void) -> Result<c_int> {
    // SAFETY: the caller's contract is ctx_ref's.
    unsafe { ctx_ref(context) }?.terminate()?;
    // SAFETY: as above; the handle stays allocated, so stale copies read a dead tag.
    unsafe { Handle::<CtxHandle>::retire(context) }?;
    Ok(0)
}

/// Terminates a context: waits for its sockets to close, then frees it.
///
/// # Safety
/// `context` must be NULL or a handle from `zmq_ctx_new`.
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_term(context: *mut c_void) -> c_int {
    // SAFETY: the contract above is ctx_term's.
    boundary(|| unsafe { ctx_term(context) })
}

/// Makes blocking calls on the context's sockets return ETERM.
///
/// # Safety
/// `context` must be NULL or a handle from `zmq_ctx_new`.
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_shutdown(context: *mut c_void) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is ctx_ref's.
        unsafe { ctx_ref(context) }?.shutdown();
        Ok(0)
    })
}

/// Sets a context option.
///
/// # Safety
/// `context` must be NULL or a handle from `zmq_ctx_new`.
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_set(context: *mut c_void, option: c_int, optval: c_int) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is ctx_ref's.
        unsafe { ctx_ref(context) }?.set(option, optval)?;
        Ok(0)
    })
}

/// Reads a context option.
///
/// # Safety
/// `context` must be NULL or a handle from `zmq_ctx_new`.
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_get(context: *mut c_void, option: c_int) -> c_int {
    // SAFETY: the contract above is ctx_ref's.
    boundary(|| unsafe { ctx_ref(context) }?.get(option))
}

/// Old API: a context with `io_threads` I/O threads.
#[no_mangle]
pub extern "C" fn zmq_init(io_threads: c_int) -> *mut c_void {
    boundary(|| {
        if io_threads < 0 {
            return Err(Error::Inval);
        }
        let inner = CtxInner::new();
        inner.set(crate::constants::ZMQ_IO_THREADS, io_threads)?;
        Ok(Handle::into_raw(CtxHandle { inner }))
    })
}

/// Old name of `zmq_ctx_term`.
///
/// # Safety
/// As `zmq_ctx_term`.
#[no_mangle]
pub unsafe extern "C" fn zmq_term(context: *mut c_void) -> c_int {
    // SAFETY: the contract above is ctx_term's.
    boundary(|| unsafe { ctx_term(context) })
}

/// Old name of `zmq_ctx_term`.
///
/// # Safety
/// As `zmq_ctx_term`.
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_destroy(context: *mut c_void) -> c_int {
    // SAFETY: the contract above is ctx_term's.
    boundary(|| unsafe { ctx_term(context) })
}

/// Sets a context option from its bytes (draft): int options take exactly an int,
/// ZMQ_THREAD_NAME_PREFIX also 1 to 16 bytes of a name.
///
/// # Safety
/// `context` must be NULL or a handle from `zmq_ctx_new`; `optval` must point to
/// `optvallen` readable bytes (or be NULL with length 0).
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_set_ext(
    context: *mut c_void,
    option: c_int,
    optval: *const c_void,
    optvallen: usize,
) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is ctx_ref's.
        let ctx = unsafe { ctx_ref(context) }?;
        // SAFETY: the contract above.
        let v = unsafe { super::bytes_arg(optval, optvallen) }?;
        ctx.set_ext(option, v)?;
        Ok(0)
    })
}

/// Reads a context option into a buffer (draft). As libzmq, `*optvallen` is read and left
/// as it is.
///
/// # Safety
/// `context` must be NULL or a handle from `zmq_ctx_new`; `optvallen` must point to a
/// `size_t`, and `optval` to that many writable bytes.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_get_ext(
    context: *mut c_void,
    option: c_int,
    optval: *mut c_void,
    optvallen: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: the contract above is ctx_ref's.
        let ctx = unsafe { ctx_ref(context) }?;
        if optvallen.is_null() || optval.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: `optvallen` points to a size_t and `optval` to that many writable bytes,
        // by the contract above.
        let out = unsafe { std::slice::from_raw_parts_mut(optval.cast::<u8>(), *optvallen) };
        ctx.get_ext(option, out)?;
        Ok(0)
    })
}
