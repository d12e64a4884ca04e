//! Socket options: one table of (id, type, bounds) entries with shared encoders and
//! validators, so every option is decoded and checked the same way, with libzmq's errno.
//!
//! Options specific to a socket type (SUBSCRIBE, ROUTER_MANDATORY, ...) are handled by the
//! type first (`SocketType::setsockopt`); the table holds the options every socket has.

use crate::constants::*;
use crate::error::{Error, Result};

/// The options every socket has, with libzmq's defaults.
#[derive(Clone, Debug)]
pub struct Options {
    pub sndhwm: i32,
    pub rcvhwm: i32,
    pub affinity: u64,
    pub routing_id: Vec<u8>,
    pub rate: i32,
    pub recovery_ivl: i32,
    pub sndbuf: i32,
    pub rcvbuf: i32,
    pub socket_type: i32,
    pub linger: i32,
    pub reconnect_ivl: i32,
    pub reconnect_ivl_max: i32,
    pub backlog: i32,
    pub maxmsgsize: i64,
    pub multicast_hops: i32,
    pub rcvtimeo: i32,
    pub sndtimeo: i32,
    pub ipv6: bool,
    pub immediate: bool,
    pub tcp_keepalive: i32,
    pub tcp_keepalive_cnt: i32,
    pub tcp_keepalive_idle: i32,
    pub tcp_keepalive_intvl: i32,
    /// ZMQ_NULL, ZMQ_PLAIN or ZMQ_CURVE: set by the last PLAIN or CURVE option, as in libzmq.
    pub mechanism: i32,
    /// The server side of PLAIN or CURVE (libzmq's one `as_server` for both).
    pub as_server: bool,
    pub plain_username: Vec<u8>,
    pub plain_password: Vec<u8>,
    /// ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY (zeroed when dropped), ZMQ_CURVE_SERVERKEY:
    /// 32 binary bytes each, all zero until set.
    pub curve_public_key: [u8; 32],
    pub curve_secret_key: zeroize::Zeroizing<[u8; 32]>,
    pub curve_server_key: [u8; 32],
    pub zap_domain: Vec<u8>,
    /// ZMQ_ZAP_ENFORCE_DOMAIN: a NULL connection with a ZAP domain and no handler is refused.
    pub zap_enforce_domain: bool,
    /// ZMQ_INVERT_MATCHING: every socket type has it (libzmq keeps it with the options);
    /// PUB, SUB, XPUB and XSUB act on it.
    pub invert_matching: bool,
    /// ZMQ_LOOPBACK_FASTPATH: a Windows-only tcp tuning in libzmq; kept, no effect here.
    pub loopback_fastpath: bool,
    /// ZMQ_MULTICAST_LOOP: for the multicast transports (udp, pgm), which this build lacks.
    pub multicast_loop: bool,
    /// ZMQ_ROUTER_RAW was set on this ROUTER: its connections run the raw engine.
    pub router_raw: bool,
    /// ZMQ_RECONNECT_STOP: when a connect-role session stops reconnecting (bits:
    /// 1 connection refused, 2 handshake failed, 4 after a disconnect; see `crate::session`).
    pub reconnect_stop: i32,
    pub conflate: bool,
    pub tos: i32,
    pub handshake_ivl: i32,
    pub socks_proxy: Vec<u8>,
    /// ZMQ_SOCKS_USERNAME / ZMQ_SOCKS_PASSWORD: a non-empty username makes the SOCKS
    /// handshake authenticate (RFC 1929).
    pub socks_username: Vec<u8>,
    pub socks_password: Vec<u8>,
    pub heartbeat_ivl: i32,
    pub heartbeat_ttl: i32,
    pub heartbeat_timeout: i32,
    pub connect_timeout: i32,
    pub tcp_maxrt: i32,
    pub multicast_maxtpdu: i32,
    pub use_fd: i32,
    pub bindtodevice: Vec<u8>,
    /// ZMQ_CONNECT_ROUTING_ID: the routing id the pipe of the next zmq_connect gets (ROUTER,
    /// REP, STREAM); empty when unset. The connect takes it (see `Pipe::routing_id`).
    pub connect_routing_id: Vec<u8>,
    /// ZMQ_TCP_ACCEPT_FILTER, parsed when set (with ZMQ_IPV6 as it is then), as libzmq does.
    pub tcp_accept_filters: Vec<crate::transport::tcp_address::TcpAddressMask>,
    pub ipc_filter_uid: Vec<i32>,
    pub ipc_filter_gid: Vec<i32>,
    pub ipc_filter_pid: Vec<i32>,
    pub last_endpoint: String,
    /// Whether this socket type receives routing ids from peers (ROUTER, STREAM).
    pub recv_routing_id: bool,
    /// ZMQ_STREAM_NOTIFY (STREAM sockets only): empty messages announce connections and
    /// disconnections.
    pub raw_notify: bool,
    /// ZMQ_METADATA: the application's own properties (`X-` names), sent in the handshake.
    pub app_metadata: Vec<(String, Vec<u8>)>,
    /// ZMQ_HELLO_MSG (draft): sent first to every new peer (ROUTER, DEALER, CLIENT, SERVER,
    /// PEER); empty: none.
    pub hello_msg: Vec<u8>,
    /// ZMQ_DISCONNECT_MSG (draft): received from a peer that went away (ROUTER, SERVER,
    /// PEER: the bound side); empty: none.
    pub disconnect_msg: Vec<u8>,
    /// ZMQ_HICCUP_MSG (draft): received when a connection breaks (DEALER, CLIENT, PEER: the
    /// connecting side); empty: none.
    pub hiccup_msg: Vec<u8>,
    /// ZMQ_ROUTER_NOTIFY (draft): ZMQ_NOTIFY_CONNECT / ZMQ_NOTIFY_DISCONNECT bits; a ROUTER
    /// then receives an empty message from each peer that connects or goes away.
    pub router_notify: i32,
    /// ZMQ_IN_BATCH_SIZE / ZMQ_OUT_BATCH_SIZE (draft): kept and reported; the engines size
    /// their reads and batches themselves (see `engine::zmtp`).
    #[cfg_attr(not(feature = "draft"), allow(dead_code))]
    pub in_batch_size: i32,
    #[cfg_attr(not(feature = "draft"), allow(dead_code))]
    pub out_batch_size: i32,
    /// ZMQ_PRIORITY (draft): SO_PRIORITY of tcp connections, when not 0.
    pub priority: i32,
    /// ZMQ_BUSY_POLL (libzmq 4.3.5, draft): SO_BUSY_POLL of tcp connections, when > 0.
    pub busy_poll: i32,
}

impl Options {
    /// libzmq's defaults for a socket of type `socket_type`.
    pub fn new(socket_type: i32) -> Options {
        Options {
            sndhwm: 1000,
            rcvhwm: 1000,
            affinity: 0,
            routing_id: Vec::new(),
            rate: 100,
            recovery_ivl: 10000,
            sndbuf: -1,
            rcvbuf: -1,
            socket_type,
            linger: -1,
            reconnect_ivl: 100,
            reconnect_ivl_max: 0,
            backlog: 100,
            maxmsgsize: -1,
            multicast_hops: 1,
            rcvtimeo: -1,
            sndtimeo: -1,
            ipv6: false,
            immediate: false,
            tcp_keepalive: -1,
            tcp_keepalive_cnt: -1,
            tcp_keepalive_idle: -1,
            tcp_keepalive_intvl: -1,
            mechanism: ZMQ_NULL,
            as_server: false,
            plain_username: Vec::new(),
            plain_password: Vec::new(),
            curve_public_key: [0; 32],
            curve_secret_key: zeroize::Zeroizing::new([0; 32]),
            curve_server_key: [0; 32],
            zap_domain: Vec::new(),
            zap_enforce_domain: false,
            invert_matching: false,
            loopback_fastpath: false,
            multicast_loop: true,
            reconnect_stop: 0,
            router_raw: false,
            conflate: false,
            tos: 0,
            handshake_ivl: 30000,
            socks_proxy: Vec::new(),
            socks_username: Vec::new(),
            socks_password: Vec::new(),
            heartbeat_ivl: 0,
            heartbeat_ttl: 0,
            heartbeat_timeout: -1,
            connect_timeout: 0,
            tcp_maxrt: 0,
            multicast_maxtpdu: 1500,
            use_fd: -1,
            bindtodevice: Vec::new(),
            connect_routing_id: Vec::new(),
            tcp_accept_filters: Vec::new(),
            ipc_filter_uid: Vec::new(),
            ipc_filter_gid: Vec::new(),
            ipc_filter_pid: Vec::new(),
            last_endpoint: String::new(),
            recv_routing_id: false,
            raw_notify: true,
            app_metadata: Vec::new(),
            hello_msg: Vec::new(),
            disconnect_msg: Vec::new(),
            hiccup_msg: Vec::new(),
            router_notify: 0,
            in_batch_size: 8192,
            out_batch_size: 8192,
            priority: 0,
            busy_poll: 0,
        }
    }

    /// Whether the socket type sends ZMQ_HELLO_MSG (libzmq's `can_send_hello_msg`).
    pub fn sends_hello(&self) -> bool {
        !self.hello_msg.is_empty()
            && matches!(
                self.socket_type,
                ZMQ_ROUTER | ZMQ_DEALER | ZMQ_CLIENT | ZMQ_SERVER | ZMQ_PEER
            )
    }

    /// Whether the socket type receives ZMQ_DISCONNECT_MSG (`can_recv_disconnect_msg`).
    pub fn receives_disconnect(&self) -> bool {
        !self.disconnect_msg.is_empty()
            && matches!(self.socket_type, ZMQ_ROUTER | ZMQ_SERVER | ZMQ_PEER)
    }

    /// Whether the socket type receives ZMQ_HICCUP_MSG (`can_recv_hiccup_msg`).
    pub fn receives_hiccup(&self) -> bool {
        !self.hiccup_msg.is_empty()
            && matches!(self.socket_type, ZMQ_DEALER | ZMQ_CLIENT | ZMQ_PEER)
    }
}

/// ZMQ_METADATA: `X-name:value`, the name at most 255 bytes, neither part empty (libzmq:
/// EINVAL otherwise, and for a value of exactly an int's size).
fn app_metadata_of(v: &[u8]) -> Result<(String, Vec<u8>)> {
    if v.is_empty() || v.len() == 4 {
        return Err(Error::Inval);
    }
    let colon = v.iter().position(|&b| b == b':').ok_or(Error::Inval)?;
    if colon == 0 || colon == v.len() - 1 {
        return Err(Error::Inval);
    }
    let name = &v[..colon];
    if !name.starts_with(b"X-") || name.len() > 255 {
        return Err(Error::Inval);
    }
    let name = String::from_utf8(name.to_vec()).map_err(|_| Error::Inval)?;
    Ok((name, v[colon + 1..].to_vec()))
}

/// A message option (HELLO, DISCONNECT, HICCUP): any bytes; empty (or NULL) clears it.
#[cfg(feature = "draft")]
fn message_of(v: &[u8]) -> Vec<u8> {
    v.to_vec()
}

/// Decodes a C `int` option value (the length must be exactly `sizeof(int)`).
pub fn int_of(v: &[u8]) -> Result<i32> {
    let b: [u8; 4] = v.try_into().map_err(|_| Error::Inval)?;
    Ok(i32::from_ne_bytes(b))
}

/// Decodes a C `int` that must be 0 or 1.
pub fn bool_of(v: &[u8]) -> Result<bool> {
    match int_of(v)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::Inval),
    }
}

/// Decodes an `int64_t` / `uint64_t` option value (exactly 8 bytes).
pub fn i64_of(v: &[u8]) -> Result<i64> {
    let b: [u8; 8] = v.try_into().map_err(|_| Error::Inval)?;
    Ok(i64::from_ne_bytes(b))
}

/// What `getsockopt` writes back.
#[derive(Debug, Clone, PartialEq)]
pub enum OptVal {
    Int(i32),
    I64(i64),
    U64(u64),
    /// Binary data written as is (routing id).
    Bin(Vec<u8>),
    /// A string written with its terminating NUL.
    Str(Vec<u8>),
    /// A CURVE key: 32 binary bytes into a 32-byte buffer, 40 Z85 characters and a NUL into
    /// a 41-byte one; any other buffer size is EINVAL, as libzmq.
    CurveKey([u8; 32]),
}

impl OptVal {
    /// Copies the value into a C buffer as libzmq's options do: a number only into a buffer
    /// of exactly its size, a string or binary value into one at least as long. Returns the
    /// length written, or EINVAL.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize> {
        if let OptVal::CurveKey(key) = self {
            return write_curve_key(key, out);
        }
        let bytes = self.bytes();
        let fits = match self {
            OptVal::Int(_) | OptVal::I64(_) | OptVal::U64(_) => out.len() == bytes.len(),
            _ => out.len() >= bytes.len(),
        };
        if !fits {
            return Err(Error::Inval);
        }
        // libzmq clears what is left of the buffer after a string or binary value.
        out[bytes.len()..].fill(0);
        out[..bytes.len()].copy_from_slice(&bytes);
        Ok(bytes.len())
    }

    /// Copies the value as libzmq's socket-level options (ZMQ_RCVMORE, ZMQ_FD, ZMQ_EVENTS,
    /// ZMQ_THREAD_SAFE) do: into any buffer at least as long, the rest of it cleared.
    pub fn write_padded(&self, out: &mut [u8]) -> Result<usize> {
        let bytes = self.bytes();
        if out.len() < bytes.len() {
            return Err(Error::Inval);
        }
        out.fill(0);
        out[..bytes.len()].copy_from_slice(&bytes);
        Ok(bytes.len())
    }

    fn bytes(&self) -> Vec<u8> {
        match self {
            OptVal::Int(v) => v.to_ne_bytes().to_vec(),
            OptVal::I64(v) => v.to_ne_bytes().to_vec(),
            OptVal::U64(v) => v.to_ne_bytes().to_vec(),
            OptVal::Bin(b) => b.clone(),
            OptVal::Str(s) => {
                let mut v = s.clone();
                v.push(0);
                v
            }
            OptVal::CurveKey(key) => key.to_vec(),
        }
    }
}

/// A CURVE key as getsockopt gives it, by the buffer's size.
fn write_curve_key(key: &[u8; 32], out: &mut [u8]) -> Result<usize> {
    match out.len() {
        32 => out.copy_from_slice(key),
        41 => {
            crate::z85::encode_into(key, &mut out[..40])?;
            out[40] = 0;
        }
        _ => return Err(Error::Inval),
    }
    Ok(out.len())
}

/// A CURVE key as setsockopt takes it: 32 binary bytes, or 40 Z85 characters (41 with the
/// terminating NUL); EINVAL for any other size or bad Z85.
fn curve_key_of(v: &[u8]) -> Result<[u8; 32]> {
    let text = match v.len() {
        32 => return v.try_into().map_err(|_| Error::Inval),
        40 => v,
        41 if v[40] == 0 => &v[..40],
        _ => return Err(Error::Inval),
    };
    let mut key = [0u8; 32];
    crate::z85::decode_into(text, &mut key)?;
    Ok(key)
}

type Setter = fn(&mut Options, &[u8]) -> Result<()>;
type Getter = fn(&Options) -> OptVal;

/// One row of the option table.
struct Entry {
    id: i32,
    set: Option<Setter>,
    get: Option<Getter>,
}

fn at_least(v: &[u8], min: i32) -> Result<i32> {
    let x = int_of(v)?;
    if x < min {
        return Err(Error::Inval);
    }
    Ok(x)
}

fn bytes_max(v: &[u8], max: usize) -> Result<Vec<u8>> {
    if v.len() > max {
        return Err(Error::Inval);
    }
    Ok(v.to_vec())
}

macro_rules! int_opt {
    ($id:expr, $field:ident, $min:expr) => {
        Entry {
            id: $id,
            set: Some(|o, v| {
                o.$field = at_least(v, $min)?;
                Ok(())
            }),
            get: Some(|o| OptVal::Int(o.$field)),
        }
    };
}

macro_rules! bool_opt {
    ($id:expr, $field:ident) => {
        Entry {
            id: $id,
            set: Some(|o, v| {
                o.$field = bool_of(v)?;
                Ok(())
            }),
            get: Some(|o| OptVal::Int(o.$field as i32)),
        }
    };
}

/// A boolean that takes any int, non-zero meaning on (libzmq's "relaxed" booleans, the
/// options its draft API added).
macro_rules! relaxed_bool_opt {
    ($id:expr, $field:ident) => {
        Entry {
            id: $id,
            set: Some(|o, v| {
                o.$field = int_of(v)? != 0;
                Ok(())
            }),
            get: Some(|o| OptVal::Int(o.$field as i32)),
        }
    };
}

macro_rules! str_opt {
    ($id:expr, $field:ident, $max:expr) => {
        Entry {
            id: $id,
            set: Some(|o, v| {
                o.$field = bytes_max(v, $max)?;
                Ok(())
            }),
            get: Some(|o| OptVal::Str(o.$field.clone())),
        }
    };
}

static TABLE: &[Entry] = &[
    int_opt!(ZMQ_SNDHWM, sndhwm, 0),
    int_opt!(ZMQ_RCVHWM, rcvhwm, 0),
    Entry {
        id: ZMQ_AFFINITY,
        set: Some(|o, v| {
            o.affinity = i64_of(v)? as u64;
            Ok(())
        }),
        get: Some(|o| OptVal::U64(o.affinity)),
    },
    Entry {
        id: ZMQ_ROUTING_ID,
        set: Some(|o, v| {
            if v.is_empty() || v.len() > 255 {
                return Err(Error::Inval);
            }
            o.routing_id = v.to_vec();
            Ok(())
        }),
        get: Some(|o| OptVal::Bin(o.routing_id.clone())),
    },
    int_opt!(ZMQ_RATE, rate, 1),
    int_opt!(ZMQ_RECOVERY_IVL, recovery_ivl, 0),
    int_opt!(ZMQ_SNDBUF, sndbuf, -1),
    int_opt!(ZMQ_RCVBUF, rcvbuf, -1),
    Entry {
        id: ZMQ_TYPE,
        set: None,
        get: Some(|o| OptVal::Int(o.socket_type)),
    },
    int_opt!(ZMQ_LINGER, linger, -1),
    int_opt!(ZMQ_RECONNECT_IVL, reconnect_ivl, -1),
    int_opt!(ZMQ_RECONNECT_IVL_MAX, reconnect_ivl_max, 0),
    int_opt!(ZMQ_BACKLOG, backlog, 0),
    Entry {
        id: ZMQ_MAXMSGSIZE,
        set: Some(|o, v| {
            o.maxmsgsize = i64_of(v)?;
            Ok(())
        }),
        get: Some(|o| OptVal::I64(o.maxmsgsize)),
    },
    int_opt!(ZMQ_MULTICAST_HOPS, multicast_hops, 1),
    int_opt!(ZMQ_RCVTIMEO, rcvtimeo, -1),
    int_opt!(ZMQ_SNDTIMEO, sndtimeo, -1),
    bool_opt!(ZMQ_IPV6, ipv6),
    Entry {
        id: ZMQ_IPV4ONLY,
        set: Some(|o, v| {
            o.ipv6 = !bool_of(v)?;
            Ok(())
        }),
        get: Some(|o| OptVal::Int(!o.ipv6 as i32)),
    },
    bool_opt!(ZMQ_IMMEDIATE, immediate),
    Entry {
        id: ZMQ_TCP_KEEPALIVE,
        set: Some(|o, v| {
            let x = int_of(v)?;
            if !(-1..=1).contains(&x) {
                return Err(Error::Inval);
            }
            o.tcp_keepalive = x;
            Ok(())
        }),
        get: Some(|o| OptVal::Int(o.tcp_keepalive)),
    },
    int_opt!(ZMQ_TCP_KEEPALIVE_CNT, tcp_keepalive_cnt, -1),
    int_opt!(ZMQ_TCP_KEEPALIVE_IDLE, tcp_keepalive_idle, -1),
    int_opt!(ZMQ_TCP_KEEPALIVE_INTVL, tcp_keepalive_intvl, -1),
    Entry {
        id: ZMQ_MECHANISM,
        set: None,
        get: Some(|o| OptVal::Int(o.mechanism)),
    },
    Entry {
        id: ZMQ_PLAIN_SERVER,
        set: Some(|o, v| {
            o.as_server = bool_of(v)?;
            o.mechanism = if o.as_server { ZMQ_PLAIN } else { ZMQ_NULL };
            Ok(())
        }),
        get: Some(|o| OptVal::Int((o.as_server && o.mechanism == ZMQ_PLAIN) as i32)),
    },
    Entry {
        id: ZMQ_PLAIN_USERNAME,
        set: Some(|o, v| set_plain_credential(o, v, |o| &mut o.plain_username)),
        get: Some(|o| OptVal::Str(o.plain_username.clone())),
    },
    Entry {
        id: ZMQ_PLAIN_PASSWORD,
        set: Some(|o, v| set_plain_credential(o, v, |o| &mut o.plain_password)),
        get: Some(|o| OptVal::Str(o.plain_password.clone())),
    },
    relaxed_bool_opt!(ZMQ_ZAP_ENFORCE_DOMAIN, zap_enforce_domain),
    relaxed_bool_opt!(ZMQ_INVERT_MATCHING, invert_matching),
    relaxed_bool_opt!(ZMQ_LOOPBACK_FASTPATH, loopback_fastpath),
    relaxed_bool_opt!(ZMQ_MULTICAST_LOOP, multicast_loop),
    Entry {
        id: ZMQ_RECONNECT_STOP,
        set: Some(|o, v| {
            // Any int: the bits libzmq knows act, the others are kept and ignored.
            o.reconnect_stop = int_of(v)?;
            Ok(())
        }),
        get: Some(|o| OptVal::Int(o.reconnect_stop)),
    },
    Entry {
        id: ZMQ_ZAP_DOMAIN,
        set: Some(|o, v| {
            // 1 to 255 bytes: libzmq refuses an empty domain (NULL included).
            if v.is_empty() {
                return Err(Error::Inval);
            }
            o.zap_domain = bytes_max(v, 255)?;
            Ok(())
        }),
        get: Some(|o| OptVal::Str(o.zap_domain.clone())),
    },
    bool_opt!(ZMQ_CONFLATE, conflate),
    int_opt!(ZMQ_TOS, tos, 0),
    int_opt!(ZMQ_HANDSHAKE_IVL, handshake_ivl, 0),
    str_opt!(ZMQ_SOCKS_PROXY, socks_proxy, 1024),
    str_opt!(ZMQ_SOCKS_USERNAME, socks_username, 255),
    str_opt!(ZMQ_SOCKS_PASSWORD, socks_password, 255),
    Entry {
        id: ZMQ_HEARTBEAT_IVL,
        set: Some(|o, v| {
            o.heartbeat_ivl = at_least(v, 0)?;
            Ok(())
        }),
        get: Some(|o| OptVal::Int(o.heartbeat_ivl)),
    },
    Entry {
        id: ZMQ_HEARTBEAT_TTL,
        set: Some(|o, v| {
            // Carried on the wire in deciseconds, in 16 bits. libzmq converts before it
            // checks, so -99..=-1 ms is taken as 0.
            let deci = int_of(v)? / 100;
            if !(0..=0xffff).contains(&deci) {
                return Err(Error::Inval);
            }
            o.heartbeat_ttl = deci * 100;
            Ok(())
        }),
        get: Some(|o| OptVal::Int(o.heartbeat_ttl)),
    },
    // -1 (the default: use HEARTBEAT_IVL) can be read but not set, as in libzmq.
    int_opt!(ZMQ_HEARTBEAT_TIMEOUT, heartbeat_timeout, 0),
    int_opt!(ZMQ_CONNECT_TIMEOUT, connect_timeout, 0),
    int_opt!(ZMQ_TCP_MAXRT, tcp_maxrt, 0),
    int_opt!(ZMQ_MULTICAST_MAXTPDU, multicast_maxtpdu, 1),
    int_opt!(ZMQ_USE_FD, use_fd, -1),
    // libzmq takes up to IFNAMSIZ (16) bytes; the kernel then wants a NUL among them.
    str_opt!(ZMQ_BINDTODEVICE, bindtodevice, 16),
    Entry {
        id: ZMQ_CONNECT_ROUTING_ID,
        set: Some(|o, v| {
            // Only the routing sockets have it (libzmq's routing_socket_base_t), any
            // non-empty length.
            if !matches!(o.socket_type, ZMQ_ROUTER | ZMQ_REP | ZMQ_STREAM) || v.is_empty() {
                return Err(Error::Inval);
            }
            o.connect_routing_id = v.to_vec();
            Ok(())
        }),
        get: None,
    },
    Entry {
        id: ZMQ_TCP_ACCEPT_FILTER,
        set: Some(|o, v| {
            if v.is_empty() {
                o.tcp_accept_filters.clear();
            } else if v.len() > 255 {
                return Err(Error::Inval);
            } else {
                // Parsed now, as libzmq does: a bad filter is EINVAL.
                let mask = crate::transport::tcp_address::TcpAddressMask::parse_bytes(v, o.ipv6)?;
                o.tcp_accept_filters.push(mask);
            }
            Ok(())
        }),
        get: None,
    },
    Entry {
        id: ZMQ_IPC_FILTER_UID,
        set: Some(|o, v| {
            if v.is_empty() {
                o.ipc_filter_uid.clear();
            } else {
                o.ipc_filter_uid.push(int_of(v)?);
            }
            Ok(())
        }),
        get: None,
    },
    Entry {
        id: ZMQ_IPC_FILTER_GID,
        set: Some(|o, v| {
            if v.is_empty() {
                o.ipc_filter_gid.clear();
            } else {
                o.ipc_filter_gid.push(int_of(v)?);
            }
            Ok(())
        }),
        get: None,
    },
    Entry {
        id: ZMQ_IPC_FILTER_PID,
        set: Some(|o, v| {
            if v.is_empty() {
                o.ipc_filter_pid.clear();
            } else {
                o.ipc_filter_pid.push(int_of(v)?);
            }
            Ok(())
        }),
        get: None,
    },
    Entry {
        id: ZMQ_LAST_ENDPOINT,
        set: None,
        get: Some(|o| OptVal::Str(o.last_endpoint.as_bytes().to_vec())),
    },
    Entry {
        id: ZMQ_STREAM_NOTIFY,
        set: Some(|o, v| {
            // Only STREAM sockets have it (libzmq: EINVAL elsewhere); not readable.
            if o.socket_type != ZMQ_STREAM {
                return Err(Error::Inval);
            }
            o.raw_notify = bool_of(v)?;
            Ok(())
        }),
        get: None,
    },
    Entry {
        id: ZMQ_CURVE_SERVER,
        set: Some(|o, v| {
            o.as_server = bool_of(v)?;
            o.mechanism = if o.as_server { ZMQ_CURVE } else { ZMQ_NULL };
            Ok(())
        }),
        get: Some(|o| OptVal::Int((o.as_server && o.mechanism == ZMQ_CURVE) as i32)),
    },
    Entry {
        id: ZMQ_CURVE_PUBLICKEY,
        set: Some(|o, v| {
            o.curve_public_key = curve_key_of(v)?;
            o.mechanism = ZMQ_CURVE;
            Ok(())
        }),
        get: Some(|o| OptVal::CurveKey(o.curve_public_key)),
    },
    Entry {
        id: ZMQ_CURVE_SECRETKEY,
        set: Some(|o, v| {
            *o.curve_secret_key = curve_key_of(v)?;
            o.mechanism = ZMQ_CURVE;
            Ok(())
        }),
        get: Some(|o| OptVal::CurveKey(*o.curve_secret_key)),
    },
    Entry {
        id: ZMQ_CURVE_SERVERKEY,
        set: Some(|o, v| {
            o.curve_server_key = curve_key_of(v)?;
            o.mechanism = ZMQ_CURVE;
            o.as_server = false;
            Ok(())
        }),
        get: Some(|o| OptVal::CurveKey(o.curve_server_key)),
    },
    Entry {
        id: ZMQ_METADATA,
        set: Some(|o, v| {
            let (name, value) = app_metadata_of(v)?;
            // A name given again keeps its first value, as libzmq's map.
            if !o.app_metadata.iter().any(|(n, _)| *n == name) {
                o.app_metadata.push((name, value));
            }
            Ok(())
        }),
        get: None,
    },
    // The options libzmq has only in its build with drafts.
    #[cfg(feature = "draft")]
    Entry {
        id: ZMQ_ROUTER_NOTIFY,
        set: Some(|o, v| {
            let x = int_of(v)?;
            if o.socket_type != ZMQ_ROUTER
                || !(0..=ZMQ_NOTIFY_CONNECT | ZMQ_NOTIFY_DISCONNECT).contains(&x)
            {
                return Err(Error::Inval);
            }
            o.router_notify = x;
            Ok(())
        }),
        get: Some(|o| OptVal::Int(o.router_notify)),
    },
    #[cfg(feature = "draft")]
    int_opt!(ZMQ_IN_BATCH_SIZE, in_batch_size, 1),
    #[cfg(feature = "draft")]
    int_opt!(ZMQ_OUT_BATCH_SIZE, out_batch_size, 1),
    #[cfg(feature = "draft")]
    int_opt!(ZMQ_PRIORITY, priority, 0),
    // libzmq 4.3.5 takes any int, and its getter fails (EINVAL) after reading it.
    #[cfg(feature = "draft")]
    Entry {
        id: ZMQ_BUSY_POLL,
        set: Some(|o, v| {
            o.busy_poll = int_of(v)?;
            Ok(())
        }),
        get: None,
    },
    #[cfg(feature = "draft")]
    Entry {
        id: ZMQ_HELLO_MSG,
        set: Some(|o, v| {
            o.hello_msg = message_of(v);
            Ok(())
        }),
        get: None,
    },
    #[cfg(feature = "draft")]
    Entry {
        id: ZMQ_DISCONNECT_MSG,
        set: Some(|o, v| {
            o.disconnect_msg = message_of(v);
            Ok(())
        }),
        get: None,
    },
    #[cfg(feature = "draft")]
    Entry {
        id: ZMQ_HICCUP_MSG,
        set: Some(|o, v| {
            o.hiccup_msg = message_of(v);
            Ok(())
        }),
        get: None,
    },
    // GSSAPI is not in this build: not settable, as in a libzmq built without it.
    Entry {
        id: ZMQ_GSSAPI_SERVER,
        set: None,
        get: None,
    },
];

/// ZMQ_PLAIN_USERNAME / ZMQ_PLAIN_PASSWORD: 1..255 bytes make the socket a PLAIN client;
/// NULL (an empty value here: the C boundary refuses an empty non-NULL one) only sets the
/// mechanism back to NULL and keeps the credential, as libzmq does.
fn set_plain_credential(
    o: &mut Options,
    v: &[u8],
    field: fn(&mut Options) -> &mut Vec<u8>,
) -> Result<()> {
    if v.is_empty() {
        o.mechanism = ZMQ_NULL;
        return Ok(());
    }
    *field(o) = bytes_max(v, 255)?;
    o.as_server = false;
    o.mechanism = ZMQ_PLAIN;
    Ok(())
}

fn entry(id: i32) -> Option<&'static Entry> {
    TABLE.iter().find(|e| e.id == id)
}

impl Options {
    /// Whether ZMQ_CONFLATE takes effect: only for the socket types libzmq conflates
    /// (single-part messages: DEALER, PULL, PUSH, PUB, SUB).
    pub fn conflate_applies(&self) -> bool {
        self.conflate
            && matches!(
                self.socket_type,
                ZMQ_DEALER | ZMQ_PULL | ZMQ_PUSH | ZMQ_PUB | ZMQ_SUB
            )
    }

    /// Whether connections of this socket run the raw engine (no ZMTP): STREAM sockets.
    pub fn raw_socket(&self) -> bool {
        self.socket_type == ZMQ_STREAM || self.router_raw
    }

    /// Sets a common option from its C bytes.
    pub fn set(&mut self, id: i32, v: &[u8]) -> Result<()> {
        match entry(id).and_then(|e| e.set) {
            Some(set) => set(self, v),
            None => Err(Error::Inval),
        }
    }

    /// Reads a common option.
    pub fn get(&self, id: i32) -> Result<OptVal> {
        match entry(id).and_then(|e| e.get) {
            Some(get) => Ok(get(self)),
            None => Err(Error::Inval),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_libzmq() {
        let o = Options::new(ZMQ_PAIR);
        assert_eq!(o.get(ZMQ_SNDHWM).unwrap(), OptVal::Int(1000));
        assert_eq!(o.get(ZMQ_LINGER).unwrap(), OptVal::Int(-1));
        assert_eq!(o.get(ZMQ_MAXMSGSIZE).unwrap(), OptVal::I64(-1));
        assert_eq!(o.get(ZMQ_LAST_ENDPOINT).unwrap(), OptVal::Str(vec![]));
    }

    #[test]
    fn bad_values_and_sizes_are_einval() {
        let mut o = Options::new(ZMQ_PAIR);
        assert_eq!(o.set(ZMQ_SNDHWM, &(-1i32).to_ne_bytes()), Err(Error::Inval));
        assert_eq!(o.set(ZMQ_SNDHWM, &[1, 2]), Err(Error::Inval));
        assert_eq!(o.set(ZMQ_IPV6, &2i32.to_ne_bytes()), Err(Error::Inval));
        assert_eq!(o.set(ZMQ_ROUTING_ID, b""), Err(Error::Inval));
        assert_eq!(o.set(ZMQ_TYPE, &1i32.to_ne_bytes()), Err(Error::Inval));
        assert_eq!(o.set(12345, &1i32.to_ne_bytes()), Err(Error::Inval));
        o.set(ZMQ_LINGER, &0i32.to_ne_bytes()).unwrap();
        assert_eq!(o.linger, 0);
    }

    #[test]
    fn getsockopt_buffer_must_fit() {
        let mut small = [0u8; 2];
        assert_eq!(OptVal::Int(5).write_to(&mut small), Err(Error::Inval));
        let mut buf = [0xffu8; 8];
        assert_eq!(OptVal::Str(b"ab".to_vec()).write_to(&mut buf), Ok(3));
        assert_eq!(buf, *b"ab\0\0\0\0\0\0");
    }

    #[test]
    fn numbers_need_a_buffer_of_exactly_their_size_but_socket_level_ones_any_wider() {
        let mut wide = [0xffu8; 8];
        assert_eq!(OptVal::Int(5).write_to(&mut wide), Err(Error::Inval));
        assert_eq!(OptVal::I64(5).write_to(&mut [0u8; 4]), Err(Error::Inval));
        assert_eq!(OptVal::I64(5).write_to(&mut wide), Ok(8));
        let mut wide = [0xffu8; 8];
        assert_eq!(OptVal::Int(5).write_padded(&mut wide), Ok(4));
        assert_eq!(wide, [5, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            OptVal::Int(5).write_padded(&mut [0u8; 3]),
            Err(Error::Inval)
        );
    }
}
