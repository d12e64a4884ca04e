//! Z85, the printable encoding of binary data in ZeroMQ RFC 32.
//!
//! Every 4 bytes of input (one big-endian 32-bit value) become 5 characters of an
//! 85-character alphabet, most significant digit first. Encoding needs a length that is a
//! multiple of 4; decoding needs a length that is a multiple of 5, characters from the
//! alphabet only, and groups whose value fits in 32 bits.

use crate::error::{Error, Result};

/// The 85 digits of Z85, in value order.
pub const ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Marks a byte that is not a Z85 digit in [`DIGIT_VALUES`].
const NOT_A_DIGIT: u8 = 0xFF;

/// The value of each byte as a Z85 digit, or [`NOT_A_DIGIT`].
const DIGIT_VALUES: [u8; 256] = {
    let mut table = [NOT_A_DIGIT; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The length of the text that encodes `len` bytes (without a terminator).
pub fn encoded_len(len: usize) -> usize {
    len / 4 * 5
}

/// The number of bytes that text of `len` characters decodes to.
pub fn decoded_len(len: usize) -> usize {
    len / 5 * 4
}

/// Encodes `data` into `out`, which must hold at least [`encoded_len`] bytes.
///
/// Fails with `Inval` when the length of `data` is not a multiple of 4, or `out` is short.
pub fn encode_into(data: &[u8], out: &mut [u8]) -> Result<()> {
    if !data.len().is_multiple_of(4) || out.len() < encoded_len(data.len()) {
        return Err(Error::Inval);
    }
    for (group, text) in data.chunks_exact(4).zip(out.chunks_exact_mut(5)) {
        let mut value = u32::from_be_bytes([group[0], group[1], group[2], group[3]]);
        for slot in text.iter_mut().rev() {
            *slot = ALPHABET[(value % 85) as usize];
            value /= 85;
        }
    }
    Ok(())
}

/// Encodes `data` as a Z85 string; fails with `Inval` unless its length is a multiple of 4.
#[cfg(any(test, feature = "fuzzing"))]
pub fn encode(data: &[u8]) -> Result<String> {
    let mut out = vec![0u8; encoded_len(data.len())];
    encode_into(data, &mut out)?;
    // Every byte written comes from the ASCII alphabet.
    Ok(out.into_iter().map(char::from).collect())
}

/// Decodes Z85 `text` into `out`, which must hold at least [`decoded_len`] bytes.
///
/// Fails with `Inval` when the length is not a multiple of 5, a character is not a Z85
/// digit, a group's value does not fit in 32 bits, or `out` is short. On failure `out` may
/// hold the groups decoded before the bad one.
pub fn decode_into(text: &[u8], out: &mut [u8]) -> Result<()> {
    if !text.len().is_multiple_of(5) || out.len() < decoded_len(text.len()) {
        return Err(Error::Inval);
    }
    for (group, bytes) in text.chunks_exact(5).zip(out.chunks_exact_mut(4)) {
        let mut value: u64 = 0;
        for &c in group {
            let digit = DIGIT_VALUES[c as usize];
            if digit == NOT_A_DIGIT {
                return Err(Error::Inval);
            }
            value = value * 85 + u64::from(digit);
        }
        // Five digits reach at most 85^5 - 1, which is above u32::MAX: such groups are invalid.
        let value = u32::try_from(value).map_err(|_| Error::Inval)?;
        bytes.copy_from_slice(&value.to_be_bytes());
    }
    Ok(())
}

/// Decodes Z85 `text`; see [`decode_into`] for what is rejected.
#[cfg(any(test, feature = "fuzzing"))]
pub fn decode(text: &[u8]) -> Result<Vec<u8>> {
    let mut out = vec![0u8; decoded_len(text.len())];
    decode_into(text, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: [u8; 8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];

    #[test]
    fn rfc32_test_vector() {
        assert_eq!(encode(&HELLO).unwrap(), "HelloWorld");
        assert_eq!(decode(b"HelloWorld").unwrap(), HELLO);
    }

    #[test]
    fn empty_input() {
        assert_eq!(encode(&[]).unwrap(), "");
        assert_eq!(decode(b"").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn extremes() {
        assert_eq!(encode(&[0, 0, 0, 0]).unwrap(), "00000");
        assert_eq!(encode(&[0xFF; 4]).unwrap(), "%nSc0");
        assert_eq!(decode(b"%nSc0").unwrap(), [0xFF; 4]);
        // One above u32::MAX, and the largest five digits: both overflow.
        assert_eq!(decode(b"%nSc1"), Err(Error::Inval));
        assert_eq!(decode(b"#####"), Err(Error::Inval));
    }

    #[test]
    fn bad_lengths() {
        assert_eq!(encode(&[1, 2, 3]), Err(Error::Inval));
        assert_eq!(encode(&[1, 2, 3, 4, 5]), Err(Error::Inval));
        assert_eq!(decode(b"Hell"), Err(Error::Inval));
        assert_eq!(decode(b"HelloWorl"), Err(Error::Inval));
    }

    #[test]
    fn bad_characters() {
        for bad in [
            b"Hell\"",
            b"Hell ",
            b"Hell~",
            b"Hell\x7f",
            b"Hell\xc3",
            b"Hell,",
        ] {
            assert_eq!(decode(bad), Err(Error::Inval), "{bad:?}");
        }
    }

    #[test]
    fn short_buffers() {
        let mut out = [0u8; 9];
        assert_eq!(encode_into(&HELLO, &mut out), Err(Error::Inval));
        let mut out = [0u8; 7];
        assert_eq!(decode_into(b"HelloWorld", &mut out), Err(Error::Inval));
    }

    #[test]
    fn round_trip_all_bytes() {
        let data: Vec<u8> = (0..=255u8).collect();
        let text = encode(&data).unwrap();
        assert_eq!(text.len(), 320);
        assert!(text.bytes().all(|c| ALPHABET.contains(&c)));
        assert_eq!(decode(text.as_bytes()).unwrap(), data);
    }

    #[test]
    fn alphabet_is_85_distinct_printable_characters() {
        let mut seen = [false; 256];
        for &c in ALPHABET {
            assert!(c.is_ascii_graphic());
            assert!(!seen[c as usize]);
            seen[c as usize] = true;
        }
    }
}
