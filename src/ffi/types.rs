//! The C types of `zmq.h`: `zmq_msg_t`, `zmq_pollitem_t`, and the callback types.

use std::ffi::{c_int, c_short, c_void};

/// An opaque message: 64 bytes, pointer-aligned; a `crate::msg::Msg` lives inside.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct zmq_msg_t {
    pub _x: [u8; 64],
}

/// One entry of `zmq_poll`'s array: a socket, or (when `socket` is NULL) a file descriptor.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct zmq_pollitem_t {
    pub socket: *mut c_void,
    pub fd: c_int,
    pub events: c_short,
    pub revents: c_short,
}

/// The free function of `zmq_msg_init_data`.
#[allow(non_camel_case_types)]
pub type zmq_free_fn = unsafe extern "C" fn(data: *mut c_void, hint: *mut c_void);

/// The callback of `zmq_timers_add`.
#[allow(non_camel_case_types)]
pub type zmq_timer_fn = unsafe extern "C" fn(timer_id: c_int, arg: *mut c_void);

/// The thread function of `zmq_threadstart`.
#[allow(non_camel_case_types)]
pub type zmq_thread_fn = unsafe extern "C" fn(arg: *mut c_void);
