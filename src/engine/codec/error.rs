//! Protocol errors of the codec: what is wrong with the bytes themselves. Each one closes
//! the connection that caused it. [`CodecError::event_code`] is the ZMTP protocol-error code
//! of an error the greeting finds (libzmq raises `HANDSHAKE_FAILED_PROTOCOL` for those);
//! errors of sequence (an unexpected command) belong to the mechanism
//! (`crate::mechanism::HandshakeFailure`).

use std::fmt;

use crate::constants::*;

/// Which command a malformed-command error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    Error,
    Hello,
    Welcome,
    Ping,
    /// The command frame itself (name length, name characters), or an unknown command.
    Other,
}

/// What is wrong with the bytes a peer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodecError {
    /// The mechanism field of a ZMTP 3.x greeting names no mechanism we know.
    UnknownMechanism([u8; 20]),
    /// A frame's flags byte has bits set that the framing reserves.
    ReservedFlags(u8),
    /// A ZMTP 1.0 frame's length is zero (it must count the flags byte).
    ZeroLength,
    /// A frame is larger than the maximum message size (ZMQ_MAXMSGSIZE), or than memory can
    /// ever hold.
    TooLarge { size: u64, max: i64 },
    /// A command frame does not follow its grammar.
    MalformedCommand(CommandKind),
    /// A metadata property has a bad name, a value past the end, or a duplicate name.
    InvalidMetadata,
    /// A ZMTP 2.0 or 1.0 frame announces a command (no such thing before 3.0).
    CommandInOldFraming,
    /// No memory for a frame's body.
    OutOfMemory,
}

impl CodecError {
    /// The `ZMQ_PROTOCOL_ERROR_*` value for a handshake-failed monitor event, when the error
    /// has one (an oversized frame is a plain disconnect in libzmq, not a protocol error).
    pub fn event_code(&self) -> Option<i32> {
        Some(match self {
            CodecError::UnknownMechanism(_) => ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH,
            CodecError::ReservedFlags(_)
            | CodecError::ZeroLength
            | CodecError::CommandInOldFraming => ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED,
            CodecError::TooLarge { .. } | CodecError::OutOfMemory => return None,
            CodecError::MalformedCommand(k) => match k {
                CommandKind::Error => ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR,
                CommandKind::Hello => ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO,
                CommandKind::Welcome => ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME,
                _ => ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
            },
            CodecError::InvalidMetadata => ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA,
        })
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::UnknownMechanism(m) => {
                let end = m.iter().position(|&b| b == 0).unwrap_or(m.len());
                write!(
                    f,
                    "unknown mechanism {:?}",
                    String::from_utf8_lossy(&m[..end])
                )
            }
            CodecError::ReservedFlags(b) => write!(f, "reserved frame flags set: {b:#04x}"),
            CodecError::ZeroLength => f.write_str("zero frame length"),
            CodecError::TooLarge { size, max } => {
                write!(f, "frame of {size} bytes exceeds the limit {max}")
            }
            CodecError::MalformedCommand(k) => write!(f, "malformed {k:?} command"),
            CodecError::InvalidMetadata => f.write_str("invalid metadata"),
            CodecError::CommandInOldFraming => f.write_str("command flag before ZMTP 3.0"),
            CodecError::OutOfMemory => f.write_str("out of memory for a frame"),
        }
    }
}

impl std::error::Error for CodecError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_are_distinct_where_libzmq_distinguishes() {
        let all = [
            CodecError::UnknownMechanism([0; 20]),
            CodecError::ReservedFlags(8),
            CodecError::MalformedCommand(CommandKind::Error),
            CodecError::MalformedCommand(CommandKind::Hello),
            CodecError::MalformedCommand(CommandKind::Welcome),
            CodecError::MalformedCommand(CommandKind::Other),
            CodecError::InvalidMetadata,
        ];
        let mut codes: Vec<i32> = all.iter().map(|e| e.event_code().unwrap()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert_eq!(CodecError::TooLarge { size: 9, max: 8 }.event_code(), None);
        assert!(
            CodecError::UnknownMechanism(*b"FOO\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0")
                .to_string()
                .contains("FOO")
        );
    }
}
