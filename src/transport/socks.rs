//! The SOCKS5 client handshake (RFC 1928, with RFC 1929 username/password authentication)
//! that a connecting tcp session runs when ZMQ_SOCKS_PROXY is set: the session connects to
//! the proxy instead of the target, asks the proxy to CONNECT to the target, and once the
//! proxy agrees hands the stream to the ZMTP engine as if it had connected directly.
//!
//! The messages, client side:
//! - greeting `05 01 M`, offering one method M: 00 (no authentication) when ZMQ_SOCKS_USERNAME
//!   is empty, else 02 (username/password), as libzmq offers;
//! - the proxy's choice `05 M`, FF meaning none acceptable;
//! - for 02: `01 ULEN USER PLEN PASS`, answered by `01 STATUS` (00 is success);
//! - the request `05 01 00 ATYP DST.ADDR DST.PORT`, ATYP 01 (IPv4 literal), 04 (IPv6
//!   literal) or 03 (a host name, sent unresolved: the proxy resolves it);
//! - the reply `05 REP 00 ATYP BND.ADDR BND.PORT`, REP 00 is success.
//!
//! [`Handshake`] is the pure state machine over those bytes; [`pump`] runs it on a
//! non-blocking stream. Invariants: the handshake never reads more than the current reply
//! still needs (see [`Handshake::wants`]), so whatever the target sends right after the
//! proxy's reply stays in the socket for the engine; a malformed or refusing reply is an
//! error (the session drops the connection and reconnects later), never a panic.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};
use crate::transport::connection::Connection;

const VERSION: u8 = 5;
/// Method: no authentication required.
pub const NO_AUTH: u8 = 0x00;
/// Method: username / password (RFC 1929).
pub const BASIC_AUTH: u8 = 0x02;
const AUTH_VERSION: u8 = 1;
const CMD_CONNECT: u8 = 1;
const ATYP_IPV4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_IPV6: u8 = 4;

/// A malformed message from the proxy.
fn malformed() -> Error {
    Error::Os(libc::EPROTO)
}

/// Where the proxy is asked to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    /// A host name, resolved by the proxy (1 to 255 bytes).
    Domain(String),
}

/// The target of a `tcp://` connect endpoint's address part (`host:port`, `[v6]:port`,
/// `v6:port`; a source part before `;` is not the proxy's business and is dropped).
pub fn parse_target(addr: &str) -> Result<(Host, u16)> {
    let dest = addr.rsplit(';').next().unwrap_or(addr);
    let colon = dest.rfind(':').ok_or(Error::Inval)?;
    let port: u16 = dest[colon + 1..].parse().map_err(|_| Error::Inval)?;
    let mut host = &dest[..colon];
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        host = inner;
    }
    if host.is_empty() {
        return Err(Error::Inval);
    }
    if let Ok(a) = host.parse::<Ipv4Addr>() {
        return Ok((Host::V4(a), port));
    }
    // A zone (`fe80::1%eth0`) means nothing to the proxy.
    let unzoned = host.split('%').next().unwrap_or(host);
    if let Ok(a) = unzoned.parse::<Ipv6Addr>() {
        return Ok((Host::V6(a), port));
    }
    if host.len() > 255 {
        return Err(Error::Inval);
    }
    Ok((Host::Domain(host.to_string()), port))
}

/// The greeting, offering one method.
pub fn encode_greeting(method: u8) -> Vec<u8> {
    vec![VERSION, 1, method]
}

/// The username / password request; each at most 255 bytes.
pub fn encode_basic_auth(user: &[u8], pass: &[u8]) -> Result<Vec<u8>> {
    let ulen = u8::try_from(user.len()).map_err(|_| Error::Inval)?;
    let plen = u8::try_from(pass.len()).map_err(|_| Error::Inval)?;
    let mut v = Vec::with_capacity(3 + user.len() + pass.len());
    v.extend_from_slice(&[AUTH_VERSION, ulen]);
    v.extend_from_slice(user);
    v.push(plen);
    v.extend_from_slice(pass);
    Ok(v)
}

/// The CONNECT request for `host:port`.
pub fn encode_connect(host: &Host, port: u16) -> Result<Vec<u8>> {
    let mut v = vec![VERSION, CMD_CONNECT, 0];
    match host {
        Host::V4(a) => {
            v.push(ATYP_IPV4);
            v.extend_from_slice(&a.octets());
        }
        Host::V6(a) => {
            v.push(ATYP_IPV6);
            v.extend_from_slice(&a.octets());
        }
        Host::Domain(name) => {
            let len = u8::try_from(name.len()).map_err(|_| Error::Inval)?;
            if len == 0 {
                return Err(Error::Inval);
            }
            v.push(ATYP_DOMAIN);
            v.push(len);
            v.extend_from_slice(name.as_bytes());
        }
    }
    v.extend_from_slice(&port.to_be_bytes());
    Ok(v)
}

/// The whole length of a CONNECT reply starting with `head` (at least 5 bytes: enough to
/// know it), after checking what those bytes say: version, success, address type.
fn reply_len(head: &[u8]) -> Result<usize> {
    if head.len() < 5 {
        return Err(malformed());
    }
    if head[0] != VERSION {
        return Err(malformed());
    }
    if head[1] != 0 {
        // General failure, not allowed, unreachable, refused, ...: the proxy said no.
        return Err(Error::ConnRefused);
    }
    match head[3] {
        ATYP_IPV4 => Ok(4 + 4 + 2),
        ATYP_IPV6 => Ok(4 + 16 + 2),
        ATYP_DOMAIN => Ok(4 + 1 + head[4] as usize + 2),
        _ => Err(malformed()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    SendGreeting,
    ReadChoice,
    SendAuth,
    ReadAuthStatus,
    SendRequest,
    ReadReply,
    Done,
}

/// The client side of one SOCKS5 handshake. Feed it with [`Handshake::wrote`] and
/// [`Handshake::received`]; it says what to send ([`Handshake::pending_output`]) and how
/// many bytes to read next ([`Handshake::wants`]).
#[derive(Debug)]
pub struct Handshake {
    state: State,
    method: u8,
    auth: Vec<u8>,
    request: Vec<u8>,
    out: Vec<u8>,
    sent: usize,
    input: Vec<u8>,
}

impl Handshake {
    /// A handshake asking for `target` (a tcp connect address); with a non-empty `user`,
    /// authenticating with `user` / `pass`.
    pub fn new(target: &str, user: &[u8], pass: &[u8]) -> Result<Handshake> {
        let (host, port) = parse_target(target)?;
        let (method, auth) = if user.is_empty() {
            (NO_AUTH, Vec::new())
        } else {
            (BASIC_AUTH, encode_basic_auth(user, pass)?)
        };
        Ok(Handshake {
            state: State::SendGreeting,
            method,
            auth,
            request: encode_connect(&host, port)?,
            out: encode_greeting(method),
            sent: 0,
            input: Vec::new(),
        })
    }

    /// Bytes to send now (empty when waiting for the proxy or done).
    pub fn pending_output(&self) -> &[u8] {
        &self.out[self.sent..]
    }

    /// `n` bytes of [`Handshake::pending_output`] went out.
    pub fn wrote(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.out.len());
        if self.sent < self.out.len() {
            return;
        }
        self.out.clear();
        self.sent = 0;
        self.state = match self.state {
            State::SendGreeting => State::ReadChoice,
            State::SendAuth => State::ReadAuthStatus,
            State::SendRequest => State::ReadReply,
            s => s,
        };
    }

    /// How many bytes to read now: never more than the current reply still needs.
    pub fn wants(&self) -> usize {
        let have = self.input.len();
        match self.state {
            State::ReadChoice | State::ReadAuthStatus => 2 - have,
            State::ReadReply if have < 5 => 5 - have,
            // Checked when the fifth byte came in.
            State::ReadReply => reply_len(&self.input).map_or(0, |n| n - have),
            _ => 0,
        }
    }

    /// Takes bytes read from the proxy (at most [`Handshake::wants`] of them). Errors when
    /// the proxy's answer is malformed or a refusal.
    pub fn received(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.len() > self.wants() {
            return Err(malformed());
        }
        self.input.extend_from_slice(bytes);
        if self.wants() > 0 {
            return Ok(());
        }
        match self.state {
            State::ReadChoice => {
                if self.input[0] != VERSION {
                    return Err(malformed());
                }
                let chosen = self.input[1];
                if chosen != self.method {
                    // FF (none acceptable), or a method we did not offer.
                    return Err(Error::ConnRefused);
                }
                self.input.clear();
                if chosen == BASIC_AUTH {
                    self.out = std::mem::take(&mut self.auth);
                    self.state = State::SendAuth;
                } else {
                    self.out = std::mem::take(&mut self.request);
                    self.state = State::SendRequest;
                }
            }
            State::ReadAuthStatus => {
                if self.input[0] != AUTH_VERSION {
                    return Err(malformed());
                }
                if self.input[1] != 0 {
                    return Err(Error::ConnRefused);
                }
                self.input.clear();
                self.out = std::mem::take(&mut self.request);
                self.state = State::SendRequest;
            }
            State::ReadReply => {
                // `wants` is 0 here: either the reply is complete, or its head is bad.
                let total = reply_len(&self.input)?;
                if self.input.len() == total {
                    self.input.clear();
                    self.state = State::Done;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The proxy is connected to the target: the stream is the target's from here on.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }
}

/// Runs `hs` on the non-blocking `stream` as far as it goes now (until the socket would
/// block: the stream is edge-triggered). `Ok(true)` when the handshake is done; errors end
/// the attempt (EOF included).
pub fn pump(hs: &mut Handshake, stream: &mut Connection) -> Result<bool> {
    let mut buf = [0u8; 512];
    loop {
        let mut progressed = false;
        while !hs.pending_output().is_empty() {
            match stream.write(hs.pending_output()) {
                Ok(0) => return Err(Error::ConnRefused),
                Ok(n) => {
                    hs.wrote(n);
                    progressed = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Os(e.raw_os_error().unwrap_or(libc::EIO))),
            }
        }
        let want = hs.wants().min(buf.len());
        if want > 0 {
            match stream.read(&mut buf[..want]) {
                Ok(0) => return Err(Error::ConnRefused),
                Ok(n) => {
                    hs.received(&buf[..n])?;
                    progressed = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => progressed = true,
                Err(e) => return Err(Error::Os(e.raw_os_error().unwrap_or(libc::EIO))),
            }
        }
        if hs.is_done() {
            return Ok(true);
        }
        if !progressed {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a handshake against scripted proxy answers; returns what the client sent.
    fn run(hs: &mut Handshake, answers: &[&[u8]]) -> Result<Vec<u8>> {
        let mut sent = Vec::new();
        for a in answers {
            let out = hs.pending_output().to_vec();
            sent.extend_from_slice(&out);
            hs.wrote(out.len());
            // Byte by byte, as a slow proxy would send it.
            for b in a.iter() {
                hs.received(std::slice::from_ref(b))?;
            }
        }
        Ok(sent)
    }

    #[test]
    fn targets_are_ipv4_ipv6_or_names_for_the_proxy_to_resolve() {
        let v4 = parse_target("127.0.0.1:5555").unwrap();
        assert_eq!(v4, (Host::V4(Ipv4Addr::LOCALHOST), 5555));
        assert_eq!(
            parse_target("::1:80").unwrap().0,
            Host::V6(Ipv6Addr::LOCALHOST)
        );
        assert_eq!(
            parse_target("[::1]:80").unwrap().0,
            Host::V6(Ipv6Addr::LOCALHOST)
        );
        assert_eq!(
            parse_target("10.0.0.1:0;example.org:1").unwrap(),
            (Host::Domain("example.org".into()), 1)
        );
        assert!(parse_target("example.org").is_err());
        assert!(parse_target(":80").is_err());
        assert!(parse_target("host:99999").is_err());
        assert!(parse_target(&format!("{}:1", "a".repeat(256))).is_err());
    }

    #[test]
    fn messages_have_the_rfc_1928_layout() {
        assert_eq!(encode_greeting(NO_AUTH), [5, 1, 0]);
        assert_eq!(
            encode_basic_auth(b"u", b"pw").unwrap(),
            [1, 1, b'u', 2, b'p', b'w']
        );
        assert_eq!(encode_basic_auth(b"u", b"").unwrap(), [1, 1, b'u', 0]);
        assert!(encode_basic_auth(&[b'u'; 256], b"").is_err());
        let v4 = encode_connect(&Host::V4(Ipv4Addr::new(1, 2, 3, 4)), 0x1234).unwrap();
        assert_eq!(v4, [5, 1, 0, 1, 1, 2, 3, 4, 0x12, 0x34]);
        let name = encode_connect(&Host::Domain("ab".into()), 80).unwrap();
        assert_eq!(name, [5, 1, 0, 3, 2, b'a', b'b', 0, 80]);
        let v6 = encode_connect(&Host::V6(Ipv6Addr::LOCALHOST), 1).unwrap();
        assert_eq!(v6.len(), 4 + 16 + 2);
        assert_eq!(v6[3], 4);
    }

    #[test]
    fn no_auth_handshake_reads_exactly_the_reply() {
        let mut hs = Handshake::new("127.0.0.1:7", b"", b"").unwrap();
        let sent = run(&mut hs, &[&[5, 0], &[5, 0, 0, 1, 127, 0, 0, 1, 0x30, 0x39]]).unwrap();
        assert_eq!(sent, [5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 7]);
        assert!(hs.is_done());
        assert_eq!(hs.wants(), 0);
        assert!(hs.pending_output().is_empty());
    }

    #[test]
    fn reply_with_a_host_name_or_ipv6_address_is_read_to_its_end() {
        let mut hs = Handshake::new("name.example:7", b"", b"").unwrap();
        let mut reply = vec![5, 0, 0, 3, 9];
        reply.extend_from_slice(b"localhost");
        reply.extend_from_slice(&[0, 1]);
        run(&mut hs, &[&[5, 0], &reply]).unwrap();
        assert!(hs.is_done());

        let mut hs = Handshake::new("[::1]:7", b"", b"").unwrap();
        let mut reply = vec![5, 0, 0, 4];
        reply.extend_from_slice(&[0; 16]);
        reply.extend_from_slice(&[0, 1]);
        run(&mut hs, &[&[5, 0], &reply]).unwrap();
        assert!(hs.is_done());
    }

    #[test]
    fn wants_never_reaches_past_the_reply() {
        let mut hs = Handshake::new("127.0.0.1:7", b"", b"").unwrap();
        run(&mut hs, &[&[5, 0]]).unwrap();
        let out = hs.pending_output().len();
        hs.wrote(out);
        assert_eq!(hs.wants(), 5);
        hs.received(&[5, 0, 0, 1, 127]).unwrap();
        assert_eq!(hs.wants(), 5, "three address bytes and the port");
        assert!(
            hs.received(&[0, 0, 1, 0, 1, 0xff]).is_err(),
            "one byte too many"
        );
    }

    #[test]
    fn username_and_password_are_sent_when_the_proxy_picks_basic_auth() {
        let mut hs = Handshake::new("127.0.0.1:7", b"user", b"pass").unwrap();
        let sent = run(
            &mut hs,
            &[&[5, 2], &[1, 0], &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]],
        )
        .unwrap();
        assert_eq!(&sent[..3], [5, 1, 2]);
        assert_eq!(&sent[3..14], b"\x01\x04user\x04pass");
        assert_eq!(&sent[14..17], [5, 1, 0]);
        assert!(hs.is_done());
    }

    #[test]
    fn refusals_end_the_handshake() {
        // No acceptable method.
        let mut hs = Handshake::new("127.0.0.1:7", b"", b"").unwrap();
        assert!(run(&mut hs, &[&[5, 0xff]]).is_err());
        // A method we did not offer.
        let mut hs = Handshake::new("127.0.0.1:7", b"", b"").unwrap();
        assert!(run(&mut hs, &[&[5, 2]]).is_err());
        // Bad credentials.
        let mut hs = Handshake::new("127.0.0.1:7", b"u", b"p").unwrap();
        assert!(run(&mut hs, &[&[5, 2], &[1, 1]]).is_err());
        // Connection refused by the target (REP 05).
        let mut hs = Handshake::new("127.0.0.1:7", b"", b"").unwrap();
        assert_eq!(
            run(&mut hs, &[&[5, 0], &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]]).unwrap_err(),
            Error::ConnRefused
        );
    }

    #[test]
    fn malformed_replies_are_errors_not_panics() {
        let cases: &[&[&[u8]]] = &[
            &[&[4, 0]],                   // SOCKS4 version in the choice
            &[&[5, 0], &[4, 0, 0, 1, 0]], // bad version in the reply
            &[&[5, 0], &[5, 0, 0, 9, 0]], // unknown address type
            &[&[5, 2]],                   // basic auth not offered
        ];
        for answers in cases {
            let mut hs = Handshake::new("127.0.0.1:7", b"", b"").unwrap();
            assert!(run(&mut hs, answers).is_err(), "{answers:?}");
        }
        let mut hs = Handshake::new("127.0.0.1:7", b"u", b"p").unwrap();
        assert!(
            run(&mut hs, &[&[5, 2], &[5, 0]]).is_err(),
            "bad auth version"
        );
        // Every byte value in every reply position: no panic, and never done early.
        for pos in 0..10 {
            for v in 0..=255u8 {
                let mut reply = [5u8, 0, 0, 1, 0, 0, 0, 0, 0, 0];
                reply[pos] = v;
                let mut hs = Handshake::new("127.0.0.1:7", b"", b"").unwrap();
                if run(&mut hs, &[&[5, 0], &reply[..]]).is_ok() {
                    assert!(hs.is_done() || hs.wants() > 0);
                }
            }
        }
    }
}
