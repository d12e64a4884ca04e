//! The one error type of the crate, and its mapping to the errno values of `zmq.h`.
//!
//! Every fallible operation returns `Result<T, Error>`; the FFI layer turns an `Error` into
//! `errno` (see `ffi::fail`). Values that Linux does not define natively sit at
//! `ZMQ_HAUSNUMERO + N`, exactly as libzmq numbers them.

use std::ffi::CStr;
use std::fmt;

/// Base of libzmq's private errno range.
pub const ZMQ_HAUSNUMERO: i32 = 156_384_712;
/// The state machine of the socket does not allow this operation now (REQ/REP order).
pub const EFSM: i32 = ZMQ_HAUSNUMERO + 51;
/// The transport cannot be used with this socket type.
pub const ENOCOMPATPROTO: i32 = ZMQ_HAUSNUMERO + 52;
/// The context was terminated.
pub const ETERM: i32 = ZMQ_HAUSNUMERO + 53;
/// No I/O thread is available for the operation.
pub const EMTHREAD: i32 = ZMQ_HAUSNUMERO + 54;

/// Why an operation failed; each variant is one errno value of `zmq.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// An argument is invalid (EINVAL).
    Inval,
    /// A pointer or handle is invalid (EFAULT).
    Fault,
    /// The operation would block (EAGAIN).
    Again,
    /// The operation is not supported by this socket type or build (ENOTSUP).
    NotSup,
    /// The transport protocol is unknown (EPROTONOSUPPORT).
    ProtoNoSupport,
    /// The transport is not compatible with the socket type (ENOCOMPATPROTO).
    NoCompatProto,
    /// The context was terminated (ETERM).
    Term,
    /// No I/O thread is available (EMTHREAD).
    MThread,
    /// The operation is not allowed in the socket's current state (EFSM).
    Fsm,
    /// The handle is not a socket (ENOTSOCK).
    NotSock,
    /// A signal interrupted the call (EINTR).
    Intr,
    /// Out of memory (ENOMEM).
    NoMem,
    /// Too many open files or sockets (EMFILE).
    MFile,
    /// The message is too large or the buffer too small (EMSGSIZE).
    MsgSize,
    /// The peer is not reachable (EHOSTUNREACH), e.g. ROUTER_MANDATORY with an unknown routing id.
    HostUnreach,
    /// The endpoint is already in use (EADDRINUSE).
    AddrInUse,
    /// The address is not available (EADDRNOTAVAIL).
    AddrNotAvail,
    /// The endpoint does not exist (ENOENT).
    NoEnt,
    /// Connection refused (ECONNREFUSED).
    ConnRefused,
    /// Not a file descriptor (EBADF), e.g. the fd -1 given to `zmq_poller_add_fd`.
    BadF,
    /// Any other operating system error, by its errno value.
    Os(i32),
}

impl Error {
    /// The errno value libzmq reports for this error.
    pub fn errno(self) -> i32 {
        match self {
            Error::Inval => libc::EINVAL,
            Error::Fault => libc::EFAULT,
            Error::Again => libc::EAGAIN,
            Error::NotSup => libc::ENOTSUP,
            Error::ProtoNoSupport => libc::EPROTONOSUPPORT,
            Error::NoCompatProto => ENOCOMPATPROTO,
            Error::Term => ETERM,
            Error::MThread => EMTHREAD,
            Error::Fsm => EFSM,
            Error::NotSock => libc::ENOTSOCK,
            Error::Intr => libc::EINTR,
            Error::NoMem => libc::ENOMEM,
            Error::MFile => libc::EMFILE,
            Error::MsgSize => libc::EMSGSIZE,
            Error::HostUnreach => libc::EHOSTUNREACH,
            Error::AddrInUse => libc::EADDRINUSE,
            Error::AddrNotAvail => libc::EADDRNOTAVAIL,
            Error::NoEnt => libc::ENOENT,
            Error::ConnRefused => libc::ECONNREFUSED,
            Error::BadF => libc::EBADF,
            Error::Os(e) => e,
        }
    }

    /// The error for an errno value (the inverse of [`Error::errno`]).
    pub fn from_errno(e: i32) -> Error {
        match e {
            libc::EINVAL => Error::Inval,
            libc::EFAULT => Error::Fault,
            libc::EAGAIN => Error::Again,
            libc::ENOTSUP => Error::NotSup,
            libc::EPROTONOSUPPORT => Error::ProtoNoSupport,
            ENOCOMPATPROTO => Error::NoCompatProto,
            ETERM => Error::Term,
            EMTHREAD => Error::MThread,
            EFSM => Error::Fsm,
            libc::ENOTSOCK => Error::NotSock,
            libc::EINTR => Error::Intr,
            libc::ENOMEM => Error::NoMem,
            libc::EMFILE => Error::MFile,
            libc::EMSGSIZE => Error::MsgSize,
            libc::EHOSTUNREACH => Error::HostUnreach,
            libc::EADDRINUSE => Error::AddrInUse,
            libc::EADDRNOTAVAIL => Error::AddrNotAvail,
            libc::ENOENT => Error::NoEnt,
            libc::ECONNREFUSED => Error::ConnRefused,
            libc::EBADF => Error::BadF,
            other => Error::Os(other),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        match e.raw_os_error() {
            Some(n) => Error::from_errno(n),
            None => match e.kind() {
                std::io::ErrorKind::WouldBlock => Error::Again,
                std::io::ErrorKind::InvalidInput => Error::Inval,
                std::io::ErrorKind::OutOfMemory => Error::NoMem,
                _ => Error::Os(libc::EIO),
            },
        }
    }
}

/// The text `zmq_strerror` gives for an errno value: libzmq's own texts for its private
/// range, the C library's for the rest. The returned string lives for the whole program.
pub fn strerror(errnum: i32) -> &'static CStr {
    match errnum {
        EFSM => c"Operation cannot be accomplished in current state",
        ENOCOMPATPROTO => c"The protocol is not compatible with the socket type",
        ETERM => c"Context was terminated",
        EMTHREAD => c"No thread available",
        _ => os_strerror(errnum),
    }
}

fn os_strerror(errnum: i32) -> &'static CStr {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    // strerror(3) is not thread-safe and strerror_r writes a caller buffer; keep one
    // leaked copy per errno value so the pointer stays valid like libzmq's.
    static TEXTS: OnceLock<Mutex<HashMap<i32, &'static CStr>>> = OnceLock::new();
    let map = TEXTS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(errnum).or_insert_with(|| {
        let text = std::io::Error::from_raw_os_error(errnum).to_string();
        // io::Error's Display appends " (os error N)"; keep only the C library's text.
        let text = match text.rfind(" (os error ") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        let owned = std::ffi::CString::new(text).unwrap_or_else(|_| c"Unknown error".into());
        Box::leak(owned.into_boxed_c_str())
    })
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&strerror(self.errno()).to_string_lossy())
    }
}

impl std::error::Error for Error {}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_errno_values_match_zmq_h() {
        assert_eq!(EFSM, 156_384_763);
        assert_eq!(ENOCOMPATPROTO, 156_384_764);
        assert_eq!(ETERM, 156_384_765);
        assert_eq!(EMTHREAD, 156_384_766);
    }

    #[test]
    fn errno_round_trips() {
        for e in [
            Error::Inval,
            Error::Term,
            Error::Fsm,
            Error::NotSock,
            Error::Os(libc::EPIPE),
        ] {
            assert_eq!(Error::from_errno(e.errno()), e);
        }
    }

    #[test]
    fn strerror_texts() {
        assert_eq!(strerror(ETERM).to_str().unwrap(), "Context was terminated");
        assert_eq!(strerror(libc::EINVAL).to_str().unwrap(), "Invalid argument");
    }
}
