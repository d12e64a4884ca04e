//! The CURVE mechanism (RFC 26/ZMTP-CURVE over RFC 25/CurveZMQ), byte-compatible with
//! libzmq's: X25519 keys, XSalsa20-Poly1305 boxes (NaCl's `crypto_box` and
//! `crypto_secretbox`, from the RustCrypto crates), no C library.
//!
//! Keys: the server's long-term pair (S, s) and the client's (C, c); each connection makes
//! short-term pairs (C', c') and (S', s'). The client knows S beforehand.
//!
//! - HELLO (client): version 1.0, 72 bytes of padding, C', short nonce, Box[64 zeros](C'->S).
//! - WELCOME (server): 16-byte nonce, Box[S' + cookie](S->C'); the cookie is
//!   SecretBox[C' + s'] under a key made for this connection alone, so the server keeps no
//!   state it could be flooded with before the client proves it holds c'.
//! - INITIATE (client): the cookie back, short nonce, Box[C + vouch + metadata](C'->S'),
//!   the vouch being Box[C' + S](C->S'): the client proves it holds c.
//! - READY (server): short nonce, Box[metadata](S'->C').
//! - MESSAGE (both): short nonce, Box[flags + body](C'<->S'); flags carry MORE and COMMAND.
//!
//! Short nonces count up from 1 in each direction (the client's HELLO and INITIATE are 1 and
//! 2); a MESSAGE whose nonce is not above the last one received ends the connection
//! (`ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE`). A box that does not open, a command of the
//! wrong size or an unknown version ends the handshake with the event libzmq raises for it.
//! A key whose shared secret with the peer's is all zeros (a low-order point, or an unset
//! server key) cannot make a box, as with libsodium: `ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC`.
//!
//! The server asks ZAP (mechanism "CURVE", credential C) unless `ZMQ_ZAP_ENFORCE_DOMAIN` is set
//! with no domain; with no handler bound it lets the client in unasked (the "Stonehouse"
//! pattern) unless `ZMQ_ZAP_ENFORCE_DOMAIN` is set, as libzmq does.
//!
//! Secret and session keys are zeroed when dropped (the crates' `SecretKey` and box keys,
//! and [`Zeroizing`] here).

use crypto_box::aead::generic_array::GenericArray;
use crypto_box::aead::{AeadInPlace, KeyInit};
use crypto_box::{PublicKey, SalsaBox, SecretKey};
use crypto_secretbox::XSalsa20Poly1305;
use zeroize::Zeroizing;

use super::{basic_properties, peer_type_compatible, zap, HandshakeFailure, Mechanism, Setup};
use super::{Status, Step};
use crate::constants::*;
use crate::engine::codec::command::{self, Properties, RawCommand};
use crate::engine::codec::greeting::MechanismName;
use crate::msg::{self, Msg};

/// A Poly1305 tag, in front of every box's ciphertext (NaCl's layout).
const TAG: usize = 16;
const KEY: usize = 32;
const HELLO_SIZE: usize = 200;
const WELCOME_SIZE: usize = 168;
const MIN_INITIATE_SIZE: usize = 257;
const MIN_READY_SIZE: usize = 30;
/// "\x07MESSAGE", the short nonce, the tag and the flags byte.
const MESSAGE_OVERHEAD: usize = 8 + 8 + TAG + 1;
const MESSAGE: &[u8] = b"MESSAGE";

fn protocol(code: i32) -> HandshakeFailure {
    HandshakeFailure::Protocol(code)
}

fn cryptographic() -> HandshakeFailure {
    protocol(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
}

/// `n` bytes from the operating system's generator; `None` if it fails.
fn random<const N: usize>() -> Option<Zeroizing<[u8; N]>> {
    let mut b = Zeroizing::new([0u8; N]);
    getrandom::getrandom(&mut b[..]).ok()?;
    Some(b)
}

/// A nonce: a 16- or 8-byte prefix, then the rest (a short nonce or random bytes).
fn nonce(prefix: &[u8], rest: &[u8]) -> [u8; 24] {
    let mut n = [0u8; 24];
    n[..prefix.len()].copy_from_slice(prefix);
    n[prefix.len()..].copy_from_slice(rest);
    n
}

/// A new key pair, as libsodium's `crypto_box_keypair`.
pub fn keypair() -> Option<(PublicKey, SecretKey)> {
    let secret = SecretKey::from_bytes(*random::<KEY>()?);
    Some((secret.public_key(), secret))
}

/// The public key of a secret key.
pub fn public_of(secret: &[u8; KEY]) -> [u8; KEY] {
    SecretKey::from_bytes(*secret).public_key().to_bytes()
}

/// The box between `secret` and the peer's `public` key (NaCl's `crypto_box_beforenm`);
/// `None` when their shared secret is all zeros, which libsodium refuses.
fn salsa_box(public: &[u8; KEY], secret: &SecretKey) -> Option<SalsaBox> {
    let shared = Zeroizing::new(x25519_dalek::x25519(
        *Zeroizing::new(secret.to_bytes()),
        *public,
    ));
    if shared.iter().all(|&b| b == 0) {
        return None;
    }
    Some(SalsaBox::new(&PublicKey::from(*public), secret))
}

/// `plain` boxed: tag, then ciphertext.
fn seal<A: AeadInPlace>(cipher: &A, n: &[u8; 24], plain: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0u8; TAG + plain.len()];
    out[TAG..].copy_from_slice(plain);
    let tag = cipher
        .encrypt_in_place_detached(GenericArray::from_slice(n), b"", &mut out[TAG..])
        .ok()?;
    out[..TAG].copy_from_slice(&tag);
    Some(out)
}

/// A box opened; `None` when it does not open (forged, damaged, or the wrong key).
fn open<A: AeadInPlace>(cipher: &A, n: &[u8; 24], boxed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let (tag, ciphertext) = boxed.split_at_checked(TAG)?;
    let mut plain = Zeroizing::new(ciphertext.to_vec());
    cipher
        .decrypt_in_place_detached(
            GenericArray::from_slice(n),
            b"",
            &mut plain,
            GenericArray::from_slice(tag),
        )
        .ok()?;
    Some(plain)
}

fn short_nonce(b: &[u8]) -> u64 {
    let mut n = [0u8; 8];
    n.copy_from_slice(&b[..8]);
    u64::from_be_bytes(n)
}

/// A command message made of `parts`.
fn command_of(parts: &[&[u8]]) -> Step<Msg> {
    let len = parts.iter().map(|p| p.len()).sum();
    let mut m = Msg::with_size(len).map_err(|_| HandshakeFailure::NoDetail(libc::ENOMEM))?;
    let d = m.data_mut();
    let mut at = 0;
    for p in parts {
        d[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    m.set_flags(msg::COMMAND);
    Ok(m)
}

/// libzmq's first check of a command a CURVE side receives: long enough to hold its name.
fn basic_structure(body: &[u8]) -> Step<()> {
    if body.len() <= 1 || body.len() <= body[0] as usize {
        return Err(protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
        ));
    }
    Ok(())
}

/// The traffic of one connection after the key exchange: MESSAGE boxes both ways.
struct Traffic {
    cipher: SalsaBox,
    /// Where a received box is opened (kept between messages: no allocation per message
    /// once it has grown to the largest one).
    scratch: Vec<u8>,
    /// The short nonce of our next box.
    nonce: u64,
    /// The last short nonce received.
    peer_nonce: u64,
    encode_prefix: &'static [u8; 16],
    decode_prefix: &'static [u8; 16],
}

impl Traffic {
    fn new(cipher: SalsaBox, client: bool) -> Traffic {
        let (c, s) = (b"CurveZMQMESSAGEC", b"CurveZMQMESSAGES");
        Traffic {
            cipher,
            scratch: Vec::new(),
            nonce: 1,
            peer_nonce: 1,
            encode_prefix: if client { c } else { s },
            decode_prefix: if client { s } else { c },
        }
    }

    fn next_nonce(&mut self) -> u64 {
        let n = self.nonce;
        self.nonce += 1;
        n
    }

    /// A message (or a command: PING, SUBSCRIBE) as a MESSAGE command.
    fn encode(&mut self, m: Msg) -> Step<Msg> {
        let n = self.next_nonce().to_be_bytes();
        let body = m.data();
        let mut out = Msg::with_size(MESSAGE_OVERHEAD + body.len())
            .map_err(|_| HandshakeFailure::NoDetail(libc::ENOMEM))?;
        let d = out.data_mut();
        d[0] = MESSAGE.len() as u8;
        d[1..8].copy_from_slice(MESSAGE);
        d[8..16].copy_from_slice(&n);
        d[32] = m.flags() & (msg::MORE | msg::COMMAND);
        d[33..].copy_from_slice(body);
        let full = nonce(self.encode_prefix, &n);
        let tag = self
            .cipher
            .encrypt_in_place_detached(GenericArray::from_slice(&full), b"", &mut d[32..])
            .map_err(|_| cryptographic())?;
        d[16..32].copy_from_slice(&tag);
        Ok(out)
    }

    /// A MESSAGE command received, as the message (or command) it carries.
    fn decode(&mut self, m: Msg) -> Step<Msg> {
        let body = m.data();
        basic_structure(body)?;
        if !body.starts_with(b"\x07MESSAGE") {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND));
        }
        if body.len() < MESSAGE_OVERHEAD {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE));
        }
        let n = short_nonce(&body[8..16]);
        if n <= self.peer_nonce {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE));
        }
        self.peer_nonce = n;
        let full = nonce(self.decode_prefix, &body[8..16]);
        self.scratch.clear();
        self.scratch.extend_from_slice(&body[32..]);
        self.cipher
            .decrypt_in_place_detached(
                GenericArray::from_slice(&full),
                b"",
                &mut self.scratch,
                GenericArray::from_slice(&body[16..32]),
            )
            .map_err(|_| cryptographic())?;
        let flags = self.scratch[0] & (msg::MORE | msg::COMMAND);
        let mut plain = Msg::from_slice(&self.scratch[1..])
            .map_err(|_| HandshakeFailure::NoDetail(libc::ENOMEM))?;
        plain.set_flags(flags);
        Ok(plain)
    }
}

/// ERROR's reason, or the failure a malformed ERROR is.
fn error_reason(data: &[u8]) -> Result<&[u8], HandshakeFailure> {
    let malformed = protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR);
    let (&n, rest) = data.split_first().ok_or(malformed)?;
    rest.get(..n as usize).ok_or(malformed)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    SendHello,
    ExpectWelcome,
    SendInitiate,
    ExpectReady,
    Connected,
}

/// The client side of CURVE. See the module documentation.
pub struct CurveClient {
    state: ClientState,
    socket_type: i32,
    /// C, c: our long-term keys.
    public: [u8; KEY],
    secret: SecretKey,
    /// S: the server's long-term key.
    server: [u8; KEY],
    /// C', c': this connection's keys (`None`: the generator failed).
    transient: Option<(PublicKey, SecretKey)>,
    /// S', from WELCOME.
    server_transient: [u8; KEY],
    cookie: [u8; 96],
    /// Our short nonces until the traffic keys exist (HELLO is 1, INITIATE 2).
    nonce: u64,
    /// Our properties, for INITIATE.
    metadata: Vec<u8>,
    traffic: Option<Traffic>,
    failed: Option<HandshakeFailure>,
    peer: Properties,
}

impl CurveClient {
    pub fn new(setup: &Setup<'_>) -> CurveClient {
        let o = setup.options;
        let mut metadata = Vec::new();
        basic_properties(o).encode(&mut metadata);
        CurveClient {
            state: ClientState::SendHello,
            socket_type: o.socket_type,
            public: o.curve_public_key,
            secret: SecretKey::from_bytes(*o.curve_secret_key),
            server: o.curve_server_key,
            transient: keypair(),
            server_transient: [0; KEY],
            cookie: [0; 96],
            nonce: 1,
            metadata,
            traffic: None,
            failed: None,
            peer: Properties::default(),
        }
    }

    fn fail<T>(&mut self, f: HandshakeFailure) -> Step<T> {
        self.failed.get_or_insert(f);
        Err(f)
    }

    fn next_nonce(&mut self) -> [u8; 8] {
        let n = self.nonce;
        self.nonce += 1;
        n.to_be_bytes()
    }

    fn hello(&mut self) -> Step<Msg> {
        let n = self.next_nonce();
        let Some((public, secret)) = self.transient.as_ref() else {
            return Err(cryptographic());
        };
        let cipher = salsa_box(&self.server, secret).ok_or_else(cryptographic)?;
        let signature =
            seal(&cipher, &nonce(b"CurveZMQHELLO---", &n), &[0u8; 64]).ok_or_else(cryptographic)?;
        command_of(&[
            b"\x05HELLO",
            &[1, 0],
            &[0u8; 72],
            public.as_bytes(),
            &n,
            &signature,
        ])
    }

    fn initiate(&mut self) -> Step<Msg> {
        let Some((public, _)) = self.transient.as_ref() else {
            return Err(cryptographic());
        };
        // The vouch: Box[C' + S](C->S').
        let vouch_cipher =
            salsa_box(&self.server_transient, &self.secret).ok_or_else(cryptographic)?;
        let vouch_nonce = random::<16>().ok_or_else(cryptographic)?;
        let mut vouch_plain = [0u8; 2 * KEY];
        vouch_plain[..KEY].copy_from_slice(public.as_bytes());
        vouch_plain[KEY..].copy_from_slice(&self.server);
        let vouch = seal(
            &vouch_cipher,
            &nonce(b"VOUCH---", &vouch_nonce[..]),
            &vouch_plain,
        )
        .ok_or_else(cryptographic)?;
        let mut plain = Zeroizing::new(Vec::with_capacity(128 + self.metadata.len()));
        plain.extend_from_slice(&self.public);
        plain.extend_from_slice(&vouch_nonce[..]);
        plain.extend_from_slice(&vouch);
        plain.extend_from_slice(&self.metadata);
        let n = self.next_nonce();
        let traffic = self.traffic.as_ref().ok_or_else(cryptographic)?;
        let boxed = seal(&traffic.cipher, &nonce(b"CurveZMQINITIATE", &n), &plain)
            .ok_or_else(cryptographic)?;
        command_of(&[b"\x08INITIATE", &self.cookie, &n, &boxed])
    }

    fn process_welcome(&mut self, body: &[u8]) -> Step<()> {
        if body.len() != WELCOME_SIZE {
            return Err(cryptographic());
        }
        let Some((_, secret)) = self.transient.as_ref() else {
            return Err(cryptographic());
        };
        let cipher = salsa_box(&self.server, secret).ok_or_else(cryptographic)?;
        let plain = open(&cipher, &nonce(b"WELCOME-", &body[8..24]), &body[24..])
            .ok_or_else(cryptographic)?;
        self.server_transient.copy_from_slice(&plain[..KEY]);
        self.cookie.copy_from_slice(&plain[KEY..KEY + 96]);
        let traffic = salsa_box(&self.server_transient, secret).ok_or_else(cryptographic)?;
        let mut traffic = Traffic::new(traffic, true);
        // HELLO and INITIATE took the first short nonces.
        traffic.nonce = self.nonce + 1;
        self.traffic = Some(traffic);
        self.state = ClientState::SendInitiate;
        Ok(())
    }

    fn process_ready(&mut self, body: &[u8]) -> Step<()> {
        if body.len() < MIN_READY_SIZE {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY));
        }
        let traffic = self.traffic.as_mut().ok_or_else(cryptographic)?;
        traffic.peer_nonce = short_nonce(&body[6..14]);
        let plain = open(
            &traffic.cipher,
            &nonce(b"CurveZMQREADY---", &body[6..14]),
            &body[14..],
        )
        .ok_or_else(cryptographic)?;
        let props = Properties::parse(&plain)
            .ok()
            .filter(|p| peer_type_compatible(self.socket_type, p))
            .ok_or(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA))?;
        self.peer = props;
        self.state = ClientState::Connected;
        Ok(())
    }
}

impl Mechanism for CurveClient {
    fn name(&self) -> MechanismName {
        MechanismName::Curve
    }

    fn next_handshake_command(&mut self) -> Step<Option<Msg>> {
        if self.failed.is_some() {
            return Ok(None);
        }
        let made = match self.state {
            ClientState::SendHello => {
                self.state = ClientState::ExpectWelcome;
                self.hello()
            }
            ClientState::SendInitiate => {
                self.state = ClientState::ExpectReady;
                self.initiate()
            }
            _ => return Ok(None),
        };
        match made {
            Ok(m) => Ok(Some(m)),
            Err(f) => self.fail(f),
        }
    }

    fn process_handshake_command(&mut self, body: &[u8]) -> Step<()> {
        let unexpected = protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND);
        if self.failed.is_some() {
            return self.fail(unexpected);
        }
        let Ok(raw) = RawCommand::parse(body) else {
            return self.fail(unexpected);
        };
        let r = match (raw.name, self.state) {
            (command::WELCOME, ClientState::ExpectWelcome) => self.process_welcome(body),
            (command::READY, ClientState::ExpectReady) => self.process_ready(body),
            (command::ERROR, ClientState::ExpectWelcome | ClientState::ExpectReady) => {
                match error_reason(raw.data) {
                    Ok(reason) => Err(HandshakeFailure::from_error_reason(reason)),
                    Err(f) => Err(f),
                }
            }
            _ => Err(unexpected),
        };
        r.or_else(|f| self.fail(f))
    }

    fn status(&self) -> Status {
        match (self.failed, self.state) {
            (Some(f), _) => Status::Failed(f),
            (None, ClientState::Connected) => Status::Ready,
            _ => Status::Handshaking,
        }
    }

    fn peer_properties(&self) -> &Properties {
        &self.peer
    }

    fn transforms_messages(&self) -> bool {
        true
    }

    fn encode(&mut self, msg: Msg) -> Step<Msg> {
        match self.traffic.as_mut() {
            Some(t) => t.encode(msg),
            None => Err(cryptographic()),
        }
    }

    fn decode(&mut self, msg: Msg) -> Step<Msg> {
        match self.traffic.as_mut() {
            Some(t) => t.decode(msg),
            None => Err(cryptographic()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    WaitingForHello,
    SendingWelcome,
    WaitingForInitiate,
    WaitingForZapReply,
    SendingReady,
    Ready,
    /// Refused by ZAP: the ERROR (if any) is sent, nothing more.
    Refused,
}

/// The server side of CURVE. See the module documentation.
pub struct CurveServer {
    state: ServerState,
    socket_type: i32,
    /// s: our long-term secret key.
    secret: SecretKey,
    /// S', s': this connection's keys (`None`: the generator failed).
    transient: Option<(PublicKey, SecretKey)>,
    /// C', from HELLO.
    client_transient: [u8; KEY],
    /// The key of this connection's cookie, made with WELCOME.
    cookie_key: Zeroizing<[u8; KEY]>,
    /// The short nonce of HELLO, until the traffic keys exist.
    hello_nonce: u64,
    metadata: Vec<u8>,
    traffic: Option<Traffic>,
    /// Ask ZAP after INITIATE: a domain is set or ZAP_ENFORCE_DOMAIN is not.
    zap_wanted: bool,
    zap_enforce: bool,
    zap_handler: bool,
    zap_info: zap::RequestInfo,
    zap: zap::Exchange,
    error_to_send: Option<Msg>,
    failed: Option<HandshakeFailure>,
    peer: Properties,
}

impl CurveServer {
    pub fn new(setup: &Setup<'_>) -> CurveServer {
        let o = setup.options;
        let mut metadata = Vec::new();
        basic_properties(o).encode(&mut metadata);
        CurveServer {
            state: ServerState::WaitingForHello,
            socket_type: o.socket_type,
            secret: SecretKey::from_bytes(*o.curve_secret_key),
            transient: keypair(),
            client_transient: [0; KEY],
            cookie_key: Zeroizing::new([0; KEY]),
            hello_nonce: 0,
            metadata,
            traffic: None,
            zap_wanted: !o.zap_domain.is_empty() || !o.zap_enforce_domain,
            zap_enforce: o.zap_enforce_domain,
            zap_handler: setup.zap_handler,
            zap_info: setup.zap_info(),
            zap: zap::Exchange::default(),
            error_to_send: None,
            failed: None,
            peer: Properties::default(),
        }
    }

    fn fail<T>(&mut self, f: HandshakeFailure) -> Step<T> {
        self.failed.get_or_insert(f);
        Err(f)
    }

    fn process_hello(&mut self, body: &[u8]) -> Step<()> {
        basic_structure(body)?;
        if !body.starts_with(b"\x05HELLO") {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND));
        }
        if body.len() != HELLO_SIZE || body[6..8] != [1, 0] {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO));
        }
        self.client_transient.copy_from_slice(&body[80..112]);
        self.hello_nonce = short_nonce(&body[112..120]);
        let cipher = salsa_box(&self.client_transient, &self.secret).ok_or_else(cryptographic)?;
        open(
            &cipher,
            &nonce(b"CurveZMQHELLO---", &body[112..120]),
            &body[120..],
        )
        .ok_or_else(cryptographic)?;
        self.state = ServerState::SendingWelcome;
        Ok(())
    }

    fn welcome(&mut self) -> Step<Msg> {
        let Some((public, secret)) = self.transient.as_ref() else {
            return Err(cryptographic());
        };
        // The cookie: SecretBox[C' + s'](K), K made for this connection.
        self.cookie_key = random::<KEY>().ok_or_else(cryptographic)?;
        let cookie_nonce = random::<16>().ok_or_else(cryptographic)?;
        let mut cookie_plain = Zeroizing::new([0u8; 2 * KEY]);
        cookie_plain[..KEY].copy_from_slice(&self.client_transient);
        cookie_plain[KEY..].copy_from_slice(&Zeroizing::new(secret.to_bytes())[..]);
        let cookie_cipher = XSalsa20Poly1305::new(GenericArray::from_slice(&self.cookie_key[..]));
        let cookie = seal(
            &cookie_cipher,
            &nonce(b"COOKIE--", &cookie_nonce[..]),
            &cookie_plain[..],
        )
        .ok_or_else(cryptographic)?;
        let mut plain = Zeroizing::new(Vec::with_capacity(128));
        plain.extend_from_slice(public.as_bytes());
        plain.extend_from_slice(&cookie_nonce[..]);
        plain.extend_from_slice(&cookie);
        let welcome_nonce = random::<16>().ok_or_else(cryptographic)?;
        let cipher = salsa_box(&self.client_transient, &self.secret).ok_or_else(cryptographic)?;
        let boxed = seal(&cipher, &nonce(b"WELCOME-", &welcome_nonce[..]), &plain)
            .ok_or_else(cryptographic)?;
        command_of(&[b"\x07WELCOME", &welcome_nonce[..], &boxed])
    }

    fn process_initiate(&mut self, body: &[u8]) -> Step<()> {
        basic_structure(body)?;
        if !body.starts_with(b"\x08INITIATE") {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND));
        }
        if body.len() < MIN_INITIATE_SIZE {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE));
        }
        let Some((_, secret)) = self.transient.as_ref() else {
            return Err(cryptographic());
        };
        // Our cookie back: it must hold C' and s'.
        let cookie_cipher = XSalsa20Poly1305::new(GenericArray::from_slice(&self.cookie_key[..]));
        let cookie = open(
            &cookie_cipher,
            &nonce(b"COOKIE--", &body[9..25]),
            &body[25..105],
        )
        .ok_or_else(cryptographic)?;
        let s_bytes = Zeroizing::new(secret.to_bytes());
        if cookie[..KEY] != self.client_transient || cookie[KEY..] != s_bytes[..] {
            return Err(cryptographic());
        }
        let cipher = salsa_box(&self.client_transient, secret).ok_or_else(cryptographic)?;
        let plain = open(
            &cipher,
            &nonce(b"CurveZMQINITIATE", &body[105..113]),
            &body[113..],
        )
        .ok_or_else(cryptographic)?;
        let mut client = [0u8; KEY];
        client.copy_from_slice(&plain[..KEY]);
        // The vouch: Box[C' + S](C->S'), proof that the client holds c.
        let vouch_cipher = salsa_box(&client, secret).ok_or_else(cryptographic)?;
        let vouch = open(
            &vouch_cipher,
            &nonce(b"VOUCH---", &plain[KEY..KEY + 16]),
            &plain[48..128],
        )
        .ok_or_else(cryptographic)?;
        if vouch[..KEY] != self.client_transient {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE));
        }
        // Metadata that does not parse or names an incompatible type: no event, as libzmq.
        let props = Properties::parse(&plain[128..])
            .ok()
            .filter(|p| peer_type_compatible(self.socket_type, p))
            .ok_or(HandshakeFailure::Silent)?;
        self.peer = props;
        let mut traffic = Traffic::new(cipher, false);
        traffic.peer_nonce = short_nonce(&body[105..113]).max(self.hello_nonce);
        self.traffic = Some(traffic);
        self.state = if !self.zap_wanted {
            ServerState::SendingReady
        } else if self.zap_handler {
            self.zap
                .ask(zap::request(&self.zap_info, b"CURVE", &[&client]));
            ServerState::WaitingForZapReply
        } else if !self.zap_enforce {
            // Encryption without authentication ("Stonehouse" with no handler).
            ServerState::SendingReady
        } else {
            return Err(HandshakeFailure::NoDetail(libc::EFAULT));
        };
        Ok(())
    }

    fn ready(&mut self) -> Step<Msg> {
        let traffic = self.traffic.as_mut().ok_or_else(cryptographic)?;
        let n = traffic.next_nonce().to_be_bytes();
        let boxed = seal(
            &traffic.cipher,
            &nonce(b"CurveZMQREADY---", &n),
            &self.metadata,
        )
        .ok_or_else(cryptographic)?;
        command_of(&[b"\x05READY", &n, &boxed])
    }
}

impl Mechanism for CurveServer {
    fn name(&self) -> MechanismName {
        MechanismName::Curve
    }

    fn as_server(&self) -> bool {
        true
    }

    fn next_handshake_command(&mut self) -> Step<Option<Msg>> {
        if self.failed.is_some() {
            return Ok(None);
        }
        let made = match self.state {
            ServerState::SendingWelcome => {
                self.state = ServerState::WaitingForInitiate;
                self.welcome()
            }
            ServerState::SendingReady => {
                self.state = ServerState::Ready;
                self.ready()
            }
            ServerState::Refused => return Ok(self.error_to_send.take()),
            _ => return Ok(None),
        };
        match made {
            Ok(m) => Ok(Some(m)),
            Err(f) => self.fail(f),
        }
    }

    fn process_handshake_command(&mut self, body: &[u8]) -> Step<()> {
        let r = match self.state {
            ServerState::WaitingForHello if self.failed.is_none() => self.process_hello(body),
            ServerState::WaitingForInitiate if self.failed.is_none() => self.process_initiate(body),
            _ => Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED)),
        };
        r.or_else(|f| self.fail(f))
    }

    fn status(&self) -> Status {
        match (self.failed, self.state) {
            (Some(f), _) => Status::Failed(f),
            (None, ServerState::Ready) => Status::Ready,
            (None, ServerState::Refused) => match self.zap.refusal() {
                Some(f) => Status::Refused(f),
                None => Status::Handshaking,
            },
            _ => Status::Handshaking,
        }
    }

    fn peer_properties(&self) -> &Properties {
        &self.peer
    }

    fn user_id(&self) -> &[u8] {
        self.zap.user_id()
    }

    fn zap_properties(&self) -> Option<&Properties> {
        self.zap.properties()
    }

    fn zap_request(&mut self) -> Option<Vec<Msg>> {
        self.zap.take_request()
    }

    fn zap_reply(&mut self, reply: Option<&[Msg]>) -> Step<()> {
        let Some(frames) = reply else {
            // The handler went away after we looked: as if none had been bound.
            if self.zap_enforce {
                return self.fail(HandshakeFailure::NoDetail(libc::EFAULT));
            }
            self.state = ServerState::SendingReady;
            return Ok(());
        };
        if let Err(f) = self.zap.answer(frames) {
            return self.fail(f);
        }
        self.state = if self.zap.refusal().is_some() {
            self.error_to_send = self.zap.error_command();
            ServerState::Refused
        } else {
            ServerState::SendingReady
        };
        Ok(())
    }

    fn transforms_messages(&self) -> bool {
        true
    }

    fn encode(&mut self, msg: Msg) -> Step<Msg> {
        match self.traffic.as_mut() {
            Some(t) => t.encode(msg),
            None => Err(cryptographic()),
        }
    }

    fn decode(&mut self, msg: Msg) -> Step<Msg> {
        match self.traffic.as_mut() {
            Some(t) => t.decode(msg),
            None => Err(cryptographic()),
        }
    }
}

#[cfg(test)]
#[path = "curve_tests.rs"]
mod tests;
