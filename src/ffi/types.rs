//! The C types of `zmq.h`: `zmq_msg_t`, `zmq_fd_t`, `zmq_pollitem_t`, the draft
//! `zmq_poller_event_t`, and the callback types.
//!
//! cbindgen writes `zmq_fd_t`, `zmq_pollitem_t` and `zmq_poller_event_t` into `include/zmq.h`
//! from the definitions below. `zmq_msg_t` (aligned to the size of a pointer, which cbindgen
//! cannot express) and the callback types (C function types, where Rust only has function
//! pointers) are written by hand in `cbindgen.toml`; the compile-time assertions at the end of
//! this file and `capi-tests/check-header.sh` keep the two sides in agreement.

use std::ffi::{c_int, c_short, c_uchar, c_void};
use std::mem::{align_of, offset_of, size_of};

/// An opaque message: 64 bytes, aligned like a pointer; a `crate::msg::Msg` lives inside.
///
/// In C the single field is `unsigned char _[64]`.
#[cfg_attr(target_pointer_width = "64", repr(C, align(8)))]
#[cfg_attr(target_pointer_width = "32", repr(C, align(4)))]
#[allow(non_camel_case_types)]
pub struct zmq_msg_t {
    pub _x: [c_uchar; 64],
}

/// A file descriptor, as zmq_pollitem_t and the poller API hold it (int on POSIX systems).
#[allow(non_camel_case_types)]
pub type zmq_fd_t = c_int;

/// One entry of zmq_poll's array: a socket, or (when socket is NULL) a file descriptor.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct zmq_pollitem_t {
    pub socket: *mut c_void,
    pub fd: zmq_fd_t,
    pub events: c_short,
    pub revents: c_short,
}

/// One ready item reported by zmq_poller_wait / zmq_poller_wait_all (draft API).
// The core uses it in every build; in C it is declared only with `ZMQ_BUILD_DRAFT_API`.
#[cfg(zmq_draft_api)]
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct zmq_poller_event_t {
    pub socket: *mut c_void,
    pub fd: zmq_fd_t,
    pub user_data: *mut c_void,
    pub events: c_short,
}

/// The free function of `zmq_msg_init_data` (in C, the function type `zmq_free_fn`).
#[allow(non_camel_case_types)]
pub type zmq_free_fn = unsafe extern "C" fn(data: *mut c_void, hint: *mut c_void);

/// The callback of `zmq_timers_add` (in C, the function type `zmq_timer_fn`).
#[allow(non_camel_case_types)]
pub type zmq_timer_fn = unsafe extern "C" fn(timer_id: c_int, arg: *mut c_void);

/// The thread function of `zmq_threadstart` (in C, the function type `zmq_thread_fn`).
#[allow(non_camel_case_types)]
pub type zmq_thread_fn = unsafe extern "C" fn(arg: *mut c_void);

// The layouts that C programs built against libzmq's header rely on.
const _: () = {
    assert!(size_of::<zmq_msg_t>() == 64);
    assert!(align_of::<zmq_msg_t>() == size_of::<*mut c_void>());
    assert!(offset_of!(zmq_pollitem_t, fd) == size_of::<*mut c_void>());
    assert!(offset_of!(zmq_pollitem_t, events) == size_of::<*mut c_void>() + 4);
    assert!(offset_of!(zmq_pollitem_t, revents) == size_of::<*mut c_void>() + 6);
};

// A `crate::msg::Msg` lives inside every `zmq_msg_t`: it must fit, and the alignment C gives
// a `zmq_msg_t` must be the one the `Msg` needs.
const _: () = {
    assert!(size_of::<crate::msg::Msg>() <= size_of::<zmq_msg_t>());
    assert!(align_of::<crate::msg::Msg>() == align_of::<zmq_msg_t>());
};
