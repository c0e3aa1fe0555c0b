//! A small BER/DER encoder and a checked reader, enough for SNMP, CLDAP and Kerberos.
//!
//! Only what those protocols use: single-byte tags, definite lengths (short form, or
//! long form up to four bytes), INTEGER, OCTET STRING, NULL, OBJECT IDENTIFIER and
//! constructed values. The reader never panics: every length is checked against what
//! is left, and anything outside that subset is an error, not a guess.

use thiserror::Error;

/// Universal and context tags used by the payloads and parsers.
pub mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const ENUMERATED: u8 = 0x0a;
    pub const SEQUENCE: u8 = 0x30;
    pub const GENERAL_STRING: u8 = 0x1b;
    pub const GENERALIZED_TIME: u8 = 0x18;
}

/// Why bytes are not the BER this module reads.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BerError {
    #[error("BER value truncated")]
    Truncated,
    #[error("BER multi-byte tags are not supported")]
    LongTag,
    #[error("BER indefinite or oversized length")]
    BadLength,
    #[error("expected BER tag {expected:#04x}, found {found:#04x}")]
    UnexpectedTag { expected: u8, found: u8 },
    #[error("BER integer out of range")]
    IntegerRange,
}

/// Encodes one tag-length-value.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A constructed value (SEQUENCE, an application or context tag) from its parts.
pub fn constructed(tag: u8, parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// An INTEGER in the fewest two's-complement bytes.
pub fn integer(value: i64) -> Vec<u8> {
    tlv(tag::INTEGER, &int_content(value))
}

/// An INTEGER under another tag (ENUMERATED, an implicit context tag).
pub fn integer_tagged(tag: u8, value: i64) -> Vec<u8> {
    tlv(tag, &int_content(value))
}

fn int_content(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

/// An OCTET STRING.
pub fn octets(value: &[u8]) -> Vec<u8> {
    tlv(tag::OCTET_STRING, value)
}

/// NULL.
pub fn null() -> Vec<u8> {
    tlv(tag::NULL, &[])
}

/// An OBJECT IDENTIFIER from its arcs (the first two are at most 2 and 39).
pub fn oid(arcs: &[u32]) -> Vec<u8> {
    let mut content = Vec::new();
    if let [a, b, rest @ ..] = arcs {
        push_base128(&mut content, a * 40 + b);
        for arc in rest {
            push_base128(&mut content, *arc);
        }
    }
    tlv(tag::OID, &content)
}

fn push_base128(out: &mut Vec<u8>, value: u32) {
    let mut groups = [0u8; 5];
    let mut n = 0;
    let mut v = value;
    loop {
        groups[n] = (v & 0x7f) as u8;
        n += 1;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        out.push(groups[i] | if i > 0 { 0x80 } else { 0 });
    }
}

/// Decodes the arcs of an OBJECT IDENTIFIER's content.
pub fn decode_oid(content: &[u8]) -> Result<Vec<u32>, BerError> {
    let mut arcs = Vec::new();
    let mut value: u32 = 0;
    let mut pending = false;
    for &b in content {
        value = value
            .checked_mul(128)
            .ok_or(BerError::IntegerRange)?
            .checked_add(u32::from(b & 0x7f))
            .ok_or(BerError::IntegerRange)?;
        pending = b & 0x80 != 0;
        if !pending {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    if pending || arcs.is_empty() {
        return Err(BerError::Truncated);
    }
    Ok(arcs)
}

/// Decodes an INTEGER's content (at most eight bytes).
pub fn decode_int(content: &[u8]) -> Result<i64, BerError> {
    if content.is_empty() || content.len() > 8 {
        return Err(BerError::IntegerRange);
    }
    let mut v: i64 = if content[0] & 0x80 != 0 { -1 } else { 0 };
    for &b in content {
        v = (v << 8) | i64::from(b);
    }
    Ok(v)
}

/// Reads values one after another from a buffer; every read is checked.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { rest: buf }
    }

    #[allow(dead_code, reason = "used by the payload tests")]
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next value's tag and content.
    pub fn any(&mut self) -> Result<(u8, &'a [u8]), BerError> {
        let (&tag, after) = self.rest.split_first().ok_or(BerError::Truncated)?;
        if tag & 0x1f == 0x1f {
            return Err(BerError::LongTag);
        }
        let (&first, mut after) = after.split_first().ok_or(BerError::Truncated)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || after.len() < n {
                return Err(BerError::BadLength);
            }
            let len = after[..n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            after = &after[n..];
            len
        };
        if after.len() < len {
            return Err(BerError::Truncated);
        }
        let (content, rest) = after.split_at(len);
        self.rest = rest;
        Ok((tag, content))
    }

    /// The next value, which must carry `expected`.
    pub fn expect(&mut self, expected: u8) -> Result<&'a [u8], BerError> {
        let (found, content) = self.any()?;
        if found == expected {
            Ok(content)
        } else {
            Err(BerError::UnexpectedTag { expected, found })
        }
    }

    /// The next value as an INTEGER (under the given tag).
    pub fn int(&mut self, expected: u8) -> Result<i64, BerError> {
        decode_int(self.expect(expected)?)
    }

    /// A reader over the content of the next value, which must carry `expected`.
    pub fn enter(&mut self, expected: u8) -> Result<Reader<'a>, BerError> {
        Ok(Reader::new(self.expect(expected)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn integers_use_the_fewest_bytes() {
        assert_eq!(integer(0), [2, 1, 0]);
        assert_eq!(integer(127), [2, 1, 0x7f]);
        assert_eq!(integer(128), [2, 2, 0, 0x80]);
        assert_eq!(integer(-1), [2, 1, 0xff]);
        assert_eq!(integer(-129), [2, 2, 0xff, 0x7f]);
    }

    #[test]
    fn sysdescr_oid_encodes_as_in_rfc_3418() {
        // 1.3.6.1.2.1.1.1.0: 0x2b for 1.3, then one byte per small arc.
        assert_eq!(
            oid(&[1, 3, 6, 1, 2, 1, 1, 1, 0]),
            [6, 8, 0x2b, 6, 1, 2, 1, 1, 1, 0]
        );
        assert_eq!(
            oid(&[1, 3, 6, 1, 4, 1, 311]),
            [6, 7, 0x2b, 6, 1, 4, 1, 0x82, 0x37]
        );
    }

    #[test]
    fn long_lengths_round_trip() {
        let content = vec![7u8; 300];
        let encoded = octets(&content);
        assert_eq!(&encoded[..4], &[4, 0x82, 1, 0x2c]);
        let mut r = Reader::new(&encoded);
        assert_eq!(r.expect(tag::OCTET_STRING).unwrap(), &content[..]);
        assert!(r.is_empty());
    }

    #[test]
    fn truncation_and_bad_lengths_are_errors() {
        assert_eq!(Reader::new(&[4, 5, 1]).any(), Err(BerError::Truncated));
        assert_eq!(Reader::new(&[4, 0x80]).any(), Err(BerError::BadLength));
        assert_eq!(Reader::new(&[0x1f, 1, 0]).any(), Err(BerError::LongTag));
        assert_eq!(decode_oid(&[0x2b, 0x82]), Err(BerError::Truncated));
    }

    proptest! {
        #[test]
        fn integers_round_trip(v in any::<i64>()) {
            let e = integer(v);
            let mut r = Reader::new(&e);
            prop_assert_eq!(r.int(tag::INTEGER).unwrap(), v);
        }

        #[test]
        fn oids_round_trip(tail in proptest::collection::vec(any::<u32>(), 0..10)) {
            let mut arcs = vec![1, 3];
            arcs.extend(tail);
            let e = oid(&arcs);
            let mut r = Reader::new(&e);
            prop_assert_eq!(decode_oid(r.expect(tag::OID).unwrap()).unwrap(), arcs);
        }

        #[test]
        fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes);
            while let Ok((_, content)) = r.any() {
                let _ = decode_oid(content);
                let _ = decode_int(content);
            }
        }
    }
}
