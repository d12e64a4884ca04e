//! Socket-type names, as sent in the `Socket-Type` property of READY / INITIATE, and which
//! socket types may talk to each other (23/ZMTP and 37/ZMTP, plus libzmq's draft types).

use crate::constants::*;

// The draft types, numbered as in zmq.h's draft section (visible here whatever the build).
pub const SERVER: i32 = 12;
pub const CLIENT: i32 = 13;
pub const RADIO: i32 = 14;
pub const DISH: i32 = 15;
pub const GATHER: i32 = 16;
pub const SCATTER: i32 = 17;
pub const DGRAM: i32 = 18;
pub const PEER: i32 = 19;
pub const CHANNEL: i32 = 20;

/// Names indexed by socket type.
const NAMES: [&str; 21] = [
    "PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB",
    "STREAM", "SERVER", "CLIENT", "RADIO", "DISH", "GATHER", "SCATTER", "DGRAM", "PEER", "CHANNEL",
];

/// The name of a socket type, or `None` for an unknown type.
pub fn name(ty: i32) -> Option<&'static str> {
    usize::try_from(ty).ok().and_then(|i| NAMES.get(i)).copied()
}

/// The socket type a name stands for (exact, case-sensitive match).
pub fn from_name(name: &[u8]) -> Option<i32> {
    NAMES
        .iter()
        .position(|n| n.as_bytes() == name)
        .map(|i| i as i32)
}

/// Which socket types may be connected to each other. STREAM speaks no ZMTP and matches
/// nothing.
pub fn compatible(a: i32, b: i32) -> bool {
    match a {
        ZMQ_PAIR => b == ZMQ_PAIR,
        ZMQ_PUB | ZMQ_XPUB => b == ZMQ_SUB || b == ZMQ_XSUB,
        ZMQ_SUB | ZMQ_XSUB => b == ZMQ_PUB || b == ZMQ_XPUB,
        ZMQ_REQ => b == ZMQ_REP || b == ZMQ_ROUTER,
        ZMQ_REP => b == ZMQ_REQ || b == ZMQ_DEALER,
        ZMQ_DEALER => b == ZMQ_REP || b == ZMQ_DEALER || b == ZMQ_ROUTER,
        ZMQ_ROUTER => b == ZMQ_REQ || b == ZMQ_DEALER || b == ZMQ_ROUTER,
        ZMQ_PULL => b == ZMQ_PUSH,
        ZMQ_PUSH => b == ZMQ_PULL,
        SERVER => b == CLIENT,
        CLIENT => b == SERVER,
        RADIO => b == DISH,
        DISH => b == RADIO,
        GATHER => b == SCATTER,
        SCATTER => b == GATHER,
        DGRAM => b == DGRAM,
        PEER => b == PEER,
        CHANNEL => b == CHANNEL,
        _ => false,
    }
}

/// Whether the peer's `Socket-Type` value names a type ours may talk to.
pub fn compatible_name(ours: i32, peer_name: &[u8]) -> bool {
    from_name(peer_name).is_some_and(|p| compatible(ours, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for ty in 0..21 {
            assert_eq!(from_name(name(ty).unwrap().as_bytes()), Some(ty));
        }
        assert_eq!(name(ZMQ_DEALER), Some("DEALER"));
        assert_eq!(name(ZMQ_STREAM), Some("STREAM"));
        assert_eq!(name(21), None);
        assert_eq!(name(-1), None);
        assert_eq!(from_name(b"dealer"), None);
        assert_eq!(from_name(b""), None);
        assert_eq!(from_name(b"DEALER\0"), None);
    }

    #[test]
    fn compatibility_is_symmetric_and_as_specified() {
        for a in -1..22 {
            for b in -1..22 {
                assert_eq!(compatible(a, b), compatible(b, a), "{a} {b}");
            }
            assert!(!compatible(a, ZMQ_STREAM));
        }
        let yes = [
            (ZMQ_PAIR, ZMQ_PAIR),
            (ZMQ_PUB, ZMQ_SUB),
            (ZMQ_PUB, ZMQ_XSUB),
            (ZMQ_XPUB, ZMQ_SUB),
            (ZMQ_XPUB, ZMQ_XSUB),
            (ZMQ_REQ, ZMQ_REP),
            (ZMQ_REQ, ZMQ_ROUTER),
            (ZMQ_REP, ZMQ_DEALER),
            (ZMQ_DEALER, ZMQ_DEALER),
            (ZMQ_DEALER, ZMQ_ROUTER),
            (ZMQ_ROUTER, ZMQ_ROUTER),
            (ZMQ_PUSH, ZMQ_PULL),
            (SERVER, CLIENT),
            (RADIO, DISH),
            (GATHER, SCATTER),
            (DGRAM, DGRAM),
            (PEER, PEER),
            (CHANNEL, CHANNEL),
        ];
        let count = (-1..22)
            .flat_map(|a| (-1..22).map(move |b| (a, b)))
            .filter(|&(a, b)| compatible(a, b))
            .count();
        // Each unordered pair twice, except the self-pairs once.
        let selfs = yes.iter().filter(|(a, b)| a == b).count();
        assert_eq!(count, 2 * yes.len() - selfs);
        for (a, b) in yes {
            assert!(compatible(a, b), "{a} {b}");
        }
        assert!(!compatible(ZMQ_REQ, ZMQ_REQ));
        assert!(!compatible(ZMQ_PUB, ZMQ_PUB));
        assert!(!compatible(ZMQ_REP, ZMQ_ROUTER));
        assert!(compatible_name(ZMQ_REQ, b"ROUTER"));
        assert!(!compatible_name(ZMQ_REQ, b"router"));
        assert!(!compatible_name(ZMQ_REQ, b"NOPE"));
    }
}
