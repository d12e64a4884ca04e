//! The address part of `ipc://` endpoints (everything after `ipc://`), as libzmq reads it.
//!
//! - `ipc://path`: a filesystem path, relative (to the process's working directory) or
//!   absolute. A bind first removes a file left at that path (libzmq does, unless the socket
//!   came from ZMQ_USE_FD) and removes the socket file again when the listener closes.
//! - `ipc://@name`: Linux's abstract namespace (no file); `@` alone is EINVAL.
//! - `ipc://*` (bind only): a fresh directory `tmpXXXXXX` under the first of $TMPDIR,
//!   $TEMPDIR, $TMP that names a directory (else under the working directory, so the
//!   endpoint is relative, as libzmq), with the socket `socket` inside; ZMQ_LAST_ENDPOINT is
//!   e.g. `ipc:///tmp/tmpa1B2c3/socket`. The listener removes the socket and the directory
//!   when it closes ([`WildcardDir`] does both on drop). `zmq_connect(s, "ipc://*")` is
//!   accepted and connects to a file named `*`, as libzmq.
//!
//! The whole string, `@` counted, must fit `sun_path` with its NUL (at most 107 bytes):
//! longer is ENAMETOOLONG, for bind and for connect. An empty address is EINVAL.
//!
//! ZMQ_LAST_ENDPOINT and the `zmq_unbind` / `zmq_disconnect` key are the endpoint as given
//! (for `*`, the generated path): `ipc://*` itself never matches an unbind.
//!
//! ```text
//! use zmq::transport::ipc_address::{IpcAddress, WildcardDir};
//! let dir = WildcardDir::create(|v| std::env::var_os(v)).unwrap();
//! let addr = IpcAddress::parse(dir.socket_path_str()).unwrap();
//! let listener = std::os::unix::net::UnixListener::bind_addr(&addr.to_socket_addr().unwrap()).unwrap();
//! let last = IpcAddress::from_socket_addr(&listener.local_addr().unwrap()).unwrap();
//! assert_eq!(last.endpoint_string(), format!("ipc://{}", dir.socket_path_str()));
//! drop(listener);
//! std::fs::remove_file(dir.socket_path_str()).unwrap(); // as `ipc::close` does
//! drop(dir); // removes the directory, now empty
//! ```

use std::ffi::OsString;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The size of `sun_path` on Linux, NUL included.
pub const SUN_PATH_LEN: usize = 108;

/// A parsed `ipc://` address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpcAddress {
    /// A filesystem path, as given (relative paths stay relative).
    Path(String),
    /// A name in Linux's abstract namespace, without the leading `@`.
    Abstract(String),
}

impl IpcAddress {
    /// Parses the text after `ipc://`. `*` parses as the path `*`: a listener checks
    /// [`is_wildcard`] first.
    pub fn parse(addr: &str) -> Result<IpcAddress> {
        if addr.is_empty() {
            return Err(Error::Inval);
        }
        if addr.len() >= SUN_PATH_LEN {
            return Err(Error::Os(libc::ENAMETOOLONG));
        }
        match addr.strip_prefix('@') {
            Some("") => Err(Error::Inval),
            Some(name) => Ok(IpcAddress::Abstract(name.to_string())),
            None => Ok(IpcAddress::Path(addr.to_string())),
        }
    }

    /// The address for `bind` / `connect` (std or mio unix sockets take it as is).
    pub fn to_socket_addr(&self) -> Result<SocketAddr> {
        Ok(match self {
            IpcAddress::Path(p) => SocketAddr::from_pathname(p)?,
            IpcAddress::Abstract(n) => SocketAddr::from_abstract_name(n.as_bytes())?,
        })
    }

    /// The address of a bound or connected unix socket (`local_addr` / `peer_addr`), if it
    /// has one (an unnamed socket has none).
    #[cfg(test)]
    pub fn from_socket_addr(addr: &SocketAddr) -> Option<IpcAddress> {
        if let Some(p) = addr.as_pathname() {
            return Some(IpcAddress::Path(p.to_string_lossy().into_owned()));
        }
        addr.as_abstract_name()
            .map(|n| IpcAddress::Abstract(String::from_utf8_lossy(n).into_owned()))
    }

    /// The endpoint string: `ipc://path` or `ipc://@name`.
    pub fn endpoint_string(&self) -> String {
        match self {
            IpcAddress::Path(p) => format!("ipc://{p}"),
            IpcAddress::Abstract(n) => format!("ipc://@{n}"),
        }
    }

    /// Removes a file left at this path by an earlier run, as a listener does before
    /// `bind` (nothing for abstract names; a missing file is fine).
    pub fn remove_stale_file(&self) {
        if let IpcAddress::Path(p) = self {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Whether the text after `ipc://` is the bind wildcard `*`.
pub fn is_wildcard(addr: &str) -> bool {
    addr == "*"
}

/// The temporary directory of an `ipc://*` bind; removes its socket file and itself when
/// dropped (keep it as long as the listener).
#[derive(Debug)]
pub struct WildcardDir {
    dir: PathBuf,
    socket: String,
}

impl WildcardDir {
    /// Creates the directory (mode 0700) under the first of `TMPDIR`, `TEMPDIR`, `TMP` that
    /// `env` gives as an existing directory, else under the working directory. Pass
    /// `|v| std::env::var_os(v)`; tests pass their own.
    pub fn create(env: impl Fn(&str) -> Option<OsString>) -> Result<WildcardDir> {
        let base = ["TMPDIR", "TEMPDIR", "TMP"]
            .iter()
            .filter_map(|v| env(v))
            .find(|d| !d.is_empty() && Path::new(d).is_dir())
            .map(PathBuf::from)
            .unwrap_or_default();
        let mut seed = unique_seed();
        for _ in 0..100 {
            let name = format!("tmp{}", random_suffix(&mut seed));
            let dir = base.join(name);
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {
                    let socket = dir.join("socket").to_string_lossy().into_owned();
                    if socket.len() >= SUN_PATH_LEN {
                        let _ = std::fs::remove_dir(&dir);
                        return Err(Error::Os(libc::ENAMETOOLONG));
                    }
                    return Ok(WildcardDir { dir, socket });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Os(libc::EEXIST))
    }

    /// The directory.
    #[cfg(test)]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The socket path inside it (`<dir>/socket`), the address to bind.
    #[cfg(test)]
    pub fn socket_path_str(&self) -> &str {
        &self.socket
    }

    /// The address to bind.
    pub fn address(&self) -> IpcAddress {
        IpcAddress::Path(self.socket.clone())
    }
}

impl Drop for WildcardDir {
    /// Removes the directory if it is empty: the listener removes its socket file first,
    /// if the file is still its own (`ipc::close`); one bound there since stays, and so
    /// does the directory.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn unique_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded per process from the OS; mixing in time and a counter makes
    // each call differ.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

fn random_suffix(seed: &mut u64) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..6)
        .map(|_| {
            // xorshift64*
            *seed ^= *seed >> 12;
            *seed ^= *seed << 25;
            *seed ^= *seed >> 27;
            let r = seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
            CHARS[(r >> 58) as usize % CHARS.len()] as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::{UnixListener, UnixStream};

    #[test]
    fn the_module_example_binds_a_wildcard_path_and_names_it() {
        use crate::transport::ipc_address::{IpcAddress, WildcardDir};
        let dir = WildcardDir::create(|v| std::env::var_os(v)).unwrap();
        let addr = IpcAddress::parse(dir.socket_path_str()).unwrap();
        let listener =
            std::os::unix::net::UnixListener::bind_addr(&addr.to_socket_addr().unwrap()).unwrap();
        let last = IpcAddress::from_socket_addr(&listener.local_addr().unwrap()).unwrap();
        assert_eq!(
            last.endpoint_string(),
            format!("ipc://{}", dir.socket_path_str())
        );
        drop(listener);
        std::fs::remove_file(dir.socket_path_str()).unwrap(); // as `ipc::close` does
        let d = dir.dir().to_path_buf();
        drop(dir); // removes the directory, now empty
        assert!(!d.exists());
    }

    const ENAMETOOLONG: Error = Error::Os(libc::ENAMETOOLONG);

    #[test]
    fn parsing() {
        assert_eq!(IpcAddress::parse(""), Err(Error::Inval));
        assert_eq!(IpcAddress::parse("@"), Err(Error::Inval));
        assert_eq!(
            IpcAddress::parse("@abc"),
            Ok(IpcAddress::Abstract("abc".into()))
        );
        assert_eq!(
            IpcAddress::parse("rel/x"),
            Ok(IpcAddress::Path("rel/x".into()))
        );
        assert_eq!(
            IpcAddress::parse("/tmp/x.ipc"),
            Ok(IpcAddress::Path("/tmp/x.ipc".into()))
        );
        assert_eq!(IpcAddress::parse("*"), Ok(IpcAddress::Path("*".into())));
        assert!(is_wildcard("*"));
        assert!(!is_wildcard("/tmp/*"));
    }

    #[test]
    fn length_limit_is_sun_path() {
        let ok = "a".repeat(107);
        let long = "a".repeat(108);
        assert!(IpcAddress::parse(&ok).is_ok());
        assert_eq!(IpcAddress::parse(&long), Err(ENAMETOOLONG));
        assert!(IpcAddress::parse(&format!("@{}", "a".repeat(106))).is_ok());
        assert_eq!(
            IpcAddress::parse(&format!("@{}", "a".repeat(107))),
            Err(ENAMETOOLONG)
        );
        assert_eq!(
            IpcAddress::parse(&format!("/tmp/{}", "a".repeat(106))),
            Err(ENAMETOOLONG)
        );
        // Every accepted length converts.
        IpcAddress::parse(&ok).unwrap().to_socket_addr().unwrap();
        IpcAddress::parse(&format!("@{}", "a".repeat(106)))
            .unwrap()
            .to_socket_addr()
            .unwrap();
    }

    #[test]
    fn endpoint_strings_round_trip() {
        for s in ["ipc://@abc", "ipc://rel", "ipc:///tmp/x"] {
            assert_eq!(IpcAddress::parse(&s[6..]).unwrap().endpoint_string(), s);
        }
    }

    fn test_env(v: &str) -> Option<OsString> {
        (v == "TMPDIR").then(|| std::env::temp_dir().into_os_string())
    }

    #[test]
    fn wildcard_dir_shape_and_cleanup() {
        let dir = WildcardDir::create(test_env).unwrap();
        let base = std::env::temp_dir();
        assert_eq!(dir.dir().parent().unwrap(), base.as_path());
        let name = dir.dir().file_name().unwrap().to_str().unwrap().to_string();
        assert_eq!(name.len(), 9);
        assert!(name.starts_with("tmp"));
        assert!(dir.socket_path_str().ends_with(&format!("/{name}/socket")));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.dir()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let other = WildcardDir::create(test_env).unwrap();
        assert_ne!(other.dir(), dir.dir());

        let l = UnixListener::bind_addr(&dir.address().to_socket_addr().unwrap()).unwrap();
        let local = IpcAddress::from_socket_addr(&l.local_addr().unwrap()).unwrap();
        assert_eq!(
            local.endpoint_string(),
            format!("ipc://{}", dir.socket_path_str())
        );
        let d = dir.dir().to_path_buf();
        drop(l);
        // A file there (one bound since the listener's own went) keeps the directory.
        let (socket, other_d) = (dir.socket_path_str().to_string(), other.dir().to_path_buf());
        drop(dir);
        assert!(d.exists() && Path::new(&socket).exists());
        std::fs::remove_file(&socket).unwrap();
        std::fs::remove_dir(&d).unwrap();
        drop(other);
        assert!(!other_d.exists());
    }

    #[test]
    fn wildcard_dir_falls_back_past_missing_directories() {
        let env = |v: &str| match v {
            "TMPDIR" => Some(OsString::from("/nonexistent-zmq-rs-dir")),
            "TEMPDIR" => Some(OsString::new()),
            "TMP" => Some(std::env::temp_dir().into_os_string()),
            _ => None,
        };
        let dir = WildcardDir::create(env).unwrap();
        assert_eq!(dir.dir().parent().unwrap(), std::env::temp_dir().as_path());
    }

    #[test]
    fn abstract_bind_and_connect() {
        let name = format!("@zmq-rs-test-{}-{}", std::process::id(), unique_seed());
        let addr = IpcAddress::parse(&name).unwrap();
        let sa = addr.to_socket_addr().unwrap();
        let l = UnixListener::bind_addr(&sa).unwrap();
        let back = IpcAddress::from_socket_addr(&l.local_addr().unwrap()).unwrap();
        assert_eq!(back, addr);
        assert_eq!(back.endpoint_string(), format!("ipc://{name}"));
        let c = UnixStream::connect_addr(&sa).unwrap();
        let (s, _) = l.accept().unwrap();
        assert!(IpcAddress::from_socket_addr(&c.local_addr().unwrap()).is_none());
        let cred = crate::transport::sockopt::peer_cred(std::os::fd::AsFd::as_fd(&s));
        assert_eq!(cred.unwrap().pid, std::process::id() as i32);
    }

    #[test]
    fn stale_file_is_removed_before_rebinding() {
        let dir = WildcardDir::create(test_env).unwrap();
        let addr = dir.address();
        let sa = addr.to_socket_addr().unwrap();
        drop(UnixListener::bind_addr(&sa).unwrap()); // leaves the file behind
        assert!(UnixListener::bind_addr(&sa).is_err());
        addr.remove_stale_file();
        UnixListener::bind_addr(&sa).unwrap();
        addr.remove_stale_file();
    }
}
