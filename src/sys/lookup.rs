//! The C library's look-ups: host names (getaddrinfo), interface addresses (getifaddrs),
//! interface names and indexes, and the user and group databases.

use std::ffi::{CStr, CString};
use std::io;
use std::mem;
use std::net::IpAddr;

use super::socket::socket_addr_from_raw;

/// The first AF_INET / AF_INET6 address getaddrinfo gives for `host`, with hints family
/// `family`, `SOCK_STREAM`, flags `flags` (AI_*) and no service. `Err` holds the EAI_* code;
/// a list with no such address is `Err(EAI_NONAME)`.
pub fn getaddrinfo_first_ip(
    host: &CStr,
    family: libc::c_int,
    flags: libc::c_int,
) -> Result<IpAddr, libc::c_int> {
    // SAFETY: a zeroed addrinfo is the documented way to start hints.
    let mut hints: libc::addrinfo = unsafe { mem::zeroed() };
    hints.ai_family = family;
    hints.ai_socktype = libc::SOCK_STREAM;
    hints.ai_flags = flags;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `host` is NUL-terminated, `hints` and `res` are valid; `res` is freed below.
    let rc = unsafe { libc::getaddrinfo(host.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        return Err(rc);
    }
    let mut found = None;
    let mut p = res;
    while !p.is_null() && found.is_none() {
        // SAFETY: `p` is a node of the list getaddrinfo returned, not yet freed.
        let ai = unsafe { &*p };
        // SAFETY: ai_addr points to a sockaddr of family ai_family, sized for it.
        found = unsafe { socket_addr_from_raw(ai.ai_addr) }.map(|a| a.ip());
        p = ai.ai_next;
    }
    // SAFETY: `res` came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(res) };
    found.ok_or(libc::EAI_NONAME)
}

/// Walks the interface addresses (getifaddrs) in order, calling `pick` with each entry's
/// interface name and its IPv4 / IPv6 address (None for other families or none), until
/// `pick` returns `Some`; that is the result (`Ok(None)` when it never does).
pub fn find_interface_address(
    mut pick: impl FnMut(&[u8], Option<IpAddr>) -> Option<IpAddr>,
) -> io::Result<Option<IpAddr>> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `list` is valid for writes; it is freed below.
    syscall!(getifaddrs(&mut list))?;
    let mut found = None;
    let mut p = list;
    while !p.is_null() && found.is_none() {
        // SAFETY: `p` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*p };
        // SAFETY: ifa_name is a NUL-terminated string of the list.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) };
        // SAFETY: ifa_addr is null or a sockaddr sized for its family.
        let ip = unsafe { socket_addr_from_raw(ifa.ifa_addr) }.map(|a| a.ip());
        found = pick(name.to_bytes(), ip);
        p = ifa.ifa_next;
    }
    // SAFETY: `list` came from a successful getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(list) };
    Ok(found)
}

/// The index of network interface `name`, 0 when there is none (if_nametoindex).
pub fn if_nametoindex(name: &str) -> u32 {
    let Ok(c) = CString::new(name) else {
        return 0;
    };
    // SAFETY: `c` is NUL-terminated.
    unsafe { libc::if_nametoindex(c.as_ptr()) }
}

/// The name of network interface number `index`, if there is one (if_indextoname).
pub fn if_indextoname(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE bytes if_indextoname may write.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: on success `buf` holds a NUL-terminated name.
    Some(
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// The real user and group ids of this process (getuid, getgid, which cannot fail).
#[cfg(test)]
pub fn user_ids() -> (u32, u32) {
    // SAFETY: getuid and getgid have no arguments and always succeed.
    unsafe { (libc::getuid(), libc::getgid()) }
}

fn buffer_size(name: libc::c_int) -> usize {
    // SAFETY: sysconf has no memory effects.
    let n = unsafe { libc::sysconf(name) };
    if n > 0 {
        n as usize
    } else {
        16384
    }
}

/// The largest buffer a reentrant database lookup grows to before giving up.
const LOOKUP_BUFFER_LIMIT: usize = 1 << 24;

/// Runs a reentrant database lookup (getpwuid_r, getgrgid_r) into a buffer first sized from
/// `sysconf(size_name)`, doubling the buffer while the call answers ERANGE, up to
/// [`LOOKUP_BUFFER_LIMIT`]. `call` makes the raw call with the buffer and returns its rc and
/// what it extracted from the result (None when the entry was not found); any other nonzero rc,
/// or ERANGE with the buffer at its limit, gives None.
fn lookup_with_buffer<T>(
    size_name: libc::c_int,
    mut call: impl FnMut(&mut [u8]) -> (libc::c_int, Option<T>),
) -> Option<T> {
    let mut buf = vec![0u8; buffer_size(size_name)];
    loop {
        let (rc, found) = call(&mut buf);
        if rc == libc::ERANGE && buf.len() < LOOKUP_BUFFER_LIMIT {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        return if rc == 0 { found } else { None };
    }
}

/// The login name of `uid` (getpwuid_r), if it has one.
pub fn user_name(uid: u32) -> Option<Vec<u8>> {
    lookup_with_buffer(libc::_SC_GETPW_R_SIZE_MAX, |buf| {
        // SAFETY: a zeroed passwd is a valid value (null pointers, zero ids).
        let mut pwd: libc::passwd = unsafe { mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for writes; `buf` is valid for `buf.len()` bytes.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return (rc, None);
        }
        // SAFETY: on success pw_name points to a NUL-terminated string inside `buf`.
        let name = unsafe { CStr::from_ptr(pwd.pw_name) };
        (rc, Some(name.to_bytes().to_vec()))
    })
}

/// The member user names of group `gid` (getgrgid_r), if the group exists.
pub fn group_members(gid: u32) -> Option<Vec<Vec<u8>>> {
    lookup_with_buffer(libc::_SC_GETGR_R_SIZE_MAX, |buf| {
        // SAFETY: a zeroed group is a valid value (null pointers, zero id).
        let mut grp: libc::group = unsafe { mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is valid for writes; `buf` is valid for `buf.len()` bytes.
        let rc = unsafe {
            libc::getgrgid_r(
                gid,
                &mut grp,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        if rc != 0 || result.is_null() {
            return (rc, None);
        }
        let mut members = Vec::new();
        let mut p = grp.gr_mem;
        // SAFETY: on success gr_mem is a NULL-terminated array of NUL-terminated strings
        // inside `buf`, which outlives this loop.
        unsafe {
            while !p.is_null() && !(*p).is_null() {
                members.push(CStr::from_ptr(*p).to_bytes().to_vec());
                p = p.add(1);
            }
        }
        (rc, Some(members))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn user_and_group_database_lookups() {
        assert_eq!(user_name(0).as_deref(), Some(&b"root"[..]));
        assert_eq!(user_name(0xFFFF_FFF0), None);
        assert!(group_members(0).is_some());
        assert_eq!(group_members(0xFFFF_FFF0), None);
    }

    #[test]
    fn buffer_grows_on_erange_up_to_the_limit() {
        let mut sizes = Vec::new();
        let got = lookup_with_buffer(libc::_SC_GETPW_R_SIZE_MAX, |buf| {
            sizes.push(buf.len());
            if sizes.len() < 3 {
                (libc::ERANGE, None)
            } else {
                (0, Some(buf.len()))
            }
        });
        assert_eq!(got, Some(sizes[0] * 4));
        assert_eq!(sizes, [sizes[0], sizes[0] * 2, sizes[0] * 4]);
        let mut calls = 0;
        let never: Option<()> = lookup_with_buffer(libc::_SC_GETPW_R_SIZE_MAX, |buf| {
            calls += 1;
            assert!(buf.len() <= 2 * LOOKUP_BUFFER_LIMIT);
            (libc::ERANGE, None)
        });
        assert_eq!(never, None);
        assert!(calls > 1);
        let other: Option<()> =
            lookup_with_buffer(libc::_SC_GETGR_R_SIZE_MAX, |_| (libc::EIO, Some(())));
        assert_eq!(other, None);
    }

    #[test]
    fn numeric_hosts_and_interfaces() {
        let host = CString::new("127.0.0.1").unwrap();
        assert_eq!(
            getaddrinfo_first_ip(&host, libc::AF_INET, libc::AI_NUMERICHOST),
            Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        let host = CString::new("::1").unwrap();
        assert_eq!(
            getaddrinfo_first_ip(&host, libc::AF_INET6, libc::AI_NUMERICHOST),
            Ok(IpAddr::V6(Ipv6Addr::LOCALHOST))
        );
        assert!(getaddrinfo_first_ip(&host, libc::AF_INET, libc::AI_NUMERICHOST).is_err());
        let lo = find_interface_address(|name, ip| match ip {
            Some(IpAddr::V4(a)) if name == b"lo" => Some(IpAddr::V4(a)),
            _ => None,
        });
        assert_eq!(lo.unwrap(), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!(find_interface_address(|_, _| None).unwrap(), None);
        let index = if_nametoindex("lo");
        assert_ne!(index, 0);
        assert_eq!(if_indextoname(index).as_deref(), Some("lo"));
        assert_eq!(if_nametoindex("nosuchdev0"), 0);
        assert_eq!(if_nametoindex("l\0o"), 0);
    }
}
