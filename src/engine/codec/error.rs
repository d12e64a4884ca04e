//! Protocol errors of the codec. Each one closes the connection that caused it; the engine
//! raises `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL` with [`CodecError::event_code`] when the error
//! has a ZMTP protocol-error code.

use std::fmt;

use crate::constants::*;

/// Which command a malformed-command error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    Ready,
    Error,
    Hello,
    Welcome,
    Initiate,
    /// CURVE's MESSAGE command.
    Message,
    Ping,
    Pong,
    Subscribe,
    Cancel,
    /// The command frame itself (name length, name characters), or an unknown command.
    Other,
}

/// What is wrong with the bytes a peer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodecError {
    /// The mechanism field of a ZMTP 3.x greeting names no mechanism we know.
    UnknownMechanism([u8; 20]),
    /// The peer's mechanism differs from ours (found by the caller).
    MechanismMismatch,
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
    /// A command that is not valid in the current state (found by the caller).
    UnexpectedCommand,
    /// Commands or messages in the wrong order (found by the caller).
    InvalidSequence,
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
            CodecError::UnknownMechanism(_) | CodecError::MechanismMismatch => {
                ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
            }
            CodecError::ReservedFlags(_)
            | CodecError::ZeroLength
            | CodecError::CommandInOldFraming => ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED,
            CodecError::TooLarge { .. } | CodecError::OutOfMemory => return None,
            CodecError::MalformedCommand(k) => match k {
                CommandKind::Ready => ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY,
                CommandKind::Error => ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR,
                CommandKind::Hello => ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO,
                CommandKind::Welcome => ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME,
                CommandKind::Initiate => ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE,
                CommandKind::Message => ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE,
                _ => ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
            },
            CodecError::InvalidMetadata => ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA,
            CodecError::UnexpectedCommand => ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND,
            CodecError::InvalidSequence => ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE,
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
            CodecError::MechanismMismatch => f.write_str("mechanism mismatch"),
            CodecError::ReservedFlags(b) => write!(f, "reserved frame flags set: {b:#04x}"),
            CodecError::ZeroLength => f.write_str("zero frame length"),
            CodecError::TooLarge { size, max } => {
                write!(f, "frame of {size} bytes exceeds the limit {max}")
            }
            CodecError::MalformedCommand(k) => write!(f, "malformed {k:?} command"),
            CodecError::InvalidMetadata => f.write_str("invalid metadata"),
            CodecError::UnexpectedCommand => f.write_str("unexpected command"),
            CodecError::InvalidSequence => f.write_str("invalid sequence"),
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
            CodecError::MalformedCommand(CommandKind::Ready),
            CodecError::MalformedCommand(CommandKind::Error),
            CodecError::MalformedCommand(CommandKind::Hello),
            CodecError::MalformedCommand(CommandKind::Welcome),
            CodecError::MalformedCommand(CommandKind::Initiate),
            CodecError::MalformedCommand(CommandKind::Message),
            CodecError::MalformedCommand(CommandKind::Other),
            CodecError::InvalidMetadata,
            CodecError::UnexpectedCommand,
            CodecError::InvalidSequence,
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
