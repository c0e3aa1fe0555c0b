//! DNS messages (RFC 1035): the queries we send (also mDNS and NetBIOS-NS, which
//! share the format) and a checked parser for what comes back.
//!
//! The parser follows compression pointers with a hop limit, bounds every read by the
//! datagram, and returns an error instead of panicking on anything malformed.

use thiserror::Error;

/// Record types and classes we use.
pub mod rr {
    #[allow(dead_code, reason = "the record types, complete")]
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const PTR: u16 = 12;
    pub const TXT: u16 = 16;
    pub const NBSTAT: u16 = 33;
    pub const IN: u16 = 1;
    pub const CH: u16 = 3;
}

/// Why bytes are not a DNS message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DnsError {
    #[error("DNS message truncated")]
    Truncated,
    #[error("DNS name has a bad label or pointer")]
    BadName,
}

/// Builds a query with one question. `name` is dotted (`version.bind`; `""` is the
/// root); labels longer than 63 bytes are cut, as they could not be sent otherwise.
pub fn query(id: u16, flags: u16, name: &str, qtype: u16, qclass: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + name.len());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let bytes = &label.as_bytes()[..label.len().min(63)];
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&qclass.to_be_bytes());
    out
}

/// One question of a parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Labels as raw bytes, joined with `.`.
    pub name: Vec<u8>,
    pub qtype: u16,
    pub qclass: u16,
}

/// One resource record of a parsed message (answer, authority or additional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: Vec<u8>,
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    pub data: Vec<u8>,
}

impl Record {
    /// The character-strings of a TXT record, concatenated.
    pub fn txt(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut rest = &self.data[..];
        while let Some((&len, after)) = rest.split_first() {
            let s = after.get(..usize::from(len))?;
            out.extend_from_slice(s);
            rest = &after[usize::from(len)..];
        }
        Some(out)
    }
}

/// A parsed DNS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: u16,
    pub flags: u16,
    pub questions: Vec<Question>,
    /// Answers, then authority, then additional records.
    pub records: Vec<Record>,
    /// How many of `records` are answers.
    pub answers: usize,
}

impl Message {
    /// True for a response (QR bit).
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    /// The response code (low four bits of the flags).
    pub fn rcode(&self) -> u8 {
        (self.flags & 0x0f) as u8
    }

    /// Parses a whole message; at most 64 questions and 256 records are read.
    pub fn parse(buf: &[u8]) -> Result<Message, DnsError> {
        let header = buf.get(..12).ok_or(DnsError::Truncated)?;
        let be = |i: usize| u16::from_be_bytes([header[i], header[i + 1]]);
        let (qd, an, ns, ar) = (be(4), be(6), be(8), be(10));
        let mut pos = 12;
        let mut questions = Vec::new();
        for _ in 0..qd.min(64) {
            let name = read_name(buf, &mut pos)?;
            let fixed = buf.get(pos..pos + 4).ok_or(DnsError::Truncated)?;
            questions.push(Question {
                name,
                qtype: u16::from_be_bytes([fixed[0], fixed[1]]),
                qclass: u16::from_be_bytes([fixed[2], fixed[3]]),
            });
            pos += 4;
        }
        let total = (usize::from(an) + usize::from(ns) + usize::from(ar)).min(256);
        let mut records = Vec::new();
        for _ in 0..total {
            let name = read_name(buf, &mut pos)?;
            let fixed = buf.get(pos..pos + 10).ok_or(DnsError::Truncated)?;
            let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
            let data = buf
                .get(pos + 10..pos + 10 + rdlen)
                .ok_or(DnsError::Truncated)?;
            records.push(Record {
                name,
                rtype: u16::from_be_bytes([fixed[0], fixed[1]]),
                class: u16::from_be_bytes([fixed[2], fixed[3]]),
                ttl: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
                data: data.to_vec(),
            });
            pos += 10 + rdlen;
        }
        Ok(Message {
            id: be(0),
            flags: be(2),
            questions,
            records,
            answers: usize::from(an).min(total),
        })
    }

    /// The answer records.
    pub fn answer_records(&self) -> &[Record] {
        &self.records[..self.answers]
    }
}

/// Reads a possibly compressed name at `*pos`, advancing `*pos` past it.
fn read_name(buf: &[u8], pos: &mut usize) -> Result<Vec<u8>, DnsError> {
    let mut name = Vec::new();
    let mut at = *pos;
    let mut jumped = false;
    for _ in 0..128 {
        let &len = buf.get(at).ok_or(DnsError::Truncated)?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                if !jumped {
                    *pos = at + 1;
                }
                return Ok(name);
            }
            0x00 => {
                let label = buf
                    .get(at + 1..at + 1 + usize::from(len))
                    .ok_or(DnsError::Truncated)?;
                if !name.is_empty() {
                    name.push(b'.');
                }
                name.extend_from_slice(label);
                at += 1 + usize::from(len);
            }
            0xc0 => {
                let &low = buf.get(at + 1).ok_or(DnsError::Truncated)?;
                if !jumped {
                    *pos = at + 2;
                    jumped = true;
                }
                at = usize::from(u16::from_be_bytes([len & 0x3f, low]));
            }
            _ => return Err(DnsError::BadName),
        }
    }
    Err(DnsError::BadName)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn version_bind_query_has_the_rfc_1035_layout() {
        let q = query(0x1234, 0x0100, "version.bind", rr::TXT, rr::CH);
        assert_eq!(&q[..12], &[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&q[12..26], b"\x07version\x04bind\x00");
        assert_eq!(&q[26..], &[0, 16, 0, 3]);
        let m = Message::parse(&q).unwrap();
        assert_eq!(m.questions[0].name, b"version.bind");
        assert!(!m.is_response());
    }

    #[test]
    fn compressed_txt_answer_parses() {
        let mut r = query(7, 0x8500, "version.bind", rr::TXT, rr::CH);
        r[7] = 1; // one answer
        r.extend_from_slice(&[0xc0, 12, 0, 16, 0, 3, 0, 0, 0, 0, 0, 8, 7]);
        r.extend_from_slice(b"9.18.28");
        let m = Message::parse(&r).unwrap();
        assert!(m.is_response());
        let a = &m.answer_records()[0];
        assert_eq!(a.name, b"version.bind");
        assert_eq!(a.txt().unwrap(), b"9.18.28");
    }

    #[test]
    fn pointer_loops_end_in_an_error() {
        let mut r = query(7, 0x8000, "", rr::NS, rr::IN);
        r[7] = 1;
        let at = r.len() as u8;
        r.extend_from_slice(&[0xc0, at]);
        assert_eq!(Message::parse(&r), Err(DnsError::BadName));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Message::parse(&bytes).map(|m| m.answer_records().iter().map(Record::txt).count());
        }
    }
}
