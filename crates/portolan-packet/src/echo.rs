//! ICMP echo and timestamp messages (RFC 792, RFC 4443), for host discovery.
//!
//! A request carries an identifier and a sequence number; the reply carries them
//! back, which is how a reply is matched to its ping. On Linux's unprivileged
//! `SOCK_DGRAM` ICMP sockets the kernel overwrites the identifier with the socket's
//! own (and answers only that socket), so matching there uses the sequence alone.
//! The ICMPv6 checksum is left to the kernel (it covers a pseudo-header and the
//! kernel fills it in for every ICMPv6 socket); the ICMPv4 one is computed here.

use crate::{be16, checksum, Error};

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const IDENT: usize = 4;
    pub const SEQ: usize = 6;
    pub const DATA: usize = 8;
}

/// ICMPv4 echo request.
pub const V4_ECHO_REQUEST: u8 = 8;
/// ICMPv4 echo reply.
pub const V4_ECHO_REPLY: u8 = 0;
/// ICMPv4 timestamp request.
pub const V4_TIMESTAMP_REQUEST: u8 = 13;
/// ICMPv4 timestamp reply.
pub const V4_TIMESTAMP_REPLY: u8 = 14;
/// ICMPv6 echo request.
pub const V6_ECHO_REQUEST: u8 = 128;
/// ICMPv6 echo reply.
pub const V6_ECHO_REPLY: u8 = 129;

/// A timestamp message: the header and three 32-bit times.
pub const TIMESTAMP_LEN: usize = field::DATA + 12;

/// Which request a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Query {
    /// An echo request.
    Echo,
    /// A timestamp request (ICMPv4 only).
    Timestamp,
}

/// A reply to one of our queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryReply {
    /// What it answers.
    pub query: Query,
    /// The identifier, as sent back.
    pub ident: u16,
    /// The sequence number, as sent back.
    pub seq: u16,
}

/// Writes a request into `buf` and returns its length: an echo request with
/// `payload`, or (IPv4 only) a timestamp request whose originate time is
/// `originate_ms` (milliseconds since midnight UTC, as RFC 792 asks).
pub fn emit_request(
    buf: &mut [u8],
    v6: bool,
    query: Query,
    ident: u16,
    seq: u16,
    payload: &[u8],
) -> Result<usize, Error> {
    let msg_type = match (v6, query) {
        (false, Query::Echo) => V4_ECHO_REQUEST,
        (false, Query::Timestamp) => V4_TIMESTAMP_REQUEST,
        (true, Query::Echo) => V6_ECHO_REQUEST,
        (true, Query::Timestamp) => return Err(Error::Malformed),
    };
    let data_len = match query {
        Query::Echo => payload.len(),
        Query::Timestamp => TIMESTAMP_LEN - field::DATA,
    };
    let len = field::DATA + data_len;
    let m = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
    m.fill(0);
    m[field::TYPE] = msg_type;
    m[field::CODE] = 0;
    m[field::IDENT..field::IDENT + 2].copy_from_slice(&ident.to_be_bytes());
    m[field::SEQ..field::SEQ + 2].copy_from_slice(&seq.to_be_bytes());
    match query {
        Query::Echo => m[field::DATA..].copy_from_slice(payload),
        Query::Timestamp => {
            let ms = payload
                .get(..4)
                .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            m[field::DATA..field::DATA + 4].copy_from_slice(&ms.to_be_bytes());
        }
    }
    if !v6 {
        let sum = checksum::checksum(m);
        m[field::CHECKSUM..field::CHECKSUM + 2].copy_from_slice(&sum.to_be_bytes());
    }
    Ok(len)
}

/// Reads an ICMP message (without its IP header) as a reply to one of our
/// queries; `None` for anything else (requests, errors, short or bad messages).
/// The ICMPv4 checksum is checked; the ICMPv6 one was checked by the kernel.
pub fn parse_reply(msg: &[u8], v6: bool) -> Option<QueryReply> {
    if msg.len() < field::DATA || msg[field::CODE] != 0 {
        return None;
    }
    let query = match (v6, msg[field::TYPE]) {
        (false, V4_ECHO_REPLY) | (true, V6_ECHO_REPLY) => Query::Echo,
        (false, V4_TIMESTAMP_REPLY) if msg.len() >= TIMESTAMP_LEN => Query::Timestamp,
        _ => return None,
    };
    if !v6 && checksum::checksum(msg) != 0 {
        return None;
    }
    Some(QueryReply {
        query,
        ident: be16(msg, field::IDENT),
        seq: be16(msg, field::SEQ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The ICMP part of an echo reply captured with tcpdump on this Linux's
    /// loopback (id 0x1c2b, seq 1, eight bytes `A` of payload).
    const CAPTURED_V4_REPLY: [u8; 16] = [
        0x00, 0x00, 0xde, 0xce, 0x1c, 0x2b, 0x00, 0x01, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41,
        0x41,
    ];

    /// The request that reply answers, as captured.
    const CAPTURED_V4_REQUEST: [u8; 16] = [
        0x08, 0x00, 0xd6, 0xce, 0x1c, 0x2b, 0x00, 0x01, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41,
        0x41,
    ];

    #[test]
    fn the_captured_request_is_what_we_emit() {
        let mut b = [0u8; 16];
        let n = emit_request(&mut b, false, Query::Echo, 0x1c2b, 1, b"AAAAAAAA").unwrap();
        assert_eq!(b[..n], CAPTURED_V4_REQUEST);
    }

    #[test]
    fn a_captured_reply_parses() {
        let r = parse_reply(&CAPTURED_V4_REPLY, false).unwrap();
        assert_eq!(
            r,
            QueryReply {
                query: Query::Echo,
                ident: 0x1c2b,
                seq: 1
            }
        );
        let mut bad = CAPTURED_V4_REPLY;
        bad[9] ^= 1;
        assert_eq!(parse_reply(&bad, false), None, "bad checksum");
    }

    #[test]
    fn emitted_requests_verify_and_their_replies_parse() {
        let mut b = [0u8; 64];
        let n = emit_request(&mut b, false, Query::Echo, 7, 9, b"AAAAAAAA").unwrap();
        assert_eq!(n, 16);
        assert_eq!(checksum::checksum(&b[..n]), 0);
        assert_eq!(b[0], V4_ECHO_REQUEST);
        // The host's reply is the request with type 0 and the checksum adjusted.
        let mut reply = b[..n].to_vec();
        reply[0] = V4_ECHO_REPLY;
        reply[2..4].copy_from_slice(&[0, 0]);
        let sum = checksum::checksum(&reply);
        reply[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(
            parse_reply(&reply, false).map(|r| (r.query, r.ident, r.seq)),
            Some((Query::Echo, 7, 9))
        );
        // A request is not a reply.
        assert_eq!(parse_reply(&b[..n], false), None);

        let n = emit_request(&mut b, false, Query::Timestamp, 1, 2, &[0, 0, 1, 0]).unwrap();
        assert_eq!(n, TIMESTAMP_LEN);
        assert_eq!(checksum::checksum(&b[..n]), 0);
        assert_eq!(&b[8..12], &[0, 0, 1, 0]);
        let mut reply = b[..n].to_vec();
        reply[0] = V4_TIMESTAMP_REPLY;
        reply[2..4].copy_from_slice(&[0, 0]);
        let sum = checksum::checksum(&reply);
        reply[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(
            parse_reply(&reply, false).map(|r| r.query),
            Some(Query::Timestamp)
        );

        let n = emit_request(&mut b, true, Query::Echo, 3, 4, b"x").unwrap();
        assert_eq!(b[0], V6_ECHO_REQUEST);
        b[0] = V6_ECHO_REPLY;
        assert_eq!(
            parse_reply(&b[..n], true).map(|r| (r.ident, r.seq)),
            Some((3, 4))
        );
        assert!(emit_request(&mut b, true, Query::Timestamp, 0, 0, &[]).is_err());
        assert!(emit_request(&mut b[..4], false, Query::Echo, 0, 0, &[]).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_reply(&b, false);
            let _ = parse_reply(&b, true);
        }
    }
}
