//! The ZMTP greeting and version negotiation.
//!
//! Our greeting is 64 bytes (ZMTP 3.x): signature `FF`, 8 padding bytes, `7F`; version
//! major, minor; the mechanism name NUL-padded to 20 bytes; the as-server byte; 31 zero bytes.
//! The padding is not significant to 2.0 and 3.x peers; we put the length of our routing id
//! plus one there (big-endian), so that a ZMTP 1.0 peer reads our signature as the start of
//! an identity frame (length, then the flags byte `7F`).
//!
//! Negotiation, byte by byte, as [`GreetingParser`] models it:
//! 1. We send the 10-byte signature and read the peer's. A first byte other than `FF`, or a
//!    10th byte without bit 0, is a ZMTP 1.0 peer: there is no greeting, what we read is the
//!    start of its identity frame ([`PeerGreeting::V1`]); we send our routing id bytes next.
//! 2. Otherwise we send our major version and read the peer's revision byte (11th).
//! 3. Revision 0 or 1 (ZMTP 1.0 / 2.0 with a greeting): we send our socket type byte, and
//!    read the peer's ([`PeerGreeting::V2`], 12 bytes in all). Revision 3 or more: we send the
//!    rest of our 64 bytes and read the rest of the peer's ([`PeerGreeting::V3`]).
//!
//! ```text
//! let mut g = GreetingParser::new(&OurGreeting::new(MechanismName::Null, false, ZMQ_DEALER as u8));
//! loop {
//!     write(g.output()); g.advance_output(n_written);
//!     let n = read(&mut buf[..g.wanted()]);
//!     let (used, progress) = g.feed(&buf[..n])?;      // used == n when reading g.wanted()
//!     if let Progress::Done(peer) = progress { /* flush g.output(), then handshake */ }
//! }
//! ```

use super::error::CodecError;
use super::frame::Framing;

/// Length of the signature.
pub const SIGNATURE_LEN: usize = 10;
/// Length of a ZMTP 2.0 greeting (signature, revision, socket type).
pub const V2_GREETING_LEN: usize = 12;
/// Length of a ZMTP 3.x greeting.
pub const V3_GREETING_LEN: usize = 64;

const REVISION_POS: usize = 10;
const MINOR_POS: usize = 11;
const MECHANISM_POS: usize = 12;
const MECHANISM_LEN: usize = 20;
const AS_SERVER_POS: usize = 32;

/// A security mechanism, as named in the greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MechanismName {
    Null,
    Plain,
    Curve,
}

impl MechanismName {
    /// The name in the greeting.
    pub fn name(self) -> &'static str {
        match self {
            MechanismName::Null => "NULL",
            MechanismName::Plain => "PLAIN",
            MechanismName::Curve => "CURVE",
        }
    }

    /// The 20-byte NUL-padded greeting field.
    pub fn field(self) -> [u8; MECHANISM_LEN] {
        let mut f = [0u8; MECHANISM_LEN];
        let n = self.name().as_bytes();
        f[..n.len()].copy_from_slice(n);
        f
    }

    /// The mechanism a greeting field names: exactly one of ours, NUL-padded.
    pub fn from_field(field: &[u8; MECHANISM_LEN]) -> Option<MechanismName> {
        [
            MechanismName::Null,
            MechanismName::Plain,
            MechanismName::Curve,
        ]
        .into_iter()
        .find(|m| m.field() == *field)
    }
}

/// What we announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OurGreeting {
    pub mechanism: MechanismName,
    /// The as-server byte (PLAIN and CURVE servers).
    pub as_server: bool,
    /// Our socket type (`ZMQ_*`), sent to ZMTP 2.0 peers in place of the 3.x remainder.
    pub socket_type: u8,
    /// Length of our routing id, announced in the signature's padding for ZMTP 1.0 peers.
    pub routing_id_len: u8,
    /// The minor version we speak: 1 (ZMTP 3.1) unless told otherwise.
    pub minor: u8,
}

impl OurGreeting {
    /// ZMTP 3.1 with the given mechanism and role, no routing id.
    pub fn new(mechanism: MechanismName, as_server: bool, socket_type: u8) -> OurGreeting {
        OurGreeting {
            mechanism,
            as_server,
            socket_type,
            routing_id_len: 0,
            minor: 1,
        }
    }

    /// The 64 bytes of our ZMTP 3.x greeting.
    pub fn to_bytes(self) -> [u8; V3_GREETING_LEN] {
        let mut g = [0u8; V3_GREETING_LEN];
        g[0] = 0xFF;
        g[1..9].copy_from_slice(&(u64::from(self.routing_id_len) + 1).to_be_bytes());
        g[9] = 0x7F;
        g[REVISION_POS] = 3;
        g[MINOR_POS] = self.minor;
        g[MECHANISM_POS..MECHANISM_POS + MECHANISM_LEN].copy_from_slice(&self.mechanism.field());
        g[AS_SERVER_POS] = u8::from(self.as_server);
        g
    }
}

/// The protocol revision of the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    Zmtp10,
    Zmtp20,
    /// ZMTP 3.0 (minor 0) or 3.1 and later (major 3 or more).
    Zmtp3 {
        major: u8,
        minor: u8,
    },
}

/// The peer's greeting, once decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerGreeting {
    /// A ZMTP 1.0 peer without greeting: the bytes read so far ([`GreetingParser::received`],
    /// `replay` of them) are the start of its identity frame and go to a 1.0 [`Decoder`]
    /// first. We send our routing id bytes (the rest of our 1.0 identity frame) next.
    ///
    /// [`Decoder`]: super::frame::Decoder
    V1 { replay: usize },
    /// A 12-byte greeting with revision 0 (ZMTP 1.0 framing) or 1 (ZMTP 2.0) and the peer's
    /// socket type. The identity frame follows in that framing.
    V2 { revision: u8, socket_type: u8 },
    /// A 64-byte ZMTP 3.x greeting. The caller checks that `mechanism` is ours.
    V3 {
        major: u8,
        minor: u8,
        mechanism: MechanismName,
        as_server: bool,
    },
}

impl PeerGreeting {
    /// The peer's revision.
    pub fn revision(&self) -> Revision {
        match *self {
            PeerGreeting::V1 { .. } | PeerGreeting::V2 { revision: 0, .. } => Revision::Zmtp10,
            PeerGreeting::V2 { .. } => Revision::Zmtp20,
            PeerGreeting::V3 { major, minor, .. } => Revision::Zmtp3 { major, minor },
        }
    }

    /// The framing to use with this peer, both directions.
    pub fn framing(&self) -> Framing {
        match self.revision() {
            Revision::Zmtp10 => Framing::V1,
            Revision::Zmtp20 => Framing::V2,
            Revision::Zmtp3 { .. } => Framing::V3,
        }
    }

    /// Whether the peer speaks ZMTP 3.1 or later: SUBSCRIBE / CANCEL commands rather than
    /// subscription messages, PING / PONG.
    pub fn is_zmtp31(&self) -> bool {
        matches!(self.revision(), Revision::Zmtp3 { major, minor } if major > 3 || minor >= 1)
    }
}

/// Where the negotiation stands after [`GreetingParser::feed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// More of the peer's bytes are needed (see [`GreetingParser::wanted`]).
    NeedMore,
    /// The peer's greeting is complete (and stays so).
    Done(PeerGreeting),
}

/// The greeting exchange with one peer: what to send, and the peer's greeting, decided as
/// early as the bytes allow.
#[derive(Debug, Clone)]
pub struct GreetingParser {
    out: [u8; V3_GREETING_LEN],
    /// Bytes of `out` that may be sent now.
    out_limit: usize,
    /// Bytes of `out` already handed to the transport.
    out_sent: usize,
    /// Our socket type, sent instead of our minor version to a 2.0 peer.
    socket_type: u8,
    peer: [u8; V3_GREETING_LEN],
    got: usize,
    done: Option<PeerGreeting>,
}

impl GreetingParser {
    /// Starts the exchange; our signature is ready to send.
    pub fn new(ours: &OurGreeting) -> GreetingParser {
        GreetingParser {
            out: ours.to_bytes(),
            out_limit: SIGNATURE_LEN,
            out_sent: 0,
            socket_type: ours.socket_type,
            peer: [0; V3_GREETING_LEN],
            got: 0,
            done: None,
        }
    }

    /// Our bytes that may be sent now and were not yet (possibly empty).
    pub fn output(&self) -> &[u8] {
        &self.out[self.out_sent..self.out_limit]
    }

    /// `n` bytes of [`output`](Self::output) were sent.
    pub fn advance_output(&mut self, n: usize) {
        self.out_sent = (self.out_sent + n).min(self.out_limit);
    }

    /// Whether all our greeting bytes released so far were sent.
    #[cfg(test)]
    pub fn output_flushed(&self) -> bool {
        self.out_sent == self.out_limit
    }

    /// How many more peer bytes are useful before the next decision: reading exactly this
    /// many never reads past the greeting. 0 once done.
    pub fn wanted(&self) -> usize {
        if self.done.is_some() {
            return 0;
        }
        match self.got {
            0 => 1,
            g if g < SIGNATURE_LEN => SIGNATURE_LEN - g,
            g if g == SIGNATURE_LEN => 1,
            g if self.peer[REVISION_POS] < 3 => V2_GREETING_LEN - g,
            g => V3_GREETING_LEN - g,
        }
    }

    /// The peer's bytes consumed so far.
    pub fn received(&self) -> &[u8] {
        &self.peer[..self.got]
    }

    /// The result, once decided.
    #[cfg(test)]
    pub fn peer(&self) -> Option<PeerGreeting> {
        self.done
    }

    /// Consumes peer bytes up to the end of its greeting; returns how many were used (the
    /// rest belongs to the framing that follows) and the progress.
    pub fn feed(&mut self, data: &[u8]) -> Result<(usize, Progress), CodecError> {
        let mut used = 0;
        while self.done.is_none() && used < data.len() {
            let b = data[used];
            used += 1;
            self.peer[self.got] = b;
            self.got += 1;
            self.step()?;
        }
        Ok((
            used,
            match self.done {
                Some(p) => Progress::Done(p),
                None => Progress::NeedMore,
            },
        ))
    }

    fn step(&mut self) -> Result<(), CodecError> {
        let got = self.got;
        if got == 1 && self.peer[0] != 0xFF {
            self.done = Some(PeerGreeting::V1 { replay: 1 });
        } else if got == SIGNATURE_LEN {
            if self.peer[9] & 1 == 0 {
                self.done = Some(PeerGreeting::V1 {
                    replay: SIGNATURE_LEN,
                });
            } else {
                self.out_limit = REVISION_POS + 1;
            }
        } else if got == REVISION_POS + 1 {
            if self.peer[REVISION_POS] < 3 {
                self.out[MINOR_POS] = self.socket_type;
                self.out_limit = V2_GREETING_LEN;
            } else {
                self.out_limit = V3_GREETING_LEN;
            }
        } else if got == V2_GREETING_LEN && self.peer[REVISION_POS] < 3 {
            self.done = Some(PeerGreeting::V2 {
                revision: self.peer[REVISION_POS],
                socket_type: self.peer[MINOR_POS],
            });
        } else if got == V3_GREETING_LEN {
            let mut field = [0u8; MECHANISM_LEN];
            field.copy_from_slice(&self.peer[MECHANISM_POS..MECHANISM_POS + MECHANISM_LEN]);
            let mechanism =
                MechanismName::from_field(&field).ok_or(CodecError::UnknownMechanism(field))?;
            self.done = Some(PeerGreeting::V3 {
                major: self.peer[REVISION_POS],
                minor: self.peer[MINOR_POS],
                mechanism,
                // 0 or 1 by the spec; any other value is read as "server".
                as_server: self.peer[AS_SERVER_POS] != 0,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::codec::testutil::Rng;

    fn ours() -> OurGreeting {
        OurGreeting::new(MechanismName::Null, false, 5)
    }

    #[test]
    fn our_greeting_bytes() {
        let g = OurGreeting::new(MechanismName::Plain, true, 5).to_bytes();
        assert_eq!(g[0], 0xFF);
        assert_eq!(&g[1..9], &[0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(g[9], 0x7F);
        assert_eq!((g[10], g[11]), (3, 1));
        assert_eq!(&g[12..17], b"PLAIN");
        assert!(g[17..32].iter().all(|&b| b == 0));
        assert_eq!(g[32], 1);
        assert!(g[33..].iter().all(|&b| b == 0));
        let mut o = ours();
        o.routing_id_len = 200;
        o.minor = 0;
        let g = o.to_bytes();
        assert_eq!(&g[1..9], &201u64.to_be_bytes());
        assert_eq!((g[11], g[32]), (0, 0));
        assert_eq!(&g[12..16], b"NULL");
    }

    #[test]
    fn mechanism_fields() {
        for m in [
            MechanismName::Null,
            MechanismName::Plain,
            MechanismName::Curve,
        ] {
            assert_eq!(MechanismName::from_field(&m.field()), Some(m));
        }
        let mut f = MechanismName::Null.field();
        f[19] = b'X';
        assert_eq!(MechanismName::from_field(&f), None);
        let mut f = [0u8; 20];
        f[..4].copy_from_slice(b"null");
        assert_eq!(MechanismName::from_field(&f), None);
        assert_eq!(MechanismName::from_field(&[0; 20]), None);
    }

    fn run(peer: &[u8], chunk: usize) -> (Result<Progress, CodecError>, usize, Vec<u8>) {
        let mut g = GreetingParser::new(&ours());
        let mut sent = Vec::new();
        let mut used = 0;
        let mut last = Ok(Progress::NeedMore);
        sent.extend_from_slice(g.output());
        g.advance_output(g.output().len());
        while used < peer.len() {
            let end = (used + chunk).min(peer.len());
            match g.feed(&peer[used..end]) {
                Ok((n, p)) => {
                    used += n;
                    last = Ok(p);
                    sent.extend_from_slice(g.output());
                    g.advance_output(g.output().len());
                    if matches!(p, Progress::Done(_)) {
                        break;
                    }
                }
                Err(e) => return (Err(e), used, sent),
            }
        }
        (last, used, sent)
    }

    #[test]
    fn v3_peer_any_chunking() {
        let mut peer = OurGreeting::new(MechanismName::Curve, true, 6)
            .to_bytes()
            .to_vec();
        peer.extend_from_slice(b"\x04\x05trailing frame");
        for chunk in [1, 2, 7, 10, 11, 63, 64, 100] {
            let (p, used, sent) = run(&peer, chunk);
            assert_eq!(used, 64, "chunk {chunk}");
            assert_eq!(
                p,
                Ok(Progress::Done(PeerGreeting::V3 {
                    major: 3,
                    minor: 1,
                    mechanism: MechanismName::Curve,
                    as_server: true
                }))
            );
            assert_eq!(sent, ours().to_bytes().to_vec());
        }
    }

    #[test]
    fn v30_and_future_versions() {
        let mut peer = ours().to_bytes();
        peer[11] = 0;
        let (p, _, _) = run(&peer, 64);
        let Ok(Progress::Done(pg)) = p else { panic!() };
        assert_eq!(pg.revision(), Revision::Zmtp3 { major: 3, minor: 0 });
        assert!(!pg.is_zmtp31());
        assert_eq!(pg.framing(), Framing::V3);
        peer[10] = 4;
        let (p, _, _) = run(&peer, 64);
        let Ok(Progress::Done(pg)) = p else { panic!() };
        assert!(pg.is_zmtp31());
        assert_eq!(pg.framing(), Framing::V3);
    }

    #[test]
    fn output_released_step_by_step() {
        let mut g = GreetingParser::new(&ours());
        assert_eq!(g.output().len(), 10);
        assert_eq!(g.wanted(), 1);
        g.advance_output(4);
        assert_eq!(g.output().len(), 6);
        assert!(!g.output_flushed());
        g.advance_output(100);
        assert!(g.output_flushed());
        let peer = OurGreeting::new(MechanismName::Null, false, 6).to_bytes();
        assert_eq!(g.feed(&peer[..9]).unwrap(), (9, Progress::NeedMore));
        assert_eq!(g.output(), b"");
        assert_eq!(g.wanted(), 1);
        g.feed(&peer[9..10]).unwrap();
        assert_eq!(g.output(), &[3]);
        g.advance_output(1);
        assert_eq!(g.wanted(), 1);
        g.feed(&peer[10..11]).unwrap();
        assert_eq!(g.output().len(), 53);
        assert_eq!(g.output()[0], 1);
        assert_eq!(g.wanted(), 53);
        assert_eq!(g.received(), &peer[..11]);
        assert!(g.peer().is_none());
        let (n, p) = g.feed(&peer[11..]).unwrap();
        assert_eq!(n, 53);
        assert!(matches!(p, Progress::Done(_)));
        assert_eq!(g.wanted(), 0);
        // Done is sticky and consumes nothing more.
        assert_eq!(g.feed(b"xyz").unwrap(), (0, p));
    }

    #[test]
    fn v2_peer() {
        let mut peer = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 1, 7];
        peer.extend_from_slice(&[0, 0]); // its identity frame (2.0 framing)
        for chunk in [1, 5, 12, 14] {
            let (p, used, sent) = run(&peer, chunk);
            assert_eq!(used, 12);
            let Ok(Progress::Done(pg)) = p else { panic!() };
            assert_eq!(
                pg,
                PeerGreeting::V2 {
                    revision: 1,
                    socket_type: 7
                }
            );
            assert_eq!(pg.framing(), Framing::V2);
            assert_eq!(pg.revision(), Revision::Zmtp20);
            // Signature, our major, our socket type.
            assert_eq!(sent.len(), 12);
            assert_eq!(&sent[..11], &ours().to_bytes()[..11]);
            assert_eq!(sent[11], 5);
        }
        peer[10] = 0;
        let (p, _, _) = run(&peer, 3);
        let Ok(Progress::Done(pg)) = p else { panic!() };
        assert_eq!(pg.framing(), Framing::V1);
    }

    #[test]
    fn v1_peer_short_identity_decided_at_first_byte() {
        // 1.0 identity frame: length 3 (flags + "ab"), flags 0, "ab".
        let peer = [3u8, 0, b'a', b'b'];
        let (p, used, sent) = run(&peer, 4);
        assert_eq!(used, 1);
        assert_eq!(p, Ok(Progress::Done(PeerGreeting::V1 { replay: 1 })));
        assert_eq!(sent.len(), 10);
        let mut g = GreetingParser::new(&ours());
        g.feed(&peer).unwrap();
        assert_eq!(g.received(), &[3]);
        assert_eq!(g.output().len(), 10);
    }

    #[test]
    fn v1_peer_long_identity_decided_at_tenth_byte() {
        let mut peer = vec![0xFF];
        peer.extend_from_slice(&301u64.to_be_bytes());
        peer.push(0); // flags: no bit 0
        peer.extend_from_slice(&[b'x'; 300]);
        for chunk in [1, 9, 10, 11, 400] {
            let (p, used, sent) = run(&peer, chunk);
            assert_eq!(used, 10);
            assert_eq!(p, Ok(Progress::Done(PeerGreeting::V1 { replay: 10 })));
            assert_eq!(sent.len(), 10);
        }
    }

    #[test]
    fn unknown_mechanism() {
        let mut peer = ours().to_bytes();
        peer[12..16].copy_from_slice(b"GSSX");
        let (p, _, _) = run(&peer, 64);
        assert!(matches!(p, Err(CodecError::UnknownMechanism(_))));
        let mut peer = ours().to_bytes();
        peer[20] = b'!'; // junk after the NUL
        let (p, _, _) = run(&peer, 7);
        assert!(matches!(p, Err(CodecError::UnknownMechanism(_))));
    }

    #[test]
    fn truncated_greeting_needs_more() {
        let peer = ours().to_bytes();
        for n in [1, 9, 10, 11, 12, 63] {
            let mut g = GreetingParser::new(&ours());
            assert_eq!(g.feed(&peer[..n]).unwrap(), (n, Progress::NeedMore));
            assert!(g.wanted() > 0);
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng::new(7);
        for round in 0..2000 {
            let mut g = GreetingParser::new(&ours());
            let n = rng.below(100);
            let mut data = rng.bytes(n);
            if round % 2 == 0 && !data.is_empty() {
                data[0] = 0xFF;
                if data.len() > 10 {
                    data[9] |= 1;
                    data[10] = (rng.below(6)) as u8;
                }
            }
            let mut pos = 0;
            while pos < data.len() {
                let end = (pos + 1 + rng.below(20)).min(data.len());
                match g.feed(&data[pos..end]) {
                    Ok((n, Progress::NeedMore)) => {
                        assert_eq!(n, end - pos);
                        pos = end
                    }
                    Ok((n, Progress::Done(_))) => {
                        assert!(n <= end - pos);
                        break;
                    }
                    Err(_) => break,
                }
                let k = g.output().len();
                g.advance_output(k);
            }
        }
    }
}
